"""What one call of each drop-in protocol endpoint costs the database, served as `palabre serve`
serves it (`palabre.wsgi.application`, the lean handler of the protocol paths) with the database
task backend: the site, its policy and the rate limit's tokens are read once and kept, so a
comment-check answered in steady state writes its journal row after one combined read, and
nothing grows with the rows already stored. Counted on SQLite and on PostgreSQL (where the hot
statements bypass Django's cursor and are counted all the same)."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from palabre import wsgi
from palabre.compat import journal
from palabre.compat.akismet import limits
from palabre.compat.models import CheckedComment
from palabre.conversations.models import Item

pytestmark = pytest.mark.django_db

MINUTE = 1_800_000_000 // 60  # a minute number; the tests' requests all fall in it


@pytest.fixture
def served(settings, monkeypatch):
    """The production WSGI application on the database task backend, the journal's clock in hand,
    and the request signals leaving the test's connection (and transaction) open, as Django's
    test client does."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    monkeypatch.setattr(journal, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    monkeypatch.setattr(journal, "_asked_until", 0.0)
    # The rate limit's clocks too: its blocks of tokens are sized by the time between claims.
    monkeypatch.setattr(
        limits, "time", SimpleNamespace(monotonic=lambda: 5000.0, time=lambda: MINUTE * 60 + 1.0)
    )
    limits.request_counter.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(
            transport=httpx.WSGITransport(app=wsgi.application), base_url="http://127.0.0.1:8000"
        ) as client:
            yield client
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def counted():
    with CaptureQueriesContext(connection) as queries:
        yield queries


def comment(blog, n: int, **extra) -> dict[str, str]:
    return {
        "api_key": blog.key,
        "blog": blog.site.url,
        "user_ip": f"203.0.113.{n % 250}",
        "comment_author": f"Lecteur {n}",
        "comment_author_email": f"lecteur{n}@example.org",
        "permalink": f"{blog.site.url}articles/{n}",
        "comment_content": f"Merci pour la recette de la tarte aux pommes, toute la famille a adoré ({n})",
        **extra,
    }


def post(client, path: str, form: dict) -> httpx.Response:
    answer = client.post(path, data=form)
    assert answer.status_code == 200, answer.text
    return answer


def test_comment_check_reads_once_and_writes_its_journal_row(served, blog):
    # The site and its policy, then kept; the rate limit's first token, then a block of them.
    for n in range(2):
        post(served, "/1.1/comment-check", comment(blog, n))
    for n in range(2, 5):
        with counted() as queries:
            answer = post(served, "/1.1/comment-check", comment(blog, n))
        assert answer.text == "false"
        # The combined read (the comment, its author, marked messages) and the journal row; the
        # task that stores them was asked for by the first call.
        assert len(queries) == 2, [q["sql"][:120] for q in queries]
    assert CheckedComment.objects.count() == 5
    assert not Item.objects.filter(channel=blog.site.channel).exists()  # the task stores them, later


def test_comment_check_costs_the_same_with_many_comments_stored(served, blog, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    for n in range(20):  # stored at once: items, authors, decisions
        post(served, "/1.1/comment-check", comment(blog, n, comment_author="Camille"))
    assert Item.objects.filter(channel=blog.site.channel).count() == 20
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    for n in (20, 21):
        post(served, "/1.1/comment-check", comment(blog, n, comment_author="Camille"))
    with counted() as queries:
        post(served, "/1.1/comment-check", comment(blog, 22, comment_author="Camille"))
    assert len(queries) == 2
    # A re-check of a stored comment reads its state in the same statement.
    with counted() as queries:
        post(served, "/1.1/comment-check", comment(blog, 3, comment_author="Camille"))
    assert len(queries) == 2


def test_verify_key_reads_nothing_once_the_site_is_kept(served, blog):
    form = {"key": blog.key, "blog": blog.site.url}
    with counted() as queries:
        assert post(served, "/1.1/verify-key", form).text == "valid"
    # The site (then kept a few seconds), this minute's first token, the minutes before forgotten.
    assert len(queries) == 3, [q["sql"][:120] for q in queries]
    with counted() as queries:
        assert post(served, "/1.1/verify-key", form).text == "valid"
    assert len(queries) == 1  # a block of tokens, sized by this key's traffic
    with counted() as queries:
        assert post(served, "/1.1/verify-key", form).text == "valid"
    assert len(queries) == 0


@pytest.mark.parametrize("path", ["/1.1/submit-spam", "/1.1/submit-ham"])
def test_a_report_costs_a_bounded_number_of_queries(served, blog, settings, path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    guids = [post(served, "/1.1/comment-check", comment(blog, n)).headers["X-akismet-guid"] for n in range(3)]
    sizes = []
    for n, guid in enumerate(guids):
        with counted() as queries:
            assert post(served, path, {**comment(blog, n), "guid": guid}).text.startswith("Thanks")
        sizes.append(len(queries))
    # Found by its guid, reviewed, audited, learnt from: the same count each time once its author's
    # trust exists.
    assert sizes[1] == sizes[2] <= sizes[0] <= 30, sizes


@pytest.mark.parametrize("path", ["/1.2/usage-limit", "/1.2/key-sites"])
def test_the_account_calls_cost_a_few_queries(served, blog, path):
    post(served, "/1.1/verify-key", {"key": blog.key, "blog": blog.site.url})  # the site kept
    for n in range(3):
        post(served, "/1.1/comment-check", comment(blog, n))
    with counted() as queries:
        post(served, path, {"api_key": blog.key})
    # usage-limit: the month's stored calls, those waiting, this minute's count; key-sites: the
    # month's items and their feedback.
    assert len(queries) == {"/1.2/usage-limit": 3, "/1.2/key-sites": 2}[path], [
        q["sql"][:120] for q in queries
    ]
