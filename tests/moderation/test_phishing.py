"""Phishing in the words of a bank, an agency or a carrier is held as spam (session 23): the models
saw no French phishing, and 7 of 8 such messages written first were published ("Remboursement de
320 € en attente : confirmez vos coordonnées bancaires sur impots-remb.fr" at 0.21 spam). The
``phishing`` patterns of lexicons/fr.tsv and en.tsv; a customer asking about their own account, a
fee or a message they received is no phishing. Real engine, shipped models."""

from __future__ import annotations

import pytest

from palabre.moderation.engine import (
    HOLD,
    REJECT,
    SPAM_PHRASE_SCORE,
)

from .conftest import assert_published, decide

PHISHING = [
    "Remboursement de 320 € en attente : confirmez vos coordonnées bancaires sur impots-remb.fr",
    "Ameli : votre nouvelle carte Vitale est disponible, mettez à jour vos informations sur ameli-carte.com",
    "Colissimo : votre colis est en attente, des frais de 1,45 € sont à régler sur colissimo-suivi.info",
    "Votre compte bancaire a été suspendu, veuillez vous identifier sur secure-banque-fr.com",
    "Votre abonnement Netflix est suspendu, mettez à jour votre moyen de paiement : netflix-compte.com",
    # Written after the patterns: 0 of 5 held before them.
    "La Poste : votre colis n'a pas pu être livré, réglez les frais de réexpédition de 2,99 € ici",
    "Crédit Agricole : un accès inhabituel a été détecté, merci de confirmer votre identité sur ca-securite.com",
    "Votre carte bancaire va être désactivée, connectez-vous pour régulariser votre situation",
    "Impôts : vous avez droit à un remboursement, renseignez vos coordonnées bancaires sous 48 h",
    "Chronopost : des droits de douane de 3,20 € sont à payer pour libérer votre colis",
]
ENGLISH_PHISHING = [
    "Your account has been locked. Please verify your bank details at secure-login-help.com",
    "Royal Mail: a redelivery fee of £1.99 is due, pay at royalmail-redelivery.info",
]
CUSTOMERS = [
    "Mon compte est bloqué depuis hier, pouvez-vous m'aider ?",
    "On me demande de confirmer mes coordonnées bancaires à chaque commande, c'est normal ?",
    "J'ai reçu un SMS me demandant de payer 1,45 € de frais pour un colis, c'est une arnaque ?",
    "Ma carte Vitale a expiré, comment la renouveler ?",
    "Comment mettre à jour mon moyen de paiement sur l'appli ?",
    "Votre site me demande de mettre à jour mes informations, c'est sécurisé ?",
    "Mes droits CPF ont-ils expiré ?",
    "Votre conseiller m'a demandé de confirmer mon IBAN par téléphone, c'est normal ?",
    "Mon abonnement a été suspendu alors que j'ai payé",
    "Pourquoi des frais de 4,90 € sur ma commande ?",
    "Je n'arrive pas à confirmer mon adresse dans votre appli",
    "Est-ce normal que vous me demandiez de mettre à jour mes informations par SMS ?",
    "Votre SAV m'a demandé de payer 15 € de frais de réexpédition, c'est prévu ?",
    "Ma carte a été bloquée au distributeur, que faire ?",
    "J'ai reçu un mail me disant que mon compte était suspendu, c'est vraiment vous ?",
    "How do I update my payment method in the app?",
    "Why is there a delivery fee of $4.99 on my order?",
]


@pytest.mark.parametrize(("texts", "lang"), [(PHISHING, "fr"), (ENGLISH_PHISHING, "en")])
def test_phishing_waits_for_a_person_as_spam(texts, lang):
    for text, decision in zip(texts, decide(texts, lang), strict=True):
        assert decision.action in (HOLD, REJECT), (text, decision.scores)
        assert decision.scores["spam"] >= SPAM_PHRASE_SCORE, text
        assert "lexicon_phishing" in {reason.code for reason in decision.reasons}, text


def test_customers_asking_about_their_account_or_a_fee_are_published():
    assert_published(CUSTOMERS)
