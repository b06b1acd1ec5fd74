"""The shared per-key rate limit, the decisions scored together, and the comment stored by a task."""

from __future__ import annotations

import json
import threading
import time

import pytest

from palabre.compat.akismet import limits
from palabre.compat.batching import DecisionBatcher
from palabre.compat.models import SiteRequestCount
from palabre.compat.tasks import record_checked_comment
from palabre.conversations.models import Item
from palabre.moderation import engine
from palabre.moderation.models import ModerationDecision

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_limit_counts_every_request_of_a_key_in_the_database(blog, register_site, org, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "2")
    other = register_site(org, url="https://forum.maison-dupont.fr/", name="Forum")
    minute_start = 1_800_000_000 // 60 * 60
    assert limits.take_request(blog.site, now=minute_start + 1) == 0
    assert limits.take_request(blog.site, now=minute_start + 2) == 0
    assert limits.take_request(blog.site, now=minute_start + 50) == 10  # seconds to the next minute
    assert limits.take_request(other.site, now=minute_start + 50) == 0  # each key its own count
    assert SiteRequestCount.objects.get(site=blog.site, minute=minute_start // 60).count == 2
    # A new minute starts from zero and forgets the minutes before the last one.
    assert limits.take_request(blog.site, now=minute_start + 60) == 0
    assert limits.take_request(blog.site, now=minute_start + 181) == 0
    assert list(SiteRequestCount.objects.filter(site=blog.site).values_list("minute", flat=True)) == [
        minute_start // 60 + 3
    ]


@pytest.mark.postgres  # SQLite's in-memory test database does not wait for its locks
def test_the_limit_holds_under_concurrent_requests(blog, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "25")
    now = 1_800_000_030.0
    answers: list[int] = []

    def hit() -> None:
        from django.db import connection

        try:
            answers.append(limits.take_request(blog.site, now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(0) == 25
    assert len(answers) == 40


def test_texts_sent_together_are_decided_as_one_at_a_time(monkeypatch):
    texts = [
        "Merci pour cet article très clair, je teste la recette ce soir.",
        "Buy cheap viagra online now!!! Best price http://cheap-pills.example.xyz",
        "Espèce de c0nnaaard, vous êtes des voleurs",
    ] * 8
    context = engine.ModerationContext()
    expected = [engine.moderate(text, context) for text in texts]
    score_together = engine.moderate_many
    first_batch_started, everyone_waits = threading.Event(), threading.Event()

    def slow_first_batch(batch_texts, contexts):
        # The model is busy with the first text until every other request waits for it.
        if not first_batch_started.is_set():
            first_batch_started.set()
            everyone_waits.wait(timeout=10)
        return score_together(batch_texts, contexts)

    monkeypatch.setattr(engine, "moderate_many", slow_first_batch)
    batcher = DecisionBatcher(max_batch=5)
    results: dict[int, engine.Decision] = {}

    def decide(index: int) -> None:
        results[index] = batcher.decide(texts[index], context)

    first = threading.Thread(target=decide, args=(0,))
    first.start()
    first_batch_started.wait(timeout=10)
    others = [threading.Thread(target=decide, args=(i,)) for i in range(1, len(texts))]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(batcher._waiting) < len(texts) - 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    everyone_waits.set()
    for thread in [first, *others]:
        thread.join()
    assert [results[i].action for i in range(len(texts))] == [d.action for d in expected]
    assert [results[i].scores for i in range(len(texts))] == [d.scores for d in expected]
    assert batcher.texts == len(texts)
    # One text alone, then the 23 that waited in batches of at most 5.
    assert batcher.batches == 1 + 5


def test_an_error_reaches_every_request_of_the_batch(monkeypatch):
    def broken(texts, contexts):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(engine, "moderate_many", broken)
    with pytest.raises(RuntimeError, match="unreadable"):
        DecisionBatcher().decide("bonjour", engine.ModerationContext())


def test_the_stored_decision_is_the_one_answered_and_storing_twice_adds_nothing(blog):
    params = {
        "comment_content": "Super article, merci ! Je reviendrai.",
        "comment_author": "Lina",
        "comment_author_email": "lina@example.org",
        "user_ip": "203.0.113.9",
        "permalink": "https://blog.maison-dupont.fr/articles/1",
    }
    answered = engine.Decision(
        action=engine.HOLD,
        scores={"spam": 0.42},
        reasons=[engine.Reason(code="first_message", action=engine.HOLD, message="First message")],
        spans=[],
        language="fr",
        model_version="test",
    )
    for _ in range(2):
        record_checked_comment.call(
            blog.site.pk, params, "guid-1", json.dumps(answered.as_dict()), "2026-01-05T10:00:00+00:00"
        )
    item = Item.objects.get(channel=blog.site.channel, external_id="akismet-guid-1")
    decisions = ModerationDecision.objects.filter(item=item)
    assert decisions.count() == 1
    assert decisions.get().action == engine.HOLD
    assert decisions.get().scores == {"spam": 0.42}
    assert item.moderation.status == "held"
