"""A display name a platform or a commenter gives is a name, not content: its bidirectional
controls (an override that shows "gpj.exe" as "exe.jpg") are taken out when it comes in, so the
API, the comment widget and every page get the name as spelled; the item's text keeps them."""

from __future__ import annotations

import pytest

from palabre.conversations.models import Contact, ContactHandle
from palabre.conversations.services import IncomingAuthor

pytestmark = pytest.mark.django_db


def test_a_display_name_comes_in_without_bidi_controls_and_the_text_keeps_them(channel, ingest):
    item = ingest(
        channel,
        text="Voici la photo : \u202egpj.exe",
        author=IncomingAuthor(handle="camille-42", display_name="\u202egpj.exe \u2067Camille\u200f"),
    )
    assert item.text == "Voici la photo : \u202egpj.exe"
    assert ContactHandle.objects.get(handle="camille-42").display_name == "gpj.exe Camille"
    assert Contact.objects.get(pk=item.contact_id).display_name == "gpj.exe Camille"
    # A right-to-left name keeps its letters.
    assert (
        IncomingAuthor(handle="m", display_name="\u0645\u062d\u0645\u062f\u200f").display_name
        == "\u0645\u062d\u0645\u062f"
    )
