"""Threats to kill or maim, as people write them beyond "je vais te tuer" and "I'm going to kill you"
(issue 13). French: an intent with a modal ("je compte bien assassiner"), a call in the first person
plural ("tuons-les"), someone who should do it ("quelqu'un devrait buter…"), a wish ("qu'on les
fusille"), who deserves to die; 15 of these 20, written for the test, were published before. English,
said of people only (English kills bugs and shoots videos): someone who should do it, a wish that
they get shot, a plan thought of, a bullet put in someone, people made to suffer; 6 of 12 were
published before. The ordinary sentences that use the same verbs of things stay published. Real
engine, shipped models."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import PUBLISH, ModerationContext, moderate_many

FRENCH_THREATS = [
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
FRENCH_ORDINARY = [
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

ENGLISH_THREATS = [
    "I'm going to murder the manager of your store.",
    "Someone should shoot your CEO.",
    "I will find your delivery driver and break his neck.",
    "People like you deserve to die.",
    "Let's kill them all, these traitors at head office.",
    "I hope all your employees get shot.",
    "I'm seriously thinking about strangling that cashier.",
    "I want to end the life of every one of your staff.",
    "I'll put a bullet in your support agent.",
    "We should hang the whole board of directors.",
    "I'm going to make your staff suffer.",
    "Your manager should be executed.",
]

ENGLISH_ORDINARY = [
    "This sofa is killing it, love the colour.",
    "I'm going to kill some time in your store on Saturday.",
    "We should hang the new curtains before the party.",
    "Your prices are murder on my wallet.",
    "I'm dying to see the new collection!",
    "Let's kill the lights and enjoy the new lamp.",
    "The shoot for the catalogue looks amazing.",
    "My back is killing me after assembling the wardrobe.",
    "Someone should kill this bug in your app, checkout crashes every time.",
    "You should shoot a video showing how to assemble the bed.",
    "We need to kill the old promo codes before Black Friday.",
    "I hope all my photos get shot in natural light with your lamp.",
    "Hang the pictures in the hallway, it looks great.",
    "This workout is going to make you suffer but it's worth it.",
    "You could run over to the store before it closes.",
]


def _decide(texts, lang):
    return moderate_many(texts, [ModerationContext(lang=lang) for _ in texts])


@pytest.mark.parametrize(("lang", "threats"), [("fr", FRENCH_THREATS), ("en", ENGLISH_THREATS)])
def test_threats_are_held_as_threats(lang, threats):
    missed = [
        (text, decision.action)
        for text, decision in zip(threats, _decide(threats, lang), strict=True)
        if decision.action == PUBLISH or decision.scores["threat"] < 0.5
    ]
    assert not missed


@pytest.mark.parametrize(
    ("lang", "text"), [("fr", t) for t in FRENCH_ORDINARY] + [("en", t) for t in ENGLISH_ORDINARY]
)
def test_the_same_verbs_said_of_things_are_published(lang, text):
    [decision] = _decide([text], lang)
    assert decision.action == PUBLISH, decision.as_dict()
