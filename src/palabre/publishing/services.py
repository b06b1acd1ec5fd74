"""Every state change of publishing: drafts, variants, comments, approvals, schedules, crisis holds.

A post goes: draft (contributors write, guardrails coach) -> pending (submitted) -> approved (an
approver read the warnings and accepted them; a block stops it) -> each variant scheduled -> at its
time, `publish_due` re-runs the guardrails, holds promotion during a crisis, and hands the variant
to the connectors' outbox with ONE `queue_publication` call keyed `post-variant-<id>`: the outbox
delivers it exactly once, retrying with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import config
from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.conversations.models import Item, ItemKind
from palabre.listening import services as listening
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing import guardrails, limits, readiness
from palabre.publishing import media as post_media
from palabre.publishing.models import (
    Campaign,
    Post,
    PostComment,
    PostStatus,
    PostVariant,
    PublishingPolicy,
    VariantState,
)

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_TEXT = 63_206
MAX_COMMENT = 5000
MAX_TERMS = 500
SETTLED_ACTION = {ActionStatus.SENT, ActionStatus.FAILED, ActionStatus.NEEDS_CHECK, ActionStatus.CANCELLED}
EDITABLE = {PostStatus.DRAFT, PostStatus.PENDING, PostStatus.REJECTED, PostStatus.APPROVED}


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


# --- campaigns ----------------------------------------------------------------------------------


@transaction.atomic
def create_campaign(
    *, actor: Actor, name: str, kind: str, description: str = "", starts_on=None, ends_on=None
) -> Campaign:
    actor.require(Perm.POSTS_APPROVE)
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = _("A campaign needs a name of at most 200 characters.")
    if kind not in Campaign.Kind.values:
        errors["kind"] = _("Unknown campaign kind: %(kind)s") % {"kind": kind}
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The end comes before the start.")
    if errors:
        raise ValidationError(errors)
    campaign = Campaign.objects.create(
        organisation=actor.organisation,
        name=name,
        kind=kind,
        description=description or "",
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor.user,
    )
    record(actor, "publishing.campaign_created", campaign, after={"name": name, "kind": kind})
    return campaign


# --- drafts -------------------------------------------------------------------------------------


def posts_for(actor: Actor) -> models.QuerySet[Post]:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        actor.require(Perm.POSTS_DRAFT)
    return Post.objects.filter(organisation=actor.organisation).select_related("campaign", "created_by")


def get_post(*, actor: Actor, post_id: int) -> Post:
    post = posts_for(actor).filter(pk=post_id).first()
    if post is None:
        raise NotInOrganisation
    return post


def get_variant(*, actor: Actor, variant_id: int) -> PostVariant:
    posts_for(actor)
    variant = (
        PostVariant.objects.select_related("post", "channel", "action", "post__campaign")
        .filter(pk=variant_id, organisation=actor.organisation)
        .first()
    )
    if variant is None:
        raise NotInOrganisation
    return variant


def _channel(actor: Actor, channel: Channel | int) -> Channel:
    channel_id = channel.pk if isinstance(channel, Channel) else channel
    found = Channel.objects.filter(pk=channel_id, organisation=actor.organisation).first()
    if found is None:
        raise ValidationError({"channel": _("No such channel in this organisation.")})
    return found


def _campaign(actor: Actor, campaign: Campaign | int | None) -> Campaign | None:
    if campaign in (None, ""):
        return None
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    found = Campaign.objects.filter(pk=campaign_id, organisation=actor.organisation).first()
    if found is None:
        raise ValidationError({"campaign": _("No such campaign in this organisation.")})
    return found


def _clean_media(media: Any, field: str) -> list[dict]:
    if media in (None, ""):
        return []
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise ValidationError({field: _("Give a list of files, each with its type.")})
    cleaned = []
    for one in media:
        mime = str(one.get("mime_type", "")).strip()
        if "/" not in mime:
            raise ValidationError({field: _("Each file needs its type, such as image/jpeg.")})
        kept = {"mime_type": mime}
        for key in ("url", "filename", "description", "content_b64"):
            if one.get(key):
                kept[key] = str(one[key])
        cleaned.append(kept)
    return cleaned


def _clean_variants(actor: Actor, variants: Sequence[dict]) -> list[dict]:
    if not variants:
        raise ValidationError({"variants": _("Choose at least one channel.")})
    cleaned, seen = [], set()
    for index, spec in enumerate(variants):
        prefix = f"variants.{index}"
        channel = _channel(actor, spec.get("channel"))
        if channel.pk in seen:
            raise ValidationError({f"{prefix}.channel": _("This channel is chosen twice.")})
        seen.add(channel.pk)
        text = (spec.get("text") or "").strip()
        if len(text) > MAX_TEXT:
            raise ValidationError({f"{prefix}.text": _("The text is too long.")})
        if "\x00" in text:
            raise ValidationError({f"{prefix}.text": _("The text contains a NUL character.")})
        at = spec.get("scheduled_at")
        if at is not None and (not isinstance(at, datetime) or timezone.is_naive(at)):
            raise ValidationError({f"{prefix}.scheduled_at": _("Give a date and time with its time zone.")})
        cleaned.append(
            {
                "channel": channel,
                "text": text,
                "media": _clean_media(spec.get("media"), f"{prefix}.media"),
                "scheduled_at": at,
            }
        )
    return cleaned


def _can_edit(actor: Actor, post: Post) -> None:
    if post.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    if actor.can(Perm.POSTS_APPROVE):
        return
    actor.require(Perm.POSTS_DRAFT)
    # A person edits their own drafts; an API token (no person) the drafts machines wrote.
    if post.created_by_id != actor.user_id:
        raise PermissionDenied(_("You can change your own drafts only."))
    if post.status not in {PostStatus.DRAFT, PostStatus.REJECTED}:
        raise PermissionDenied(_("This post is with the approvers; ask them for changes."))


def _snapshot(post: Post) -> dict[str, Any]:
    return {
        "title": post.title,
        "status": post.status,
        "campaign": post.campaign_id,
        "variants": [
            {
                "channel": v.channel_id,
                "text": v.text,
                "scheduled_at": v.scheduled_at.isoformat() if v.scheduled_at else None,
                "state": v.state,
                "media": len(v.media or []),
            }
            for v in post.variants.all().order_by("channel_id")
        ],
    }


@transaction.atomic
def create_post(
    *,
    actor: Actor,
    title: str,
    variants: Sequence[dict],
    campaign: Campaign | int | None = None,
    promotional: bool | None = None,
) -> Post:
    """A draft with one variant per channel ({channel, text, media, scheduled_at}). Guardrails run
    at once; the findings are stored on each variant for the author to read."""
    actor.require(Perm.POSTS_DRAFT)
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationError({"title": _("A post needs a title of at most 200 characters.")})
    found_campaign = _campaign(actor, campaign)
    cleaned = _clean_variants(actor, variants)
    post = Post.objects.create(
        organisation=actor.organisation,
        title=title,
        campaign=found_campaign,
        promotional=promotional,
        created_by=actor.user,
    )
    for spec in cleaned:
        variant = PostVariant.objects.create(
            organisation=actor.organisation,
            post=post,
            channel=spec["channel"],
            text=spec["text"],
            media=spec["media"],
            scheduled_at=spec["scheduled_at"],
        )
        check_variant(variant)
    record(actor, "post.created", post, after=_snapshot(post))
    return post


@transaction.atomic
def update_post(
    *,
    actor: Actor,
    post: Post,
    title: str | None = None,
    variants: Sequence[dict] | None = None,
    campaign: Campaign | int | None | str = "",
    promotional: bool | None | str = "",
) -> Post:
    """Change a post. Variants are matched by channel: new channels are added, missing ones removed
    (unless already handed over). A change to an approved post sends it back for approval."""
    post = Post.objects.select_for_update().get(pk=post.pk, organisation=actor.organisation)
    _can_edit(actor, post)
    before = _snapshot(post)
    if title is not None:
        title = title.strip()
        if not title or len(title) > MAX_TITLE:
            raise ValidationError({"title": _("A post needs a title of at most 200 characters.")})
        post.title = title
    if campaign != "":
        post.campaign = _campaign(actor, campaign)
    if promotional != "":
        post.promotional = promotional
    if variants is not None:
        cleaned = _clean_variants(actor, variants)
        existing = {v.channel_id: v for v in post.variants.select_for_update()}
        wanted = {spec["channel"].pk for spec in cleaned}
        for channel_id, variant in existing.items():
            if channel_id not in wanted:
                if variant.state == VariantState.HANDED_OVER:
                    raise ValidationError({"variants": _("A published variant cannot be removed.")})
                variant.delete()
        for spec in cleaned:
            variant = existing.get(spec["channel"].pk)
            if variant is None:
                variant = PostVariant(organisation=actor.organisation, post=post, channel=spec["channel"])
            elif variant.state == VariantState.HANDED_OVER:
                if variant.text != spec["text"]:
                    raise ValidationError(
                        {"variants": _("This variant is already published; it cannot change.")}
                    )
                continue
            variant.text, variant.media, variant.scheduled_at = (
                spec["text"],
                spec["media"],
                spec["scheduled_at"],
            )
            variant.save()
    changed = before != _snapshot(post) or title is not None
    post.updated_at = timezone.now()
    post.save()
    if post.status == PostStatus.APPROVED:
        after = _snapshot(post)
        content = _content(before) != _content(after)
        times = _times(before) != _times(after)
        if content or (times and not keeps_approval_on_reschedule(actor)):
            # What was approved is no longer what would go out.
            _send_back(actor, post, "content" if content else "time")
        elif times:
            _reschedule_approved(actor, post, before)
    for variant in post.variants.select_related("channel", "post__campaign"):
        if variant.state != VariantState.HANDED_OVER:
            check_variant(variant)
    if changed:
        record(actor, "post.updated", post, before=before, after=_snapshot(post))
    return post


def _content(snapshot: dict[str, Any]) -> list[tuple]:
    return [(v["channel"], v["text"], v["media"]) for v in snapshot["variants"]]


def _times(snapshot: dict[str, Any]) -> dict[int, str | None]:
    return {v["channel"]: v["scheduled_at"] for v in snapshot["variants"]}


def keeps_approval_on_reschedule(actor: Actor) -> bool:
    """Whether a new time on an approved post keeps its approval: the actor approves posts and the
    organisation's policy says so (the default, as Hootsuite and Agorapulse do)."""
    return actor.can(Perm.POSTS_APPROVE) and policy_for(actor.organisation).reschedule_keeps_approval


