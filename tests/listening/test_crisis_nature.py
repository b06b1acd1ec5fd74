"""Crisis or launch: what listening knows beyond volume (negative share, influential authors,
emerging terms) tells a bad buzz from a welcome one, in the alert and in words."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import translation

from palabre.listening.detection import spike_nature
from palabre.listening.explanations import nature_sentence


def test_a_spike_of_negative_mentions_against_a_calm_usual_is_a_crisis():
    found = spike_nature(mentions=40, negatives=24, baseline_mentions=300, baseline_negatives=30)
    assert found.nature == "crisis"
    assert found.negative_share == 0.6 and found.usual_negative_share < 0.15


def test_a_spike_with_the_usual_negative_share_is_a_launch():
    found = spike_nature(mentions=40, negatives=4, baseline_mentions=300, baseline_negatives=30)
    assert found.nature == "launch"


def test_most_influential_authors_negative_make_a_crisis_even_at_the_usual_share():
    found = spike_nature(
        mentions=40,
        negatives=5,
        baseline_mentions=300,
        baseline_negatives=30,
        influential=5,
        influential_negative=3,
    )
    assert found.nature == "crisis"


def test_an_emerging_term_carried_by_negative_mentions_or_too_few_mentions_is_unclear():
    assert (
        spike_nature(
            mentions=40, negatives=5, baseline_mentions=300, baseline_negatives=30, negative_terms=["#rappel"]
        ).nature
        == "unclear"
    )
    assert (
        spike_nature(mentions=3, negatives=0, baseline_mentions=300, baseline_negatives=30).nature
        == "unclear"
    )


def test_the_sentence_is_in_english_and_in_french():
    why = {
        "nature": "crisis",
        "nature_signals": {
            "negative_share": 0.6,
            "usual_negative_share": 0.12,
            "influential": 5,
            "influential_negative": 3,
        },
    }
    with translation.override("en"):
        english = nature_sentence(why)
    with translation.override("fr"):
        french = nature_sentence(why)
    assert english.startswith("Looks like a crisis: 60% of these mentions are negative where 12% usually are")
    assert french.startswith("Cela ressemble à une crise\u00a0: 60\u00a0% de ces mentions sont négatives")
    assert nature_sentence({}) == ""


def _candidates(prefix, texts, *, count, at, spread_seconds, reach=None):
    from palabre.connectors.search import Candidate

    rng = random.Random(prefix)
    return [
        Candidate(
            external_id=f"{prefix}-{k}",
            text=texts[k % len(texts)],
            published_at=at + timedelta(seconds=rng.randrange(spread_seconds)),
            author=f"{prefix}{k}",
            author_reach=reach(k) if reach else None,
        )
        for k in range(count)
    ]


@pytest.mark.clock
@pytest.mark.parametrize(
    ("texts", "nature"),
    [
        (
            [
                "Lampe Aurore de Maison Lumière qui surchauffe, c'est un scandale, honteux",
                "Maison Lumière, votre lampe Aurore a brûlé ma table, service client nul, inadmissible",
                "Horrible : la lampe Aurore Maison Lumière prend feu, arnaque, je suis furieux",
            ],
            "crisis",
        ),
        (
            [
                "Super lancement de la lampe Aurore chez Maison Lumière, magnifique, j'adore",
                "La nouvelle lampe Aurore de Maison Lumière est superbe, bravo, génial",
                "Maison Lumière lance Aurore : très belle lampe, merci, excellent design",
            ],
            "launch",
        ),
    ],
)
def test_the_alert_says_whether_the_spike_reads_as_a_crisis_or_a_launch(
    org, make_query, make_source, texts, nature
):
    from django.utils import timezone

    from palabre.listening.crisis import detect_for_query
    from palabre.listening.services import ingest_candidates

    query = make_query(org, '"Maison Lumière"', name="Marque")
    source = make_source(org, "rss", {"url": "https://example.org/feed"}, name="Flux")
    now = timezone.now()
    calm_texts = ["Joli canapé Maison Lumière", "Maison Lumière, livraison reçue", "Catalogue Maison Lumière"]
    calm = _candidates("calm", calm_texts, count=12, at=now - timedelta(hours=6), spread_seconds=330 * 60)
    storm = _candidates(
        "storm",
        texts,
        count=30,
        at=now - timedelta(minutes=16),
        spread_seconds=12 * 60,
        reach=lambda k: 100 * k,
    )
    ingest_candidates(source=source, candidates=calm + storm)
    alerts = detect_for_query(query)
    assert alerts, "the spike alerts"
    assert alerts[0].explanation["nature"] == nature
    assert set(alerts[0].explanation["nature_signals"]) >= {
        "negative_share",
        "usual_negative_share",
        "influential",
    }
