"""A variant's files: upload, download, description, removal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs.forms import apply_service_errors
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import media as post_media
from palabre.publishing import services
from palabre.publishing.forms import (
    DescribeForm,
    MediaForm,
)
from palabre.publishing.views.common import show_refusal
from palabre.publishing.views.posts import _post_page


@require_POST
@member_view()
def media_upload(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    form = MediaForm(request.POST, request.FILES, prefix=f"m{variant.pk}")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > post_media.MAX_BYTES:
                raise ValidationError(
                    {"file": _("The file weighs more than %(mb)s MB: make it lighter.") % {"mb": 8}}
                )
            post_media.attach_media(
                actor=actor,
                post=found,
                content=upload.read(),
                filename=upload.name,
                description=form.cleaned_data["description"],
                variant=variant if form.cleaned_data["scope"] == "variant" else None,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("File attached; the guardrails have checked the post again."))
            return redirect(
                reverse("publishing:post", kwargs={"post_id": found.pk}) + f"#variant-{variant.pk}"
            )
    return _post_page(request, actor, found, media_forms={variant.pk: form}, status=422)


@member_view()
def media_file(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    """A post's picture (or its thumbnail), to members of its organisation only."""
    found = post_media.get_media(actor=actor, media_id=media_id)
    stored = found.thumbnail if request.GET.get("size") == "thumb" and found.thumbnail else found.file
    content_type = "image/jpeg" if stored is found.thumbnail else found.mime_type
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@member_view()
def media_describe(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    found = post_media.get_media(actor=actor, media_id=media_id)
    form = DescribeForm(request.POST)
    if form.is_valid():
        try:
            post_media.describe_media(actor=actor, media=found, description=form.cleaned_data["description"])
        except (ValidationError, PermissionDenied) as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Alternative text saved."))
    return redirect(reverse("publishing:post", kwargs={"post_id": found.post_id}) + "#media-" + str(found.pk))


@require_POST
@member_view()
def media_remove(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    found = post_media.get_media(actor=actor, media_id=media_id)
    post_id = found.post_id
    try:
        post_media.remove_media(actor=actor, media=found)
    except (ValidationError, PermissionDenied) as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("File removed."))
    return redirect("publishing:post", post_id=post_id)
