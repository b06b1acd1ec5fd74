"""Ingestion: idempotent by (channel, external id), threads whatever the arrival order, validated."""

from __future__ import annotations

import signal
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError

from palabre import hooks
from palabre.conversations import pipeline
from palabre.conversations.models import Contact, ContactHandle, Item
from palabre.conversations.services import (
    MAX_TEXT_CHARS,
    IncomingAuthor,
    get_item,
    ingest_item,
    items_for,
)
from palabre.orgs.services import NotInOrganisation

pytestmark = pytest.mark.django_db


def stored(item: Item) -> Item:
    return Item.objects.get(pk=item.pk)


# --- idempotence -------------------------------------------------------------------------------


def test_the_same_item_twice_is_one_item_updated(channel, incoming_item):
    first, created = ingest_item(channel=channel, incoming=incoming_item("yt-1", text="Prix ?"))
    again, created_again = ingest_item(
        channel=channel, incoming=incoming_item("yt-1", text="Prix ? (modifié)", metrics={"likes": 3})
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Item.objects.count() == 1
    item = stored(first)
    assert item.text == "Prix ? (modifié)"
    assert item.metrics == {"likes": 3}
    assert item.updated_at >= item.received_at


def test_the_same_external_id_on_two_channels_is_two_items(org, channel, make_channel, ingest):
    other = make_channel(org, "youtube", handle="UCmaison")
    assert ingest(channel, "42").pk != ingest(other, "42").pk
    assert Item.objects.count() == 2


def test_a_connectors_language_is_kept(channel, ingest):
    assert stored(ingest(channel, "l1", text="Hello there", language="en")).language == "en"


# --- threads -----------------------------------------------------------------------------------


def test_a_reply_links_to_a_parent_already_there(channel, ingest):
    post = ingest(channel, "post", kind="post", text="Notre nouvelle collection")
    reply = ingest(channel, "reply", kind="reply", parent="post")
    answer = ingest(channel, "answer", kind="reply", parent="reply")
    assert (stored(reply).parent, stored(reply).thread_root) == (post, post)
    assert (stored(answer).parent, stored(answer).thread_root) == (stored(reply), post)
    assert stored(answer).thread == post and post.thread == post


def test_replies_arriving_before_their_parent_are_linked_when_it_comes(channel, ingest):
    grandchild = ingest(channel, "c", kind="reply", parent="b")
    child = ingest(channel, "b", kind="reply", parent="a")
    assert stored(grandchild).parent == child
    assert stored(grandchild).thread_root == child  # the best root known so far
    root = ingest(channel, "a", kind="post")
    for reply in (child, grandchild):
        assert stored(reply).thread_root == root
    assert stored(child).parent == root
    assert stored(grandchild).parent == child
    assert stored(root).parent is None and stored(root).thread_root is None


def test_re_ingesting_a_parent_keeps_the_thread(channel, ingest):
    reply = ingest(channel, "r", kind="reply", parent="p")
    root = ingest(channel, "p", kind="post")
    ingest(channel, "p", kind="post", text="edited")
    ingest(channel, "r", kind="reply", parent="p", text="edited too")
    assert (stored(reply).parent, stored(reply).thread_root) == (root, root)


def test_a_parent_on_another_channel_is_not_linked(org, channel, make_channel, ingest):
    other = make_channel(org, "x", handle="@other")
    ingest(other, "p", kind="post")
    assert stored(ingest(channel, "r", kind="reply", parent="p")).parent is None


class Hang(Exception):
    pass


@pytest.fixture
def fail_if_hanging():
    """Turns an endless loop into a test failure (Unix only: SIGALRM)."""

    def alarm(signum, frame):
        raise Hang("still running after 2 s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(2)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_items_replying_to_each_other_do_not_hang_ingestion(channel, ingest, fail_if_hanging):
    ingest(channel, "a", kind="reply", parent="b")
    ingest(channel, "b", kind="reply", parent="a")
    assert Item.objects.count() == 2


def test_an_item_cannot_be_its_own_parent(channel, incoming_item):
    with pytest.raises(ValidationError) as error:
        ingest_item(channel=channel, incoming=incoming_item("self", kind="reply", parent="self"))
    assert "parent_external_id" in error.value.message_dict


# --- authors and contacts ----------------------------------------------------------------------


def test_authors_become_contacts_and_a_handle_is_always_the_same_contact(channel, ingest):
    first = ingest(
        channel, "1", author=IncomingAuthor("@camille", "Camille D.", "https://x.com/camille", 120)
    )
    second = ingest(channel, "2", author="@camille")
    other = ingest(channel, "3", author="@jules")
    assert first.contact == second.contact != other.contact
    assert first.author == second.author
    handle = ContactHandle.objects.get(handle="@camille")
    assert (handle.display_name, handle.profile_url, handle.followers) == (
        "@Camille",  # the latest non-empty name wins
        "https://x.com/camille",
        120,
    )
    assert handle.platform == channel.platform
    assert Contact.objects.get(pk=first.contact_id).display_name == "Camille D."
    assert Contact.objects.filter(organisation=channel.organisation).count() == 2


def test_the_same_handle_in_two_organisations_is_two_contacts(channel, make_org, make_channel, ingest):
    elsewhere = make_channel(make_org("Concurrent"), channel.platform, handle="other.example")
    assert (
        ingest(channel, "1", author="@camille").contact != ingest(elsewhere, "1", author="@camille").contact
    )


def test_an_item_without_author_has_no_contact(channel, ingest):
    item = ingest(channel, "anon", author=None)
    assert item.author is None and item.contact is None


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 301}, "external_id"),
        ({"kind": "tweet"}, "kind"),
        ({"created_at": datetime(2024, 5, 6, 9, 30)}, "created_at"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "text"),
        ({"text": "nul\x00byte"}, "text"),
        ({"author": IncomingAuthor("   ")}, "author.handle"),
    ],
    ids=["empty id", "long id", "kind", "naive time", "long text", "nul", "blank author"],
)
def test_invalid_items_are_refused_naming_the_field(channel, incoming_item, fields, field):
    external_id = fields.pop("external_id", "valid-id")
    incoming = incoming_item("placeholder", **fields)
    incoming.external_id = external_id
    with pytest.raises(ValidationError) as error:
        ingest_item(channel=channel, incoming=incoming)
    assert set(error.value.message_dict) == {field}
    assert Item.objects.count() == 0


