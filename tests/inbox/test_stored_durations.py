"""Analytics' business durations stored on each thread's row stay those of its moments through
every event that moves them: ingestion, the brand's answer, an inbox reply, closing and reopening,
the person writing again, a thread folded into its real root, a change of business hours, and the
migration's count of the existing rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palabre.inbox import durations, services
from palabre.inbox.hours import BusinessHours
from palabre.inbox.models import Conversation, Status

# UTC, Monday to Friday, 9:00 to 18:00.
WEEKDAYS = {str(day): [["09:00", "18:00"]] for day in range(5)}
HOURS = BusinessHours.of("UTC", WEEKDAYS, [])
MONDAY = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)  # 10:00: the clock of every test


@pytest.fixture
def office(owner_actor, time_machine):
    time_machine.move_to(MONDAY, tick=False)
    services.update_settings(
        actor=owner_actor,
        time_zone="UTC",
        weekly_hours=WEEKDAYS,
        holidays=[],
        first_response_minutes=60,
        on_call_id=None,
        auto_assign=False,
        acknowledgements={},
    )
    return owner_actor


def stored(row: Conversation) -> tuple:
    row.refresh_from_db()
    return (
        row.business_to_first_response,
        row.business_to_status_change,
        row.first_response_out_of_hours,
        row.hours_key,
    )


def counted(row: Conversation, hours: BusinessHours = HOURS) -> tuple:
    """What the row's moments give, counted afresh."""
    row.refresh_from_db()
    began, first, changed = row.began_at, row.first_responded_at, row.status_changed_at
    return (
        hours.business_seconds(began, first) if first else None,
        hours.business_seconds(began, changed) if changed else None,
        hours.closed_at(first) if first else None,
        hours.key,
    )


def test_ingestion_and_the_brand_answer_store_the_first_response(office, channel, post, conversation_of):
    # Friday 17:00, answered on Monday at 9:30: one hour on Friday, half an hour on Monday.
    root = post(
        channel,
        "Vous livrez le samedi ?",
        external_id="q",
        ago=MONDAY - datetime(2024, 5, 3, 17, 0, tzinfo=UTC),
    )
    row = conversation_of(root)
    assert stored(row) == (None, None, None, HOURS.key)
    post(
        channel,
        "Bonjour, oui, le samedi matin.",
        author=channel.handle,
        parent="q",
        ago=timedelta(minutes=30),
    )
    assert stored(row) == (5400.0, None, False, HOURS.key)
    assert row.first_responded_at == datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


def test_an_answer_out_of_hours_is_stored_as_such(office, channel, post, conversation_of):
    root = post(channel, "Une question le week-end", external_id="w", ago=timedelta(days=2))  # Saturday
    post(channel, "On vous répond dimanche.", author=channel.handle, parent="w", ago=timedelta(days=1))
    assert stored(conversation_of(root)) == (0.0, None, True, HOURS.key)


def test_an_inbox_reply_closing_and_reopening_keep_them(
    office, channel, post, conversation_of, cm_actor, django_capture_on_commit_callbacks, time_machine
):
    root = post(channel, "La table Bergen existe en 220 ?", ago=timedelta(hours=1))  # 9:00
    row = conversation_of(root)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reply(
            actor=cm_actor,
            conversation=row,
            text="Oui, Camille, en chêne.",
            idempotency_key="k-durations",
            confirmed=True,
        )
    assert stored(row) == (3600.0, 3600.0, False, HOURS.key)  # pending at 10:00
    time_machine.move_to(MONDAY + timedelta(days=1), tick=False)  # Tuesday 10:00
    services.set_status(actor=cm_actor, conversation=conversation_of(root), status=Status.CLOSED)
    assert stored(row) == (3600.0, 10 * 3600.0, False, HOURS.key)
    time_machine.move_to(MONDAY + timedelta(days=1, hours=2), tick=False)
    services.set_status(actor=cm_actor, conversation=conversation_of(root), status=Status.OPEN)
    assert stored(row) == (3600.0, 12 * 3600.0, False, HOURS.key)


def test_the_person_writing_again_reopens_with_the_new_moment(
    office, channel, post, conversation_of, cm_actor, time_machine
):
    root = post(channel, "Colis abîmé", external_id="c", ago=timedelta(hours=1))
    post(channel, "Désolés, on renvoie.", author=channel.handle, parent="c", ago=timedelta(minutes=30))
    services.set_status(actor=cm_actor, conversation=conversation_of(root), status=Status.CLOSED)
    row = conversation_of(root)
    assert stored(row)[1] == 3600.0
    time_machine.move_to(MONDAY + timedelta(hours=3), tick=False)
    post(channel, "Toujours rien reçu.", parent="c", ago=timedelta(minutes=1))
    row = conversation_of(root)
    assert row.status == Status.OPEN
    assert stored(row) == (1800.0, 4 * 3600.0, False, HOURS.key) == counted(row)


def test_a_thread_folded_into_its_real_root(office, channel, post, conversation_of):
    post(channel, "Moi aussi j'attends", parent="late", external_id="early", ago=timedelta(minutes=50))
    post(channel, "Réponse de la marque", author=channel.handle, parent="late", ago=timedelta(minutes=20))
    root = post(channel, "Commande jamais reçue", external_id="late", ago=timedelta(hours=1))
    row = Conversation.objects.get()
    assert row.root_id == root.pk
    assert stored(row) == (2400.0, None, False, HOURS.key) == counted(row)


def test_a_change_of_hours_counts_every_thread_again(
    office, channel, post, conversation_of, django_capture_on_commit_callbacks
):
    root = post(channel, "Horaires ?", external_id="h", ago=timedelta(hours=2))  # 8:00, before opening
    post(channel, "De 9 h à 18 h.", author=channel.handle, parent="h", ago=timedelta(minutes=30))
    row = conversation_of(root)
    assert stored(row) == (1800.0, None, False, HOURS.key)
    early = BusinessHours.of("UTC", {str(day): [["07:00", "18:00"]] for day in range(5)}, [])
    with django_capture_on_commit_callbacks(execute=True):
        services.update_settings(
            actor=office,
            time_zone="UTC",
            weekly_hours={str(day): [["07:00", "18:00"]] for day in range(5)},
            holidays=[],
            first_response_minutes=60,
            on_call_id=None,
            auto_assign=False,
            acknowledgements={},
        )
    assert early.key != HOURS.key
    assert stored(row) == (5400.0, None, False, early.key) == counted(row, early)


def test_the_migrations_count_fills_rows_without_them(office, channel, post, conversation_of, org):
    root = post(channel, "Et le retour ?", external_id="r", ago=timedelta(hours=1))
    post(channel, "Gratuit sous 30 jours.", author=channel.handle, parent="r", ago=timedelta(minutes=45))
    row = conversation_of(root)
    before = stored(row)
    Conversation.objects.update(
        business_to_first_response=None,
        business_to_status_change=None,
        first_response_out_of_hours=None,
        hours_key=None,
    )
    assert durations.recount_organisation(org.pk) == 1
    assert stored(row) == before == (900.0, None, False, HOURS.key)
    assert durations.recount_organisation(org.pk) == 0  # counted with the current hours: nothing to do
