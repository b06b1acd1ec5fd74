"""Overdue responses told to the team (`warn_breaches`, the inbox tick): once a wait, counted in one
notification when many cross their target together, and only the new breaches read."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from django.utils.translation import override

from palabre.inbox import services
from palabre.inbox.models import Conversation, Notification
from palabre.inbox.services import background

pytestmark = pytest.mark.django_db


def _warnings(user=None):
    rows = Notification.objects.filter(kind=Notification.Kind.SLA)
    return list(rows.filter(user=user) if user else rows)


def test_a_few_overdue_threads_are_told_one_by_one_to_every_replier(
    org, channel, post, owner, cm, round_the_clock
):
    late = [
        post(
            channel, f"Quelqu'un peut m'aider pour la commande {n} ?", author=f"c{n}", ago=timedelta(hours=2)
        )
        for n in range(2)
    ]
    post(channel, "Vous avez la table en 220 ?", ago=timedelta(minutes=5))
    assert services.warn_breaches(org) == 2
    for person in (owner, cm):
        told = _warnings(person)
        assert sorted(n.conversation.root_id for n in told) == sorted(item.pk for item in late)
        assert all(n.text.startswith("Response overdue: ") for n in told)
    assert services.warn_breaches(org) == 0  # once


def test_many_overdue_threads_at_once_are_one_notification_that_counts_them(
    org, channel, post, cm, client, round_the_clock
):
    for n in range(background.WARN_ONE_BY_ONE + 3):
        post(
            channel,
            f"Toujours rien reçu pour la commande {n} ?",
            author=f"c{n}",
            ago=timedelta(hours=2, minutes=n),
        )
    assert services.warn_breaches(org) == background.WARN_ONE_BY_ONE + 3
    (told,) = _warnings(cm)
    assert told.conversation is None
    # The longest overdue named (the earliest message: 2 h 7 min ago).
    assert told.text.startswith("8 responses overdue, the longest: C7: Toujours rien reçu pour la commande 7")
    with override("fr"):
        french = background._overdue_notification(org, cm.pk, Conversation.objects.first(), count=8).text
    assert french.startswith("8 réponses en retard, la plus en retard\u202f: ")
    client.force_login(cm)
    page = client.get("/inbox/notifications/").content.decode()
    assert '/inbox/?sla=breached">8 responses overdue' in page
    assert services.warn_breaches(org) == 0


def test_an_assigned_thread_is_told_to_its_assignee_only(
    org, channel, post, cm, owner, cm_actor, round_the_clock
):
    item = post(channel, "Quelqu'un peut m'aider ?", ago=timedelta(hours=2))
    services.assign(actor=cm_actor, conversation=Conversation.objects.get(root=item), assignee_id=cm.pk)
    assert services.warn_breaches(org) == 1
    assert [n.user for n in _warnings()] == [cm]


def test_a_thread_answered_then_waiting_again_is_a_new_wait_told_again(
    org, channel, post, cm_actor, round_the_clock, clock
):
    item = post(channel, "Quelqu'un peut m'aider ?", author="lea", ago=timedelta(hours=2))
    assert services.warn_breaches(org) == 1
    row = Conversation.objects.get(root=item)
    services.send_reply(
        actor=cm_actor,
        conversation=row,
        text="Bonjour Léa, que se passe-t-il ?",
        idempotency_key="k-overdue-1",
    )
    clock.shift(timedelta(minutes=10))
    post(
        channel,
        "Mon colis est bloqué depuis une semaine.",
        author="lea",
        parent=item.external_id,
        ago=timedelta(0),
    )
    row.refresh_from_db()
    assert row.awaiting_reply and row.sla_warned_at is None
    assert services.warn_breaches(org, now=timezone.now() + timedelta(hours=1)) == 1
    # The first wait told both repliers; the second its assignee, who answered the first.
    assert [n.user for n in _warnings()].count(cm_actor.user) == 2 and len(_warnings()) == 3


def test_the_warnings_sent_before_the_column_existed_are_kept(org, channel, post, cm, round_the_clock):
    item = post(channel, "Quelqu'un peut m'aider ?", ago=timedelta(hours=2))
    row = Conversation.objects.get(root=item)
    sent = Notification.objects.create(
        organisation=org, user=cm, kind=Notification.Kind.SLA, text="x", conversation=row
    )
    Conversation.objects.filter(pk=row.pk).update(sla_warned_at=None)
    migration = importlib.import_module("palabre.inbox.migrations.0009_conversation_waiting")
    migration.from_warnings_sent(apps, None)
    row.refresh_from_db()
    assert row.sla_warned_at == sent.created_at
    assert services.warn_breaches(org) == 0
