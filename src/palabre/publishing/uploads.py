"""The one limit of a request that carries files (the pictures and videos of posts).

Django counts a multipart body's plain fields against PALABRE_MAX_BODY_BYTES
(`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not its files: those are written to a temporary file, however
large, before any view can look at their size. This handler, first in `FILE_UPLOAD_HANDLERS`,
refuses a body declared larger than the largest file Palabre keeps plus the usual body, before a
byte of it is read (the server never reads past the declared length).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler

from palabre.publishing.media import MAX_BYTES


def max_upload_bytes() -> int:
    return MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class BoundedUploadHandler(FileUploadHandler):
    """Refuses an oversized body up front; passes every chunk on to the next handler."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > max_upload_bytes():
            raise RequestDataTooBig(f"The body is larger than {max_upload_bytes()} bytes.")
        return None  # the next handlers parse the body as usual

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
