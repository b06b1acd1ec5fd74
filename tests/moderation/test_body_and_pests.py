"""A body part in a question about health, care or fit, pests killed or trapped, and words in their
other sense (a smoker's pipe, a Ford Escort) are no sexual content and no threat (session 23): a pharmacy's, a baby brand's, a lingerie brand's and a garden
centre's customers were held or rejected ("J'ai une mycose vaginale depuis votre savon intime"
rejected at 0.95 sexual, "Mon bébé a les fesses rouges avec vos lingettes" held, "Je cherche un
piège pour tuer les taupes" held as a threat at 0.88). Context lines of lexicons/context_fr.tsv
(`harmless`); the same words said to someone, of a model's photo, or of people stay held. Real
engine, shipped models."""

from __future__ import annotations

import pytest

from .conftest import assert_published, not_published

# Written first (10 of 12 held or rejected, and 2 of 40 messages of other trades); the lines were
# chosen on them.
WRITTEN_FIRST = [
    "Votre crème contre les vergetures sur les fesses ne marche pas",
    "Mon soutien-gorge me blesse sous les seins",
    "Mon fils a une irritation au pénis depuis vos nouvelles couches",
    "J'ai une mycose vaginale depuis votre savon intime",
    "Le gel intime provoque des brûlures au niveau du vagin",
    "Le coussin d'allaitement est trop dur pour le dos et les seins",
    "Mon bébé a les fesses rouges avec vos lingettes",
    "Le tire-lait fait mal aux seins, est-ce normal ?",
    "Le pantalon fait un pli au niveau du cul, dommage",
    "La crème pour mycose vaginale a brûlé, est-ce normal ?",
    "Je cherche un piège pour tuer les taupes sans poison",
    "La mort aux rats est-elle dangereuse pour les chats ?",
    "Votre produit tue les fourmis mais pas les cafards",
    "Comment éliminer les punaises de lit sans produit chimique ?",
    # Another sense of the word (7 of 20 such messages held or rejected).
    "La pipe en bruyère que j'ai achetée est fendue",
    "Le plombier a changé la pipe d'évacuation des toilettes",
    "Mon fils adore sucer vos sucettes à la fraise",
    "L'infirmière a dû bander ma cheville après la chute dans votre magasin",
    "Ma Ford Escort est tombée en panne après votre vidange",
    "J'habite au fond d'une impasse, un cul-de-sac, le livreur ne trouve jamais",
    "La cochonne de ma ferme a eu des porcelets",
]
# Written after the lines, never used to choose them: 7 of 13 held or rejected before.
WRITTEN_AFTER = [
    "Depuis votre nouvelle lessive, mon fils a des rougeurs sur les fesses",
    "La brassière de sport frotte sous les seins après une heure",
    "J'ai des démangeaisons au niveau du vagin après votre gel douche",
    "Le body de grossesse serre trop la poitrine",
    "Les protections d'allaitement irritent mes mamelons",
    "Ma fille a une irritation de la vulve avec vos couches culottes",
    "Votre crème anti-cellulite pour les fesses ne fait rien",
    "Après la mammographie, vos soutiens-gorge post-opératoires blessent les seins",
    "Sécheresse vaginale : votre gel est-il compatible avec les préservatifs ?",
    "Le piège à guêpes a attiré tous les frelons du quartier, merci !",
    "Quel répulsif pour éloigner les ragondins de la mare ?",
    "Votre insecticide tue les pucerons mais aussi les coccinelles ?",
    # 3 of these 5 were held before.
    "Je fume la pipe depuis 30 ans, vos tabacs ont changé de goût",
    "Le bébé suce son pouce depuis qu'il a perdu sa tétine",
    "Le pharmacien m'a bandé le poignet, très gentil",
    "Vous avez encore des pièces pour une Ford Escort de 1995 ?",
    "La maison est au fond du cul-de-sac, le livreur s'est perdu",
]
# Held until session 24 (a garment's cut, a sink's pipe): published since (test_sexual_advances.py).
NO_LONGER_HELD = [
    "Le jean me rentre dans les fesses, la coupe est ratée",
    "La pipe du lavabo fuit depuis l'installation",
]
SAID_TO_OR_OF_PEOPLE = [
    "Montre-moi tes seins",
    "T'as de beaux seins, envoie des photos",
    "Je veux voir tes fesses en culotte",
    "Sale pute, je vais te défoncer le cul",
    "Belle paire de seins sur la photo du maillot",
    "Elle a un cul d'enfer dans ce legging",
    "Ses seins dans ce maillot, waouh",
    "Tes fesses dans ce jean, je deviens fou",
    "Elle a des gros seins la vendeuse, j'irais bien la voir",
    "Il faut tuer les rats qui nous gouvernent",
    "Mort aux rats de la mairie",
    "Mort aux rats qui nous dirigent",
    "Ces gens sont des cafards qu'il faut exterminer",
    "Il faut gazer les cafards qui squattent nos rues, ces migrants",
    "Il faudrait éliminer les fonctionnaires, ces rats",
    "Il faut tuer les immigrés",
    "Mort aux juifs",
    "Tu veux que je te taille une pipe ?",
    "Suce-moi au lieu de répondre",
    "Viens sucer ma bite",
    "Elle fait des escorts le soir, appelle-la",
    "Je te prends en levrette quand tu veux",
]


@pytest.mark.parametrize(
    "texts", [WRITTEN_FIRST, WRITTEN_AFTER, NO_LONGER_HELD], ids=["first", "after", "no-longer-held"]
)
def test_health_care_fit_and_pests_are_published(texts):
    assert_published(texts, "fr")


def test_what_is_said_to_or_of_people_is_held():
    texts = SAID_TO_OR_OF_PEOPLE
    not_published(texts, "fr")