def _send_back(actor: Actor, post: Post, why: str) -> None:
    before = {"status": post.status}
    post.status = PostStatus.PENDING
    post.save(update_fields=["status"])
    post.variants.filter(state__in=[VariantState.SCHEDULED, VariantState.HELD]).update(
        state=VariantState.DRAFT, held_reason="", held_at=None
    )
    record(actor, "post.sent_back", post, before=before, after={"status": post.status, "changed": why})


def after_content_change(actor: Actor, post: Post) -> None:
    """A file added, described or removed: the guardrails look again, and an approved post goes
    back to its approvers (what they approved is no longer what would go out)."""
    if post.status == PostStatus.APPROVED:
        _send_back(actor, post, "media")
    for variant in post.variants.select_related("channel", "post__campaign"):
        if variant.state != VariantState.HANDED_OVER:
            check_variant(variant)


def _reschedule_approved(actor: Actor, post: Post, before: dict[str, Any]) -> None:
    """Only times changed on an approved post, by an approver: the approval stays, each moved
    variant is scheduled at its new time (or taken off the calendar), and the audit says so."""
    old = _times(before)
    for variant in post.variants.select_related("channel", "post__campaign"):
        if variant.state == VariantState.HANDED_OVER or old.get(variant.channel_id) == (
            variant.scheduled_at.isoformat() if variant.scheduled_at else None
        ):
            continue
        if variant.scheduled_at is None:
            variant.state, variant.held_reason, variant.held_at = VariantState.DRAFT, "", None
            variant.save(update_fields=["state", "held_reason", "held_at"])
        else:
            _schedule(actor, variant, variant.scheduled_at)
        record(
            actor,
            "post.rescheduled",
            post,
            before={"channel": str(variant.channel), "scheduled_at": old.get(variant.channel_id)},
            after={
                "channel": str(variant.channel),
                "scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None,
                "approval_kept": True,
            },
        )


