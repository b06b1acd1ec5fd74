"""Comments the Akismet-compatible API answered for: written in the request, stored in batches.

comment-check answers before its comment is stored. The request writes one `CheckedComment` row
(a single INSERT: the cheapest write that survives a crash) and a task turns the waiting rows into
items carrying the very decision answered, a batch per transaction, deletes them, and analyses the
new items (language, inbox, listening) itself.

Asking for that task costs a task row, so each server process asks at most once every
`ASK_EVERY` seconds, for a task that starts `STORE_DELAY` seconds later, and only when the last
task asked for (its id kept in Django's default cache, shared by the processes when it is Redis) no
longer waits in the queue: a row written while a task waits was committed before that task starts.
A task stores in full batches until one finds fewer rows than it could take; what comes in after
that waits for the next task (asked for by its writers, and by the task itself when rows wait as it
ends), to be stored in one batch rather than in many of a few comments. A task worker that starts
asks for one too, for rows a crashed worker left.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import InterfaceError, InternalError, OperationalError, connection, transaction
from django.utils import timezone

from palabre.compat.models import CheckedComment, SiteMonthlyUsage
from palabre.moderation import lookups
from palabre.moderation.models import ModerationSite

logger = logging.getLogger(__name__)

# Each task asked for costs the request a task row and a worker a run that may find little to
# store (measured: about 3.5 ms of web-server CPU per task row, and a worker's claim and run):
# once a second per server process is enough for a worker that polls every second.
STORE_DELAY = 1.5  # seconds between a first comment and the task that stores it
ASK_EVERY = 1.0
# Rows a task stores before it hands over to a new one (other queued work gets its turn).
MAX_PER_TASK = 1000
# The id of the storing task asked for last, kept in the default cache; after ASKED_FOR seconds a
# process asks again whatever the queue says (a cache entry may also be evicted: a task too many).
ASKED_KEY = "compat:journal:asked"
ASKED_FOR = 300

_ask_lock = threading.Lock()
_asked_until = 0.0


def _insert_sql() -> str:
    table = connection.ops.quote_name(CheckedComment._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(CheckedComment._meta.get_field(name).column)
        for name in ("site", "guid", "params", "decision", "checked_at", "error")
    )
    return f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, '')"


def record(site_id: int, params: dict[str, str], guid: str, decision: str, checked_at: datetime) -> None:
    """Keep a checked comment until it is stored: `decision` is the engine's decision as JSON, or
    "" when a moderator's decision stood. The row is committed when this returns."""
    lookups.run(
        lookups.statement(_insert_sql),
        [
            site_id,
            guid,
            json.dumps(params, ensure_ascii=False),
            decision,
            connection.ops.adapt_datetimefield_value(checked_at),
        ],
    )
    ask_for_storing()


def ask_for_storing(*, now: bool = False) -> None:
    """Make sure a task will store the waiting rows. With a backend that runs tasks at once (the
    tests' immediate backend), they are stored before this returns.
    `now`: for rows already committed (a worker starting, a task handing over): a task ready at
    once, whenever the last one was asked for; `palabre worker --batch` runs only tasks ready."""
    global _asked_until
    from palabre.compat.tasks import store_checked_comments

    if not store_checked_comments.get_backend().supports_defer:
        store_checked_comments.enqueue()
        return
    if now:
        cache.set(ASKED_KEY, store_checked_comments.enqueue().id, timeout=ASKED_FOR)
        return
    clock = time.monotonic()
    with _ask_lock:
        if clock < _asked_until:
            return
        _asked_until = clock + ASK_EVERY
    if _storing_task_waits():
        return
    asked = store_checked_comments.using(run_after=timezone.now() + timedelta(seconds=STORE_DELAY)).enqueue()
    cache.set(ASKED_KEY, asked.id, timeout=ASKED_FOR)


