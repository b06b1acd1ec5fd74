"""The one limit of a request that carries files (the pictures and videos of posts).

Django counts a multipart body's plain fields against PALABRE_MAX_BODY_BYTES
(`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not its files: those are written to a temporary file, however
large, before any view can look at their size. This handler, first in `FILE_UPLOAD_HANDLERS`,
refuses a body declared larger than the largest file Palabre keeps plus the usual body, before a
byte of it is read (the server never reads past the declared length).

Pages read the body in the CSRF check, before any view: Django answers the refusal there with its
400 handler, `bad_request` below, which says 413 and the limit hit in the reader's language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults

from palabre.publishing.media import MAX_BYTES


def max_upload_bytes() -> int:
    return MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def megabytes(size: int) -> str:
    """`10.5`, `8`: the MB (of 1,048,576 bytes, as the file limit is said everywhere) of a limit."""
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class UploadTooBig(RequestDataTooBig):
    """A body carrying files declared larger than `max_upload_bytes()`; a bare RequestDataTooBig
    means the plain fields alone passed PALABRE_MAX_BODY_BYTES."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The body is larger than {megabytes(limit)} MB.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 400 handler: a body too large (refused as soon as the CSRF check or a view reads
    it) is a 413 page naming the limit hit; anything else is Django's 400."""
    if not isinstance(exception, RequestDataTooBig):
        return defaults.bad_request(request, exception)
    context = {
        "with_files": isinstance(exception, UploadTooBig),
        "file_mb": MAX_BYTES / (1024 * 1024),
        "body_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024),
        "limit_mb": max_upload_bytes() / (1024 * 1024),
        "back": "",
    }
    match = request.resolver_match  # set: the CSRF check runs once the URL is resolved
    if match and match.view_name == "publishing:media_upload":
        context["back"] = reverse("publishing:post", kwargs={"post_id": match.kwargs["post_id"]})
        context["back"] += f"#variant-{match.kwargs['variant_id']}"
    return render(request, "413.html", context, status=413)


class BoundedUploadHandler(FileUploadHandler):
    """Refuses an oversized body up front; passes every chunk on to the next handler."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > max_upload_bytes():
            raise UploadTooBig(max_upload_bytes())
        return None  # the next handlers parse the body as usual

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
