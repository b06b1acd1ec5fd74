"""What keeps the figures fast gives the same figures: the brand's items named by their (author,
channel) pairs, the comments' figures in one statement, the queries without JIT compilation."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from palabre.analytics import metrics
from palabre.analytics.metrics import Filters, Period

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def test_the_brand_pairs_name_the_items_the_handle_check_names(org, make_channel, ingest):
    from palabre.analytics.metrics.sql import _brand_item, brand_authors
    from palabre.conversations.models import Item
    from palabre.conversations.services import IncomingAuthor

    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    shop = make_channel(org, "site", handle="shop.example", name="Shop")
    at = datetime(2026, 6, 8, 10, tzinfo=PARIS)
    ingest(
        blog,
        "post",
        kind="post",
        text="Nouveautés",
        author=IncomingAuthor(handle="blog.example"),
        created_at=at,
    )
    ingest(blog, "c1", text="Bonjour", author="camille", parent="post", created_at=at)
    # The blog's handle writing on the shop is not the shop speaking: not the brand there.
    ingest(shop, "s1", text="Vu sur le blog", author=IncomingAuthor(handle="blog.example"), created_at=at)
    ingest(shop, "s2", text="Merci", author=IncomingAuthor(handle="shop.example"), parent="s1", created_at=at)
    ingest(shop, "s3", text="Sans auteur", author=None, created_at=at)
    items = Item.objects.for_org(org)
    by_handles = set(items.filter(_brand_item()).values_list("external_id", flat=True))
    assert by_handles == {"post", "s2"}
    assert set(items.filter(brand_authors(org.pk)).values_list("external_id", flat=True)) == by_handles
    assert set(items.exclude(brand_authors(org.pk)).values_list("external_id", flat=True)) == {
        "c1",
        "s1",
        "s3",
    }


def test_an_organisation_without_brand_handles_has_no_brand_item(org, make_channel, ingest):
    from palabre.analytics.metrics.sql import brand_authors
    from palabre.conversations.models import Item

    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    ingest(blog, "c1", text="Bonjour", author="camille", created_at=datetime(2026, 6, 8, 10, tzinfo=PARIS))
    items = Item.objects.for_org(org)
    assert not items.filter(brand_authors(org.pk)).exists()
    assert items.exclude(brand_authors(org.pk)).count() == 1


def test_top_contributors_are_the_ten_with_most_comments_then_by_name(org, make_channel, ingest):
    """Twelve contributors: the tenth and eleventh tie on their count, the name decides; the one
    who wrote before the period is returning."""
    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    at = datetime(2026, 6, 9, 10, tzinfo=PARIS)
    ingest(blog, "old", text="Première visite", author="zélie", created_at=at - timedelta(days=30))
    counts = {f"p{n:02d}": 13 - n for n in range(1, 10)}  # p01: 12 comments ... p09: 4
    counts.update({"yann": 2, "xavier": 2, "zélie": 1})
    for author, n in counts.items():
        for k in range(n):
            ingest(blog, f"{author}-{k}", text="Très bonne idée" if k else "👍", author=author, created_at=at)
    quality = metrics.quality(org, Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris"), Filters())
    assert [row["name"] for row in quality["top_contributors"]] == [
        *(f"P{n:02d}" for n in range(1, 10)),
        "Xavier",
    ]
    assert quality["top_contributors"][0]["items"] == 12 and quality["top_contributors"][-1]["items"] == 2
    assert quality["comments"] == sum(counts.values())
    # One "👍" each: the rest of their comments are substantive.
    assert quality["substantive"] == sum(counts.values()) - len(counts)
    assert (quality["contributors"], quality["returning_contributors"], quality["new_contributors"]) == (
        12,
        1,
        11,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_figures_are_read_without_jit_compilation():
    """Off for the figures' transaction only (a request is not one transaction: the next
    queries of the connection get the server's setting again)."""
    from palabre.analytics.metrics.sql import read_figures

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            return cursor.fetchone()[0]

    before = jit()
    with read_figures():
        assert jit() == "off"
    assert jit() == before


