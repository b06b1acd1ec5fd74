"""Campaigns, posts and their variants: writing, editing, comments, removal; who may edit what."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing.models import (
    Campaign,
    Post,
    PostComment,
    PostStatus,
    PostVariant,
    VariantState,
)
from palabre.publishing.services.access import (
    _campaign,
    _can_edit,
    _channel,
    _send_back,
    keeps_approval_on_reschedule,
    posts_for,
)
from palabre.publishing.services.checks import check_variant
from palabre.publishing.services.schedule import _schedule

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_TEXT = 63_206
MAX_COMMENT = 5000


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
    post = Post.objects.select_for_update().visible_to(actor).get(pk=post.pk)
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
        .visible_to(actor)
        .filter(pk=variant.pk)
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
    post = Post.objects.select_for_update().visible_to(actor).filter(pk=post.pk).first()
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
