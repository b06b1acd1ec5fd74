"""Ordinary French gets the right answer through the real engine and the shipped models (issue 13):
words that hurt in one language or one phrase and not in another, quoted and reported insults,
counter-speech, neutral mentions of groups, hate against groups without slurs, order numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from palabre.moderation import services
from palabre.moderation.engine import HOLD, PUBLISH, REJECT, ModerationContext, moderate_many
from palabre.moderation.models import ItemModeration, ModerationStatus

# The sentences of the issue.
ISSUE_PUBLISHED = [
    "Votre livraison est en retard depuis 3 semaines, c'est inadmissible.",
    "Ma commande est en retard",
    "Encore un train en retard",
    "Je vais tuer le temps en magasin samedi",
    "Un livreur m'a traité de connard au téléphone, je veux porter réclamation",
    "Bonjour, où en est ma commande ML-47002 ?",
    "Bonjour, ma commande n° 47002-B n'est toujours pas arrivée.",
]
ISSUE_HELD = ["Les juifs contrôlent tout, il faudrait tous les virer."]

# What a French brand receives every day: complaints, delays, questions, praise. None is toxic.
BRAND_MESSAGES = [
    "Bonjour, ma commande 47002 n'est pas arrivée, pouvez-vous vérifier ?",
    "Commande ML-47002 : toujours rien reçu, c'est la troisième fois que j'écris.",
    "Colis n°8837261 bloqué au dépôt depuis lundi, que se passe-t-il ?",
    "Ma facture FA-2024-0012 comporte une erreur de TVA.",
    "Ticket #48213 : aucune réponse depuis 10 jours.",
    "Je n'ai pas reçu le remboursement de la commande 1029384.",
    "Le retard de livraison est inacceptable, j'attends depuis un mois.",
    "Encore du retard sur ma livraison, c'est la troisième fois !",
    "Désolé pour le retard de paiement, le virement part aujourd'hui.",
    "Le bus avait 20 minutes de retard, j'ai raté le retrait en magasin.",
    "Votre service client est nul, personne ne répond au téléphone.",
    "C'est honteux, trois semaines sans nouvelles de ma commande.",
    "Je suis très déçue par la qualité du canapé, le tissu est déjà abîmé.",
    "Le livreur a laissé le colis sous la pluie, tout est mouillé.",
    "Pouvez-vous me dire quand le magasin de Lyon rouvre ?",
    "Est-ce que le canapé Oslo existe en vert ?",
    "Bonjour, est-il possible de modifier l'adresse de livraison ?",
    "Merci pour votre réponse rapide, le problème est réglé !",
    "Ce nouveau parfum, c'est une bombe !",
    "Cette robe est une bombe, je l'adore.",
    "Le concert d'hier soir, c'était mortel !",
    "Franchement ça tue, bravo à l'équipe.",
    "Ce gâteau est une tuerie.",
    "Je vais le tuer de rire avec ce cadeau.",
    "Mort de rire en lisant votre dernière pub 😂",
    "On a tué le temps au café en attendant l'ouverture.",
    "Je suis crevé après cette journée de soldes.",
    "C'est con, j'ai raté la fin des soldes.",
    "Un client m'a traité de salope à la caisse, que fait la direction ?",
    "Le vendeur nous a traités d'abrutis devant tout le monde, inadmissible.",
    "Votre conseiller m'a dit « espèce d'idiote » au téléphone, je porte plainte.",
    "Sur le colis quelqu'un avait écrit « connard », c'est inadmissible.",
    "Je suis noir et je n'ai trouvé aucun fond de teint à ma teinte.",
    "Mon fils est autiste, avez-vous des horaires calmes en magasin ?",
    "Je suis musulmane, vos plats contiennent-ils de la gélatine de porc ?",
    "En tant que femme, je trouve vos tailles mal adaptées.",
    "Ma fille est sourde : le service client répond-il par écrit ?",
    "Dire que les immigrés volent nos emplois est faux.",
    "Arrêtez de dire que les femmes conduisent mal, c'est juste un cliché.",
    "Les immigrés ne volent pas nos emplois, ils les créent souvent.",
    "Le racisme n'a pas sa place dans vos magasins, merci de réagir.",
    "Vendredi noir : vos promotions du Black Friday commencent quand ?",
    "J'ai utilisé une bombe de peinture pour repeindre la chaise.",
    "Le couteau de cuisine offert coupe très mal.",
    "Pros and cons of your new sofa?",
    "My pet loves the new cat tree, thanks!",
    "Mosquito bite cream is out of stock in your Lyon store.",
    "I was killing time in your shop on Saturday, lovely staff.",
    "Your delivery is late again, order #4821930, please help.",
    "Mon vol est retardé de deux heures, je serai en retard au retrait.",
    "Je ne déteste pas les immigrés, mon mari en est un.",
    # Session 17, tried as a community manager: "retards" plural read as the English slur by the
    # models, "une honte" as dehumanising, "pris pour une idiote" as the author's insult.
    "J'en ai marre de vos retards, c'est la troisième fois ce mois-ci.",
    "Vos retards à répétition me font perdre des clients.",
    "C'est une honte de traiter les clients comme ça.",
    "C'est une honte que personne ne réponde.",
    "Le vendeur m'a pris pour une idiote, inadmissible.",
    "On nous prend pour des pigeons avec ces frais de port.",
    "J'ai été traitée comme une moins que rien à l'accueil.",
    "Vous traitez vos clients comme des moins que rien, je ne reviendrai pas.",
    "Franchement c'est chiant de devoir créer un compte pour commander.",
    "C'est vraiment dégueulasse, la viande était avariée.",
    "Ma chatte a adoré le griffoir, merci !",
    "Les bonbons à sucer ont un goût de plastique.",
    "Your app is garbage, it crashes every time.",
    # Session 18: words that hurt only when said of people, said of things (they held the message
    # as "dehumanising language" or "an insult" whatever the scores).
    "Je déteste attendre 40 minutes au téléphone pour rien.",
    "Votre nouveau chargeur est dangereux, il a chauffé au point de fondre.",
    "Les frais de port sont une honte.",
    "Cette mise à jour est une invasion de publicités.",
    "Que des bons produits chez vous, merci !",
    "La qualité est inférieure à l'ancienne version.",
    "Il y avait des cafards dans la cuisine de l'hôtel.",
    "J'ai vu un rat dans le rayon frais de votre magasin.",
    "Votre croquette a rendu mon animal malade.",
    "Vos promos ne valent rien, c'est plus cher qu'ailleurs.",
    "Les retards de la ligne 13 sont un fléau.",
    # Session 24: "une honte" closing a complaint, after a comma or alone ("le plat froid, une honte"
    # was held as dehumanising language, the waiter being a person named).
    "Le serveur était désagréable et le plat froid, une honte",
    "Trois semaines sans livraison, une honte !",
    "C'est une honte !",
    "Le SAV ne répond jamais, franchement une honte",
    "Deux heures d'attente au téléphone, une vraie honte.",
    "Facture doublée sans explication : une honte absolue",
    "Une salade au thon délicieuse, merci.",
    "J'ai été victime d'une arnaque sur votre site.",
    "Cette pub est débile.",
    "Votre appli est naze depuis la mise à jour.",
    "Ce parfum dégage une odeur bizarre.",
    "On a mangé dehors sur la terrasse, super accueil.",
    "Le colis a été laissé dehors sous la pluie.",
    "I hate waiting on hold for an hour.",
    # ... and the words of the group statements below, said of no group.
    "Je ne supporte plus les retards de livraison.",
    "Le canapé est resté à sa place, merci les livreurs.",
    "Remettez les prix à leur place.",
    # Pets, cleaning, gardening, shaving, cosmetics, a kiss (session 18: held or rejected before).
    "Ma chienne adore vos croquettes.",
    "Il y a des traînées sur l'écran après le nettoyage.",
    "Des parasites sur mes tomates, quel traitement conseillez-vous ?",
    "Un blaireau de rasage en poils naturels, vous en vendez ?",
    "Il y a de la vermine dans le grenier, vous avez un produit ?",
    "Le rouge à lèvres nude est en rupture ?",
    "Un baiser à toute l'équipe, merci !",
    "Is the nude lipstick back in stock?",
    "Ce sont des animaux de compagnie très calmes, vos croquettes leur plaisent.",
    "Ce gel douche sent la mort, c'est quoi ce parfum ?",
    "La douchette fuit depuis le premier jour.",
    "Ça pue la mort dans le rayon poissonnerie.",
    "Je vais te saigner de questions, désolée !",
    "Le prix va me saigner à blanc.",
    # Counterparts of session 19's threats and hate: a fee, a visit, a price that falls, a room.
    "On va vous faire payer les frais de port ?",
    "Je vais vous faire payer la différence en magasin ?",
    "On va venir vous rendre visite au magasin samedi avec les enfants",
    "Vous allez comprendre pourquoi je râle : trois semaines sans colis",
    "La mosquée du quartier organise une collecte pour les sinistrés",
    "Il faudrait interdire les trottinettes sur les trottoirs",
    "Je crève de chaud dans ce magasin",
    "Mon pneu a crevé sur le parking",
    "Ma place est à la cuisine, j'adore cuisiner vos recettes",
    "Vous remboursez la différence si le prix baisse après l'achat ?",
    "La salle de bain de l'hôtel était propre",
    # Disgust at a thing, frustration, a product asked about, Mongolia (held before, session 19).
    "La chambre était dégueulasse",
    "Le repas était vraiment dégueulasse et froid",
    "Ça me fait chier de devoir rappeler tous les jours",
    # A thing worthless in vulgar words (rejected or held before, session 23).
    "Le service est nul à chier",
    "Votre appli est à chier, elle plante tout le temps",
    "La livraison était vraiment nulle à chier",
    "Ce film est nul à chier, remboursez-moi",
    "J'ai acheté un kit de tir à l'arc pour mon fils, c'est dangereux ?",
    "Ce jouet est dangereux pour vos enfants",
    "Un barbecue mongol au menu ce soir ?",
    "Voyage en Mongolie : vous livrez là-bas ?",
    "Ta mère a adoré le gâteau, merci",
    # Ordinary words of the LDNOOBW lists ("envoyer", "sac", "mai", "pdg"): held or near it before
    # (identity attack 0.50, 0.38, 0.50; session 20).
    "Je viens d'apprendre par Alerte Conso que la lampe Nova est rappelée. Pas un mail de "
    "@MaisonLumiereFR alors que je l'ai achetée en ligne chez eux. Ils ont mon adresse pour "
    "m'envoyer des promos tous les deux jours, pourtant.",
    "J'ai acheté le sac cabas en mai, la anse s'est décousue au bout de trois semaines.",
    "Le pdg de votre enseigne était à la radio ce matin, il parlait de relocaliser la fabrication.",
    # The baby's sex, to linger, to give off (held as sexual or insulting before; session 20).
    "On ne connaît pas encore le sexe du bébé, vous avez des bodies mixtes ?",
    "Liste de naissance : sexe du bébé surprise, on préfère des couleurs neutres.",
    "Je ne m'attarde pas, mais merci pour la livraison rapide !",
    "Votre nouvelle collection dégage une vraie élégance.",
    # Reviews that speak of sex as a subject, that give off, a TV series, a thief (held before,
    # session 21; TV-series reviews of allociné in the same words).
    "Cette série allie tout : suspense, sexe, humour, intrigues... vivement la saison 2 !",
    "Une série géniale mêlant drame, humour et sexe.",
    "Les scènes de sexe ne m'ont pas choquée, c'est bien écrit.",
    "Cette série dégage de plus beaucoup d'émotion et de suspense.",
    "L'acteur principal ne dégage rien, dommage.",
    "Esprits criminels a quelque chose que les autres séries policières n'ont pas.",
    "Des délinquants ont volé ma voiture sur le parking de votre magasin, vos caméras ont filmé ?",
    # Cleared or given off, the country of Niger, walls knocked down (held before, session 21).
    "La route était dégagée ce matin, le livreur est arrivé à l'heure.",
    "La chaleur dégagée par la lampe est énorme, c'est normal ?",
    "Au Niger, vous livrez ?",
    "Ma collègue nigériane adore vos lampes.",
    "On va abattre la cloison entre la cuisine et le salon, vous avez des idées de luminaires ?",
    "Il faut abattre un mur porteur pour poser votre verrière ?",
]

# Insults, threats and hate, as people write them to a brand: held or rejected.
HARMFUL_MESSAGES = [
    "Ferme ta gueule connard",
    "Espèce de connard, vous êtes des voleurs",
    "Bande d'abrutis, rendez-moi mon argent",
    "Quel con ce livreur",
    "Ce con de livreur a jeté mon colis",
    "T'es vraiment qu'une salope",
    "Va te faire enculer avec ta promo",
    "Je vais te tuer",
    "Je vais te retrouver et te buter",
    "On va te retrouver, on sait où tu habites",
    "Je vais poser une bombe dans votre magasin",
    "T'es mort si je te croise",
    "Le vendeur de Lyon, je vais lui casser la gueule",
    "Tu vas le regretter, sale pute",
    "Les juifs contrôlent tout, il faudrait tous les virer.",
    "Les immigrés volent nos emplois, dehors les étrangers",
    "Les musulmans sont tous des terroristes",
    "Les arabes n'ont rien à faire en France",
    "Les noirs sont des sous-hommes",
    "Les femmes sont toutes les mêmes, des menteuses",
    "Les homosexuels sont une plaie pour ce pays",
    "Renvoyez les migrants chez eux, ils nous envahissent",
    "Sale bougnoule",
    'Tu es un "connard"',
    "Il faut tous les exterminer",
    "You are a retard",
    "I will kill you",
    "Go back to your country, immigrants are ruining everything",
    "Women are inferior and should not be allowed to vote",
    # Quotes, negations and counter-speech frames do not hide what is said around them.
    "Espèce de retardé",
    "« connard », c'est ce que tu es",
    "Les immigrés ne sont pas les bienvenus ici",
    "Je ne déteste pas les femmes, je veux juste les tuer",
    "Arrêtez de dire que je suis raciste, sales bougnoules",
    "Le racisme est normal, les noirs sont des singes",
    "Il m'a traité de menteur, mais toi t'es un vrai connard",
    "Vous êtes des retardés ou quoi ?",
    "Vous êtes une honte pour la profession",
    "Tu es une honte",
    "Vous êtes une honte, bande de nuls",
    "Les juifs, une honte.",
    "Les immigrés sont une honte pour ce pays.",
    "T'es qu'une moins que rien.",
    # ... nor do the phrases excused above, where they are said of a group.
    "Les juifs, c'est une honte de les laisser entrer.",
    "C'est une honte que les immigrés touchent des aides.",
    "Il faut traiter les juifs comme des chiens.",
    "Les arabes c'est dégueulasse.",
    "T'es chiant avec tes questions.",
    "Montre-moi ta chatte.",
    "Immigrants are garbage.",
    "This is garbage, women should not vote.",
    # ... nor the words above that hurt only when said of people, said of people.
    "Tu es dangereux, je vais porter plainte.",
    "Espèce de thon.",
    "Le livreur est un porc.",
    "Ces gens sont des cafards.",
    "Je déteste les femmes.",
    "Dehors les étrangers !",
    "Dégage.",
    "You are useless.",
    # Hate without a slur, session 18 (published before).
    "Traitez les femmes comme des objets, c'est tout ce qu'elles méritent.",
    "Les femmes devraient rester à leur place.",
    "Les handicapés coûtent trop cher à la société.",
    "Les noirs, je ne peux pas les supporter.",
    "Sale chienne.",
    "Espèce de blaireau.",
    "Montre tes nudes.",
    "Je vais te baiser.",
    "Ces parasites vivent des aides.",
    "Ce ne sont que des animaux.",
    "Je vais te donner la mort.",
    "Tu sens la mort, je vais te tuer.",
    "Je vais te saigner.",
    "Je vais te briser les jambes.",
    "Tu vas finir six pieds sous terre.",
    # Threats without a weapon and hate without a slur, session 19 (published before).
    "On va venir vous rendre visite au magasin, vous allez comprendre",
    "Un jour quelqu'un va vous faire payer",
    "On aura ta peau",
    "Crève",
    "Crève en enfer",
    "Une femme, ça se tait et ça obéit.",
    "Ta place est à la cuisine",
    "On devrait interdire les mosquées.",
    "Les musulmans ne s'intègreront jamais",
    "Les gays devraient se faire soigner",
    "Espèce de mongol !",
    "T'es dégueulasse",
    "Ta mère est dégueulasse",
    "Le livreur est un gros dégueulasse",
    "Tu es nul à chier",
    "T'es vraiment nul à chier comme vendeur",
    "Ton vendeur est nul à chier",
    "Les arabes sont dégueulasses",
    # The insults and the sexual request beside the harmless phrases above.
    "t'es attardé ou quoi ?",
    "vous êtes des attardés",
    "dégage connard",
    "dégage de là, connard",
    "montre-moi ton sexe",
    "envoie moi une photo de ton sexe",
    "Les immigrés sont tous des criminels",
    "ces envahisseurs doivent partir",
    "Dégage !",
    "je vais t'abattre",
    "il faut abattre ces gens",
]


def _decide(texts, lang=None):
    return moderate_many(texts, [ModerationContext(lang=lang) for _ in texts])


def test_the_issue_sentences():
    for text, decision in zip(ISSUE_PUBLISHED, _decide(ISSUE_PUBLISHED), strict=True):
        assert decision.action == PUBLISH, (text, decision.as_dict())
    for text, decision in zip(ISSUE_HELD, _decide(ISSUE_HELD), strict=True):
        assert decision.action in {HOLD, REJECT}, (text, decision.as_dict())
        assert decision.scores["identity_attack"] >= 0.5


@pytest.mark.parametrize("lang", [None, "fr"])
def test_brand_messages_are_published(lang):
    wrong = []
    for text, decision in zip(BRAND_MESSAGES, _decide(BRAND_MESSAGES, lang), strict=True):
        if decision.action != PUBLISH:
            wrong.append((text, decision.action, [r.message for r in decision.reasons]))
    assert not wrong


def test_harmful_messages_are_held_or_rejected():
    wrong = [
        (text, decision.scores)
        for text, decision in zip(HARMFUL_MESSAGES, _decide(HARMFUL_MESSAGES), strict=True)
        if decision.action == PUBLISH
    ]
    assert not wrong


def test_the_issue_sentences_through_palabre_check():
    lines = [{"id": i, "text": text} for i, text in enumerate(ISSUE_PUBLISHED + ISSUE_HELD)]
    result = subprocess.run(
        [sys.executable, "-m", "palabre", "check"],
        input="".join(json.dumps(line) + "\n" for line in lines).encode(),
        capture_output=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr.decode()
    actions = [json.loads(line)["action"] for line in result.stdout.decode().splitlines()]
    assert actions == [PUBLISH] * len(ISSUE_PUBLISHED) + [HOLD] * len(ISSUE_HELD)


@pytest.mark.django_db
def test_the_issue_sentences_through_the_moderation_service(owner_actor):
    for text in ISSUE_PUBLISHED:
        assert services.check_text(actor=owner_actor, text=text).action == PUBLISH, text
    held = services.check_text(actor=owner_actor, text=ISSUE_HELD[0])
    assert held.action == HOLD
    assert "lexicon_group_hostile" in {reason.code for reason in held.reasons}


@pytest.fixture
def ingested(channel, ingest, django_capture_on_commit_callbacks):
    def run(external_id: str, text: str):
        with django_capture_on_commit_callbacks(execute=True):
            item = ingest(channel, external_id, text=text)
        item.refresh_from_db()
        return item

    return run


@pytest.mark.django_db
def test_ingested_messages_are_decided_in_their_detected_language(ingested):
    """Items are analysed (language detected, then moderated) as connectors bring them in."""
    late = ingested("late", "Votre livraison est en retard depuis 3 semaines, c'est inadmissible.")
    assert late.language == "fr"
    assert ItemModeration.objects.get(item=late).status == ModerationStatus.PUBLISHED
    reported = ingested(
        "reported", "Un livreur m'a traité de connard au téléphone, je veux porter réclamation"
    )
    assert ItemModeration.objects.get(item=reported).status == ModerationStatus.PUBLISHED
    hate = ingested("hate", "Les juifs contrôlent tout, il faudrait tous les virer.")
    assert ItemModeration.objects.get(item=hate).status != ModerationStatus.PUBLISHED
    insult = ingested("insult", "You are a retard")
    assert insult.language == "en"
    assert ItemModeration.objects.get(item=insult).status != ModerationStatus.PUBLISHED
