"""The crisis timeline through the API: the same figures as the page (the day of Maison Dupont of
test_crisis_timeline, whose figures are computed there by hand), scoped to the token's organisation."""

from __future__ import annotations

from .test_crisis_timeline import crisis, forum_publisher  # noqa: F401  (the fixtures)


def _token(org, scopes):
    from palabre.orgs.services import Actor, create_api_token

    _token, raw = create_api_token(actor=Actor.palabre(org), name="reports", scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_api_gives_the_timeline_in_the_organisations_time(crisis, org, client):  # noqa: F811
    from palabre.analytics.crisis import BUCKETS_AFTER, BUCKETS_BEFORE
    from palabre.orgs.permissions import Perm

    auth = _token(org, [Perm.ANALYTICS_VIEW.value])
    response = client.get(f"/api/analytics/crises/{crisis.alert.pk}", **auth)
    assert response.status_code == 200
    data = response.json()
    assert data["alert"]["id"] == crisis.alert.pk
    assert data["alert"]["query"] == "Marque"
    assert data["alert"]["window_start"] == "2026-06-10T14:00:00+02:00"
    assert data["time_zone"] == "Europe/Paris"
    assert data["first_signal"] == "2026-06-10T12:00:00+02:00"
    assert data["alerted_at"].startswith("2026-06-10T15:05")
    assert data["first_answer"].startswith("2026-06-10T15:40")
    # 12:00 -> 15:05 and 12:00 -> 15:40 (the test clock ticks on by a few seconds after a move)
    assert data["minutes_to_alert"] == 185.0
    assert round(data["minutes_to_answer"]) == 220
    assert len(data["buckets"]) == BUCKETS_BEFORE + 1 + BUCKETS_AFTER
    by_start = {bucket["start"]: bucket for bucket in data["buckets"]}
    totals = [by_start[f"2026-06-10T{hour}:00:00+02:00"]["total"] for hour in (10, 11, 12, 13, 14, 15)]
    assert totals == [1, 0, 2, 3, 4, 0]
    above = [by_start[f"2026-06-10T{hour}:00:00+02:00"]["above_baseline"] for hour in (10, 11, 12, 13, 14)]
    assert above == [False, False, True, True, True]
    assert sum(bucket["total"] for bucket in data["buckets"]) == 10
    assert [(row["post"], row["title"], row["channel"]) for row in data["posts_held"]] == [
        (crisis.promo.pk, "Soldes d'été", "Forum")
    ]


def test_another_organisations_alert_is_404_and_the_scope_is_required(
    crisis,  # noqa: F811
    org,
    client,
    make_org,
):
    from palabre.orgs.permissions import Perm

    url = f"/api/analytics/crises/{crisis.alert.pk}"
    other = make_org("Atelier Boréal", slug="atelier-boreal")
    foreign = client.get(url, **_token(other, [Perm.ANALYTICS_VIEW.value]))
    assert foreign.status_code == 404
    assert "Marque" not in foreign.content.decode()
    missing = client.get(
        f"/api/analytics/crises/{crisis.alert.pk + 1000}", **_token(org, [Perm.ANALYTICS_VIEW.value])
    )
    assert missing.status_code == 404
    without_scope = client.get(url, **_token(org, [Perm.ITEMS_VIEW.value]))
    assert without_scope.status_code == 403