def test_every_error_is_reported_at_once(channel, incoming_item):
    incoming = incoming_item("x", kind="tweet", created_at=datetime(2024, 1, 1))
    incoming.external_id = ""
    with pytest.raises(ValidationError) as error:
        ingest_item(channel=channel, incoming=incoming)
    assert set(error.value.message_dict) == {"external_id", "kind", "created_at"}


def test_a_created_at_that_is_not_a_time_is_refused_naming_the_field(channel, incoming_item):
    incoming = incoming_item("t")
    incoming.created_at = "2024-05-06T09:30:00Z"
    with pytest.raises(ValidationError) as error:
        ingest_item(channel=channel, incoming=incoming)
    assert set(error.value.message_dict) == {"created_at"}


# --- analysis ----------------------------------------------------------------------------------


@pytest.fixture
def only_test_analysers(monkeypatch):
    """The registered analysers of the other apps are theirs to test; these tests register their own."""
    seen = []
    recorder = pipeline.Stage(
        "recorder", 100, pipeline.per_item(lambda item, created: seen.append((item.external_id, created)))
    )
    monkeypatch.setattr(pipeline, "stages", lambda: [pipeline.LANGUAGE_STAGE, recorder])
    return seen


def test_ingestion_enqueues_the_analysis_once_committed(
    channel, ingest, only_test_analysers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        item = ingest(channel, "fr-1", text="Bonjour, je n'ai toujours pas reçu ma commande !", language="fr")
    assert len(callbacks) == 1
    assert only_test_analysers == [("fr-1", True)]
    analysed = stored(item)
    assert analysed.analysed_at is not None
    assert analysed.language == "fr"

    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, "fr-1", text="Bonjour, c'est réglé, merci.", language="fr")
    assert only_test_analysers == [("fr-1", True), ("fr-1", False)]


