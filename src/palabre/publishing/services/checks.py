"""Publishing's policy and the guardrails a post is checked against: the organisation's crisis, trends and competitors as listening sees them, and each variant's verdict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import config
from palabre.conversations.models import Item, ItemKind
from palabre.listening import services as listening
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing import guardrails, limits, readiness
from palabre.publishing import media as post_media
from palabre.publishing.models import (
    Campaign,
    PostVariant,
    PublishingPolicy,
    VariantState,
)

MAX_TERMS = 500


def check_seconds() -> float:
    try:
        return max(float(config.PUBLISHING_CHECK_SECONDS.raw()), 0.5)
    except ValueError:
        return 60.0


# --- listening (crisis, trends, competitors) ---------------------------------------------------


def crisis_active(organisation: Organisation) -> bool:
    return listening.is_crisis_active(organisation)


def _trending(organisation: Organisation, since: datetime) -> list[guardrails.TrendingTopic]:
    return [
        guardrails.TrendingTopic(term.term, float(term.negative_share))
        for term in listening.trending_terms(organisation, since=since)
        if term.term
    ]


def _competitor_texts(organisation: Organisation, since: datetime) -> list[str]:
    return list(listening.recent_competitor_texts(organisation, since=since, limit=200))


def _open_alerts(organisation: Organisation) -> list[guardrails.AlertSubject]:
    from django.urls import reverse

    return [
        guardrails.AlertSubject(
            alert.alert_id,
            alert.name,
            alert.terms,
            reverse("listening:alert", kwargs={"alert_id": alert.alert_id}),
        )
        for alert in listening.open_alerts(organisation)
    ]


# --- policy -------------------------------------------------------------------------------------


def policy_for(organisation: Organisation) -> PublishingPolicy:
    policy, _created = PublishingPolicy.objects.get_or_create(organisation=organisation)
    return policy


def _clean_terms(values: Any, field: str) -> list[str]:
    if isinstance(values, str):
        values = values.splitlines()
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError({field: _("Give a list of words or phrases.")})
    cleaned = sorted({v.strip() for v in values if v.strip()}, key=str.lower)
    if len(cleaned) > MAX_TERMS or any(len(v) > 200 for v in cleaned):
        raise ValidationError({field: _("At most 500 entries of 200 characters each.")})
    return cleaned


@transaction.atomic
def update_policy(*, actor: Actor, **changes: Any) -> PublishingPolicy:
    actor.require(Perm.POSTS_APPROVE)
    policy = policy_for(actor.organisation)
    before = {
        k: getattr(policy, k)
        for k in (
            "sensitive_terms",
            "charter_words",
            "promotion_window",
            "promotion_share",
            "reschedule_keeps_approval",
        )
    }
    unknown = set(changes) - {*before, "competitor_texts"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    for name in ("sensitive_terms", "charter_words", "competitor_texts"):
        if changes.get(name) is not None:
            setattr(policy, name, _clean_terms(changes[name], name))
    if changes.get("promotion_window") is not None:
        window = changes["promotion_window"]
        if not isinstance(window, int) or not 3 <= window <= 100:
            raise ValidationError({"promotion_window": _("Between 3 and 100 posts.")})
        policy.promotion_window = window
    if changes.get("promotion_share") is not None:
        share = changes["promotion_share"]
        if not isinstance(share, int | float) or not 0 < share <= 1:
            raise ValidationError({"promotion_share": _("A share between 0 and 1.")})
        policy.promotion_share = float(share)
    if changes.get("reschedule_keeps_approval") is not None:
        keeps = changes["reschedule_keeps_approval"]
        if not isinstance(keeps, bool):
            raise ValidationError({"reschedule_keeps_approval": _("Say yes or no (true or false).")})
        policy.reschedule_keeps_approval = keeps
    policy.updated_at = timezone.now()
    policy.save()
    after = {k: getattr(policy, k) for k in before}
    record(actor, "publishing.policy_updated", policy, before=before, after=after)
    return policy


# --- guardrails ---------------------------------------------------------------------------------


def _recent_posts(
    channel: Channel, *, window: int, exclude_variant: int | None
) -> list[guardrails.RecentPost]:
    """The channel's last posts, newest first: what Palabre handed over and what the platform shows."""
    posts: list[tuple[datetime, guardrails.RecentPost]] = []
    variants = (
        PostVariant.objects.filter(channel=channel, state=VariantState.HANDED_OVER)
        .exclude(pk=exclude_variant)
        .select_related("post__campaign")
        .order_by("-handed_over_at")[:window]
    )
    texts = set()
    for variant in variants:
        kind = variant.post.campaign.kind if variant.post.campaign else ""
        promotional = variant.post.promotional
        if promotional is None:
            promotional = guardrails.is_promotional(variant.text, kind)
        posts.append((variant.handed_over_at, guardrails.RecentPost(variant.text, promotional)))
        texts.add(variant.text.strip())
    items = (
        Item.objects.filter(channel=channel, kind=ItemKind.POST, author__handle=channel.handle)
        .order_by("-created_at")
        .values_list("created_at", "text")[:window]
    )
    for created_at, text in items:
        if text.strip() in texts:
            continue  # the same post, seen back from the platform
        posts.append((created_at, guardrails.RecentPost(text, guardrails.is_promotional(text))))
    posts.sort(key=lambda pair: pair[0], reverse=True)
    return [post for _at, post in posts[:window]]


