"""The French scams of the season are held as phishing (session 24): training credit said to expire
("vos droits CPF expirent, appelez le …"), a Crit'Air sticker sold under threat of a fine, a fine to
pay before it is increased, a health card or a refund to claim by form, identifiers asked for
outright. 9 of the 12 written first were published (the two CPF and Crit'Air messages session 23
left published are among them now). People asking about their own training credit, sticker, fine or
card are published. Real engine, shipped models."""

from __future__ import annotations

from palabre.moderation.engine import HOLD, REJECT, SPAM_PHRASE_SCORE

from .conftest import assert_published, decide

SCAMS = [
    "Votre compte CPF va expirer, utilisez vos 500 euros de formation ici avant la fin du mois",
    "Il vous reste 1 850 € sur votre CPF, ils seront perdus le 31/12 : activez vos droits sur cpf-droits.fr",
    "Dernier rappel : votre solde CPF de 2 300 € sera supprimé, contactez un conseiller maintenant",
    "Votre compte CPF expire demain, utilisez vos 1500 € de droits formation ici : cpf-droits.fr",
    "Formation 100 % financée par votre CPF, zéro reste à charge, inscrivez-vous vite places limitées",
    "Commandez votre vignette Crit'Air en 24h sur notre site officiel, sinon amende de 135 €",
    "Vignette Crit'Air obligatoire dès lundi : commandez-la ici pour éviter l'amende de 68 €",
    "Votre vignette Crit'Air doit être renouvelée avant le 15, commandez-la sur critair-officiel.net",
    "Avis de contravention : payez 45 € sous 48h pour éviter une majoration à 375 €",
    "Ameli : votre carte Vitale expire, commandez la nouvelle en ligne, frais de 4,99 €",
    "Impots.gouv : vous êtes éligible à un remboursement de 289,50 €, remplissez le formulaire",
    "Profitez de vos droits CPF avant qu'ils disparaissent, envoyez-nous votre numéro de sécurité sociale",
    # Written after the patterns: 8 of 9 held at once; the Crit'Air one ("Crit'Air : vignette …", the
    # words the other way round) was published, and its order is in the pattern since.
    "Votre CPF de 1 200 € expire dans 3 jours, réservez votre formation au 06 12 34 56 78",
    "Urgent : vos heures CPF seront supprimées le 31 décembre, cliquez ici",
    "Crit'Air : vignette obligatoire, commandez sur crit-air-france.fr avant d'être verbalisé",
    "Réglez votre amende sous 72 heures pour éviter des poursuites",
    "Votre carte Vitale n'est plus valide, mettez à jour vos informations ici",
    "Vous avez été sélectionné pour une prime de 150 €, cliquez sur le lien",
    "Pour débloquer votre colis, communiquez-nous votre code reçu par SMS",
    "Donnez-moi votre code confidentiel pour que je vous rembourse",
]
PEOPLE_ASKING = [
    "Bonjour, puis-je financer la formation Excel avec mon CPF ?",
    "Mon compte CPF n'affiche pas la formation, pouvez-vous m'aider ?",
    "Attention, j'ai reçu un SMS qui dit que mes droits CPF expirent, c'est une arnaque ?",
    "Il me reste 500 euros sur mon CPF, quelle formation me conseillez-vous ?",
    "Votre formation est-elle prise en charge à 100 % par le CPF ou y a-t-il un reste à charge ?",
    "J'ai commandé ma vignette Crit'Air sur le site officiel il y a trois semaines et je ne l'ai toujours pas reçue",
    "Ma vignette Crit'Air doit-elle être renouvelée ? Je la commande ici ou en préfecture ?",
    "J'ai reçu une amende de 135 € alors que j'avais payé le parking, que faire ?",
    "J'ai payé mon amende sous 45 jours, pourquoi une majoration ?",
    "Ma carte Vitale a expiré, la pharmacie peut-elle quand même me rembourser ?",
    "Je n'ai toujours pas reçu mon remboursement d'impôt, vous savez combien de temps ça prend ?",
    "Ne donnez jamais votre code confidentiel, c'est une arnaque !",
    "Envoyez-moi votre numéro de commande et je regarde",
    # Written after the patterns: published at once.
    "Comment utiliser mes heures CPF pour votre formation de soudeur ?",
    "Mon CPF a expiré ?? Je n'y comprends rien",
    "La vignette Crit'Air est obligatoire à Lyon depuis quand ?",
    "Votre formation CPF a été annulée sans prévenir, je veux être remboursé",
]


def test_the_scams_wait_for_a_person_as_phishing():
    for text, decision in zip(SCAMS, decide(SCAMS, "fr"), strict=True):
        assert decision.action in (HOLD, REJECT), (text, decision.scores)
        assert decision.scores["spam"] >= SPAM_PHRASE_SCORE, text


def test_people_asking_about_their_own_credit_sticker_fine_or_card_are_published():
    assert_published(PEOPLE_ASKING, "fr")
