"""Numbers in the inbox read the person's way: "72,4 h" and "48 200 abonnés" in French."""

from __future__ import annotations

from django.utils import translation

from palabre.inbox.views import reason_texts

REASONS = [
    {"code": "waiting", "points": 14, "params": {"hours": 72.4}},
    {"code": "reach", "points": 16, "params": {"followers": 48200}},
]


def test_priority_reasons_write_numbers_the_french_way():
    with translation.override("fr"):
        texts = [r["text"] for r in reason_texts(REASONS)]
    assert texts[0] == "en attente depuis 72,4 h"
    assert texts[1].replace("\u202f", " ").replace("\xa0", " ") == "audience de l’auteur : 48 200 abonnés"


def test_priority_reasons_write_numbers_the_english_way():
    with translation.override("en"):
        texts = [r["text"] for r in reason_texts(REASONS)]
    assert texts == ["waiting for 72.4 h", "author's reach: 48,200 followers"]