def test_a_threads_beginning_follows_its_root_through_replies_edits_and_status(
    org, make_channel, make_member, ingest, clock, django_capture_on_commit_callbacks
):
    """`Conversation.began_at` (analytics finds the period's threads by it) is the root's
    `created_at` when the thread is opened, answered, reassigned, closed, reopened by a new
    message, when a reply is deleted and when the root comes again with another date."""
    from palabre.inbox import services as inbox
    from palabre.inbox.models import Conversation
    from palabre.orgs.services import Actor

    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    alice = make_member(org, "community_manager", username="alice").user
    bruno = make_member(org, "community_manager", username="bruno").user
    as_alice = Actor.for_user(alice, org)
    asked = datetime(2026, 6, 8, 10, tzinfo=PARIS)

    def take(external_id: str, at: datetime, **fields):
        clock.move_to(at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            return ingest(blog, external_id, created_at=at, **fields)

    def thread() -> Conversation:
        return Conversation.objects.get(root__external_id="q1")

    take("q1", asked, text="Où est ma commande ?")
    assert thread().began_at == asked
    follow_up = take("q2", asked + timedelta(minutes=5), text="Toujours rien.", parent="q1")
    assert thread().began_at == asked
    clock.move_to(asked + timedelta(minutes=30), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        inbox.send_reply(
            actor=as_alice,
            conversation=thread(),
            text="Elle part demain.",
            idempotency_key="reply-q1",
            confirmed=True,
        )
    inbox.assign(actor=as_alice, conversation=thread(), assignee_id=bruno.pk)
    inbox.set_status(actor=as_alice, conversation=thread(), status="closed")
    assert (thread().began_at, thread().status) == (asked, "closed")
    take("q3", asked + timedelta(days=1), text="Finalement pas reçue.", parent="q1")
    assert (thread().began_at, thread().status) == (asked, "open")
    with django_capture_on_commit_callbacks(execute=True):
        follow_up.delete()
        inbox.refresh_conversation(org, thread().root_id)
    assert thread().began_at == asked
    # The platform gives the question another date (an edit): the thread's beginning follows.
    earlier = asked - timedelta(hours=2)
    take("q1", earlier, text="Où est ma commande 4512 ?")
    assert thread().began_at == earlier
    # What analytics counts in the period: the thread, by the moment it began.
    care = metrics.care(
        org,
        Period(date(2026, 6, 8), date(2026, 6, 8), "Europe/Paris"),
        Filters(),
        now=asked + timedelta(days=2),
    )
    assert (care["conversations"], care["answered"]) == (1, 1)
    assert care["first_response_median"] == 150.0  # 08:00 -> 10:30


def test_the_substantive_indexes_test_what_the_figures_test():
    """The partial indexes (conversations migration 0008) are used only when the query's condition
    is theirs: the migration writes the figures' regular expression."""
    from importlib import import_module

    from palabre.analytics.metrics.sql import SUBSTANTIVE

    migration = import_module("palabre.conversations.migrations.0008_item_substantive_indexes")
    assert migration.SUBSTANTIVE == SUBSTANTIVE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial indexes on a regex are PostgreSQL's")
def test_the_comments_figures_come_from_the_substantive_indexes(org, make_channel, ingest):
    """Substantive and other comments are counted from their two partial indexes (the regular
    expression is not run at read time), with the same figures: an emoji alone and a single word
    are not substantive, the brand's answer is not a comment."""
    from django.test.utils import CaptureQueriesContext

    from palabre.conversations.services import IncomingAuthor

    blog = make_channel(org, "site", handle="blog.example", name="Blog")
    at = datetime(2026, 6, 9, 10, tzinfo=PARIS)
    ingest(blog, "old", text="Déjà venue", author="zélie", created_at=at - timedelta(days=10))
    ingest(blog, "c1", text="Très bonne idée", author="zélie", created_at=at)
    ingest(blog, "c2", text="👍", author="zélie", created_at=at)
    ingest(blog, "c3", text="Merci", author="yann", created_at=at)
    ingest(blog, "c4", text="Et la livraison ?", author="yann", created_at=at)
    ingest(blog, "a1", text="Merci à vous", author=IncomingAuthor(handle="blog.example"), created_at=at)
    period = Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")
    with CaptureQueriesContext(connection) as queries:
        quality = metrics.quality(org, period, Filters())
    assert (quality["comments"], quality["substantive"]) == (4, 2)
    assert (quality["contributors"], quality["returning_contributors"]) == (2, 1)
    (comments_sql,) = [q["sql"] for q in queries.captured_queries if "per_item" in q["sql"]]
    with connection.cursor() as cursor:
        # A handful of rows: any plan costs the same, so the planner is left the table and the two
        # partial indexes only (the other indexes dropped inside the test's transaction, which
        # rolls back): the point is that the query's conditions let it read those indexes.
        cursor.execute(
            "SELECT indexname FROM pg_indexes i WHERE tablename = 'conversations_item' "
            "AND indexname NOT IN ('item_substantive', 'item_not_substantive') AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {comments_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "using item_substantive" in plan and "using item_not_substantive" in plan, plan
    # The regular expression is the indexes' condition, never a filter run on the rows read.
    assert not [line for line in plan.splitlines() if "Filter" in line and "~" in line], plan


def test_an_answer_counts_for_the_threads_first_inbox_reply_author_else_its_assignee(week, period, ingest):
    """The team's attribution read from the thread's row (one probe per answer): c1, answered by
    Alice from the inbox then given to Bruno, stays Alice's; c4, given to Bruno and answered from
    the shop's platform (no inbox reply), is Bruno's."""
    from palabre.conversations.services import IncomingAuthor
    from palabre.inbox import services as inbox
    from palabre.inbox.models import Conversation
    from palabre.orgs.services import Actor

    org, alice, bruno, shop = week["org"], week["alice"], week["bruno"], week["shop"]
    as_alice = Actor.for_user(alice, org)
    for name in ("c1", "c4"):
        thread = Conversation.objects.get(root=week["items"][name])
        inbox.assign(actor=as_alice, conversation=thread, assignee_id=bruno.pk)
    ingest(
        shop,
        "c4-answer",
        text="Depuis votre compte, rubrique Adresses.",
        author=IncomingAuthor(handle=shop.handle),
        parent="c4",
        created_at=datetime(2026, 6, 10, 11, tzinfo=PARIS),
    )
    team = metrics.team(org, period, Filters())
    # Alice: c1, c2; Bruno: c3 (Saturday, after hours) and the shop's answer to c4 (Wednesday 11:00).
    assert [(m["label"], m["replies"], m["after_hours"], m["conversations"]) for m in team["members"]] == [
        ("alice", 2, 0, 2),
        ("bruno", 2, 1, 2),
    ]
    assert (team["replies"], team["after_hours"]) == (4, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="INCLUDE columns are PostgreSQL's")
def test_care_and_team_read_their_rows_from_indexes_alone(week, period, after_the_week):
    """Care reads the period's threads from the (organisation, began_at) index, the team its
    answers from the (author, created_at) index and each answer's member from the thread rows
    begun around the period (the (organisation, began_at) index) or else the thread rows' index by
    root, without visiting a row: each index carries every column its statement reads
    (inbox migrations 0006 to 0008, conversations migration 0010). A column read that the index
    lacks turns its scan into a plain index scan."""
    from django.test.utils import CaptureQueriesContext

    from palabre.analytics.metrics.sql import read_figures

    with CaptureQueriesContext(connection) as queries, read_figures():
        care = metrics.care(week["org"], period, Filters(), now=after_the_week)
        team = metrics.team(week["org"], period, Filters())
    assert care["answered"] == 3 and team["replies"] == 3
    (care_sql,) = [q["sql"] for q in queries.captured_queries if "float8send" in q["sql"]]
    (team_sql,) = [q["sql"] for q in queries.captured_queries if "COUNT(DISTINCT" in q["sql"]]
    kept = ("inbox_conv_began", "inbox_conv_root_member", "item_author_created")
    with connection.cursor() as cursor:
        # A handful of rows: the planner is left the indexes under test (the others dropped, and
        # the unique key on the threads' root, inside the test's transaction, which rolls back)
        # and no sequential or bitmap scan.
        cursor.execute(
            "SELECT indexname FROM pg_indexes i WHERE tablename IN ('conversations_item', "
            "'inbox_conversation') AND indexname <> ALL(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [list(kept)],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, before ALTER
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'inbox_conversation'::regclass AND contype = 'u'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE inbox_conversation DROP CONSTRAINT "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plans = {}
        for name, sql in (("care", care_sql), ("team", team_sql)):
            cursor.execute(f"EXPLAIN {sql}")
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
        # The lookup by root, left only the index by root: on so few rows the (organisation,
        # began_at) index, which carries the root too, costs the planner the same, and it picks
        # either.
        cursor.execute("DROP INDEX inbox_conv_began")
        cursor.execute(f"EXPLAIN {team_sql}")
        by_root = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using inbox_conv_began" in plans["care"], plans["care"]
    assert "Index Only Scan using item_author_created" in plans["team"], plans["team"]
    # The members of the threads begun around the period, hashed (inbox migration 0008).
    assert "Index Only Scan using inbox_conv_began" in plans["team"], plans["team"]
    for plan in plans.values():  # every scan of threads or items reads its index alone
        scans = [
            line
            for line in plan.splitlines()
            if re.search(r"Scan .* on (inbox_conversation|conversations_item)\b", line)
        ]
        assert scans and all("Index Only Scan" in line for line in scans), plan
    lookup = by_root.split("SubPlan", 1)[1]
    assert "Index Only Scan using inbox_conv_root_member" in lookup, by_root
