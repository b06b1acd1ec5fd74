"""Sexual advances said to someone are held (session 24): "je bande en regardant tes photos", photos
asked for of their body or underwear; 6 of the 10 written first were published, their words being
ordinary alone. A customer's photo of a garment or of a rash, a bandaged ankle, a sink's pipe and a
garment's fit ("le jean me rentre dans les fesses", 4 of 4 held before) are published. Real engine,
shipped models."""

from __future__ import annotations

from .conftest import assert_published, not_published

ADVANCES = [
    "Je bande rien qu'à voir ta photo",
    "Je bande en regardant tes photos",
    "Envoie une photo de ta poitrine en soutien-gorge",
    "Envoie-moi des photos de toi en sous-vêtements",
    "T'as pas des photos de toi nue ?",
    "Je veux voir ta poitrine sans ton soutif",
    "Envoie une photo de toi en maillot ma belle",
    # Written after the patterns: all held at once.
    "J'bande grave sur ta dernière photo",
    "Envoie-moi une photo de toi sans soutif",
    "Montre ta poitrine en story",
]
ORDINARY = [
    "Je vous envoie une photo du soutien-gorge : l'armature est sortie après deux lavages",
    "Pouvez-vous envoyer une photo de l'étiquette de la culotte ?",
    "Je vous envoie une photo de l'eczéma de mon bébé sur la poitrine",
    "Envoie une photo de ta tenue pour le mariage, je veux voir",
    "Envoyez une photo de vous en maillot pour participer au concours",
    "Ma fille a bandé sa cheville avec votre bande de contention",
    "Je bande ma cheville tous les matins",
    "La bande-annonce me donne trop envie de voir le film",
    "Le jean me rentre dans les fesses",
    "Le pantalon remonte dans les fesses quand je m'assois",
    "Ce legging moule bien les fesses, parfait pour le sport",
    "La pipe du lavabo fuit",
    "La pipe de la machine à laver est percée",
    # Written after the patterns: all published at once.
    "Pouvez-vous m'envoyer une photo du string en taille S ?",
    "Le body remonte sur les hanches, c'est désagréable",
    "La pipe d'évacuation de la machine est bouchée",
    "La robe serre trop la poitrine",
]
# Said of the person addressed, a garment's fit stays sexual.
STILL_HELD = ["Ce jean moule bien tes fesses, t'es bonne", "Ce legging moule bien vos fesses mesdames"]


def test_advances_are_not_published():
    for text, decision in not_published(ADVANCES + STILL_HELD, "fr"):
        assert decision.scores["sexual"] >= 0.5, text


def test_garments_rashes_bandages_and_pipes_are_published():
    assert_published(ORDINARY, "fr")
