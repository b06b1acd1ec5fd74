"""The schedule: every periodic job of Palabre, how often it runs, and what it does.

The worker processes (`palabre worker`, and the workers `palabre serve` embeds) run it: each due job
is claimed by one worker only (`palabre.schedule.services.run_due`), however many there are. A job
only finds what is due and enqueues the work as tasks, or does a short pass itself; each is
idempotent (running it twice, or late, does no harm). docs/architecture.md ("Schedule") shows this
table; `tests/schedule` checks they agree.

====================  =======================================  =====================================================
job                   every                                    what it does
====================  =======================================  =====================================================
conversations.sweep   PALABRE_ANALYSIS_SWEEP_SECONDS (60 s)    analyses the items stored and never analysed (a
                                                               worker killed between storing and analysing)
connectors.tick       PALABRE_CONNECTORS_POLL_SECONDS (60 s)   enqueues due deliveries, due channel pulls and
                                                               connection checks; warns of expiring tokens
publishing.tick       PALABRE_PUBLISHING_TICK_SECONDS (60 s)   hands over the variants due that no task took care of
listening.poll        60 s                                     enqueues a poll of each listening source that is due
listening.detect      300 s                                    crisis detection of every organisation (a task each)
listening.deliver     300 s                                    enqueues a delivery of each alert still pending
                                                               (a task per alert)
inbox.tick            300 s                                    re-ranks waiting threads and warns of overdue
                                                               responses (a task per organisation)
analytics.reports     600 s                                    enqueues the weekly and monthly report e-mails
                                                               due and not sent yet (a task per period)
====================  =======================================  =====================================================

The morning digest (`palabre inbox digest`) is a time of day, not an interval: cron or the systemd
timer runs it (docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from palabre import config


@dataclass(frozen=True)
class Job:
    name: str
    every: Callable[[], float]  # seconds, read when the job is claimed (settings may change)
    run: Callable[[datetime], dict[str, Any]]  # given the instant it was claimed at
    does: str


def _seconds(setting: config.Setting, minimum: float, fallback: float) -> Callable[[], float]:
    def every() -> float:
        try:
            return max(float(setting.raw()), minimum)
        except ValueError:
            return fallback

    return every


def _fixed(seconds: float) -> Callable[[], float]:
    return lambda: seconds


def sweep(now: datetime) -> dict[str, Any]:
    from palabre.conversations.services import analyse_unanalysed

    older_than = timedelta(seconds=_seconds(config.ANALYSIS_SWEEP_SECONDS, 1.0, 60.0)())
    result = analyse_unanalysed(older_than=older_than, now=now)
    return {key: len(value) if isinstance(value, list) else value for key, value in result.items()}


def connectors_tick(now: datetime) -> dict[str, Any]:
    from palabre.connectors.tasks import connectors_tick as tick

    return tick.call()


def publishing_tick(now: datetime) -> dict[str, Any]:
    from palabre.publishing.tasks import publishing_tick as tick

    return tick.call()


def listening_poll(now: datetime) -> dict[str, Any]:
    from palabre.listening.services import due_sources
    from palabre.listening.tasks import poll_source_task

    due = list(due_sources(now).values_list("pk", flat=True))
    for source_id in due:
        poll_source_task.enqueue(source_id)
    return {"sources": len(due)}


def listening_detect(now: datetime) -> dict[str, Any]:
    from palabre.listening.tasks import detect_crisis_task
    from palabre.orgs.models import Organisation

    organisations = list(Organisation.objects.values_list("pk", flat=True))
    for organisation_id in organisations:
        detect_crisis_task.enqueue(organisation_id)
    return {"organisations": len(organisations)}


def listening_deliver(now: datetime) -> dict[str, Any]:
    from palabre.listening.delivery import queue_pending_deliveries

    return {"alerts": queue_pending_deliveries()}


def inbox_tick(now: datetime) -> dict[str, Any]:
    from palabre.inbox.tasks import tick
    from palabre.orgs.models import Organisation

    organisations = list(Organisation.objects.values_list("pk", flat=True))
    for organisation_id in organisations:
        tick.enqueue(organisation_id)
    return {"organisations": len(organisations)}


def analytics_reports(now: datetime) -> dict[str, Any]:
    from palabre.analytics.emails import enqueue_due

    return enqueue_due(now)


JOBS: tuple[Job, ...] = (
    Job(
        "conversations.sweep",
        _seconds(config.ANALYSIS_SWEEP_SECONDS, 1.0, 60.0),
        sweep,
        "analyses the items stored and never analysed",
    ),
    Job(
        "connectors.tick",
        _seconds(config.CONNECTORS_POLL_SECONDS, 5.0, 60.0),
        connectors_tick,
        "enqueues due deliveries, pulls and connection checks; warns of expiring tokens",
    ),
    Job(
        "publishing.tick",
        _seconds(config.PUBLISHING_TICK_SECONDS, 1.0, 60.0),
        publishing_tick,
        "hands over the variants due that no task took care of",
    ),
    Job(
        "listening.poll", _fixed(60.0), listening_poll, "enqueues a poll of each listening source that is due"
    ),
    Job("listening.detect", _fixed(300.0), listening_detect, "crisis detection of every organisation"),
    Job(
        "listening.deliver",
        _fixed(300.0),
        listening_deliver,
        "enqueues a delivery of each alert still pending (a task per alert)",
    ),
    Job("inbox.tick", _fixed(300.0), inbox_tick, "re-ranks waiting threads and warns of overdue responses"),
    Job(
        "analytics.reports",
        _fixed(600.0),
        analytics_reports,
        "enqueues the report e-mails due and not sent yet",
    ),
)


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)