def test_the_analysis_runs_without_a_connector_language(
    channel, ingest, only_test_analysers, django_capture_on_commit_callbacks
):
    pytest.importorskip("palabre.nlp.language")
    with django_capture_on_commit_callbacks(execute=True):
        item = ingest(channel, "fr", text="Je suis très déçue par le service client, personne ne répond.")
    assert only_test_analysers == [("fr", True)]
    assert stored(item).analysed_at is not None


def test_the_analysis_stores_the_detected_language(
    channel, ingest, only_test_analysers, django_capture_on_commit_callbacks
):
    language = pytest.importorskip("palabre.nlp.language")
    assert language.detect_language("Merci beaucoup pour votre réponse rapide !") == "fr"
    with django_capture_on_commit_callbacks(execute=True):
        french = ingest(channel, "fr", text="Je suis très déçue par le service client, personne ne répond.")
        english = ingest(
            channel, "en", text="I am very disappointed by your customer service, nobody answers."
        )
    assert stored(french).language == "fr"
    assert stored(english).language == "en"


def test_analysing_a_vanished_item_is_harmless():
    from palabre.conversations.tasks import analyse_item

    assert analyse_item.call(987654) == {"item": 987654, "skipped": "gone"}


def test_a_registered_stage_replaces_one_of_the_same_name_and_runs_in_its_declared_order():
    try:
        pipeline.register_stage("a", print, order=60)
        pipeline.register_stage("b", print, order=50)
        pipeline.register_stage("a", repr, order=70)
        assert [(s.name, s.run) for s in pipeline.stages() if s.name in {"a", "b"}] == [
            ("b", print),
            ("a", repr),
        ]
        assert [s.name for s in pipeline.stages()][-2:] == ["b", "a"]  # after the apps' (10 to 40)
    finally:
        pipeline.unregister_stage("a")
        pipeline.unregister_stage("b")
    assert "a" not in [s.name for s in pipeline.stages()]


def test_a_plugin_adds_a_stage_through_the_hook_and_a_wrong_order_is_refused():
    class Plugin:
        def __init__(self, order):
            self.order = order

        @hooks.hookimpl
        def pipeline_stages(self):
            return [pipeline.Stage("extra", 45, print), pipeline.Stage("listening", self.order, print)]

    with hooks.plugged(Plugin(40)):  # replaces listening's stage, at its declared place
        assert [(s.name, s.run) for s in pipeline.stages()][-2:] == [("listening", print), ("extra", print)]
    with hooks.plugged(Plugin(1)), pytest.raises(ValueError):
        pipeline.stages()
    assert [s.name for s in pipeline.stages()] == ["language", "moderation", "inbox", "listening"]


def test_the_apps_stages_run_in_the_declared_order():
    assert [s.name for s in pipeline.stages()] == ["language", "moderation", "inbox", "listening"]
    with pytest.raises(ValueError):
        pipeline.register_stage("inbox", print, order=5)


# --- reading -----------------------------------------------------------------------------------


def test_listing_items_costs_the_same_however_many_there_are(
    org, channel, owner_actor, ingest, django_assert_max_num_queries
):
    for index in range(12):
        ingest(channel, f"i{index}", author=f"author{index % 4}")
    with django_assert_max_num_queries(1):
        rows = [(i.channel.name, i.author.handle, i.contact.display_name) for i in items_for(owner_actor)]
    assert len(rows) == 12


def test_get_item_hides_unknown_ids(owner_actor, channel, ingest):
    item = ingest(channel, "known")
    assert get_item(actor=owner_actor, item_id=item.pk) == item
    with pytest.raises(NotInOrganisation):
        get_item(actor=owner_actor, item_id=item.pk + 1000)
