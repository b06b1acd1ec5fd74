"""Helping, hiring or welcoming a group is a neutral mention of it (session 23): "Vous aidez les
réfugiés ukrainiens ?" was held at 0.73 toxicity, as were 3 of 6 such questions to a brand written
first and 2 of 5 written after (the models learnt "réfugiés", "migrants" from hostile tweets). A
context line of lexicons/context_fr.tsv (`neutral`); where the clause sets the group against others or
refuses the help, the models and the hostile lines decide as before. Real engine, shipped models."""

from __future__ import annotations

from .conftest import assert_published, not_published

HELPING = [
    "Vous embauchez des réfugiés ? Mon ami syrien cherche du travail",
    "Vous aidez les réfugiés ukrainiens ?",
    "Bravo pour la collecte au profit des migrants de Calais",
    "Votre fondation soutient-elle les réfugiés afghans ?",
    "Vous accueillez des migrants dans votre programme d'apprentissage ?",
    "Les dons pour les réfugiés sont-ils déductibles ?",
    # Written after the line.
    "Est-ce que votre association accompagne les migrants dans leurs démarches ?",
    "Merci d'avoir embauché des réfugiés dans votre usine de Lyon",
    "Vous recrutez des immigrés pour vos chantiers ? Mon cousin arrive du Mali",
    "Une collecte pour les réfugiés soudanais dans vos magasins, super initiative",
]
HOSTILE = [
    "Vous embauchez des réfugiés au lieu des Français ?",
    "Arrêtez d'aider les migrants, ils nous envahissent",
    "Les réfugiés sont des parasites, arrêtez de les aider",
    "Aider les migrants plutôt que nos SDF, honteux",
    "Vous recrutez des immigrés au lieu de nos jeunes chômeurs, honte à vous",
]


def test_helping_hiring_or_welcoming_a_group_is_published():
    assert_published(HELPING, "fr")


def test_setting_the_group_against_others_or_refusing_the_help_is_still_held():
    not_published(HOSTILE, "fr")
