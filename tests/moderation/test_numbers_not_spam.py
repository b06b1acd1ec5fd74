"""Numbers in customers' messages are not contact details (issue 13): a postcode or an order
number with a promo code is published, a message that gives a phone number to sell is not."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import PUBLISH, REJECT, ModerationContext, moderate_many

CUSTOMERS = [
    "Je vis à Paris 75011",
    "Commande #47002 : code promo BIENVENUE10 non appliqué",
    "Livraison prévue au 13001 Marseille, code postal correct ?",
    "J'ai payé 12500 euros pour la cuisine, toujours pas posée.",
]

SPAM = [
    "Appelez le 06 12 34 56 78 pour gagner un iPhone gratuit !",
    "WINNER! Claim your £1000 prize now, call 09061701461",
]


@pytest.mark.parametrize("lang", [None, "fr"])
def test_postcodes_order_numbers_and_amounts_are_published(lang):
    decisions = moderate_many(CUSTOMERS, [ModerationContext(lang=lang) for _ in CUSTOMERS])
    for text, decision in zip(CUSTOMERS, decisions, strict=True):
        assert decision.action == PUBLISH, (text, decision.as_dict())
        assert decision.scores["spam"] < 0.5, (text, decision.scores)


def test_a_phone_number_to_call_for_a_prize_is_spam():
    decisions = moderate_many(SPAM, [ModerationContext() for _ in SPAM])
    for text, decision in zip(SPAM, decisions, strict=True):
        assert decision.action == REJECT, (text, decision.as_dict())
