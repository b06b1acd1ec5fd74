"""Synthetic French comments written for Palabre from templates (no French spam corpus
exists in the shared data). Deterministic for a seed. Used to fit the spam head and
reported separately in the model card: scores on them are optimistic by construction.
"""

from __future__ import annotations

import random

__all__ = ["french_spam", "french_ham"]

_SPAM = [
    "Gagnez {amount} par {period} depuis chez vous ! Contactez-moi sur {app} {phone}",
    "{greet} je gagne {amount} par {period} grâce au {crypto}, écris-moi sur {app} pour savoir comment",
    "Crédit rapide sans frais, réponse en 24h : {url}",
    "Prêt entre particuliers, taux {pct}, contactez {email}",
    "Code promo {code} : -{pct} sur tout le site {url}",
    "PROMO EXCEPTIONNELLE !!! {product} à seulement {amount}, livraison gratuite {url}",
    "Félicitations vous avez gagné un {gift} ! Cliquez ici pour le récupérer : {url}",
    "Rencontres coquines près de chez toi, inscription gratuite {url}",
    "Des célibataires de ta région t'attendent 😍 {url}",
    "Investissez dans le {crypto} avec un rendement garanti de {pct} par {period}, DM moi",
    "{greet} allez voir ma chaîne youtube, abonnez-vous svp {url}",
    "Abonne-toi à mon compte et gagne des followers gratuits 👉 {url}",
    "Casino en ligne : {amount} de bonus offerts à l'inscription {url}",
    "Paris sportifs : mes pronostics gagnants sur {app} {phone}",
    "Grand marabout {name}, retour de l'être aimé en {days} jours, appelez le {phone}",
    "Voyance gratuite par téléphone {phone}, médium reconnu",
    "Perdez {kilos} kilos en {days} jours avec ce régime miracle ! {url}",
    "Viagra et cialis pas cher sans ordonnance {url}",
    "Travail à domicile, {amount} par {period}, sans diplôme, écrivez-moi {email}",
    "Offre limitée : {product} à {amount} au lieu de {amount2}, commandez maintenant {url}",
    "Trading forex : devenez riche en {days} jours, formation offerte sur {app}",
    "{greet} 🔥 soldes -{pct} 🔥 sur {product} uniquement aujourd'hui {url}",
    "Je recommande {name}, elle m'a fait gagner {amount} en {crypto}, contactez-la sur {app} {phone}",
    "Cartes cadeaux gratuites ici 👉 {url} 👈",
    "Vous êtes le gagnant de notre tirage au sort ! Envoyez vos coordonnées à {email}",
    "Besoin d'argent rapide ? Rachat de crédit, contactez-nous au {phone}",
    "{greet} merci pour cette vidéo, au passage venez voir mon site {url} 😉",
    "Livraison gratuite et -{pct} avec le code {code} 👉 {url}",
]
_HAM = [
    "Bonjour, ma commande n°{num} n'est toujours pas arrivée, pouvez-vous vérifier ?",
    "Merci pour votre réponse rapide, le problème est réglé",
    "Le {product} que j'ai acheté ne marche plus après {days} jours, je suis déçu",
    "Super service client, merci {name} !",
    "Est-ce que la promo sur le {product} est encore valable ce week-end ?",
    "J'adore vos produits, surtout le {product}",
    "Vous livrez en Belgique ? Je n'arrive pas à choisir l'adresse",
    "Franchement la nouvelle version de l'appli est moins pratique",
    "Quand est-ce que le magasin de {city} ouvre le dimanche ?",
    "{greet} je voulais savoir si le {product} existe en bleu",
    "Trois semaines d'attente pour un remboursement de {amount}, c'est long",
    "Bravo à toute l'équipe pour le concours, j'ai hâte de voir les résultats",
    "Le lien vers la FAQ ne fonctionne pas sur mobile",
    "J'ai participé au jeu mais je n'ai pas reçu de mail de confirmation",
    "Merci {name} pour les conseils, ça m'a bien aidé",
    "C'est possible de payer en {n} fois sans frais ?",
    "Le colis est arrivé abîmé, je vous envoie les photos en message privé",
    "Très bon produit, je recommande, livraison rapide",
    "Pas terrible la qualité cette fois, le {product} s'est cassé",
    "{greet} à quelle heure commence le live demain ?",
    "Je suis client depuis {n} ans et c'est la première fois que j'ai un souci",
    "On peut avoir le lien de la recette ? Ça a l'air délicieux",
    "Votre numéro {phone} ne répond jamais, c'est pénible",
    "Je vous ai écrit par mail à {email} sans réponse depuis {days} jours",
    "Trop bien l'événement de samedi à {city}, merci pour l'accueil !",
    "Le prix a augmenté de {amount} depuis le mois dernier, pourquoi ?",
]
_SLOTS = {
    "amount": ["500€", "2000 €", "150 euros", "3 000€ ", "49,99€", "1500$", "10 000 euros", "99 €"],
    "amount2": ["199€", "89 €", "300 euros"],
    "period": ["jour", "semaine", "mois"],
    "app": ["WhatsApp", "whatsapp", "Telegram", "telegram", "Snap", "Instagram"],
    "phone": ["+33 6 12 34 56 78", "06 98 76 54 32", "+229 97 00 11 22", "0033745123456", "07.45.12.34.56"],
    "greet": ["Salut", "Bonjour à tous", "Coucou", "Hello", "Bonsoir"],
    "crypto": ["bitcoin", "Bitcoin", "BTC", "crypto", "ethereum"],
    "url": [
        "https://bit.ly/3xYz9",
        "www.gains-faciles.fr",
        "http://promo-shop.xyz",
        "https://t.me/richesse",
        "bit.ly/promo50",
        "www.rencontres-locales.com",
    ],
    "email": ["contact.pret@gmail.com", "julie.invest@outlook.fr", "service@credit-express.net"],
    "pct": ["50%", "70 %", "30%", "10% ", "90%", "5 %"],
    "code": ["PROMO50", "SOLDES2024", "GRATUIT", "VIP30"],
    "product": ["iPhone 15", "casque", "aspirateur", "sac", "parfum", "lave-linge", "abonnement", "canapé"],
    "gift": ["iPhone", "bon d'achat de 500€", "voyage", "PS5"],
    "name": ["Mme Dubois", "Kofi", "Sarah", "M. Martin", "Léa", "Karim"],
    "days": ["3", "7", "15", "10"],
    "kilos": ["5", "10", "15"],
    "num": ["45821", "A-2231", "778120"],
    "city": ["Lyon", "Lille", "Nantes", "Bordeaux"],
    "n": ["3", "4", "10"],
}


def _fill(template: str, rng: random.Random) -> str:
    text = template
    for key, values in _SLOTS.items():
        while "{" + key + "}" in text:
            text = text.replace("{" + key + "}", rng.choice(values), 1)
    if rng.random() < 0.2:
        text = text.upper()
    elif rng.random() < 0.3:
        text = text.lower()
    return text


def french_spam(n: int, seed: int = 13) -> list[tuple[int, str]]:
    """(template number, text) pairs; split by template to keep held-out rows honest."""
    rng = random.Random(seed)
    return [(i % len(_SPAM), _fill(_SPAM[i % len(_SPAM)], rng)) for i in range(n)]


def french_ham(n: int, seed: int = 17) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    return [(i % len(_HAM), _fill(_HAM[i % len(_HAM)], rng)) for i in range(n)]