def _storing_task_waits() -> bool:
    """Whether the storing task asked for last is still waiting to start (the queue's own
    state, one read by id): it will store whatever was committed before it starts. At 200 checks a
    second, asking every second whatever waited left 242 storing tasks queued at the end of a run
    (`palabre bench scale`)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    from palabre.compat.tasks import store_checked_comments

    asked = cache.get(ASKED_KEY)
    if not asked:
        return False
    try:
        result = store_checked_comments.get_backend().get_result(asked)
    except TaskResultDoesNotExist:  # pruned from the queue: done long ago
        return False
    return result.status == TaskResultStatus.READY


def waiting_count() -> int:
    """Checked comments not stored yet (errors aside)."""
    return CheckedComment.objects.filter(error="").count()


def _batch_size() -> int:
    # SQLite has one writer: short transactions keep the requests' writes waiting little. On
    # PostgreSQL the pipeline's queries per batch are bounded, so bigger batches cost less a comment
    # (measured on 1,500 waiting comments, storing and analysis: 1.57-1.60 ms of CPU a comment in
    # batches of 100, 1.34-1.43 in batches of 300, 1.32 in batches of 500).
    return 25 if connection.vendor == "sqlite" else 300


def store_waiting(*, limit: int = MAX_PER_TASK) -> dict[str, int]:
    """Store waiting checked comments, a batch per transaction, until a batch finds fewer than it
    could take (none waited beyond it) or `limit` were handled; then, if some still wait, ask for
    another task. Several workers share the rows
    (locked, skipped by the others). A row that fails keeps its error and is not tried again.
    Each batch is handed to the site connector (`receive_comments`, one site's comments at once,
    through the pipeline) and analysed as one batch once committed (`analyse_received`)."""
    from palabre.connectors.site import analyse_received

    stored = failed = 0
    sites: dict[int, ModerationSite | None] = {}
    drained = False
    while stored + failed < limit and not drained:
        with transaction.atomic():
            size = min(_batch_size(), limit - stored - failed)
            rows = list(
                CheckedComment.objects.select_for_update(skip_locked=True)
                .filter(error="")
                .order_by("pk")[:size]
            )
            # Fewer than asked: none waited beyond these. What comes in meanwhile waits for the
            # next task (its writers ask for one, `ask_for_storing`): taken at once, it came in
            # batches of a few comments, each paying a batch's queries and their planning (at 200
            # a second, 1,094 batches for 6,300 comments, 1.75 ms of PostgreSQL's CPU a comment).
            drained = len(rows) < size
            if not rows:
                break
            missing = {row.site_id for row in rows} - sites.keys()
            if missing:
                found = ModerationSite.objects.select_related("organisation", "channel").in_bulk(missing)
                sites.update({site_id: found.get(site_id) for site_id in missing})
            calls: Counter[tuple[int, int]] = Counter()
            by_site: dict[int, list[CheckedComment]] = {}
            done = []
            for row in rows:
                site = sites[row.site_id]
                if site is None:
                    done.append(row.pk)  # its site is gone: nothing to store
                    continue
                calls[row.site_id, usage_month(row.checked_at)] += 1  # each row is one call answered
                by_site.setdefault(row.site_id, []).append(row)
            errors: dict[int, str] = {}
            to_analyse: dict[int, bool] = {}
            for site_id, site_rows in by_site.items():
                ok, analyse = _store_rows(sites[site_id], site_rows, errors)
                done += ok
                to_analyse.update(analyse)
            for pk, error in errors.items():
                CheckedComment.objects.filter(pk=pk).update(error=error[:2000])
            CheckedComment.objects.filter(pk__in=done).delete()
            _add_usage(calls)  # in the same transaction: each row counted once
            stored += len(done)
            failed += len(errors)
        # Analysed here, once committed, as one batch of the pipeline: same work, less queue. An
        # item that breaks the batch is left unanalysed (the workers' sweep tries it again).
        if to_analyse:
            analyse_received(list(to_analyse), {pk for pk, created in to_analyse.items() if created})
    if stored + failed >= limit:
        ask_for_storing(now=True)
    elif _deferred() and CheckedComment.objects.filter(error="").exists():
        # Came in since the last batch: their writers asked for a task, or asked less than
        # ASK_EVERY seconds before for one that had not started; this asks too (one cheap read a
        # task), in case that one was this very task.
        ask_for_storing()
    return {"stored": stored, "failed": failed}


def _deferred() -> bool:
    from palabre.compat.tasks import store_checked_comments

    return store_checked_comments.get_backend().supports_defer


def _store_rows(
    site: ModerationSite, rows: list[CheckedComment], errors: dict[int, str]
) -> tuple[list[int], dict[int, bool]]:
    """One site's checked comments as items of its channel, through the pipeline, each with the
    decision its check answered (and the honeypot's). Returns the rows done and the items to
    analyse (item id: created); a row that fails gets its error in `errors`."""
    from palabre.compat.akismet.comments import (
        external_id_of,
        honeypot_filled,
        incoming_item,
        parent_external_id,
        site_actor,
    )
    from palabre.connectors.site import receive_comments
    from palabre.moderation import services
    from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationStatus

    def fail(row: CheckedComment, error: Exception) -> None:
        logger.error("Checked comment %s of site %s could not be stored: %s", row.guid, row.site_id, error)
        errors[row.pk] = f"{type(error).__name__}: {error}"

    external = {row.pk: external_id_of(row.guid) for row in rows}
    # Stored already (a task that ran before): a decision of its item at or after the check.
    decided_at: dict[str, list] = {}
    for external_id, created_at in ModerationDecision.objects.filter(
        item__channel=site.channel, item__external_id__in=set(external.values())
    ).values_list("item__external_id", "created_at"):
        decided_at.setdefault(external_id, []).append(created_at)
    done: list[int] = []
    waiting: dict[str, tuple[CheckedComment, dict, object]] = {}
    incoming = []
    for row in rows:
        external_id = external[row.pk]
        if external_id in waiting or any(t >= row.checked_at for t in decided_at.get(external_id, [])):
            done.append(row.pk)  # stored already, or twice in this batch: the first one stands
            continue
        try:
            params = json.loads(row.params)
            decision = _decision(row.decision)
            incoming.append(
                incoming_item(params, row.guid, now=row.checked_at, parent=parent_external_id(site, params))
            )
        except (OperationalError, InterfaceError, InternalError):
            raise
        except Exception as error:  # one bad row must not hold the others back
            fail(row, error)
            continue
        waiting[external_id] = (row, params, decision)
    if not incoming:
        return done, {}
    try:
        result = receive_comments(site.channel, incoming, analyse=False, skip_invalid=True)
    except (OperationalError, InterfaceError, InternalError):
        # The database refuses (read-only, disk full, gone): not these rows' fault. The batch is
        # rolled back and waits; the worker asks again once the database answers.
        raise
    for refused in result.refused:
        row, _params, _decision_ = waiting.pop(refused.incoming.external_id)
        fail(row, refused.error)
    to_analyse: dict[int, bool] = {}
    # The decisions answered, stored for the whole batch at once; item by item only if that fails
    # (each row then keeps its own error).
    decided = [(item, waiting[item.external_id][2]) for item, _created in result.items]
    decided = [(item, decision) for item, decision in decided if decision is not None]
    try:
        with transaction.atomic():
            services.record_decided(decided)
        recorded = True
    except (OperationalError, InterfaceError, InternalError):
        raise
    except Exception:
        logger.exception("Decisions of %s checked comment(s) could not be stored at once", len(decided))
        recorded = False
    for item, created in result.items:
        row, params, decision = waiting[item.external_id]
        try:
            if decision is not None and not recorded:
                services.moderate_item(item, decided=decision)
            if honeypot_filled(params):
                state = ItemModeration.objects.filter(item=item).values_list("status", flat=True).first()
                if state not in {ModerationStatus.REJECTED, ModerationStatus.APPROVED}:
                    services.review_item(
                        actor=site_actor(site),
                        item_id=item.pk,
                        action="spam",
                        note=f"Honeypot field {params['honeypot_field_name'].strip()[:80]} filled.",
                    )
        except (OperationalError, InterfaceError, InternalError):
            raise
        except Exception as error:
            fail(row, error)
            continue
        done.append(row.pk)
        to_analyse[item.pk] = created
    return done, to_analyse


def usage_month(when: datetime) -> int:
    """The month (UTC) a call counts in, as `SiteMonthlyUsage.month`: 202612 for December 2026."""
    when = when.astimezone(UTC)
    return when.year * 100 + when.month


def _usage_sql() -> str:
    table = connection.ops.quote_name(SiteMonthlyUsage._meta.db_table)
    return (
        f"INSERT INTO {table} (site_id, month, calls) VALUES (%s, %s, %s) "
        f"ON CONFLICT (site_id, month) DO UPDATE SET calls = {table}.calls + %s"
    )


def _add_usage(calls: Counter[tuple[int, int]]) -> None:
    for (site_id, month), count in sorted(calls.items()):
        lookups.run(lookups.statement(_usage_sql), [site_id, month, count, count])


def month_usage(site_id: int, month_start: datetime, month_end: datetime) -> int:
    """comment-check calls of a site's key in a month: those stored, and those still waiting."""
    counted = (
        SiteMonthlyUsage.objects.filter(site_id=site_id, month=usage_month(month_start))
        .values_list("calls", flat=True)
        .first()
    )
    waiting = CheckedComment.objects.filter(
        site_id=site_id, error="", checked_at__gte=month_start, checked_at__lt=month_end
    ).count()
    return (counted or 0) + waiting


def _decision(text: str):
    from palabre.moderation import engine

    return engine.Decision.from_dict(json.loads(text)) if text else None
