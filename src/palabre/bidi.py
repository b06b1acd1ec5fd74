"""Bidirectional-text controls in what people and platforms give Palabre, made harmless where shown.

A display name, a channel or query name, a saved reply's title, an organisation's name or an
item's text can hold the invisible characters that steer the Unicode bidirectional algorithm:
embeddings and overrides (U+202A to U+202E), isolates (U+2066 to U+2069) and the marks (U+200E,
U+200F, U+061C). Shown as they are, "\u202egpj.exe" reads "exe.jpg", and a name that opens an override
without closing it turns the rest of the line around: who did what in the audit log, whose post an
approval is for. Names are saved without them (`clean_names`, a pre_save receiver for the name,
title and first/last name fields of every model; an author's display name at ingest); other stored
text keeps them (an item is content, the API gives it back as received). What Palabre shows and
sends loses them, in one place each so that no template, export or e-mail has to remember:

- every HTML page and partial: `BidiControlsMiddleware` (the last change to a page's bytes);
- every e-mail: `EmailBackend`, around the backend the settings choose;
- CSV cells: `palabre.spreadsheet.safe_cell`; the PDF report: drawn from its HTML after this.

Right-to-left names and texts still read right to left: the algorithm needs no control characters
for that.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailAlternative

CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_FOUND = re.compile("[" + CONTROLS + "]")
# The same characters in UTF-8 bytes (E2 80 8E-8F, E2 80 AA-AE, E2 81 A6-A9, D8 9C): a page
# is searched without decoding it.
_FOUND_BYTES = re.compile(rb"\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c")


def strip_controls(text: str) -> str:
    """The text without its bidirectional control characters (the letters keep their direction)."""
    return _FOUND.sub("", text)


def has_controls(text: str) -> bool:
    return bool(_FOUND.search(text))


# Fields that hold a name a person or a platform gives (never content, never an identifier that
# a lookup compares with what was received): cleaned whenever a row is saved.
NAME_FIELDS = frozenset({"name", "title", "display_name", "first_name", "last_name"})
_named_fields: dict[type, tuple[str, ...]] = {}


def clean_names(sender: type, instance: Any, **_kwargs: Any) -> None:
    """pre_save receiver (connected by the orgs app for every model of Palabre and the user):
    takes the bidirectional controls out of the instance's name fields."""
    fields = _named_fields.get(sender)
    if fields is None:
        ours = sender.__module__.startswith("palabre.") or sender._meta.label == settings.AUTH_USER_MODEL
        fields = _named_fields[sender] = tuple(
            f.attname
            for f in sender._meta.concrete_fields
            if ours and f.name in NAME_FIELDS and f.get_internal_type() in ("CharField", "TextField")
        )
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, str):
            setattr(instance, name, strip_controls(value))


class BidiControlsMiddleware:
    """Takes the bidirectional controls out of every HTML answer, whichever template wrote it."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        kind = response.get("Content-Type", "")
        if (
            not getattr(response, "streaming", False)
            and kind.startswith("text/html")
            and _FOUND_BYTES.search(response.content)
        ):
            charset = getattr(response, "charset", None) or "utf-8"
            response.content = strip_controls(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):  # set inside (CommonMiddleware) for the old body
                response["Content-Length"] = str(len(response.content))
        return response


class EmailBackend(BaseEmailBackend):
    """Sends through `INNER_EMAIL_BACKEND` (the SMTP, file or console backend the settings
    chose) with the bidirectional controls taken out of the subject and of every text part."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.inner = get_connection(settings.INNER_EMAIL_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self) -> Any:
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            message.subject = strip_controls(str(message.subject))
            if isinstance(message.body, str):
                message.body = strip_controls(message.body)
            if getattr(message, "alternatives", None):
                message.alternatives = [
                    EmailAlternative(strip_controls(content), mimetype)
                    if isinstance(content, str)
                    else EmailAlternative(content, mimetype)
                    for content, mimetype in message.alternatives
                ]
        return self.inner.send_messages(email_messages)
