"""The analyser keeps one row per thread: triage, priority with its reasons, SLA clock, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palabre.inbox import services
from palabre.inbox.hours import BusinessHours
from palabre.inbox.models import Conversation, Status
from palabre.inbox.priority import priority

pytestmark = pytest.mark.clock


def test_a_new_comment_opens_a_thread_with_triage(channel, post, conversation_of):
    item = post(channel, "Ma commande n'est toujours pas arrivée, c'est inadmissible !", followers=25_000)
    row = conversation_of(item)
    assert row.status == Status.OPEN and row.awaiting_reply
    assert row.sentiment == "negative" and row.intent == "complaint"
    assert row.language == "fr" and row.item_count == 1 and row.followers == 25_000
    codes = {r["code"] for r in row.priority_reasons}
    assert {"negative", "complaint", "reach"} <= codes
    assert row.priority == sum(r["points"] for r in row.priority_reasons)
    assert row.first_response_due_at is not None


def test_replies_join_the_thread_of_their_root(channel, post, conversation_of):
    root = post(channel, "Vous livrez en Belgique ?", external_id="q1")
    post(channel, "Et en Suisse aussi ?", parent="q1")
    assert Conversation.objects.count() == 1
    row = conversation_of(root)
    assert row.item_count == 2 and row.intent == "question"
    assert any(r["code"] == "unanswered_question" for r in row.priority_reasons)


def test_a_reply_that_came_first_is_folded_into_its_thread(channel, post, conversation_of):
    post(channel, "Moi aussi j'attends ma commande", parent="late-root", external_id="early")
    post(channel, "Commande jamais reçue, une honte", external_id="late-root")
    assert Conversation.objects.count() == 1
    assert conversation_of(Conversation.objects.get().root).item_count == 2


def test_the_brand_answering_stops_the_clock_and_the_person_writing_again_reopens(
    channel, post, conversation_of, cm_actor
):
    root = post(channel, "Quel est le délai de livraison ?", external_id="q", ago=timedelta(hours=2))
    services.set_status(actor=cm_actor, conversation=conversation_of(root), status=Status.PENDING)
    post(channel, "Bonjour, 5 à 10 jours ouvrés.", author=channel.handle, parent="q", ago=timedelta(hours=1))
    row = conversation_of(root)
    assert not row.awaiting_reply and row.first_responded_at is not None and row.first_response_due_at is None
    assert row.status == Status.PENDING  # the brand's own reply reopens nothing
    post(channel, "Merci, et pour la Belgique ?", parent="q")
    row = conversation_of(root)
    assert row.awaiting_reply and row.status == Status.OPEN


def test_priority_rises_with_waiting_and_reach():
    calm, _ = priority(sentiment="neutral", intent="question", waiting_minutes=0)
    waited, reasons = priority(sentiment="neutral", intent="question", waiting_minutes=600)
    famous, _ = priority(sentiment="neutral", intent="question", followers=1_000_000)
    assert calm < waited and calm < famous
    assert [r.code for r in reasons] == ["unanswered_question", "waiting"]
    crisis, _ = priority(sentiment="negative", intent="crisis")
    assert crisis >= 70
    answered, _ = priority(sentiment="neutral", intent="question", waiting_minutes=600, answered=True)
    assert answered == 0


# --- business hours ------------------------------------------------------------------------------

PARIS = BusinessHours.of("Europe/Paris", {}, ["2024-05-08"])  # Monday-Friday 9-18; 8 May closed


def paris(day, hour, minute=0):
    from zoneinfo import ZoneInfo

    return datetime(2024, 5, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    "start, minutes, due",
    [
        (paris(6, 10), 60, paris(6, 11)),  # Monday, within hours
        (paris(6, 17, 30), 60, paris(7, 9, 30)),  # runs over the evening
        (paris(6, 22), 120, paris(7, 11)),  # arrives at night
        (paris(7, 17), 120, paris(9, 10)),  # Wednesday 8 May is a holiday
        (paris(10, 17), 120, paris(13, 10)),  # Friday evening: Monday morning
        (paris(11, 12), 30, paris(13, 9, 30)),  # Saturday
    ],
)
def test_due_dates_count_business_minutes_only(start, minutes, due):
    assert PARIS.add_minutes(start, minutes) == due
    assert PARIS.minutes_between(start, due) == minutes


def test_open_and_closed_moments():
    assert PARIS.is_open(paris(6, 9)) and not PARIS.is_open(paris(6, 18))
    assert not PARIS.is_open(paris(8, 11))  # holiday
    assert PARIS.is_open(datetime(2024, 5, 6, 8, 30, tzinfo=UTC))  # 10:30 in Paris
    assert BusinessHours.of("UTC", {"0": [["09:00", "10:00"]]}, []).add_minutes(paris(6, 9), 10**7) is None
    assert PARIS.last_opening_before(paris(7, 8)) == paris(6, 18)


def test_the_sla_filter_finds_overdue_threads(channel, post, conversation_of, owner_actor, round_the_clock):
    from palabre.inbox.queries import InboxFilter, filtered

    late = post(channel, "Quelqu'un peut m'aider ?", ago=timedelta(hours=3))
    post(channel, "Vous avez la table en 220 ?", ago=timedelta(minutes=5))
    overdue = list(filtered(owner_actor, InboxFilter(sla="breached")))
    assert [c.root_id for c in overdue] == [late.pk]
    assert overdue[0].sla_breached()
    assert services.warn_breaches(channel.organisation) == 1
    assert services.warn_breaches(channel.organisation) == 0  # once


def test_a_page_of_the_list_is_one_query(channel, post, owner_actor, django_assert_num_queries):
    from palabre.inbox.queries import InboxFilter, conversation_page

    for n in range(5):
        post(channel, f"Question {n} : vous livrez le samedi ?", author=f"p{n}")
    with django_assert_num_queries(1):
        page = conversation_page(
            owner_actor, InboxFilter(status="all", sentiment="neutral"), cursor=None, limit=3
        )
        [(c.channel.name, c.assignee) for c in page.rows]
    assert len(page.rows) == 3 and page.next_cursor
    with django_assert_num_queries(1):
        rest = conversation_page(
            owner_actor, InboxFilter(status="all", sentiment="neutral"), cursor=page.next_cursor, limit=3
        )
    assert {c.pk for c in page.rows}.isdisjoint(c.pk for c in rest.rows)
