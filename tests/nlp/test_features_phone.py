"""The phone feature reads telephone numbers, not every long number (issue 13): a postcode, an
order number or an amount in a customer's message is no contact detail."""

from __future__ import annotations

import pytest

from palabre.nlp.features import DENSE_FEATURES, FeatureConfig, Featurizer

PHONE = DENSE_FEATURES.index("phone")

PHONE_NUMBERS = [
    "Appelez le 06 12 34 56 78 pour en profiter",
    "Contact : 01.23.45.67.89",
    "+33 6 12 34 56 78",
    "+33612345678",
    "0044 20 7946 0958",
    "+44 (0) 20 7946 0958",
    "+1 415 555 2671",
    "Call (555) 123-4567 today",
    "call 555-123-4567",
    "You have 1 new message. Call 0207-083-6089",
    "Romantic Paris. Call 08704439680Ts&Cs apply.",
    "txt WIN to 87121 now",
    "Text STOP to 85069",
    "07123456789",
]

NOT_PHONE_NUMBERS = [
    "Je vis à Paris 75011",
    "Commande #47002 : code promo BIENVENUE10 non appliqué",
    "Bonjour, où en est ma commande ML-47002 ?",
    "Ma commande 47002-B n'est pas arrivée",
    "Total 12345 euros, c'est trop cher",
    "Entre 2024 et 2025 les prix ont doublé",
    "Livré le 12/03/2024",
    "Prix 1 250 000",
    "Numéro de suivi 6A12345678901",
    "Réf 123456789",
    "Il a payé 10.000.000 dollars",
    "Code postal 13001",
    "Facture 2024-00123",
    "3.1415926535",
]


@pytest.fixture(scope="module")
def featurizer():
    return Featurizer(FeatureConfig())


@pytest.mark.parametrize("text", PHONE_NUMBERS)
def test_telephone_numbers_are_read_as_phone(featurizer, text):
    assert featurizer.analyse(text).dense[PHONE] == 1.0


@pytest.mark.parametrize("text", NOT_PHONE_NUMBERS)
def test_postcodes_orders_and_amounts_are_not_phone(featurizer, text):
    assert featurizer.analyse(text).dense[PHONE] == 0.0


def test_phone_pattern_stays_fast_on_long_digit_runs(featurizer):
    # Bounded repetitions: a long run of digits and separators is read at once, not backtracked.
    featurizer.analyse("0 1 2 3 4 5 6 7 8 9 " * 2000 + "+33 " * 2000)
