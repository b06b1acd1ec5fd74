"""Threats to kill or maim, in the ways French says them beyond "je vais te tuer" (issue 13): an intent
with a modal ("je compte bien assassiner"), a call in the first person plural ("tuons-les"),
someone who should do it ("quelqu'un devrait buter…"), a wish ("qu'on les fusille"), who deserves
to die. Fifteen of these twenty, written for the test, were published before; the ordinary
sentences that use the same verbs of things stay published. Real engine, shipped models."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import PUBLISH, ModerationContext, moderate_many

THREATS = [
    "Je vais zigouiller ce livreur s'il remet les pieds ici.",
    "On va flinguer tous ces bobos du service client.",
    "Je compte bien assassiner le gérant de votre magasin.",
    "Je rêve de torturer votre community manager.",
    "J'aimerais étrangler ce vendeur de mes propres mains.",
    "Nous allons défigurer la caissière de Lyon.",
    "Quelqu'un devrait buter votre patron.",
    "Si seulement quelqu'un pouvait égorger ces gens-là.",
    "Qu'on les fusille tous, ces voleurs de la direction.",
    "Ces escrocs méritent de crever.",
    "Les gens comme vous méritent de mourir.",
    "Tuons-les tous, ces traîtres.",
    "J'espère que vos employés soient tous abattus.",
    "Je vais te trancher la gorge.",
    "Je vais lui briser la nuque à ce conseiller.",
    "Je pense sérieusement à poignarder le livreur.",
    "Il va falloir que je tue quelqu'un dans votre agence.",
    "J'adorerais voir ces connards souffrir.",
    "Frapper un vendeur comme vous devrait être légal.",
    "On va en finir avec vous tous, la direction.",
]

# The same verbs said of things, of oneself, of work, of a price (four were held as threats before:
# the costs eliminated, the curtains and the house-warming "pendus", the steaks "noyés").
ORDINARY = [
    "Je vais torturer mes méninges pour choisir la couleur du canapé.",
    "Ce régime va me faire souffrir mais je veux rentrer dans ma robe.",
    "Débarrassons-nous des vieux meubles avant le déménagement.",
    "Éliminons les doublons de la liste de mariage.",
    "Éradiquons la faim dans le monde, bravo pour votre don.",
    "Les plantes seraient toutes mortes sans votre engrais.",
    "Les stocks seraient liquidés en une journée à ce prix-là.",
    "Je vais exécuter la commande dès réception du paiement.",
    "Je vais achever le montage ce soir.",
    "Je vais tirer un trait sur cette commande.",
    "Il faut en finir avec ces retards de livraison !",
    "Je vais briser la glace avec les voisins grâce à votre apéro.",
    "On veut en finir avec le plastique dans nos emballages.",
    "Ce film d'horreur m'a fait souffrir, trop de suspense.",
    "Mon équipe serait éliminée au premier tour sans notre gardien.",
    "Quelqu'un devrait finir ce chantier un jour.",
    "Nous allons éliminer les frais de port dès 50 euros.",
    "Il faut pendre les rideaux avant la pendaison de crémaillère.",
    "On devrait pendre la crémaillère samedi, vous livrez avant ?",
    "Éradiquons ces mauvaises herbes avec votre désherbant bio.",
    "Ce serait mieux de noyer ce type de steaks dans le beurre.",
    "Arrêtez de noyer le poisson et remboursez-moi.",
]


def _decide(texts):
    return moderate_many(texts, [ModerationContext(lang="fr") for _ in texts])


def test_threats_are_held_as_threats():
    missed = [
        (text, decision.action)
        for text, decision in zip(THREATS, _decide(THREATS), strict=True)
        if decision.action == PUBLISH or decision.scores["threat"] < 0.5
    ]
    assert not missed


@pytest.mark.parametrize("text", ORDINARY)
def test_the_same_verbs_said_of_things_are_published(text):
    [decision] = _decide([text])
    assert decision.action == PUBLISH, decision.as_dict()
