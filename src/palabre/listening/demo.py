"""Listening demo data for the demo brand (Maison Lumière, French home furnishing).

Queries for the brand, two competitors and a topic; one source of each kind (paused: the demo
runs without network); a few hundred mentions over the last three weeks with the brand's usual
daily rhythm, then the Nova lamp recall burst three days ago (the same story as the demo's
crisis conversations), from which detection raises one alert.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from palabre.connectors.search import Candidate
from palabre.listening.crisis import detect_for_query
from palabre.listening.services import create_query, create_source, ingest_candidates, update_source
from palabre.orgs.services import Actor

QUERIES = [
    ("Maison Lumière", '"Maison Lumière" OR #MaisonLumiere OR @MaisonLumiereFR', "brand"),
    ("CasaNova", 'CasaNova OR "Casa Nova" OR #CasaNova', "competitor"),
    ("Atelier Boréal", '"Atelier Boréal" OR #AtelierBoreal', "competitor"),
    ("Lampes : sécurité", "(lampe OR lampes OR luminaire*) AND (surchauffe OR rappel OR brûlure*)", "topic"),
]

SOURCES = [
    (
        "Blog Déco & Maison",
        "rss",
        {"url": "https://www.deco-et-maison.example/feed.xml"},
        "deco-et-maison.example",
    ),
    (
        "Mastodon #MaisonLumiere",
        "mastodon_hashtag",
        {"instance": "https://piaille.fr", "hashtag": "MaisonLumiere"},
        "piaille.fr",
    ),
    ("Reddit r/france", "reddit_search", {"query": "Maison Lumière", "subreddit": "france"}, "reddit.com"),
    ("Bluesky", "bluesky_jetstream", {}, "bsky.app"),
    (
        "Forum Maison Pratique",
        "web_page",
        {"url": "https://forum.maison-pratique.example/t/maison-lumiere"},
        "forum.maison-pratique.example",
    ),
]

CALM = {
    "fr": [
        "Livraison du canapé Oslo de Maison Lumière ce matin, impeccable et à l'heure !",
        "Quelqu'un a testé les lampes Maison Lumière ? Elles ont l'air belles en photo.",
        "Très contente de ma table en chêne Maison Lumière, la finition est superbe.",
        "La nouvelle collection Maison Lumière est sortie, j'adore les tons sable. #MaisonLumiere",
        "Le SAV Maison Lumière m'a rappelé en une heure pour un pied de chaise, merci !",
        "Maison Lumière ou CasaNova pour un canapé d'angle ? Vos avis ?",
        "Commande Maison Lumière reçue, emballage soigné, rien à redire.",
        "Un peu déçue du délai de livraison Maison Lumière, trois semaines pour une étagère.",
        "Vu en boutique Maison Lumière à Lyon : les luminaires en rotin sont magnifiques.",
        "Les prix Maison Lumière ont encore augmenté, dommage.",
        "CasaNova lance des soldes sur les canapés, -30 % ce week-end.",
        "J'ai craqué pour un buffet CasaNova, livraison dans dix jours.",
        "Atelier Boréal a de très belles tables en frêne, un peu chères.",
        "Service client CasaNova injoignable depuis trois jours, c'est pénible.",
        "Nouveau showroom Atelier Boréal à Nantes, très inspirant. #AtelierBoreal",
    ],
    "en": [
        "Just got my Maison Lumière armchair, lovely quality.",
        "Maison Lumière lamps look great in our new flat. #MaisonLumiere",
        "Anyone ordered from Maison Lumière to the UK? Delivery times?",
        "CasaNova has a sale on sofas this weekend.",
    ],
}
STORM = [
    "Rappel de la lampe Nova de Maison Lumière : risque de surchauffe, débranchez-la tout de suite.",
    "@MaisonLumiereFR la lampe Nova a fait fondre la table de nuit de ma fille, et on l'apprend par Alerte Conso ?",
    "Maison Lumière rappelle sa lampe Nova, surchauffe du transformateur. Aucun mail aux clients, scandaleux.",
    "Lampe Nova Maison Lumière : brûlure sur la commode, je suis furieuse. #RappelNova",
    "Honteux, Maison Lumière nous envoie des promos tous les jours mais rien pour le rappel de la lampe Nova. #RappelNova",
    "Ma lampe Nova sent le plastique brûlé depuis des semaines, merci Maison Lumière pour l'info… #RappelNova",
    "Maison Lumière, remboursement de la lampe Nova en magasin seulement ? Et ceux qui habitent loin ?",
    "Maison Lumière's Nova lamp recall: overheating transformer, unplug it now. #RappelNova",
    "CasaNova en profite pour dire que toutes ses lampes sont testées, classe… #RappelNova",
]
AUTHORS = [
    ("claire_deco", "Claire · déco", 5400),
    ("lea.d", "Léa D.", 1840),
    ("tom_home", "Tom", 95),
    ("maman_de_lou", "Sandra, maman de Lou", 12400),
    ("alerte_conso_fr", "Alerte Conso", 48200),
    ("pierre_nord", "Pierre", 310),
    ("julie_b", "Julie Bernard", 2200),
    ("veille_cm", "Élodie, CM freelance", 7400),
    ("sam_lee", "Sam Lee", 640),
    ("hugo_nuit", "Hugo", 150),
]


def _activity(moment: datetime) -> float:
    """Mentions an hour, by hour of day and day of week (local time)."""
    hour = moment.hour
    base = 0.15 if hour < 7 else (1.0 if hour < 12 else (1.4 if hour < 14 else (0.9 if hour < 19 else 1.3)))
    return base * (0.7 if moment.weekday() >= 5 else 1.0) * 0.75


def load_demo_listening(organisation, people, channels, now: datetime) -> None:
    if organisation.slug != "demo":
        return
    actor = Actor.palabre(organisation)
    rng = random.Random(2024)
    queries = {
        name: create_query(actor=actor, name=name, query=text, kind=kind) for name, text, kind in QUERIES
    }
    sources = []
    for name, kind, config, domain in SOURCES:
        source = create_source(actor=actor, name=name, kind=kind, config=config, interval_minutes=15)
        # The demo runs without network: polling would only fail.
        update_source(actor=actor, source=source, active=False)
        sources.append((source, domain))

    zone = ZoneInfo(str(getattr(organisation, "time_zone", "") or "Europe/Paris"))
    local_now = now.astimezone(zone)
    storm_start = (local_now - timedelta(days=3)).replace(hour=18, minute=30, second=0, microsecond=0)
    by_source: dict[int, list[Candidate]] = {}
    counter = 0

    def add(text: str, moment: datetime, language: str, weight_storm: bool = False) -> None:
        nonlocal counter
        counter += 1
        source, domain = rng.choice(sources[:4] if weight_storm else sources)
        handle, name, reach = rng.choice(AUTHORS)
        by_source.setdefault(source.pk, []).append(
            Candidate(
                external_id=f"demo-{counter}",
                text=text,
                published_at=moment,
                url=f"https://{domain}/p/{counter}",
                author=handle,
                author_name=name,
                author_reach=reach + rng.randrange(50),
                language=language,
                domain=domain,
            )
        )

    # Three weeks of the usual conversation, hour by hour.
    hour = (local_now - timedelta(days=21)).replace(minute=0, second=0, microsecond=0)
    while hour < local_now:
        expected = _activity(hour)
        for _ in range(sum(rng.random() < expected / 3 for _ in range(3))):
            language = "en" if rng.random() < 0.15 else "fr"
            add(rng.choice(CALM[language]), hour + timedelta(minutes=rng.randrange(60)), language)
        hour += timedelta(hours=1)
    # The Nova lamp recall: a burst over two hours, then a long tail.
    for k in range(70):
        minutes = rng.expovariate(1 / 35) if k < 55 else rng.uniform(120, 36 * 60)
        moment = storm_start + timedelta(minutes=minutes)
        if moment < local_now:
            text = STORM[k % len(STORM)]
            add(text, moment, "en" if "recall" in text else "fr", weight_storm=True)

    for source, _domain in sources:
        ingest_candidates(source=source, candidates=by_source.get(source.pk, []))
    detect_for_query(queries["Maison Lumière"], now=storm_start + timedelta(minutes=45))
