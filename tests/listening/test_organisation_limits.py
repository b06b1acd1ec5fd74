"""One organisation's listening sources cannot fill the workers every organisation shares: each
poll takes one (up to the HTTP timeout), so an organisation's active sources together are polled
at most MAX_POLLS_PER_HOUR times an hour. Paused sources do not count, another organisation has
its own count, and the refusal names the field to change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from palabre.listening.models import ListeningSource
from palabre.listening.services import sources, update_source
from palabre.orgs.services import Actor

FEED = {"url": "https://blog.example.fr/feed"}


@pytest.fixture
def budget(monkeypatch):
    monkeypatch.setattr(sources, "MAX_POLLS_PER_HOUR", 10, raising=False)


def test_polls_an_hour_are_counted_over_the_active_sources(org, make_org, make_source, budget):
    every_ten = make_source(org, "rss", FEED, name="Un", interval=10)  # 6 an hour
    make_source(org, "rss", FEED, name="Deux", interval=15)  # 4 an hour: 10 in all
    with pytest.raises(ValidationError) as refused:
        make_source(org, "rss", FEED, name="Trois", interval=60)
    assert "interval_minutes" in refused.value.message_dict
    assert "11" in refused.value.message_dict["interval_minutes"][0]
    assert not ListeningSource.objects.filter(organisation=org, name="Trois").exists()
    # Once a minute, as one source could ask: refused just the same.
    with pytest.raises(ValidationError):
        make_source(org, "rss", FEED, name="Trois", interval=1)
    # Another organisation has its own count.
    make_source(make_org("Autre"), "rss", FEED, name="Trois", interval=60)
    actor = Actor.palabre(org)
    # Polling an active source more often is counted; less often always allowed.
    with pytest.raises(ValidationError) as refused:
        update_source(actor=actor, source=every_ten, interval_minutes=5)
    assert "interval_minutes" in refused.value.message_dict
    every_ten.refresh_from_db()
    assert every_ten.interval_minutes == 10
    update_source(actor=actor, source=every_ten, interval_minutes=20)  # 3 an hour: 7 in all
    make_source(org, "rss", FEED, name="Trois", interval=30)  # 9
    # A paused source makes room; switching it back on beyond the budget is refused.
    update_source(actor=actor, source=every_ten, active=False)  # 6
    make_source(org, "rss", FEED, name="Quatre", interval=15)  # 10
    with pytest.raises(ValidationError) as refused:
        update_source(actor=actor, source=every_ten, active=True)
    assert "interval_minutes" in refused.value.message_dict
    every_ten.refresh_from_db()
    assert not every_ten.active
    # Renaming a source changes nothing to the polls: allowed at the budget.
    update_source(actor=actor, source=ListeningSource.objects.get(organisation=org, name="Quatre"), name="4")


def test_asking_again_for_a_backfill_waiting_for_a_worker_queues_no_other(
    org, make_query, django_capture_on_commit_callbacks
):
    """Each backfill reads up to 90 days of the organisation's posts on a shared worker: a script
    asking a thousand times for one query queued a thousand of them. A query has at most one
    backfill waiting (a second ask updates it: its days, the query's text) besides one running."""
    from palabre.listening import backfill
    from palabre.listening.models import QueryBackfill

    actor = Actor.palabre(org)
    with django_capture_on_commit_callbacks(execute=False):
        query = make_query(org, "lumiere", name="Marque")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        rows = [backfill.start(actor=actor, listening_query=query, days=days) for days in (7, 30, 90)]
    assert len(enqueued) == 0  # the one queued when the query was created serves them all
    assert QueryBackfill.objects.filter(query=query).count() == 1
    assert {row.pk for row in rows} == {QueryBackfill.objects.get(query=query).pk}
    assert QueryBackfill.objects.get(query=query).days == 90
    # Once it runs, one more may wait behind it.
    QueryBackfill.objects.filter(query=query).update(status=QueryBackfill.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        for _ in range(3):
            backfill.start(actor=actor, listening_query=query, days=30)
    assert len(enqueued) == 1
    assert QueryBackfill.objects.filter(query=query, status=QueryBackfill.Status.QUEUED).count() == 1


def test_a_backfill_waiting_for_long_is_queued_again(
    org, make_query, clock, django_capture_on_commit_callbacks
):
    """A backfill whose task was lost (a queue emptied) would wait for ever: asked again after ten
    minutes, it is queued again (once each ten minutes at most)."""
    from palabre.listening import backfill

    actor = Actor.palabre(org)
    with django_capture_on_commit_callbacks(execute=False):
        query = make_query(org, "lumiere", name="Marque")
    clock.shift(timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        backfill.start(actor=actor, listening_query=query)
        backfill.start(actor=actor, listening_query=query)
    assert len(enqueued) == 1


def test_a_source_is_polled_at_most_once_a_minute_however_asked(org, make_source, clock):
    """ "Poll now", or switching a source off and on, set its next poll to now, even while a poll
    held its lease: a script could have one source fetched as often as it asked. Now a source is
    polled at most once a minute; the refusal names the source and says when to ask again."""
    from django.utils import timezone

    from palabre.listening.services import request_poll

    actor = Actor.palabre(org)
    source = make_source(org, "rss", FEED, name="Un", interval=15)
    request_poll(actor=actor, source=source)  # never polled: at once
    # A worker claims the poll (as poll_source does): its lease runs to the next interval.
    lease = timezone.now() + timedelta(minutes=15)
    ListeningSource.objects.filter(pk=source.pk).update(last_polled_at=timezone.now(), next_poll_at=lease)
    source.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        request_poll(actor=actor, source=source)
    assert "source" in refused.value.message_dict
    [wait] = re.findall(r"\d+", refused.value.message_dict["source"][0])
    assert 1 <= int(wait) <= 60
    update_source(actor=actor, source=source, active=False)
    update_source(actor=actor, source=source, active=True)
    source.refresh_from_db()
    assert source.next_poll_at >= source.last_polled_at + timedelta(minutes=1)
    clock.shift(timedelta(seconds=61))
    request_poll(actor=actor, source=source)
    source.refresh_from_db()
    assert source.next_poll_at <= timezone.now()


def test_an_organisation_has_a_few_alert_subscriptions(org, make_org, monkeypatch):
    """Each crisis alert is sent to every subscription, one after the other on a shared worker, a
    webhook taking up to 10 s three times: a thousand subscriptions to a host that answers slowly
    held a worker for hours per alert. Their number is bounded; the refusal names the target."""
    from palabre.listening.services import add_subscription, alerts

    monkeypatch.setattr(alerts, "MAX_SUBSCRIPTIONS", 2, raising=False)
    actor = Actor.palabre(org)
    add_subscription(actor=actor, kind="email", target="cm@maison.example")
    add_subscription(actor=actor, kind="webhook", target="https://hooks.example.com/a")
    with pytest.raises(ValidationError) as refused:
        add_subscription(actor=actor, kind="webhook", target="https://hooks.example.com/b")
    assert "target" in refused.value.message_dict
    add_subscription(actor=Actor.palabre(make_org("Autre")), kind="email", target="cm@autre.example")


def test_the_delivery_job_queues_a_task_per_alert(org, make_org, make_query, monkeypatch):
    """The `listening.deliver` job sent every pending alert itself, one after the other, in the
    scheduler's pass: one organisation's slow webhooks held the job, and the worker running it, for
    all. It now queues a delivery task per alert, as the other jobs do."""
    from django.utils import timezone

    from palabre.listening import delivery, tasks
    from palabre.listening.models import AlertDelivery, CrisisAlert
    from palabre.listening.services import add_subscription
    from palabre.schedule.jobs import job_named

    alert_ids = []
    for organisation in (org, make_org("Autre")):
        query = make_query(organisation, "lumiere", name="Marque")
        subscription = add_subscription(
            actor=Actor.palabre(organisation), kind="webhook", target="https://hooks.example.com/a"
        )
        now = timezone.now()
        alert = CrisisAlert.objects.create(
            organisation=organisation,
            query=query,
            metric="volume",
            bucket_minutes=60,
            window_start=now - timedelta(hours=1),
            window_end=now,
            observed=50,
            expected=5,
            score=9,
        )
        AlertDelivery.objects.create(organisation=organisation, alert=alert, subscription=subscription)
        alert_ids.append(alert.pk)

    def inline(*args, **kwargs):
        raise AssertionError("delivered inside the job")

    queued = []

    class Recording:
        def enqueue(self, alert_id):
            queued.append(alert_id)

    monkeypatch.setattr(delivery, "deliver_alert", inline)
    monkeypatch.setattr(tasks, "deliver_alert_task", Recording())
    result = job_named("listening.deliver").run(timezone.now())
    assert sorted(queued) == sorted(alert_ids)
    assert result == {"alerts": 2}