@transaction.atomic
def add_comment(*, actor: Actor, post: Post, text: str) -> PostComment:
    posts_for(actor)
    if post.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    text = (text or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise ValidationError({"text": _("Write a comment of at most 5000 characters.")})
    comment = PostComment.objects.create(
        organisation=actor.organisation, post=post, author=actor.user, author_label=actor.label, text=text
    )
    record(actor, "post.commented", post, after={"text": text[:500]})
    return comment


def _storage_cleanup(files: list) -> None:
    """Delete stored files once the rows that named them are gone for good (on commit)."""
    names = [(f.storage, f.name) for f in files if f]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def _attachment_files(attachments) -> list:
    return [f for one in attachments for f in (one.file, one.thumbnail)]


@transaction.atomic
def remove_variant(*, actor: Actor, variant: PostVariant) -> Post:
    """Drop a channel from a post. A published variant stays; a scheduled one is taken off the
    calendar first; the last channel goes with the post (delete it instead)."""
    variant = (
        PostVariant.objects.select_for_update(of=("self",))
        .select_related("post", "channel")
        .filter(pk=variant.pk, organisation=actor.organisation)
        .first()
    )
    if variant is None:
        raise NotInOrganisation
    post = Post.objects.select_for_update().get(pk=variant.post_id)
    _can_edit(actor, post)
    if variant.state == VariantState.HANDED_OVER:
        raise ValidationError({"variant": _("A published variant cannot be removed.")})
    if variant.state in {VariantState.SCHEDULED, VariantState.HELD}:
        raise ValidationError(
            {
                "variant": _(
                    "This channel is scheduled: take it off the calendar first (clear its publication "
                    "time), then drop it."
                )
            }
        )
    if post.variants.count() == 1:
        raise ValidationError({"variant": _("This is the post's only channel: delete the post instead.")})
    files = _attachment_files(variant.attachments.all())
    before = _snapshot(post)
    label = str(variant.channel)
    variant.delete()
    _storage_cleanup(files)
    post.updated_at = timezone.now()
    post.save(update_fields=["updated_at"])
    record(actor, "post.channel_dropped", post, before=before, after={**_snapshot(post), "dropped": label})
    return post


@transaction.atomic
def delete_post(*, actor: Actor, post: Post) -> None:
    """Delete a draft or a rejected post, its variants and files; the audit keeps what it was."""
    post = Post.objects.select_for_update().filter(pk=post.pk, organisation=actor.organisation).first()
    if post is None:
        raise NotInOrganisation
    _can_edit(actor, post)
    if post.variants.filter(state=VariantState.HANDED_OVER).exists():
        raise ValidationError({"status": _("This post is already published on a channel: it stays.")})
    if post.variants.filter(state__in=[VariantState.SCHEDULED, VariantState.HELD]).exists():
        raise ValidationError(
            {
                "status": _(
                    "This post is scheduled: take it off the calendar first (send it back, or clear "
                    "its publication times), then delete it."
                )
            }
        )
    if post.status not in {PostStatus.DRAFT, PostStatus.REJECTED}:
        raise ValidationError(
            {"status": _("Only drafts and rejected posts can be deleted: send this one back first.")}
        )
    files = _attachment_files(post.attachments.all())
    snapshot = _snapshot(post)
    record(actor, "post.deleted", post, before=snapshot)
    post.delete()
    _storage_cleanup(files)


def _require_content(post: Post) -> None:
    shared = post.attachments.filter(variant__isnull=True).exists()
    for variant in post.variants.filter(text="", media=[]):
        if not shared and not variant.attachments.exists():
            raise ValidationError({"variants": _("Every variant needs a text or a file.")})


def _blocks(post: Post) -> list[tuple[PostVariant, dict]]:
    found = []
    for variant in post.variants.select_related("channel", "post__campaign"):
        if variant.state == VariantState.HANDED_OVER:
            continue
        verdict = check_variant(variant)
        found += [(variant, f.as_dict()) for f in verdict.blocks]
    return found


def _block_error(blocks: list[tuple[PostVariant, dict]]) -> ValidationError:
    lines = [f"{variant.channel.name}: {finding['explanation']}" for variant, finding in blocks]
    return ValidationError({"guardrails": lines})


@transaction.atomic
def submit_post(*, actor: Actor, post: Post) -> Post:
    """The author asks for approval. Blocking findings must be fixed first (that is the coaching)."""
    post = Post.objects.select_for_update().get(pk=post.pk, organisation=actor.organisation)
    _can_edit(actor, post)
    if post.status not in {PostStatus.DRAFT, PostStatus.REJECTED}:
        raise ValidationError({"status": _("This post is not a draft.")})
    if not post.variants.exists():
        raise ValidationError({"variants": _("Choose at least one channel.")})
    _require_content(post)
    blocks = _blocks(post)
    if blocks:
        raise _block_error(blocks)
    before = {"status": post.status}
    post.status = PostStatus.PENDING
    post.submitted_at = timezone.now()
    post.rejection_reason = ""
    post.save(update_fields=["status", "submitted_at", "rejection_reason"])
    record(actor, "post.submitted", post, before=before, after={"status": post.status})
    return post


def _warning_keys(post: Post) -> list[list[str]]:
    keys = []
    for variant in post.variants.all():
        for finding in variant.guardrail_findings:
            if finding["severity"] == guardrails.WARN:
                keys.append([str(variant.channel_id), finding["guardrail"], finding["explanation"][:200]])
    return keys


@transaction.atomic
def approve_post(*, actor: Actor, post: Post, acknowledge_warnings: bool = False) -> Post:
    """An approver accepts the post: no block may remain, and every warning is explicitly
    acknowledged. Variants with a time are scheduled at once."""
    actor.require(Perm.POSTS_APPROVE)
    post = Post.objects.select_for_update().get(pk=post.pk, organisation=actor.organisation)
    if post.status not in {PostStatus.PENDING, PostStatus.DRAFT, PostStatus.REJECTED}:
        raise ValidationError({"status": _("This post is already approved.")})
    _require_content(post)
    blocks = _blocks(post)
    if blocks:
        raise _block_error(blocks)
    warnings = _warning_keys(post)
    if warnings and not acknowledge_warnings:
        raise ValidationError(
            {
                "acknowledge_warnings": _(
                    "Read the guardrails' warnings and confirm that the post goes out anyway."
                )
            }
        )
    before = {"status": post.status}
    post.status = PostStatus.APPROVED
    post.decided_by = actor.user
    post.decided_at = timezone.now()
    post.acknowledged = warnings
    post.save(update_fields=["status", "decided_by", "decided_at", "acknowledged"])
    record(
        actor, "post.approved", post, before=before, after={"status": post.status, "acknowledged": warnings}
    )
    for variant in post.variants.filter(state=VariantState.DRAFT, scheduled_at__isnull=False):
        _schedule(actor, variant, variant.scheduled_at)
    return post


@transaction.atomic
def reject_post(*, actor: Actor, post: Post, reason: str) -> Post:
    actor.require(Perm.POSTS_APPROVE)
    post = Post.objects.select_for_update().get(pk=post.pk, organisation=actor.organisation)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_COMMENT:
        raise ValidationError({"reason": _("Say what to change, so the author can fix it.")})
    if post.variants.filter(state=VariantState.HANDED_OVER).exists():
        raise ValidationError({"status": _("This post is already published.")})
    before = {"status": post.status}
    post.status = PostStatus.REJECTED
    post.decided_by = actor.user
    post.decided_at = timezone.now()
    post.rejection_reason = reason
    post.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
    post.variants.filter(state__in=[VariantState.SCHEDULED, VariantState.HELD]).update(
        state=VariantState.DRAFT
    )
    PostComment.objects.create(
        organisation=post.organisation, post=post, author=actor.user, author_label=actor.label, text=reason
    )
    record(actor, "post.rejected", post, before=before, after={"status": post.status, "reason": reason})
    return post


# --- schedule -----------------------------------------------------------------------------------


def _enqueue_publication(variant: PostVariant) -> None:
    from palabre.connectors.tasks import enqueue_at
    from palabre.publishing.tasks import ensure_publishing_tick, publish_variant

    pk, when = variant.pk, variant.scheduled_at

    def enqueue() -> None:
        enqueue_at(publish_variant, when, pk)
        ensure_publishing_tick()

    transaction.on_commit(enqueue)


def _schedule(actor: Actor, variant: PostVariant, at: datetime) -> PostVariant:
    before = {
        "scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None,
        "state": variant.state,
    }
    variant.scheduled_at = at
    held = crisis_active(variant.organisation) and _is_promotional(variant)
    if held:
        variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", timezone.now()
    else:
        variant.state, variant.held_reason, variant.held_at = VariantState.SCHEDULED, "", None
    variant.save(update_fields=["scheduled_at", "state", "held_reason", "held_at"])
    record(
        actor,
        "post.held" if held else "post.scheduled",
        variant.post,
        before=before,
        after={"channel": str(variant.channel), "scheduled_at": at.isoformat(), "state": variant.state},
    )
    if not held:
        _enqueue_publication(variant)
    return variant


@transaction.atomic
def schedule_variant(*, actor: Actor, variant: PostVariant, at: datetime | None) -> PostVariant:
    """Set or change a variant's time (the calendar's drag and drop). On an approved post it is
    scheduled at once; on a draft it is the proposed time. None takes it off the calendar."""
    variant = (
        PostVariant.objects.select_for_update(of=("self",))
        .select_related("post", "channel", "post__campaign")
        .filter(pk=variant.pk, organisation=actor.organisation)
        .first()
    )
    if variant is None:
        raise NotInOrganisation
    post = variant.post
    if post.status == PostStatus.APPROVED or variant.state in {VariantState.SCHEDULED, VariantState.HELD}:
        actor.require(Perm.POSTS_APPROVE)
    else:
        _can_edit(actor, post)
    if variant.state == VariantState.HANDED_OVER:
        raise ValidationError({"scheduled_at": _("This variant is already published.")})
    if at is not None:
        if not isinstance(at, datetime) or timezone.is_naive(at):
            raise ValidationError({"scheduled_at": _("Give a date and time with its time zone.")})
        if at < timezone.now() - timedelta(minutes=1):
            raise ValidationError({"scheduled_at": _("This time is in the past.")})
    if post.status == PostStatus.APPROVED and at is not None and keeps_approval_on_reschedule(actor):
        return _schedule(actor, variant, at)
    before = {
        "scheduled_at": variant.scheduled_at.isoformat() if variant.scheduled_at else None,
        "state": variant.state,
    }
    variant.scheduled_at = at
    if variant.state in {VariantState.SCHEDULED, VariantState.HELD} and at is None:
        variant.state = VariantState.DRAFT
    variant.save(update_fields=["scheduled_at", "state"])
    record(
        actor, "post.rescheduled", post, before=before, after={"scheduled_at": at.isoformat() if at else None}
    )
    if post.status == PostStatus.APPROVED and at is not None:
        _send_back(actor, post, "time")  # the organisation asks for a new approval on a new time
    return variant


def _is_promotional(variant: PostVariant) -> bool:
    post = variant.post
    if post.promotional is not None:
        return post.promotional
    return guardrails.is_promotional(variant.text, post.campaign.kind if post.campaign_id else "")


def _settled(variant: PostVariant) -> bool:
    if variant.state != VariantState.HANDED_OVER:
        return variant.state != VariantState.SCHEDULED
    return variant.action is None or variant.action.status in SETTLED_ACTION


def publish_due(variant_id: int, *, now: datetime | None = None) -> str:
    """Hand a due variant to the outbox, once. Safe to run any number of times, concurrently:
    the row is locked and re-checked, and the outbox key is the variant's."""
    from palabre.connectors.services import queue_publication

    now = now or timezone.now()
    with transaction.atomic():
        variant = (
            PostVariant.objects.select_for_update(of=("self",))
            .select_related("post", "channel", "organisation", "post__campaign")
            .filter(pk=variant_id)
            .first()
        )
        if variant is None:
            return "gone"
        if variant.state != VariantState.SCHEDULED:
            return "unchanged"  # handed over, held, blocked or unscheduled meanwhile
        if variant.scheduled_at is None or variant.scheduled_at > now:
            return "not_due"
        post = variant.post
        palabre_actor = Actor.palabre(variant.organisation)
        if post.status != PostStatus.APPROVED:
            variant.state = VariantState.DRAFT
            variant.save(update_fields=["state"])
            return "not_approved"
        if _is_promotional(variant) and crisis_active(variant.organisation):
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", now
            variant.save(update_fields=["state", "held_reason", "held_at"])
            record(
                palabre_actor, "post.held", post, after={"channel": str(variant.channel), "reason": "crisis"}
            )
            return "held"
        verdict = check_variant(variant)
        if verdict.blocks and all(f.guardrail == guardrails.OPEN_ALERT for f in verdict.blocks):
            # The post speaks of what an open crisis alert is about: it waits, like crisis holds.
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "alert", now
            variant.save(update_fields=["state", "held_reason", "held_at"])
            record(
                palabre_actor,
                "post.held",
                post,
                after={
                    "channel": str(variant.channel),
                    "reason": "alert",
                    "alerts": [f.params.get("name") for f in verdict.blocks],
                },
            )
            return "held"
        if verdict.blocks:
            variant.state = VariantState.BLOCKED
            variant.save(update_fields=["state"])
            record(
                palabre_actor,
                "post.blocked",
                post,
                after={"channel": str(variant.channel), "findings": [f.explanation for f in verdict.blocks]},
            )
            return "blocked"
        try:
            action = queue_publication(
                actor=palabre_actor,
                channel=variant.channel,
                text=variant.text,
                idempotency_key=variant.idempotency_key,
                media=[*post_media.to_send(variant), *(m for m in variant.media if m.get("content_b64"))],
            )
        except ValidationError as error:
            variant.state = VariantState.BLOCKED
            variant.guardrail_findings = [
                *variant.guardrail_findings,
                guardrails.Finding(
                    guardrails.CHANNEL_LIMITS, guardrails.BLOCK, " ".join(error.messages)
                ).as_dict(),
            ]
            variant.save(update_fields=["state", "guardrail_findings"])
            record(
                palabre_actor,
                "post.blocked",
                post,
                after={"channel": str(variant.channel), "error": error.messages},
            )
            return "refused"
        variant.action = action
        variant.state = VariantState.HANDED_OVER
        variant.handed_over_at = now
        variant.save(update_fields=["action", "state", "handed_over_at"])
        record(
            palabre_actor,
            "post.handed_over",
            post,
            after={"channel": str(variant.channel), "action": action.pk},
        )
        return "handed_over"


def delivery_due(variant: PostVariant, *, now: datetime | None = None) -> int | None:
    """The outbox action to (re)deliver for this variant, if its delivery was interrupted."""
    now = now or timezone.now()
    action = OutboundAction.objects.filter(pk=variant.action_id).first() if variant.action_id else None
    if action is None:
        return None
    if action.status == ActionStatus.QUEUED and (
        action.next_attempt_at is None or action.next_attempt_at <= now
    ):
        return action.pk
    if action.status == ActionStatus.SENDING and action.lease_until is not None and action.lease_until < now:
        return action.pk
    return None


def due_variant_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Scheduled variants whose time has come, and handed-over ones whose delivery is unsettled."""
    now = now or timezone.now()
    due = PostVariant.objects.filter(
        models.Q(state=VariantState.SCHEDULED, scheduled_at__lte=now)
        | models.Q(
            state=VariantState.HANDED_OVER, action__status__in=[ActionStatus.QUEUED, ActionStatus.SENDING]
        )
    )
    return list(due.order_by("scheduled_at", "pk").values_list("pk", flat=True)[:limit])


# --- crisis -------------------------------------------------------------------------------------


def hold_for_crisis(organisation: Organisation, *, actor: Actor | None = None) -> list[PostVariant]:
    """Crisis mode: every scheduled promotional variant waits. Returns what was held."""
    actor = actor or Actor.palabre(organisation)
    held = []
    with transaction.atomic():
        for variant in (
            PostVariant.objects.select_for_update(of=("self",))
            .select_related("post", "post__campaign", "channel")
            .filter(organisation=organisation, state=VariantState.SCHEDULED)
        ):
            if not _is_promotional(variant):
                continue
            variant.state, variant.held_reason, variant.held_at = VariantState.HELD, "crisis", timezone.now()
            variant.save(update_fields=["state", "held_reason", "held_at"])
            held.append(variant)
        if held:
            record(
                actor,
                "publishing.crisis_hold",
                None,
                label=organisation.name,
                after={
                    "held": [
                        {"post": v.post_id, "title": v.post.title, "channel": str(v.channel)} for v in held
                    ]
                },
            )
    return held


def held_variants(actor: Actor) -> models.QuerySet[PostVariant]:
    posts_for(actor)
    return (
        PostVariant.objects.filter(organisation=actor.organisation, state=VariantState.HELD)
        .select_related("post", "channel")
        .order_by("scheduled_at", "pk")
    )


@transaction.atomic
def release_held(
    *, actor: Actor, variant_ids: Sequence[int] | None = None, at: datetime | None = None
) -> list[PostVariant]:
    """After the crisis: the held variants go back on the calendar, at their time or, when it has
    passed, at `at` (default: in 15 minutes, so a person can still look)."""
    actor.require(Perm.POSTS_APPROVE)
    if crisis_active(actor.organisation):
        raise ValidationError({"crisis": _("The organisation is still in crisis mode.")})
    queryset = (
        PostVariant.objects.select_for_update(of=("self",))
        .select_related("post", "channel", "post__campaign")
        .filter(organisation=actor.organisation, state=VariantState.HELD)
    )
    if variant_ids is not None:
        queryset = queryset.filter(pk__in=list(variant_ids))
    now = timezone.now()
    fallback = at or now + timedelta(minutes=15)
    released = []
    for variant in queryset:
        when = variant.scheduled_at if variant.scheduled_at and variant.scheduled_at > now else fallback
        released.append(_schedule(actor, variant, when))
    return released


def on_crisis_changed(organisation: Organisation, *, active: bool, actor: Actor | None = None) -> None:
    """Registered with listening: crisis mode switched on or off (called on commit)."""
    if active:
        hold_for_crisis(organisation, actor=actor)


# --- best times ---------------------------------------------------------------------------------


def best_posting_times(actor: Actor, *, days: int = 180, top: int = 5) -> list[dict[str, Any]]:
    """When the brand's own posts got the most engagement, by hour of the week in the
    organisation's time zone: [{weekday, hour, posts, engagement}] best first."""
    from zoneinfo import ZoneInfo

    posts_for(actor)
    zone = ZoneInfo(actor.organisation.time_zone)
    since = timezone.now() - timedelta(days=days)
    brand_handles = Channel.objects.filter(organisation=actor.organisation).values_list("handle", flat=True)
    rows = Item.objects.filter(
        organisation=actor.organisation,
        kind=ItemKind.POST,
        created_at__gte=since,
        author__handle__in=list(brand_handles),
    ).values_list("created_at", "metrics")
    slots: dict[tuple[int, int], list[float]] = {}
    for created_at, metrics in rows:
        local = created_at.astimezone(zone)
        metrics = metrics if isinstance(metrics, dict) else {}
        score = 0.0
        for key, weight in (
            ("likes", 1.0),
            ("replies", 3.0),
            ("comments", 3.0),
            ("shares", 2.0),
            ("reposts", 2.0),
        ):
            value = metrics.get(key)
            if isinstance(value, int | float):
                score += weight * float(value)
        slots.setdefault((local.weekday(), local.hour), []).append(score)
    ranked = sorted(
        (
            {
                "weekday": day,
                "hour": hour,
                "posts": len(scores),
                "engagement": round(sum(scores) / len(scores), 1),
            }
            for (day, hour), scores in slots.items()
        ),
        key=lambda s: (-s["engagement"], -s["posts"]),
    )
    return ranked[:top]
