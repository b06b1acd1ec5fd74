"""The journal of checked comments (`palabre.compat.journal`): one row per comment-check, stored
in batches by a task with the very decision answered, on the database task backend as served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from palabre.compat import journal
from palabre.compat.akismet import check
from palabre.compat.models import CheckedComment
from palabre.compat.tasks import store_checked_comments
from palabre.conversations.models import Item
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationSite

HAM = "J'ai trouvé ce tutoriel très clair, surtout la partie sur la pâte brisée. Bravo"
SPAM = "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz http://pills.top"


def comment(text: str = HAM, n: int = 0, **extra) -> dict[str, str]:
    return {
        "comment_content": f"{text} ({n})" if n else text,
        "comment_type": "comment",
        "comment_author": f"Camille {n}",
        "comment_author_email": f"camille{n}@example.org",
        "user_ip": "203.0.113.7",
        "permalink": "https://blog.maison-dupont.fr/2024/05/tarte",
        **extra,
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def database_tasks(settings, monkeypatch):
    """The database task backend, as `palabre serve` runs it, and the journal's clock in hand."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    clock = Clock()
    monkeypatch.setattr(journal, "time", SimpleNamespace(monotonic=clock.monotonic))
    monkeypatch.setattr(journal, "_asked_until", 0.0)
    return clock


def storing_tasks() -> int:
    return DBTaskResult.objects.filter(task_path=store_checked_comments.module_path).count()


def test_a_check_writes_one_row_and_checks_close_together_ask_for_one_task(db, blog, database_tasks):
    verdict = check.check_comment(blog.site, comment())
    assert verdict.spam is False
    (row,) = CheckedComment.objects.all()
    assert (row.site_id, row.guid, row.error) == (blog.site.pk, verdict.guid, "")
    assert json.loads(row.params)["comment_content"] == HAM
    assert json.loads(row.decision)["action"] == "publish"
    assert not Item.objects.filter(channel=blog.site.channel).exists()  # the task stores it, later
    assert storing_tasks() == 1

    for n in range(1, 20):  # within ASK_EVERY of the first
        check.check_comment(blog.site, comment(n=n))
    assert CheckedComment.objects.count() == 20
    assert storing_tasks() == 1
    # Later: the rows written meanwhile are committed when it starts.
    assert not DBTaskResult.objects.ready().filter(task_path=store_checked_comments.module_path).exists()

    database_tasks.now += journal.ASK_EVERY  # later checks ask again once that task has started
    check.check_comment(blog.site, comment(n=20))
    assert storing_tasks() == 1
    DBTaskResult.objects.get(task_path=store_checked_comments.module_path).claim("worker-1")
    database_tasks.now += journal.ASK_EVERY
    check.check_comment(blog.site, comment(n=21))
    assert storing_tasks() == 2


def test_no_storing_task_is_asked_for_while_one_waits(db, blog, database_tasks):
    """At 200 checks a second, asking each second whatever waited left hundreds of storing tasks
    queued: one waiting task stores every row committed before it starts."""
    for n in range(50):  # five seconds of checks, no worker free to start the task
        check.check_comment(blog.site, comment(n=n))
        database_tasks.now += 0.1
    assert CheckedComment.objects.count() == 50
    (task,) = DBTaskResult.objects.filter(task_path=store_checked_comments.module_path)
    task.claim("worker-1")
    assert journal.store_waiting() == {"stored": 50, "failed": 0}
    task.set_successful({"stored": 50, "failed": 0})
    check.check_comment(blog.site, comment(n=50))  # the task that waited is done: ask again
    assert storing_tasks() == 2
    # A task gone from the queue (pruned) waits no more either.
    DBTaskResult.objects.all().delete()
    database_tasks.now += journal.ASK_EVERY
    check.check_comment(blog.site, comment(n=51))
    assert storing_tasks() == 1


def test_a_handover_task_counts_as_waiting(db, blog, database_tasks):
    journal.ask_for_storing(now=True)  # a task that stored its limit hands over
    check.check_comment(blog.site, comment(n=1))
    assert storing_tasks() == 1


def test_a_busy_process_asks_for_one_storing_task_a_second(db, blog, database_tasks):
    """Each task asked for costs the request a task row and a worker a run: a process answering
    all through a second asks once, for a task that starts after every row of that second."""
    for n in range(10):
        check.check_comment(blog.site, comment(n=n))
        database_tasks.now += 0.099
    assert CheckedComment.objects.count() == 10
    assert storing_tasks() == 1
    (task,) = DBTaskResult.objects.filter(task_path=store_checked_comments.module_path)
    last = CheckedComment.objects.order_by("checked_at").last()
    # Later than any row its asking covers, with room for two machines' clocks and the commit.
    assert (task.run_after - last.checked_at).total_seconds() >= journal.STORE_DELAY - journal.ASK_EVERY


