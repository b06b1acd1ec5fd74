"""The journal stores a batch of checked comments with the decisions answered in a number of
queries that does not grow with the batch (storing must keep up with answering), and a person's
decision taken meanwhile still stands."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.compat import journal
from palabre.compat.akismet import check
from palabre.compat.models import CheckedComment
from palabre.conversations.models import Item
from palabre.moderation.models import ItemModeration, ModerationDecision
from palabre.moderation.services import moderate_item, record_decided

TEXTS = [
    "J'ai trouvé ce tutoriel très clair, surtout la partie sur la pâte brisée. Bravo",
    "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz http://pills.top",
    "Espèce de c0nnaaard, vous êtes des voleurs",
]


def comment(n: int) -> dict[str, str]:
    return {
        "comment_content": f"{TEXTS[n % len(TEXTS)]} ({n})",
        "comment_type": "comment",
        "comment_author": f"Camille {n % 5}",
        "comment_author_email": f"camille{n % 5}@example.org",
        "user_ip": "203.0.113.7",
        "permalink": "https://blog.maison-dupont.fr/2024/05/tarte",
    }


def _store(blog, numbers) -> tuple[int, list]:
    verdicts = [check.check_comment(blog.site, comment(n)) for n in numbers]
    with CaptureQueriesContext(connection) as queries:
        assert journal.store_waiting() == {"stored": len(verdicts), "failed": 0}
    return len(queries), verdicts


def test_storing_a_batch_costs_queries_that_do_not_grow_with_it(db, blog, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    _store(blog, range(0, 3))  # the first comments create the site's contacts and rows
    small, _verdicts = _store(blog, range(3, 6))
    large, verdicts = _store(blog, range(6, 6 + 20))  # one batch on SQLite too (25)
    assert large <= small + 2
    for verdict in verdicts:
        item = Item.objects.get(channel=blog.site.channel, external_id=f"akismet-{verdict.guid}")
        (decision,) = ModerationDecision.objects.filter(item=item)
        assert ItemModeration.objects.get(item=item).last_decision == decision
        assert (decision.action == "reject") == verdict.spam


def test_the_rejections_of_a_batch_go_to_their_platforms_in_one_send(
    db, blog, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """Once committed, a batch's rejected comments are handed to their platforms at once: a send
    per rejected comment read each one's item again (150 queries in a batch of 300)."""
    from palabre.moderation import platform

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    sent: list[tuple[list[int], str]] = []
    real_send = platform._send

    def send(item_ids, outcome, user):
        sent.append((sorted(item_ids), outcome))
        real_send(item_ids, outcome, user)

    monkeypatch.setattr(platform, "_send", send)
    _store(blog, range(0, 3))  # the first comments create the site's contacts and rows

    def stored_with_sends(numbers) -> int:
        verdicts = [check.check_comment(blog.site, comment(n)) for n in numbers]
        sent.clear()
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            assert journal.store_waiting() == {"stored": len(verdicts), "failed": 0}
        rejected = sorted(
            Item.objects.filter(
                channel=blog.site.channel,
                external_id__in=[f"akismet-{v.guid}" for v in verdicts if v.spam],
            ).values_list("pk", flat=True)
        )
        assert len(rejected) >= len(numbers) // 3
        assert sent == [(rejected, "rejected")]
        return len(queries)

    small = stored_with_sends(range(3, 6))
    large = stored_with_sends(range(6, 6 + 20))  # one batch on SQLite too (25)
    assert large <= small + 2


def test_a_batch_of_answered_decisions_is_what_storing_them_one_by_one_gives(
    db, channel, incoming_item, django_capture_on_commit_callbacks
):
    from palabre.conversations.pipeline import ingest_items
    from palabre.moderation import engine
    from palabre.moderation.services import review_item
    from palabre.orgs.services import Actor

    def stored(prefix: str) -> list[Item]:
        result = ingest_items(
            channel=channel,
            incoming=[incoming_item(f"{prefix}{n}", text=TEXTS[n % 3], author=f"p{n}") for n in range(6)],
            analyse=False,
        )
        return [item for item, _created in result.items]

    decisions = [engine.moderate(TEXTS[n % 3]) for n in range(6)]
    batch, single = stored("b"), stored("s")
    for items in (batch, single):  # a moderator approved one already; another was decided before
        review_item(actor=Actor.palabre(channel.organisation), item_id=items[0].pk, action="approve")
        moderate_item(items[1], decided=engine.moderate("Merci beaucoup"))
    with django_capture_on_commit_callbacks(execute=True):
        rows = record_decided(list(zip(batch, decisions, strict=True)))
        for item, decision in zip(single, decisions, strict=True):
            moderate_item(item, decided=decision)

    def seen(items):
        states = {
            s.item_id: s
            for s in ItemModeration.objects.select_related("last_decision").filter(item__in=items)
        }
        return [
            (
                states[i.pk].status,
                states[i.pk].is_spam,
                states[i.pk].last_decision.action,
                states[i.pk].last_decision.source,
            )
            for i in items
        ]

    assert rows[0] is None and all(rows[1:])
    assert seen(batch) == seen(single)
    assert seen(batch)[0][0] == "approved"
    assert [ModerationDecision.objects.filter(item=i).count() for i in batch] == [1, 2, 1, 1, 1, 1]


@pytest.mark.postgres
def test_on_postgresql_three_hundred_waiting_comments_are_stored_in_one_transaction(db, blog, settings):
    """The pipeline's queries per batch are bounded: bigger batches cost less a comment (see
    `journal._batch_size`), so a worker takes 300 at once where the database has several writers."""
    import json

    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    check.check_comment(blog.site, comment(0))
    (row,) = CheckedComment.objects.all()
    for n in range(1, 300):  # the same answered decision, for comments of their own
        journal.record(blog.site.pk, comment(n), f"batch-{n}", row.decision, timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert journal.store_waiting() == {"stored": 300, "failed": 0}
    claims = [q["sql"] for q in queries if "SKIP LOCKED" in q["sql"]]
    assert len(claims) == 2  # the 300 waiting, then none
    assert Item.objects.filter(channel=blog.site.channel).count() == 300
    assert json.loads(row.decision)["action"] in {"publish", "hold", "reject"}


def test_a_task_stops_once_a_batch_finds_fewer_than_it_could_take_and_asks_for_the_rest(
    db, blog, settings, monkeypatch
):
    """Rows that come in while a task stores wait for the next task, to be stored in one batch:
    taken at once, a worker fed 200 comments a second stored them a few at a time (1,094 batches
    for 6,300 comments), each batch paying its queries."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    for n in range(3):
        check.check_comment(blog.site, comment(n))
    (decision,) = set(CheckedComment.objects.values_list("decision", flat=True)[:1])
    DBTaskResult.objects.all().delete()
    real = journal._store_rows

    def storing(site, rows, errors):
        if not CheckedComment.objects.filter(guid="late").exists():  # comes in meanwhile
            journal.record(blog.site.pk, comment(99), "late", decision, timezone.now())
            DBTaskResult.objects.all().delete()  # as if its writer's task were this one
            monkeypatch.setattr(journal, "_asked_until", 0.0)  # the worker is another process
        return real(site, rows, errors)

    monkeypatch.setattr(journal, "_store_rows", storing)
    assert journal.store_waiting() == {"stored": 3, "failed": 0}
    assert list(CheckedComment.objects.values_list("guid", flat=True)) == ["late"]
    asked = DBTaskResult.objects.filter(task_path="palabre.compat.tasks.store_checked_comments")
    assert asked.filter(status="READY").count() == 1
