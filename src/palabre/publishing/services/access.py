"""Who reads and edits which post: the organisation's posts, channels and campaigns as an actor sees them, edit rights, and a post sent back to its approvers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing.models import (
    Campaign,
    Post,
    PostStatus,
    PostVariant,
    VariantState,
)
from palabre.publishing.services.checks import policy_for

EDITABLE = {PostStatus.DRAFT, PostStatus.PENDING, PostStatus.REJECTED, PostStatus.APPROVED}

# --- reading and edit rights ------------------------------------------------------------------


def posts_for(actor: Actor) -> models.QuerySet[Post]:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        actor.require(Perm.POSTS_DRAFT)
    return Post.objects.visible_to(actor).select_related("campaign", "created_by")


def get_post(*, actor: Actor, post_id: int) -> Post:
    post = posts_for(actor).filter(pk=post_id).first()
    if post is None:
        raise NotInOrganisation
    return post


def get_variant(*, actor: Actor, variant_id: int) -> PostVariant:
    posts_for(actor)
    variant = (
        PostVariant.objects.select_related("post", "channel", "action", "post__campaign")
        .visible_to(actor)
        .filter(pk=variant_id)
        .first()
    )
    if variant is None:
        raise NotInOrganisation
    return variant


def _channel(actor: Actor, channel: Channel | int) -> Channel:
    channel_id = channel.pk if isinstance(channel, Channel) else channel
    found = Channel.objects.visible_to(actor).filter(pk=channel_id).first()
    if found is None:
        raise ValidationError({"channel": _("No such channel in this organisation.")})
    return found


def _campaign(actor: Actor, campaign: Campaign | int | None) -> Campaign | None:
    if campaign in (None, ""):
        return None
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    found = Campaign.objects.visible_to(actor).filter(pk=campaign_id).first()
    if found is None:
        raise ValidationError({"campaign": _("No such campaign in this organisation.")})
    return found


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
