"""Not wanting a group ("les migrants, on n'en veut plus", "on ne veut plus de musulmans ici") is a
hostile statement about it (session 24; 4 of 6 published before); not wanting the abuse a group
suffers ("on ne veut plus de discriminations envers les musulmans") is counter-speech, and not
wanting ads or delays says nothing of anyone. Real engine, shipped models."""

from __future__ import annotations

from .conftest import assert_published, not_published

EXCLUSION = [
    "Arrêtez d'accueillir des migrants, on n'en veut plus",
    "Les migrants, on n'en veut plus ici",
    "Les Roms, on n'en veut plus dans notre ville",
    "On ne veut plus de migrants chez nous",
    # Written after the lines: all held at once.
    "Les Tsiganes, on n'en veut plus chez nous",
    "On ne veut plus de musulmans dans ce quartier",
    "On ne voudra jamais de migrants dans notre village",
    # The abuse refused, then the group: the counter-speech ends at the comma.
    "On ne veut plus de migrants abandonnés ici, qu'ils rentrent chez eux",
    "On ne veut plus de racisme contre les Noirs, ils n'ont rien à faire ici",
]
NOT_OF_A_GROUP = [
    "Des pubs comme ça, on n'en veut plus",
    "Des retards pareils, on n'en veut plus",
    "On ne veut plus de plastique dans nos emballages",
    "On ne veut plus de discriminations envers les musulmans",
    "On ne veut pas de haine contre les juifs ici",
    "On ne veut plus de racisme contre les Noirs",
    "Des insultes contre les femmes, on n'en veut plus sur cette page",
    "On ne veut pas de migrants maltraités aux frontières",
    # Written after the lines: 3 of 4 published at once; two words before the participle are allowed since.
    "On ne veut plus d'agressions contre les homosexuels",
    "Les violences faites aux femmes, on n'en veut plus",
    "On ne veut plus de propos racistes envers les Arabes sur ce forum",
    "On ne veut pas de personnes handicapées abandonnées sans aide",
    # A fact, not a wish that a group go home.
    "Les Syriens rentrent chez eux pour les fêtes, c'est émouvant",
]


def test_not_wanting_a_group_is_held_with_the_reason():
    for text, decision in not_published(EXCLUSION, "fr"):
        assert decision.scores["identity_attack"] >= 0.75, text


def test_not_wanting_abuse_or_ads_is_published():
    assert_published(NOT_OF_A_GROUP, "fr")