def guardrail_context(
    organisation: Organisation,
    *,
    channel: Channel | None = None,
    campaign_kind: str = "",
    promotional: bool | None = None,
    exclude_variant: int | None = None,
    now: datetime | None = None,
) -> guardrails.GuardrailContext:
    from palabre.moderation.services import organisation_context

    now = now or timezone.now()
    policy = policy_for(organisation)
    since = now - timedelta(days=3)
    context = guardrails.GuardrailContext(
        campaign_kind=campaign_kind,
        promotional=promotional,
        organisation_sensitive_terms=tuple(policy.sensitive_terms),
        charter_words=tuple(policy.charter_words),
        trending=_trending(organisation, since),
        competitor_texts=tuple(policy.competitor_texts)
        + tuple(_competitor_texts(organisation, now - timedelta(days=30))),
        promotion_window=policy.promotion_window,
        promotion_share=policy.promotion_share,
        moderation=organisation_context(organisation),
        open_alerts=_open_alerts(organisation),
    )
    if channel is not None:
        context.channel_kind = channel.kind
        context.channel_platform = channel.platform
        context.spokesperson_approved = channel.spokesperson_approved_at is not None
        context.recent_posts = _recent_posts(
            channel, window=policy.promotion_window, exclude_variant=exclude_variant
        )
    return context


MEDIA_ALT_TEXT = "media_alt_text"


def _alt_text_findings(media: Sequence[dict]) -> list[guardrails.Finding]:
    missing = [m for m in media if m.get("mime_type", "").startswith("image/") and not m.get("description")]
    if not missing:
        return []
    names = ", ".join(str(m.get("filename") or "?") for m in missing[:5])
    return [
        guardrails.Finding(
            MEDIA_ALT_TEXT,
            guardrails.WARN,
            _(
                "No alternative text on %(names)s: people who use a screen reader will not know what "
                "the picture shows. Describe it in a sentence."
            )
            % {"names": names},
            None,
            {"files": len(missing)},
        )
    ]


def _limit_findings(channel: Channel, text: str, media: Sequence[dict]) -> list[guardrails.Finding]:
    """What the channel cannot take (length, files) and why it could not publish at all."""
    return [
        *_alt_text_findings(media),
        *readiness.problems(channel, media),
        *(
            guardrails.Finding(guardrails.CHANNEL_LIMITS, guardrails.BLOCK, explanation, None, params)
            for explanation, params in limits.problems(channel, text, media)
        ),
    ]


def check_variant(variant: PostVariant, *, save: bool = True) -> guardrails.Verdict:
    post = variant.post
    context = guardrail_context(
        variant.organisation,
        channel=variant.channel,
        campaign_kind=post.campaign.kind if post.campaign_id else "",
        promotional=post.promotional,
        exclude_variant=variant.pk,
    )
    verdict = guardrails.check(variant.text, context)
    files = post_media.limits_entries(variant) if variant.pk else list(variant.media or [])
    verdict = guardrails.verdict_of(
        [*_limit_findings(variant.channel, variant.text, files), *verdict.findings]
    )
    if save:
        variant.guardrail_verdict = verdict.verdict
        variant.guardrail_findings = [f.as_dict() for f in verdict.findings]
        variant.checked_at = timezone.now()
        if variant.pk:
            PostVariant.objects.filter(pk=variant.pk).update(
                guardrail_verdict=variant.guardrail_verdict,
                guardrail_findings=variant.guardrail_findings,
                checked_at=variant.checked_at,
            )
    return verdict


def check_text(
    *,
    actor: Actor,
    text: str,
    channel: Channel | None = None,
    campaign_kind: str = "",
    promotional: bool | None = None,
    media: Sequence[dict] = (),
) -> guardrails.Verdict:
    """Lint a text without storing anything (the API, the CLI, the editor's live check)."""
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        actor.require(Perm.POSTS_DRAFT)
    if channel is not None and channel.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    if campaign_kind and campaign_kind not in Campaign.Kind.values:
        raise ValidationError(
            {"campaign_kind": _("Unknown campaign kind: %(kind)s") % {"kind": campaign_kind}}
        )
    context = guardrail_context(
        actor.organisation, channel=channel, campaign_kind=campaign_kind, promotional=promotional
    )
    verdict = guardrails.check(text, context)
    if channel is not None:
        verdict = guardrails.verdict_of([*_limit_findings(channel, text, media), *verdict.findings])
    return verdict
