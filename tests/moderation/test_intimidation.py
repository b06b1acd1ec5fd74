"""Intimidation without the words of killing is not published (session 24): fire or damage promised
to someone's shop, home or car, a child's school known, a number or a real name held over someone,
blackmail, a veiled threat ("tu vas finir dans un fossé"), body-shaming addressed, a group said good
only for a chore. 8 of the 40 French hostile messages written first were published, these among
them, and 3 of 10 English ones (blackmail, a child's school, a chore).
Parties that "mettent le feu", calories burnt and customers quoting a number are published. Real
engine, shipped models."""

from __future__ import annotations

from .conftest import assert_published, not_published

HOSTILE = [
    "Tu vas finir dans un fossé si tu continues",
    "Sale grosse, arrête de manger",
    "Les femmes c'est juste bon à faire la vaisselle",
    "Envoie-moi 500 € ou je diffuse ta vidéo",
    "On a ton numéro, tout le monde va t'appeler",
    "Je vais mettre le feu à votre magasin",
    "Ton gamin, je sais à quelle école il va",
    "J'ai ton adresse IP, je vais te hacker",
    # Written after the lines: all held at once.
    "On va foutre le feu à ta baraque",
    "Je vais saccager ta boutique ce soir",
    "Ta fille, je sais dans quelle école elle est",
    "J'ai trouvé ton vrai nom, tout le monde va savoir qui tu es",
    "Vire-moi 300 € sinon je balance tes photos",
    "Tu vas finir en fauteuil roulant",
    "Sale moche, cache-toi",
    "Les femmes sont juste bonnes à faire des gosses",
    "Sinon je diffuse ta vidéo à tous tes contacts",
]
ORDINARY = [
    "On va mettre le feu à la salle ce soir, venez nombreux !",
    "Ce groupe a mis le feu à la scène, quel concert",
    "J'ai votre numéro mais personne ne décroche",
    "J'ai ton numéro, je t'appelle ce soir pour le match",
    "Une sale grosse tache est apparue après le lavage",
    "Tu vas finir par adorer ce jeu",
    "Mon fils, je sais à quelle école il ira l'an prochain",
    "Je vais casser votre tirelire avec ces promos",
    "Ce logiciel est bon à jeter",
    "Je vais brûler des calories dans votre salle",
    # Written after the lines: all published at once.
    "Les supporters ont mis le feu au stade hier soir",
    "Je vais tout casser à l'examen demain",
    "J'ai ton adresse pour t'envoyer le faire-part",
    "Vous me devez 30 € ou je vais devoir passer par la médiation",
    "Je vais brûler les étapes et commander directement",
    "Le chef a tout cramé, le plat était immangeable",
]


ENGLISH_HOSTILE = [
    "Send me $500 or I leak your video",
    "Your kid goes to Lincoln Elementary, right? Be careful",
    "Women are only good for cooking",
    # Written after the lines: all held at once.
    "Women are just good for making babies",
    "Your daughter walks home alone at 4, would be a shame if something happened",
    "Pay 300 bucks or we post your pics everywhere",
    "I know which school your son goes to",
]
ENGLISH_ORDINARY = [
    "Send me 5 dollars or I can't buy the ticket lol",
    "Your son goes to the same school as mine, small world!",
    "My kid goes to your daycare and loves it",
    "This pan is only good for cooking eggs",
    "I will post your order tomorrow",
    "Pay $20 or we can't ship it, per our policy",
]


def test_intimidation_is_not_published():
    not_published(HOSTILE, "fr")
    not_published(ENGLISH_HOSTILE, "en")


def test_parties_calories_and_quoted_numbers_are_published():
    assert_published(ORDINARY, "fr")
    assert_published(ENGLISH_ORDINARY, "en")
