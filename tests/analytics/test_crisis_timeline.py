"""The crisis timeline of an alert, against a day of Maison Dupont whose figures are computed here.

Wednesday 10 June 2026, Europe/Paris, the query "Maison Dupont", hourly buckets, baseline 1 mention:
    10:20 one message (not above the baseline); 11:00 the brand answers it (before any signal)
    11h   nothing
    12h   two messages          -> above: the first signal is 12:00
    13h   three messages (the first answered by the brand at 15:40: the first answer)
    14h   four messages: the alert's window (14:00 to 15:00), raised at 15:05
    15:10 crisis mode from the alert: the scheduled promotion is held
So: 185 minutes from the first signal to the alert, 220 to the first answer, one post held.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def forum_publisher():
    """A forum platform that publishes by noting the call: the promotion needs a channel that posts."""
    from palabre.connectors.base import Capability, Connector, Delivered
    from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector

    class Publisher(Connector):
        platform = "discourse"
        capabilities = frozenset({Capability.PUBLISH})

        def publish(self, channel, *, text, media=(), idempotency_key):
            return Delivered("topic-1", "https://forum.example/t/1")

    previous = connector_class_for("discourse")
    register_connector("discourse", Publisher)
    yield Publisher
    if previous is None:
        unregister_connector("discourse")
    else:
        register_connector("discourse", previous)


def paris(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, 10, hour, minute, tzinfo=PARIS)


@pytest.fixture
def crisis(
    forum_publisher, org, make_channel, make_member, ingest, clock, django_capture_on_commit_callbacks
):
    from palabre.inbox import services as inbox
    from palabre.inbox.models import Conversation
    from palabre.listening.services import create_query, raise_alert, switch_crisis_mode
    from palabre.orgs.services import Actor
    from palabre.publishing import services as publishing

    clock.move_to(paris(8))
    blog = make_channel(org, "site", handle="blog.maison-dupont.fr", name="Blog")
    alice = make_member(org, "community_manager", username="alice").user
    as_alice = Actor.for_user(alice, org)
    forum = make_channel(org, "discourse", handle="forum.maison-dupont.fr", name="Forum")
    query = create_query(actor=Actor.palabre(org), name="Marque", query='"Maison Dupont"')
    promo = publishing.create_post(
        actor=as_alice,
        title="Soldes d'été",
        variants=[{"channel": forum, "text": "Soldes : -20 % sur tout", "scheduled_at": paris(18)}],
    )
    publishing.approve_post(actor=as_alice, post=promo)
    items = {}
    for n, at in enumerate(
        [paris(10, 20), paris(12, 10), paris(12, 40), paris(13, 5), paris(13, 15), paris(13, 50)]
        + [paris(14, 5), paris(14, 20), paris(14, 30), paris(14, 55)]
    ):
        clock.move_to(at)
        with django_capture_on_commit_callbacks(execute=True):
            items[at] = ingest(
                blog,
                f"c{n}",
                created_at=at,
                text=f"Maison Dupont, ma lampe {n} est cassée",
                author=f"client{n}",
            )

    def answer(item, at):
        clock.move_to(at)
        with django_capture_on_commit_callbacks(execute=True):
            inbox.send_reply(
                actor=as_alice,
                conversation=Conversation.objects.get(root=item),
                text=f"Bonjour, nous regardons cela tout de suite ({item.external_id}).",
                idempotency_key=f"reply-{item.external_id}",
                confirmed=True,
            )

    answer(items[paris(10, 20)], paris(11))
    clock.move_to(paris(15, 5))
    signal = SimpleNamespace(
        query_id=query.pk,
        metric="volume",
        bucket_minutes=60,
        window_start=paris(14),
        window_end=paris(15),
        observed=4.0,
        expected=1.0,
        score=3.5,
    )
    # the instant of the detection run that found the spike, as `detect_for_query(now=...)` passes it
    alert = raise_alert(organisation=org, signal=signal, explanation={"rule": "z"}, now=paris(15, 5))
    clock.move_to(paris(15, 10))
    with django_capture_on_commit_callbacks(execute=True):
        switch_crisis_mode(actor=as_alice, on=True, alert=alert)
    answer(items[paris(13, 5)], paris(15, 40))
    clock.move_to(paris(17))
    return SimpleNamespace(alert=alert, promo=promo, alice=alice, blog=blog)


def test_timeline_first_signal_alert_first_answer_and_posts_held(crisis, org, django_assert_num_queries):
    from palabre.analytics.crisis import BUCKETS_BEFORE, crisis_timeline

    with django_assert_num_queries(5):
        timeline = crisis_timeline(org, crisis.alert.pk)
    assert timeline.first_signal == paris(12)
    # the test's clock ticks on after each move: instants are read to the minute
    assert timeline.alerted_at == paris(15, 5)
    assert timeline.first_answer.replace(second=0, microsecond=0) == paris(15, 40)
    assert timeline.minutes_to_alert == 185
    assert round(timeline.minutes_to_answer) == 220
    assert [row["post_id"] for row in timeline.held] == [crisis.promo.pk]
    # the curve: 24 hours before the window, the window, 12 hours after
    assert len(timeline.buckets) == BUCKETS_BEFORE + 1 + 12
    assert timeline.buckets[0].start == paris(14) - timedelta(hours=24)
    by_start = {bucket.start: bucket.total for bucket in timeline.buckets}
    assert [by_start[paris(h)] for h in (10, 11, 12, 13, 14, 15)] == [1, 0, 2, 3, 4, 0]
    assert sum(by_start.values()) == 10


def test_without_an_answer_the_figure_stays_empty(org, make_channel, clock):
    from palabre.analytics.crisis import crisis_timeline
    from palabre.listening.services import create_query, raise_alert
    from palabre.orgs.services import Actor

    clock.move_to(paris(15, 5))
    query = create_query(actor=Actor.palabre(org), name="Marque", query='"Maison Dupont"')
    signal = SimpleNamespace(
        query_id=query.pk,
        metric="volume",
        bucket_minutes=60,
        window_start=paris(14),
        window_end=paris(15),
        observed=4.0,
        expected=1.0,
        score=3.5,
    )
    alert = raise_alert(organisation=org, signal=signal, explanation={})
    timeline = crisis_timeline(org, alert.pk)
    # no mention at all: the window itself is not above the baseline, the signal is its start
    assert timeline.first_signal == paris(14)
    assert timeline.first_answer is None and timeline.minutes_to_answer is None
    assert timeline.held == []


def test_page_in_french_and_another_organisations_alert_is_404(crisis, org, client, make_org, make_member):
    from django.urls import reverse

    client.force_login(crisis.alice)
    url = reverse("analytics:crisis", args=[crisis.alert.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    body = response.content.decode()
    assert "10/06/2026 12:00" in body  # the first signal, in Paris time and the French format
    assert "Soldes d&#x27;été" in body or "Soldes d'été" in body
    assert "<svg" in body
    # What the alert saw, in words and counts: 4 mentions in the hour where 1 was expected.
    assert "Mentions par tranche de 60 minutes\u202f: 4 (attendu\u202f: 1)" in body

    other = make_org("Atelier Boréal", slug="atelier-boreal")
    stranger = make_member(other, "owner", username="stranger").user
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_the_alert_page_and_the_dashboard_lead_to_the_timeline(crisis, client):
    from django.urls import reverse

    client.force_login(crisis.alice)
    url = reverse("analytics:crisis", args=[crisis.alert.pk])
    alert_page = client.get(reverse("listening:alert", args=[crisis.alert.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    assert url in alert_page.content.decode()
    dashboard = client.get(reverse("analytics:dashboard"), {"from": "2026-06-10", "to": "2026-06-10"})
    assert dashboard.status_code == 200
    assert url in dashboard.content.decode()
