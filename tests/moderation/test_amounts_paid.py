"""An amount the customer paid, was debited or is owed is no spam (session 23): a bank's customer
reporting fraud, "Ma carte bancaire a été piratée, 800 euros débités en Chine", was held at 0.60
spam, "800 euros débités sur ma carte" at 0.67 (the spam head reads an amount as a prize or an
income). Context lines of lexicons/context_fr.tsv (`reference`); an amount to win, earn or invest,
and fees to unlock a parcel, are still spam. Real engine, shipped models."""

from __future__ import annotations

from .conftest import assert_published, not_published

CUSTOMERS = [
    "800 euros débités sur ma carte",
    "On m'a prélevé 49,99 € deux fois",
    "J'ai payé 120 € pour un colis jamais arrivé",
    "Facturé 35 euros de frais de retour, scandaleux",
    "Remboursez-moi les 60 € de la commande annulée",
    "Le billet m'a coûté 89 euros et le train a été supprimé",
    "Ma carte bancaire a été piratée, 800 euros débités en Chine",
    "Vous me devez encore 230 euros depuis mars",
    # Written after the lines (all six were published before them too).
    "Vous m'avez facturé 19,90 € pour une livraison express jamais faite",
    "Prélèvement de 45 euros alors que j'ai résilié en janvier",
    "Nous avons payé 1200 € d'acompte et la cuisine n'est toujours pas posée",
    "La réparation a coûté 350 euros et la machine refuse encore de démarrer",
    "Toujours pas remboursé des 75 € de mon billet annulé",
    "Quelqu'un a utilisé ma carte : 3 paiements de 250 € que je n'ai pas faits",
]
SPAM = [
    "Gagnez 500 € par jour depuis chez vous",
    "Je gagne 3000 € par mois grâce à cette méthode, écrivez-moi",
    "Prêt de 5000 euros sans frais, contactez-moi",
    "Touchez 100 € offerts à l'inscription sur notre casino",
    "Investissez 250 € et recevez 2500 € en une semaine",
    "Placez 100 € aujourd'hui et recevez 1000 € dans 7 jours",
    "Votre colis est bloqué, réglez 1,99 € de frais de douane sur colis-suivi-fr.com",
    "Gagnez jusqu'à 2000 € par mois en travaillant 2 h par jour",
]


def test_amounts_customers_paid_or_are_owed_are_published():
    assert_published(CUSTOMERS, "fr")


def test_amounts_to_win_earn_or_invest_are_still_spam():
    for text, decision in not_published(SPAM, "fr"):
        assert decision.scores["spam"] >= 0.6, text
