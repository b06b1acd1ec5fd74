"""The approval workflow: submitting a post, approving it (warnings read and accepted, blocks stop it) or rejecting it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record
from palabre.publishing import guardrails
from palabre.publishing.models import (
    Post,
    PostComment,
    PostStatus,
    PostVariant,
    VariantState,
)
from palabre.publishing.services.access import _can_edit
from palabre.publishing.services.checks import check_variant
from palabre.publishing.services.drafts import MAX_COMMENT
from palabre.publishing.services.schedule import _schedule


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
    post = Post.objects.select_for_update().visible_to(actor).get(pk=post.pk)
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
    post = Post.objects.select_for_update().visible_to(actor).get(pk=post.pk)
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
    post = Post.objects.select_for_update().visible_to(actor).get(pk=post.pk)
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