def test_storing_writes_the_decision_answered_deletes_the_rows_and_runs_once(db, blog, database_tasks):
    verdicts = [
        check.check_comment(blog.site, comment(HAM)),
        check.check_comment(blog.site, comment(SPAM)),
    ]
    answered = {row.guid: json.loads(row.decision) for row in CheckedComment.objects.all()}
    assert [v.spam for v in verdicts] == [False, True]

    assert journal.store_waiting() == {"stored": 2, "failed": 0}
    assert not CheckedComment.objects.exists()
    for verdict in verdicts:
        item = Item.objects.get(channel=blog.site.channel, external_id=f"akismet-{verdict.guid}")
        (decision,) = ModerationDecision.objects.filter(item=item)
        assert decision.source == ModerationDecision.Source.AUTOMATIC
        assert decision.action == answered[verdict.guid]["action"]
        assert decision.scores == pytest.approx(answered[verdict.guid]["scores"])
        assert ItemModeration.objects.get(item=item).status == ("rejected" if verdict.spam else "published")

    assert journal.store_waiting() == {"stored": 0, "failed": 0}
    assert Item.objects.filter(channel=blog.site.channel).count() == 2
    assert ModerationDecision.objects.filter(item__channel=blog.site.channel).count() == 2


def test_a_row_that_cannot_be_stored_keeps_its_error_and_holds_no_other_back(
    db, blog, org, register_site, database_tasks
):
    forum = register_site(org, url="https://forum.maison-dupont.fr/", name="Forum")
    check.check_comment(blog.site, comment(n=1))
    # What a damaged row looks like: unreadable params, params of the wrong shape.
    CheckedComment.objects.create(
        site=blog.site, guid="broken-json", params="{not json", decision="", checked_at=blog.site.created_at
    )
    CheckedComment.objects.create(
        site=blog.site, guid="a-list", params='["comment"]', decision="", checked_at=blog.site.created_at
    )
    check.check_comment(forum.site, comment(n=2))
    check.check_comment(blog.site, comment(n=3))
    # A site deleted with comments waiting takes them along.
    check.check_comment(forum.site, comment(n=4))
    ModerationSite.objects.filter(pk=forum.site.pk).delete()

    assert journal.waiting_count() == 4
    assert journal.store_waiting() == {"stored": 2, "failed": 2}
    errors = dict(CheckedComment.objects.values_list("guid", "error"))
    assert set(errors) == {"broken-json", "a-list"}
    assert errors["broken-json"].startswith("JSONDecodeError")
    assert errors["a-list"].startswith("AttributeError")
    assert Item.objects.filter(channel=blog.site.channel).count() == 2
    assert journal.waiting_count() == 0
    # Rows in error are not tried again.
    assert journal.store_waiting() == {"stored": 0, "failed": 0}
    assert CheckedComment.objects.count() == 2


def test_limit_is_honoured_and_a_new_task_is_asked_for_what_remains(db, blog, database_tasks):
    for n in range(7):
        check.check_comment(blog.site, comment(n=n))
    DBTaskResult.objects.all().delete()

    assert journal.store_waiting(limit=5) == {"stored": 5, "failed": 0}
    assert CheckedComment.objects.count() == 2
    # Asked at once, whatever the clock says, and ready at once.
    assert DBTaskResult.objects.ready().filter(task_path=store_checked_comments.module_path).count() == 1

    assert journal.store_waiting(limit=5) == {"stored": 2, "failed": 0}
    assert not CheckedComment.objects.exists()
    assert storing_tasks() == 1  # nothing remains: no task asked
    assert Item.objects.filter(channel=blog.site.channel).count() == 7


@pytest.mark.django_db(transaction=True)
def test_with_the_immediate_backend_the_item_is_stored_before_the_answer(blog, http):
    response = http.post(
        "/1.1/comment-check", data={"api_key": blog.key, "blog": blog.site.url, **comment(SPAM)}
    )
    assert response.text == "true"
    guid = response.headers["X-akismet-guid"]
    item = Item.objects.get(channel=blog.site.channel, external_id=f"akismet-{guid}")
    assert ItemModeration.objects.get(item=item).status == "rejected"
    assert not CheckedComment.objects.exists()


SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django_tasks_db.models import DBTaskResult
from palabre.compat.akismet import check
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="owner", password="Journal-tests-2024!")
organisation = create_organisation(name="Maison Journal", owner=owner)
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url="https://blog.journal.example/")
for n in range(3):
    check.check_comment(site, {"comment_content": f"Merci pour la recette {n}", "comment_author": f"Lou {n}",
                                 "user_ip": "203.0.113.9"})
# A worker stopped before storing them: their task is lost.
DBTaskResult.objects.all().delete()
"""

COUNT = """
import django
django.setup()
from palabre.conversations.models import Item
from palabre.compat.models import CheckedComment
print(CheckedComment.objects.count(), Item.objects.filter(external_id__startswith="akismet-").count())
"""


def test_asking_now_gives_a_worker_a_task_it_can_run_at_once(db, database_tasks):
    # `palabre worker --batch` runs the tasks ready and exits: the storing asked for at its start
    # must be one of them, or the rows a stopped worker left would wait for another worker.
    journal.ask_for_storing(now=True)
    task = DBTaskResult.objects.get(task_path=store_checked_comments.module_path)
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="uses its own SQLite file: once per suite is enough"
)
def test_a_starting_worker_stores_what_a_stopped_one_left(tmp_path: Path, migrated_sqlite):
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(tmp_path / "data"),
        "PALABRE_DATABASE_URL": f"sqlite:///{tmp_path / 'palabre.sqlite3'}",
        "PALABRE_TASKS_BACKEND": "database",
    }

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    migrated_sqlite(tmp_path / "palabre.sqlite3")
    run("-c", textwrap.dedent(SETUP))
    assert run("-c", COUNT).split() == ["3", "0"]
    run("-m", "palabre", "worker", "--batch", "--interval", "0.1")
    assert run("-c", COUNT).split() == ["0", "3"]
