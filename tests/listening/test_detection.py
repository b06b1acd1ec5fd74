"""Spike detection on series (pure functions) and its explanations."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from palabre.listening import detection
from palabre.listening.detection import DetectorConfig

START = datetime(2024, 4, 1, tzinfo=UTC)  # a Monday, 00:00
WEEKS = 5


def profile(hour_of_week: int) -> float:
    """Mentions per hour: busy office hours, quiet nights, calmer weekends."""
    day, hour = divmod(hour_of_week, 24)
    daily = 0.3 + 2.7 * math.exp(-((hour - 13) ** 2) / 18)
    return daily * (0.5 if day >= 5 else 1.0) * 4


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def seasonal_hours(weeks: int = WEEKS, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    return [poisson(rng, profile(h % 168)) for h in range(weeks * 168)]


def fine_from_hourly(hourly: list[int], seed: int = 3) -> list[int]:
    rng = random.Random(seed)
    fine = [0] * (len(hourly) * 12)
    for h, count in enumerate(hourly):
        for _ in range(count):
            fine[h * 12 + rng.randrange(12)] += 1
    return fine


def test_seasonal_noise_raises_no_alarm():
    hourly = seasonal_hours()
    alarms = detection.volume_alarms(hourly, fine_from_hourly(hourly), start=START, evaluate_from=168)
    assert alarms == []


def test_a_burst_in_a_five_minute_bucket_is_found_at_once():
    hourly = seasonal_hours()
    fine = fine_from_hourly(hourly)
    spike_hour = 4 * 168 + 24 * 2 + 10  # Wednesday of the fifth week, 10h
    fine[spike_hour * 12 + 3] += 15
    hourly[spike_hour] += 15
    alarms = detection.volume_alarms(hourly, fine, start=START, evaluate_from=4 * 168)
    fine_alarms = [a for a in alarms if a.width == timedelta(minutes=5)]
    assert fine_alarms and fine_alarms[0].start == START + timedelta(hours=spike_hour, minutes=15)
    assert fine_alarms[0].observed >= 15 and fine_alarms[0].expected < 2


def test_the_baseline_is_by_hour_of_week():
    hourly = [0] * (WEEKS * 168)
    for h in range(len(hourly)):
        hourly[h] = 30 if h % 168 in (8, 9, 10) else (1 if 6 * 24 <= h % 168 < 6 * 24 + 7 else 5)
    monday_9h = 4 * 168 + 9
    sunday_3h = 4 * 168 + 6 * 24 + 3
    hourly[monday_9h] = 38  # a busy Monday morning, as usual
    hourly[sunday_3h] = 14  # Sunday at 3 in the morning: unusual
    alarms = detection.volume_alarms(hourly, None, start=START, evaluate_from=4 * 168)
    assert [a.index for a in alarms] == [sunday_3h]
    assert alarms[0].expected == 1 and alarms[0].rule == "z"


def test_cusum_catches_a_slow_build_up_that_no_single_hour_gives_away():
    config = DetectorConfig()
    hourly = [20] * (WEEKS * 168)
    rng = random.Random(1)
    hourly = [poisson(rng, 20) for _ in hourly]
    start = 4 * 168 + 50
    for h in range(start, start + 8):
        hourly[h] = 40  # z = (40 - 20) / sqrt(20) = 4.5 would alarm alone; use a gentler rise
        hourly[h] = 34
    alarms = detection.volume_alarms(hourly, None, start=START, config=config, evaluate_from=4 * 168)
    assert alarms and alarms[0].rule == "cusum"
    assert start < alarms[0].index < start + 8
    assert all((34 - a.expected) / math.sqrt(a.expected) < config.z_hour for a in alarms)


def test_sparse_history_pools_neighbouring_hours_and_days():
    hourly = [0] * 72  # a query three days old, with a few mentions a day
    for day in range(3):
        hourly[day * 24 + 10] = 2
    hourly[2 * 24 + 15] = 12
    alarms = detection.volume_alarms(hourly, None, start=START, evaluate_from=48)
    assert [a.index for a in alarms] == [2 * 24 + 15]
    assert detection.hourly_baseline([0, 0], 1, DetectorConfig()) is None  # no history: no verdict


def test_small_counts_never_alarm_even_from_zero():
    hourly = [0] * (WEEKS * 168)
    hourly[-1] = 3
    fine = [0] * (len(hourly) * 12)
    fine[-1] = 3
    assert detection.volume_alarms(hourly, fine, start=START, evaluate_from=4 * 168) == []


def test_negative_share_spike():
    volume = [10] * 200
    negative = [1] * 200
    negative[150] = 8
    negative[120] = 3  # a little more negative than usual: not a crisis
    alarms = detection.negative_alarms(
        volume, negative, start=START, width=timedelta(hours=1), history_buckets=168, evaluate_from=100
    )
    assert [a.index for a in alarms] == [150]
    assert alarms[0].observed == 0.8 and alarms[0].expected < 0.15


def test_cooldown_keeps_one_alert_per_spike_and_respects_the_last_one():
    width = timedelta(minutes=5)
    alarms = [
        detection.Alarm(i, START + i * width, width, "volume", 10, 1, 5, "z") for i in (0, 1, 2, 30, 60)
    ]
    kept = detection.apply_cooldown(alarms, cooldown=timedelta(hours=3))
    assert [a.index for a in kept] == [0, 60]  # 5 hours later: another spike
    later = detection.apply_cooldown(alarms, cooldown=timedelta(hours=1), last_alert={"volume": START})
    assert [a.index for a in later] == [30, 60]


def test_emerging_terms_explain_the_spike():
    baseline = [
        "Très beau canapé Maison Lumière, livraison rapide",
        "Le canapé Oslo est confortable",
        "Maison Lumière a de jolies lampes",
        "Commande reçue, merci Maison Lumière",
    ] * 10
    recent = [
        "Ma lampe Aurore de Maison Lumière a surchauffé ! #RappelAurore",
        "Surchauffe de la lampe Aurore, Maison Lumière doit rembourser #RappelAurore",
        "La lampe Aurore surchauffe, c'est dangereux",
        "Maison Lumière rappelle la lampe Aurore",
    ]
    terms = [t.term for t in detection.emerging_terms(recent, baseline, top=5)]
    assert "aurore" in terms[:2] and "#rappelaurore" in terms
    assert "maison" not in terms and "lumiere" not in terms  # always there: not news
    assert "de" not in detection.terms_of("l'avis de Léa") and "avis" in detection.terms_of("l'avis de Léa")


def test_counts_durations_and_answers_are_never_a_trend():
    """“Livré en retard de trois semaines” is about the delay, not about weeks: the top and emerging
    terms leave counts, durations, days and answers out (nlp/lexicons/not_trends.txt), in French and
    English, elided or not."""
    text = "Livraison en retard de trois semaines, toujours rien après 2 jours ! Depuis lundi, 3 weeks late"
    assert detection.terms_of(text) == {"livraison", "retard", "late"}
    assert detection.terms_of("Aujourd'hui encore, l'heure de livraison change") == {"livraison", "change"}


def test_terms_show_as_people_wrote_them():
    """Terms are counted folded ("delai" for délai, DÉLAI and delai) and shown as written most often,
    in lower case with their accents."""
    texts = [
        "Un délai de livraison inadmissible",
        "DÉLAI dépassé, Maison Lumière",
        "delai enfin tenu #RappelNova",
    ]
    terms = set().union(*(detection.terms_of(text) for text in texts))
    assert {"delai", "lumiere", "#rappelnova"} <= terms
    spelled = detection.spelled_as(texts, ["delai", "lumiere", "#rappelnova", "absent"])
    assert spelled == {
        "delai": "délai",
        "lumiere": "lumière",
        "#rappelnova": "#rappelnova",
        "absent": "absent",
    }


def test_bucket_counts():
    events = [(START + timedelta(minutes=m), m % 2 == 0) for m in (0, 4, 5, 59, 60)]
    volume, negative = detection.bucket_counts(
        events, start=START, end=START + timedelta(hours=2), width=timedelta(hours=1)
    )
    assert volume == [4, 1] and negative == [2, 1]
