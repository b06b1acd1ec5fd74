"""A post's page: a new post, its variants with their guardrail coaching, saving a variant, the preview."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import limits, services
from palabre.publishing import media as post_media
from palabre.publishing.forms import (
    CommentForm,
    MediaForm,
    PostForm,
    RejectForm,
    VariantForm,
    local_input,
)
from palabre.publishing.models import PostStatus, PostVariant, VariantState
from palabre.publishing.views.common import POST_STATUS_LABELS, STATE_STYLES, highlight


@member_view(Perm.POSTS_DRAFT)
def post_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    organisation = actor.organisation
    form = PostForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        variants = [
            {"channel": channel, "text": data["text"], "scheduled_at": data["scheduled_at"]}
            for channel in data["channels"]
        ]
        try:
            post = services.create_post(
                actor=actor,
                title=data["title"],
                variants=variants,
                campaign=data["campaign"],
                promotional=data["promotional"],
            )
        except ValidationError as error:
            apply_service_errors(form, error, aliases={"variants": "channels", "campaign": "campaign"})
        else:
            messages.success(request, _("Draft saved. Read the guardrails' advice below."))
            return redirect("publishing:post", post_id=post.pk)
    return render(request, "publishing/post_new.html", {"form": form})


def preview_context(variant: PostVariant, text: str, files: list) -> dict[str, Any]:
    """The variant as its network will show it: the text as sent, its pictures, the counter."""
    return {
        "variant": variant,
        "channel": variant.channel,
        "text": text,
        "files": files,
        "counter": limits.counter(variant.channel, text),
    }


def _variant_entries(
    actor: Actor, post, forms: dict[int, VariantForm] | None = None, media_forms: dict | None = None
) -> list[dict]:
    zone = actor.organisation.time_zone
    entries = []
    attachments = list(post.attachments.all())
    for variant in post.variants.select_related("channel", "action").order_by("channel__name"):
        form = (forms or {}).get(variant.pk) or VariantForm(
            initial={"text": variant.text, "scheduled_at": local_input(variant.scheduled_at, zone)},
            organisation=actor.organisation,
            prefix=f"v{variant.pk}",
        )
        form.fields["text"].widget.attrs.update(
            {
                "hx-post": reverse(
                    "publishing:preview", kwargs={"post_id": post.pk, "variant_id": variant.pk}
                ),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#preview-{variant.pk}",
                "hx-swap": "outerHTML",
                "aria-describedby": f"counter-{variant.pk}",
            }
        )
        files = [m for m in attachments if m.variant_id in (None, variant.pk)]
        findings = variant.guardrail_findings
        if variant.state != VariantState.HANDED_OVER:
            # Checked again for the reader: in their language, against today's trends and posts.
            variant.post = post
            findings = [f.as_dict() for f in services.check_variant(variant, save=False).findings]
        entries.append(
            {
                "variant": variant,
                "form": form,
                "pieces": highlight(variant.text, findings),
                # A channel that cannot publish is said once, above the text, not among the coaching.
                "blocks": [
                    f for f in findings if f["severity"] == "block" and f["guardrail"] != "channel_ready"
                ],
                "warnings": [f for f in findings if f["severity"] == "warn"],
                "style": STATE_STYLES.get(variant.state, "draft"),
                "editable": variant.state != VariantState.HANDED_OVER,
                "cannot_publish": [f for f in findings if f["guardrail"] == "channel_ready"],
                "files": files,
                "preview": preview_context(variant, variant.text, files),
                "media_form": (media_forms or {}).get(variant.pk) or MediaForm(prefix=f"m{variant.pk}"),
                "droppable": variant.state
                not in {VariantState.HANDED_OVER, VariantState.SCHEDULED, VariantState.HELD},
            }
        )
    return entries


def _can_edit(actor: Actor, post) -> bool:
    if actor.can(Perm.POSTS_APPROVE):
        return True
    return post.created_by_id == actor.user_id and post.status in {PostStatus.DRAFT, PostStatus.REJECTED}


def _time_notice(actor: Actor, post) -> dict[str, str]:
    """What saving a variant of an approved post does to its approval, said before saving."""
    if post.status != PostStatus.APPROVED:
        return {}
    if services.keeps_approval_on_reschedule(actor):
        return {
            "notice": _(
                "This post is approved. A new time keeps the approval (you approve posts; the change "
                "is recorded). A change to the text sends the post back for approval."
            ),
            "confirm_text": _("Changing the text will send the post back for approval. Save anyway?"),
        }
    return {
        "notice": _("This post is approved. Changing the time or the text sends it back for approval."),
        "confirm_time": _("Changing the time will send the post back for approval. Save anyway?"),
        "confirm_text": _("Changing the text will send the post back for approval. Save anyway?"),
    }


def _post_page(
    request, actor, post, *, forms=None, comment_form=None, reject_form=None, media_forms=None, status=200
):
    entries = _variant_entries(actor, post, forms, media_forms)
    context = {
        "time_notice": _time_notice(actor, post),
        "status_label": POST_STATUS_LABELS.get(post.status, post.get_status_display()),
        "can_delete": _can_edit(actor, post) and post.status in {PostStatus.DRAFT, PostStatus.REJECTED},
        "cannot_publish": any(e["cannot_publish"] for e in entries),
        "post": post,
        "entries": entries,
        "comments": post.comments.all(),
        "comment_form": comment_form or CommentForm(),
        "reject_form": reject_form or RejectForm(),
        "can_edit": _can_edit(actor, post),
        "can_approve": actor.can(Perm.POSTS_APPROVE),
        "has_blocks": any(e["blocks"] or e["cannot_publish"] for e in entries),
        "has_warnings": any(e["warnings"] for e in entries),
        "calendar_date": next(
            (
                e["variant"]
                .scheduled_at.astimezone(ZoneInfo(actor.organisation.time_zone))
                .date()
                .isoformat()
                for e in entries
                if e["variant"].scheduled_at
            ),
            "",
        ),
    }
    return render(request, "publishing/post.html", context, status=status)


@member_view()
def post(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    return _post_page(request, actor, services.get_post(actor=actor, post_id=post_id))


@require_POST
@member_view()
def variant_save(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        return redirect("publishing:post", post_id=found.pk)
    form = VariantForm(request.POST, organisation=actor.organisation, prefix=f"v{variant.pk}")
    if form.is_valid():
        specs = [
            {
                "channel": v.channel_id,
                "text": form.cleaned_data["text"] if v.pk == variant.pk else v.text,
                "media": v.media,
                "scheduled_at": form.cleaned_data["scheduled_at"] if v.pk == variant.pk else v.scheduled_at,
            }
            for v in found.variants.all()
        ]
        try:
            services.update_post(actor=actor, post=found, variants=specs)
        except ValidationError as error:
            apply_service_errors(form, error, aliases={"variants": "text"})
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved; the guardrails have checked it again."))
            return redirect("publishing:post", post_id=found.pk)
    return _post_page(request, actor, found, forms={variant.pk: form}, status=422)


def _act(request, actor, post_id, action):
    found = services.get_post(actor=actor, post_id=post_id)
    try:
        action(found)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied as error:
        messages.error(request, str(error))
    return found


@require_POST
@member_view()
def preview(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    """The editor's live preview and counter (htmx), for the text being typed."""
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    text = (request.POST.get(f"v{variant.pk}-text") or request.POST.get("text") or "")[:63_206]
    return render(
        request,
        "publishing/_preview.html",
        preview_context(variant, text.strip(), post_media.media_of(variant)),
    )
