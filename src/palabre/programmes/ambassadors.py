"""Ambassadors: employees who opt in to share the brand's approved posts on their own account.

Nothing is ever posted in their name without them: only the ambassador can turn an offer into a
draft on their account, the draft is theirs (it goes through approval like any post), and the
disclosure they chose is in every share."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.programmes.models import Ambassador, AmbassadorShare
from palabre.publishing.models import Post, PostStatus

OFFER_DAYS = 30
MAX_DISCLOSURE = 120


def own_channels(actor: Actor) -> QuerySet[Channel]:
    """The person's personal accounts that an owner approved as spokesperson channels."""
    return Channel.objects.visible_to(actor).filter(
        kind=Channel.Kind.SPOKESPERSON, spokesperson_id=actor.user_id, spokesperson_approved_at__isnull=False
    )


def ambassador_of(actor: Actor) -> Ambassador | None:
    if actor.user is None:
        return None
    return Ambassador.objects.visible_to(actor).filter(user=actor.user, opted_out_at__isnull=True).first()


@transaction.atomic
def opt_in(*, actor: Actor, channel_id: int, disclosure: str) -> Ambassador:
    """Only the person themself opts in, with one of their own approved accounts."""
    if actor.user is None:
        raise PermissionDenied(_("Only a person can become an ambassador."))
    channel = own_channels(actor).filter(pk=channel_id).first()
    errors = {}
    if channel is None:
        errors["channel"] = _("Choose one of your personal accounts that an owner approved.")
    disclosure = " ".join(disclosure.split())
    if not disclosure:
        errors["disclosure"] = _("Say in each share that you work for the brand (e.g. “#collaborateur”).")
    elif len(disclosure) > MAX_DISCLOSURE:
        errors["disclosure"] = _("At most %(n)s characters.") % {"n": MAX_DISCLOSURE}
    if errors:
        raise ValidationError(errors)
    ambassador, _created = Ambassador.objects.update_or_create(
        organisation=actor.organisation,
        user=actor.user,
        defaults={
            "channel": channel,
            "disclosure": disclosure,
            "opted_in_at": timezone.now(),
            "opted_out_at": None,
        },
    )
    record(actor, "programmes.ambassador_joined", ambassador, after={"channel": str(channel)})
    return ambassador


@transaction.atomic
def opt_out(*, actor: Actor) -> None:
    ambassador = ambassador_of(actor)
    if ambassador is None:
        return
    ambassador.opted_out_at = timezone.now()
    ambassador.save(update_fields=["opted_out_at"])
    record(actor, "programmes.ambassador_left", ambassador)


def offers(actor: Actor) -> QuerySet[Post]:
    """The brand's approved posts of the last weeks, not yet shared by this ambassador."""
    ambassador = ambassador_of(actor)
    if ambassador is None:
        return Post.objects.none()
    shared = AmbassadorShare.objects.filter(ambassador=ambassador).values("source_id")
    return (
        Post.objects.visible_to(actor)
        .filter(
            status=PostStatus.APPROVED,
            variants__channel__kind=Channel.Kind.BRAND,
            decided_at__gte=timezone.now() - timedelta(days=OFFER_DAYS),
        )
        .exclude(pk__in=shared)
        .distinct()
        .prefetch_related("variants")
        .order_by("-decided_at")
    )


def share_text(post: Post, disclosure: str) -> str:
    text = next((v.text for v in post.variants.all() if v.text), "")
    return f"{text}\n\n{disclosure}".strip()


@transaction.atomic
def share(*, actor: Actor, post_id: int) -> AmbassadorShare:
    """The ambassador's own draft of a brand post, with their disclosure, on their own account."""
    from palabre.publishing.services import create_post

    ambassador = ambassador_of(actor)
    if ambassador is None:
        raise PermissionDenied(_("Opt in as an ambassador first: only you can share on your account."))
    actor.require(Perm.POSTS_DRAFT)
    source = offers(actor).filter(pk=post_id).first()
    if source is None:
        raise NotInOrganisation(_("This post is not offered to share."))
    draft = create_post(
        actor=actor,
        title=(_("Shared: %(title)s") % {"title": source.title})[:200],
        variants=[{"channel": ambassador.channel_id, "text": share_text(source, ambassador.disclosure)}],
        promotional=source.promotional,
    )
    shared = AmbassadorShare.objects.create(ambassador=ambassador, source=source, draft=draft)
    record(actor, "programmes.ambassador_shared", shared, after={"post": source.pk, "draft": draft.pk})
    return shared


def ambassadors(actor: Actor) -> QuerySet[Ambassador]:
    actor.require(Perm.PROGRAMMES_MANAGE)
    return Ambassador.objects.visible_to(actor).select_related("user", "channel")
