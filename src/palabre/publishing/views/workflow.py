"""A post's workflow from its page: a variant removed, the post deleted, submitted, approved, rejected, commented."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import services
from palabre.publishing.forms import (
    CommentForm,
    RejectForm,
)
from palabre.publishing.models import PostStatus
from palabre.publishing.views.common import show_refusal
from palabre.publishing.views.posts import _act, _post_page


@require_POST
@member_view()
def variant_remove(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    try:
        services.remove_variant(actor=actor, variant=variant)
    except (ValidationError, PermissionDenied) as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("%(channel)s dropped from the post.") % {"channel": variant.channel.name})
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view()
def post_delete(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the box to confirm that the post is deleted."))
        return redirect("publishing:post", post_id=found.pk)
    try:
        services.delete_post(actor=actor, post=found)
    except (ValidationError, PermissionDenied) as error:
        show_refusal(request, error)
        return redirect("publishing:post", post_id=found.pk)
    messages.success(request, _("Post “%(title)s” deleted.") % {"title": found.title})
    return redirect("publishing:calendar")


@require_POST
@member_view()
def post_submit(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = _act(request, actor, post_id, lambda p: services.submit_post(actor=actor, post=p))
    found.refresh_from_db()
    if found.status == PostStatus.PENDING:
        messages.success(request, _("Sent to the approvers."))
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view(Perm.POSTS_APPROVE)
def post_approve(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    acknowledged = request.POST.get("acknowledge_warnings") == "on"
    found = _act(
        request,
        actor,
        post_id,
        lambda p: services.approve_post(actor=actor, post=p, acknowledge_warnings=acknowledged),
    )
    found.refresh_from_db()
    if found.status == PostStatus.APPROVED:
        messages.success(request, _("Approved. Variants with a time are scheduled."))
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view(Perm.POSTS_APPROVE)
def post_reject(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.reject_post(actor=actor, post=found, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Sent back to its author with your reason."))
            return redirect("publishing:post", post_id=found.pk)
    return _post_page(request, actor, found, reject_form=form, status=422)


@require_POST
@member_view()
def post_comment(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(actor=actor, post=found, text=form.cleaned_data["text"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return redirect(reverse("publishing:post", kwargs={"post_id": found.pk}) + "#comments")
    return _post_page(request, actor, found, comment_form=form, status=422)
