"""Numbers in the inbox read the person's way: "30,5 h" and "48 200 abonnés" in French; a wait of
more than two days in days."""

from __future__ import annotations

from django.utils import translation

from palabre.inbox.views import reason_texts

REASONS = [
    {"code": "waiting", "points": 14, "params": {"hours": 30.5}},
    {"code": "reach", "points": 16, "params": {"followers": 48200}},
]


def test_priority_reasons_write_numbers_the_french_way():
    with translation.override("fr"):
        texts = [r["text"] for r in reason_texts(REASONS)]
    assert texts[0] == "en attente depuis 30,5 h"
    assert texts[1].replace("\u202f", " ").replace("\xa0", " ") == "audience de l’auteur : 48 200 abonnés"


def test_priority_reasons_write_numbers_the_english_way():
    with translation.override("en"):
        texts = [r["text"] for r in reason_texts(REASONS)]
    assert texts == ["waiting for 30.5 h", "author's reach: 48,200 followers"]


def test_a_wait_of_more_than_two_days_reads_in_days():
    def text(hours: float) -> str:
        return reason_texts([{"code": "waiting", "points": 20, "params": {"hours": hours}}])[0]["text"]

    with translation.override("fr"):
        assert text(47.9) == "en attente depuis 47,9 h"
        assert text(48.0) == "en attente depuis 2 jours"
        assert text(669.5) == "en attente depuis 28 jours"
        assert text(24_000.0).replace("\u202f", " ").replace("\xa0", " ") == "en attente depuis 1 000 jours"
    with translation.override("en"):
        assert text(669.5) == "waiting for 28 days"
