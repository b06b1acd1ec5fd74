"""The one pipeline: a batch stores what storing its items one by one stores, in a number of
queries that does not grow with the batch, and the analysis stages run in their declared order."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.conversations.models import Item
from palabre.conversations.pipeline import analyse_items, ingest_items
from palabre.conversations.services import IncomingAuthor, ingest_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_channel(org, make_channel):
    return make_channel(org, "site", handle="forum.maison-dupont.fr", name="Forum")


@pytest.fixture
def listening_query(org):
    from palabre.listening.services import create_query
    from palabre.orgs.services import Actor

    return create_query(actor=Actor.palabre(org), name="Commandes", query="commande OR refund")


def _mix(incoming_item, prefix: str = "") -> list:
    """Comments, replies in threads (one before its parent), DMs, French and English, spam."""
    p = prefix
    return [
        incoming_item(f"{p}1", text="Bonjour, ma commande n'est toujours pas arrivée.", author="camille"),
        incoming_item(
            f"{p}2", text="Same for me, no delivery yet.", author="sam", parent=f"{p}1", kind="reply"
        ),
        incoming_item(
            f"{p}4", text="Et toujours rien ce matin.", author="camille", parent=f"{p}3", kind="reply"
        ),
        incoming_item(f"{p}3", text="Nous regardons, pardon.", author="lea", parent=f"{p}1", kind="reply"),
        incoming_item(f"{p}5", text="Cheap watches!!! http://spam.example", author="bot"),
        incoming_item(f"{p}6", text="Where is my refund?", author="sam", kind="direct_message"),
        incoming_item(f"{p}7", text="A names B", author="x", parent=f"{p}8"),
        incoming_item(f"{p}8", text="B names A", author="y", parent=f"{p}7"),
        incoming_item(f"{p}9", text="Reply to something never collected", author="z", parent="elsewhere"),
    ]


def _shape(channel) -> list[tuple]:
    by_pk = {i.pk: i for i in Item.objects.filter(channel=channel)}

    def ext(pk):
        return by_pk[pk].external_id[-1:] if pk else None

    return sorted(
        (
            item.external_id[-1:],
            item.kind,
            item.text,
            item.author.handle if item.author else None,
            item.contact.display_name if item.contact else None,
            ext(item.parent_id),
            ext(item.thread_root_id),
        )
        for item in Item.objects.filter(channel=channel).select_related("author", "contact")
    )


def test_a_batch_stores_what_storing_its_items_one_by_one_stores(org, channel, other_channel, incoming_item):
    for incoming in _mix(incoming_item, "one-"):
        ingest_item(channel=other_channel, incoming=incoming, analyse=False)
    stored = ingest_items(channel=channel, incoming=_mix(incoming_item, "batch-"), analyse=False)
    assert [created for _item, created in stored.items] == [True] * 9
    assert _shape(channel) == _shape(other_channel)


def test_a_batch_delivered_again_updates_its_items(channel, incoming_item):
    first = ingest_items(channel=channel, incoming=_mix(incoming_item), analyse=False)
    again = _mix(incoming_item)
    again[0].text = "Bonjour, c'est arrivé, merci."
    again[0].author = IncomingAuthor(handle="camille", display_name="Camille D.", followers=12)
    second = ingest_items(channel=channel, incoming=again, analyse=False)
    assert [i.pk for i, _c in second.items] == [i.pk for i, _c in first.items]
    assert not any(created for _i, created in second.items)
    assert Item.objects.filter(channel=channel).count() == 9
    item = Item.objects.select_related("author").get(channel=channel, external_id="1")
    # Camille's later message in the batch gives her name again: the last delivery wins.
    assert (item.text, item.author.display_name, item.author.followers) == (
        "Bonjour, c'est arrivé, merci.",
        "Camille",
        12,
    )


def test_an_item_twice_in_one_batch_is_stored_once_with_its_last_delivery(channel, incoming_item):
    stored = ingest_items(
        channel=channel,
        incoming=[incoming_item("a", text="first"), incoming_item("a", text="second")],
        analyse=False,
    )
    assert len(stored.items) == 1
    assert Item.objects.get(channel=channel, external_id="a").text == "second"


def test_an_invalid_item_stops_the_batch_unless_skipped(channel, incoming_item):
    bad = incoming_item("bad", kind="nonsense")
    with pytest.raises(ValidationError) as error:
        ingest_items(channel=channel, incoming=[incoming_item("ok"), bad], analyse=False)
    assert "kind" in error.value.message_dict
    assert not Item.objects.filter(channel=channel).exists()
    stored = ingest_items(
        channel=channel, incoming=[incoming_item("ok"), bad], analyse=False, skip_invalid=True
    )
    assert [i.external_id for i, _c in stored.items] == ["ok"]
    assert [r.incoming.external_id for r in stored.refused] == ["bad"]


def _batch(incoming_item, start: int, size: int) -> list:
    texts = [
        "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?",
        "Thanks a lot, the table is beautiful!",
        "Vous êtes des voleurs, remboursez-moi !",
        "Cheap watches!!! buy now http://spam.example/x",
    ]
    items = []
    for n in range(start, start + size):
        parent = f"q{n - 1}" if n % 3 == 2 else ""
        items.append(
            incoming_item(
                f"q{n}",
                text=texts[n % len(texts)],
                author=f"person{n % 7}",
                parent=parent,
                kind="reply" if parent else ("direct_message" if n % 5 == 0 else "comment"),
            )
        )
    return items


def _queries(channel, incoming) -> int:
    """Statements to store and analyse a batch; a bulk insert that SQLite splits in several
    statements (999 parameters each) counts once, as on PostgreSQL."""
    with CaptureQueriesContext(connection) as queries:
        stored = ingest_items(channel=channel, incoming=incoming, analyse=False)
        analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    statements, previous = 0, ""
    for query in queries.captured_queries:
        sql = query["sql"]
        head = sql[: sql.index("(")] if sql.startswith("INSERT INTO") else ""
        statements += not (head and head == previous)
        previous = head
    return statements


def test_storing_and_every_stage_of_a_batch_cost_queries_that_do_not_grow_with_it(
    channel, incoming_item, listening_query
):
    # Every stage: language, moderation, the inbox's thread rows, listening's matches.
    from palabre.conversations.pipeline import stages
    from palabre.listening.models import Mention

    assert {"language", "moderation", "inbox", "listening"} <= {stage.name for stage in stages()}
    _queries(channel, _batch(incoming_item, 0, 7))  # the first batch creates the org's rows and authors
    small = _queries(channel, _batch(incoming_item, 100, 6))
    # Ten times the items, the same authors, replies within the batch: not one statement more.
    assert _queries(channel, _batch(incoming_item, 300, 60)) <= small
    assert _queries(channel, _batch(incoming_item, 600, 200)) <= small
    assert Mention.objects.filter(item__channel=channel).count() > 10  # listening matched the batch


def test_replies_within_a_batch_are_linked_whatever_the_number_of_updates(
    channel, incoming_item, monkeypatch
):
    from palabre.conversations import thread_links

    # Each reply answers the one before: one chain, its links written two rows per statement.
    monkeypatch.setattr(thread_links, "LINKS_PER_UPDATE", 2)
    batch = [incoming_item("r0", text="Bonjour, ma commande ?")] + [
        incoming_item(f"r{n}", text=f"Réponse {n}", parent=f"r{n - 1}", kind="reply") for n in range(1, 8)
    ]
    with CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, incoming=batch, analyse=False)
    assert sum(q["sql"].startswith('UPDATE "conversations_item"') for q in queries.captured_queries) == 4
    items = {i.external_id: i for i in Item.objects.filter(channel=channel)}
    root = items["r0"]
    for n in range(1, 8):
        assert items[f"r{n}"].parent_id == items[f"r{n - 1}"].pk
        assert items[f"r{n}"].thread_root_id == root.pk
    assert root.parent_id is None and root.thread_root_id is None


def test_new_authors_are_stored_with_their_last_profile_without_an_update(channel, incoming_item):
    from palabre.conversations.models import ContactHandle
    from palabre.conversations.services import IncomingAuthor

    def by(name, url="", followers=None):
        return IncomingAuthor(handle="nour", display_name=name, profile_url=url, followers=followers)

    batch = [
        incoming_item("a1", author=by("Nour", "https://example.org/nour", 10)),
        incoming_item("a2", author=by("Nour B.", "", None)),  # empty values keep the earlier ones
        incoming_item("a3", author=by("", "", 12)),
    ]
    with CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, incoming=batch, analyse=False)
    assert not any(
        q["sql"].startswith('UPDATE "conversations_contacthandle"') for q in queries.captured_queries
    )
    handle = ContactHandle.objects.get(handle="nour")
    assert (handle.display_name, handle.profile_url, handle.followers) == (
        "Nour B.",
        "https://example.org/nour",
        12,
    )
    # Known now: a later delivery that changes it is written.
    ingest_items(channel=channel, incoming=[incoming_item("a4", author=by("Nour Benali"))], analyse=False)
    handle.refresh_from_db()
    assert (handle.display_name, handle.followers) == ("Nour Benali", 12)


def test_the_stages_of_a_batch_store_the_language_and_a_decision_for_each_item(channel, incoming_item):
    from palabre.moderation.models import ItemModeration

    stored = ingest_items(channel=channel, incoming=_batch(incoming_item, 0, 8), analyse=False)
    for item, _created in stored.items:
        item.language = ""
    Item.objects.filter(channel=channel).update(language="")
    analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    items = Item.objects.filter(channel=channel)
    assert {i.language for i in items} == {"fr", "en"}
    assert all(i.analysed_at is not None for i in items)
    assert ItemModeration.objects.filter(item__channel=channel).count() == 8
    spam = ItemModeration.objects.get(item__channel=channel, item__external_id="q3")
    assert spam.status != "published"


def test_a_text_the_batch_holds_several_times_is_detected_once_with_the_same_answer(
    channel, incoming_item, monkeypatch
):
    from palabre.nlp import language

    detect = language._detect
    read: list[str] = []

    def counting(text: str) -> str:
        read.append(text)
        return detect(text)

    monkeypatch.setattr(language, "_detect", counting)
    wave = "Gagnez mille euros par jour depuis chez vous, cliquez ici sans attendre"
    # The same message, then with other links and mentions: the detector reads it once.
    batch = [incoming_item(f"w{n}", text=wave, author=f"bot{n}") for n in range(3)]
    batch += [
        incoming_item(f"l{n}", text=f"{wave} https://gain{n}.example/x @cible{n}", author=f"bot{n}")
        for n in range(3)
    ]
    batch.append(incoming_item("q1", text="Where is my parcel? I ordered it two weeks ago.", author="sam"))
    stored = ingest_items(channel=channel, incoming=batch, analyse=False)
    Item.objects.filter(channel=channel).update(language="")
    analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    assert len(read) == 3  # the wave, the wave with its link and mention blanked, the question
    languages = dict(Item.objects.filter(channel=channel).values_list("external_id", "language"))
    alone = {one.external_id: language.detect_language(one.text) for one in batch}
    assert languages == alone
    assert set(alone.values()) == {"fr", "en"}


def test_the_batch_is_read_with_its_authors_without_joining_the_handles_table(channel, incoming_item):
    from palabre.conversations import pipeline

    batch = [incoming_item(f"r{n}", author=f"person{n % 3}") for n in range(6)]
    batch.append(incoming_item("anonymous", author=None))
    stored = ingest_items(channel=channel, incoming=batch, analyse=False)
    with CaptureQueriesContext(connection) as read:
        items = pipeline._read_batch([item.pk for item, _c in stored.items])
    assert not [q["sql"] for q in read if "JOIN" in q["sql"] and "conversations_contacthandle" in q["sql"]]
    with CaptureQueriesContext(connection) as after:
        handles = {item.external_id: item.author.handle if item.author else None for item in items.values()}
        organisations = {item.organisation.pk for item in items.values()}
    assert len(after) == 0
    assert handles == {**{f"r{n}": f"person{n % 3}" for n in range(6)}, "anonymous": None}
    assert organisations == {channel.organisation_id}
