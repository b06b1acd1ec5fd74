"""Inbox fixtures: threads built through real ingestion, with the analysis run on commit."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

_ids = itertools.count(1)


@pytest.fixture
def post(db, django_capture_on_commit_callbacks):
    """`post(channel, text, author=..., parent=..., ago=timedelta)`: ingest an item, run its analysis,
    return the item."""
    from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item

    def run(
        channel,
        text,
        *,
        author="camille",
        followers=None,
        parent="",
        ago=timedelta(minutes=5),
        external_id="",
        language="fr",
    ):
        incoming = IncomingItem(
            external_id=external_id or f"it-{next(_ids)}",
            kind="reply" if parent else "comment",
            text=text,
            created_at=timezone.now() - ago,
            author=IncomingAuthor(handle=author, display_name=author.title(), followers=followers),
            parent_external_id=parent,
            language=language,
        )
        with django_capture_on_commit_callbacks(execute=True):
            item, _created = ingest_item(channel=channel, incoming=incoming)
        return item

    return run


@pytest.fixture
def conversation_of():
    from palabre.inbox.models import Conversation

    def of(item):
        return Conversation.objects.select_related("channel", "last_customer_item").get(
            root_id=item.thread_root_id or item.pk
        )

    return of


@pytest.fixture
def cm(org, make_member):
    from palabre.orgs.permissions import Role

    return make_member(org, Role.COMMUNITY_MANAGER, username="sarah").user


@pytest.fixture
def cm_actor(cm, org, actor_for):
    return actor_for(cm, org)


@pytest.fixture(autouse=True)
def english(settings):
    """Pages read in English here (the French ones are checked by the translation tests)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def round_the_clock(owner_actor):
    """Open every hour, a 30-minute target: a thread is overdue 30 minutes after it came."""
    from palabre.inbox import services

    services.update_settings(
        actor=owner_actor,
        time_zone="UTC",
        weekly_hours={str(d): [["00:00", "24:00"]] for d in range(7)},
        holidays=[],
        first_response_minutes=30,
        on_call_id=None,
        auto_assign=False,
        acknowledgements={},
    )
