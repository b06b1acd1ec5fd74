"""What a comment-check reads in one statement (`lookups.check_reads`, `lookups.run`) and how it
counts its key's requests (`compat.akismet.limits.KeyRequestCounter`), on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from palabre.compat.akismet import limits
from palabre.compat.akismet.check import check_comment
from palabre.compat.models import SiteRequestCount
from palabre.conversations.models import Contact, ContactHandle
from palabre.moderation import engine, lookups
from palabre.moderation.models import MessageFingerprint
from palabre.moderation.services import review_item
from palabre.orgs.services import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

SPAM = "Achetez nos montres de luxe pas cheres sur notre boutique en ligne aujourd'hui"
HAM = "Merci pour cette recette de tarte aux pommes, toute la famille a adoré"


def check(registered, text: str, *, author: str = "Camille", email: str = "camille@example.org", **extra):
    params = {
        "comment_content": text,
        "comment_author": author,
        "comment_author_email": email,
        "user_ip": "203.0.113.7",
        **extra,
    }
    return check_comment(registered.site, params)  # stored at once: immediate task backend


def item_of(registered, verdict):
    return registered.site.channel.items.get(external_id=f"akismet-{verdict.guid}")


def reads_both_ways(registered, *, external_id: str, handle: str, text: str, at=None):
    """check_reads, and the three reads it replaces made one by one."""
    site = registered.site
    at = at or timezone.now()
    fingerprint = engine.fingerprint(text)
    together = lookups.check_reads(
        channel_id=site.channel_id,
        external_id=external_id,
        organisation_id=site.organisation_id,
        platform=site.channel.platform,
        handle=handle,
        at=at,
        fingerprint=fingerprint,
    )
    apart = lookups.CheckReads(
        state=lookups.stored_state(site.channel_id, external_id),
        author=lookups.author_record(
            organisation_id=site.organisation_id, platform=site.channel.platform, handle=handle, at=at
        ),
        marks=lookups.fingerprint_marks(site.organisation_id, {fingerprint} if fingerprint else set()),
    )
    assert together == apart
    return together


def test_nothing_known_reads_nothing(blog):
    reads = reads_both_ways(blog, external_id="akismet-unknown", handle="nobody@example.org", text=HAM)
    assert reads == lookups.CheckReads(state=None, author=None, marks=[])
    # An empty handle and a text too short for a fingerprint look nothing up.
    assert reads_both_ways(blog, external_id="", handle="", text="ok") == reads


def test_a_comment_a_moderator_decided_its_author_and_its_spam_mark(blog):
    verdict = check(blog, SPAM)
    item = item_of(blog, verdict)
    review_item(actor=Actor.palabre(blog.site.organisation), item_id=item.pk, action="spam")
    reads = reads_both_ways(blog, external_id=item.external_id, handle="camille@example.org", text=SPAM)
    assert (reads.state.status, reads.state.source, reads.state.action) == ("rejected", "moderator", "spam")
    assert reads.author == lookups.AuthorRecord(approved=0, rejected=1, recent_count=1, merged=False)
    assert reads.marks == [(engine.fingerprint(SPAM), True)]


def test_an_author_with_a_history_and_recent_messages_and_a_ham_mark(blog):
    at = timezone.now()
    actor = Actor.palabre(blog.site.organisation)
    texts = [
        ("Le gâteau au chocolat était délicieux, merci du partage", at - timedelta(minutes=10), "ham"),
        (
            "Vos livraisons arrivent toujours en retard, quelle déception",
            at - timedelta(minutes=50),
            "reject",
        ),
        ("Je reviendrai lire vos articles sur la pâtisserie française", at - timedelta(hours=3), "approve"),
    ]
    for text, written, action in texts:
        verdict = check(blog, text, comment_date_gmt=written.isoformat())
        review_item(actor=actor, item_id=item_of(blog, verdict).pk, action=action)
    reads = reads_both_ways(
        blog, external_id="akismet-new", handle="camille@example.org", text=texts[0][0], at=at
    )
    assert reads.state is None
    # Two approvals (ham counts as one), one rejection; two messages in the hour before `at`.
    assert reads.author == lookups.AuthorRecord(approved=2, rejected=1, recent_count=2, merged=False)
    assert reads.marks == [(engine.fingerprint(texts[0][0]), False)]


def test_a_handle_whose_contact_was_merged(blog):
    check(blog, HAM, author="Lou", email="lou@example.org")
    check(blog, HAM, author="Louise", email="louise@example.org")
    handle = ContactHandle.objects.get(organisation=blog.site.organisation, handle="lou@example.org")
    other = ContactHandle.objects.get(organisation=blog.site.organisation, handle="louise@example.org")
    # merge_contacts moves the handles too; a handle left on the merged contact is what an
    # ingestion racing the merge leaves behind, and must read as merged.
    Contact.objects.filter(pk=handle.contact_id).update(merged_into=other.contact_id)
    reads = reads_both_ways(blog, external_id="akismet-x", handle="lou@example.org", text=HAM)
    assert reads.author.merged is True


def test_one_organisations_authors_and_marks_never_reach_another(blog, make_org, register_site):
    other = register_site(make_org("Maison Martin"), url="https://blog.maison-martin.fr/")
    mine = check(blog, SPAM)
    review_item(actor=Actor.palabre(blog.site.organisation), item_id=item_of(blog, mine).pk, action="spam")
    theirs = check(other, SPAM)  # the same author, the same message, the other organisation
    review_item(actor=Actor.palabre(other.site.organisation), item_id=item_of(other, theirs).pk, action="ham")
    assert MessageFingerprint.objects.filter(fingerprint=engine.fingerprint(SPAM)).count() == 2

    assert mine.guid == theirs.guid  # derived from the same fields

    for registered, spam, trust in ((blog, True, (0, 1)), (other, False, (1, 0))):
        reads = reads_both_ways(
            registered, external_id=f"akismet-{mine.guid}", handle="camille@example.org", text=SPAM
        )
        assert reads.state.action == ("spam" if spam else "ham")
        assert reads.marks == [(engine.fingerprint(SPAM), spam)]
        assert (reads.author.approved, reads.author.rejected) == trust
        assert reads.author.recent_count == 1


def test_run_returns_rows_and_prepares_on_postgresql(blog):
    table = connection.ops.quote_name(SiteRequestCount._meta.db_table)
    sql = f"SELECT site_id, count FROM {table} WHERE site_id = %s ORDER BY minute"
    assert lookups.run(sql, [blog.site.pk]) == []
    limits.KeyRequestCounter().take(blog.site.pk, 100, now=600.0)
    for _ in range(2):
        assert lookups.run(sql, [blog.site.pk]) == [(blog.site.pk, 1)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
        assert any(SiteRequestCount._meta.db_table in text and "ORDER BY minute" in text for text in prepared)


# --- the per-key request counter ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=clock.monotonic, time=time.time))
    return clock


MINUTE = 1_800_000_000 // 60  # a minute number; its first second is MINUTE * 60


def counted(registered, minute: int = MINUTE) -> int:
    row = SiteRequestCount.objects.filter(site=registered.site, minute=minute).first()
    return row.count if row else 0


def test_a_busy_process_claims_about_a_second_of_its_requests_at_once(blog, clock):
    counter = limits.KeyRequestCounter()
    start = MINUTE * 60
    assert counter.take(blog.site.pk, 10_000, now=start) == 0
    assert counted(blog) == 1  # the first request claims one token
    clock.now += 0.01  # 100 requests a second
    assert counter.take(blog.site.pk, 10_000, now=start + 1) == 0
    assert counted(blog) == 1 + 100  # a second of them
    for _ in range(99):
        assert counter.take(blog.site.pk, 10_000, now=start + 2) == 0
    assert counted(blog) == 101  # spent from the block, no write
    clock.now += 0.5  # the block lasted half a second: 200 a second now
    assert counter.take(blog.site.pk, 10_000, now=start + 3) == 0
    assert counted(blog) == 101 + 200


def test_blocks_shrink_near_the_limit_and_every_request_claims_one_token(blog, clock):
    counter = limits.KeyRequestCounter()
    counter.take(blog.site.pk, 100, now=MINUTE * 60)
    sizes = []
    for _ in range(99):
        before = counted(blog)
        assert counter.take(blog.site.pk, 100, now=MINUTE * 60 + 1) == 0
        if counted(blog) != before:
            sizes.append(counted(blog) - before)
    # Each block at most an eighth of what is left, one token each in the last eight.
    assert sizes[0] == (100 - 1) // 8
    assert sizes[-8:] == [1] * 8
    assert counted(blog) == 100 and sum(sizes) == 99


def test_near_the_limit_every_request_writes_and_the_sixth_is_refused(blog, clock):
    counter = limits.KeyRequestCounter()
    for n in range(1, 6):
        assert counter.take(blog.site.pk, 5, now=MINUTE * 60 + 40) == 0
        assert counted(blog) == n
    # The fifth claim reached the limit: this process refuses without asking the database again.
    assert counter.take(blog.site.pk, 5, now=MINUTE * 60 + 40) == 20  # seconds to the next minute
    assert counter.take(blog.site.pk, 5, now=MINUTE * 60 + 59.5) == 1
    assert counted(blog) == 5
    # Another process learns it from its first claim, which gets no token.
    assert limits.KeyRequestCounter().take(blog.site.pk, 5, now=MINUTE * 60 + 41) == 19
    assert counted(blog) == 6


def test_a_new_minute_starts_from_zero_and_forgets_older_ones(blog, clock):
    counter = limits.KeyRequestCounter()
    for minute in (MINUTE, MINUTE + 1):
        for _ in range(5):
            counter.take(blog.site.pk, 5, now=minute * 60)
    assert counter.take(blog.site.pk, 5, now=(MINUTE + 1) * 60 + 1) > 0
    assert counter.take(blog.site.pk, 5, now=(MINUTE + 2) * 60) == 0
    assert dict(SiteRequestCount.objects.filter(site=blog.site).values_list("minute", "count")) == {
        MINUTE + 1: 5,  # the refused request asked nothing: the limit was reached
        MINUTE + 2: 1,
    }
    # Far from the limit too, a minute's first claim forgets the minutes before the last.
    assert counter.take(blog.site.pk, 10_000, now=(MINUTE + 3) * 60) == 0
    assert sorted(SiteRequestCount.objects.filter(site=blog.site).values_list("minute", flat=True)) == [
        MINUTE + 2,
        MINUTE + 3,
    ]


@pytest.mark.parametrize("limit", [5, 100, 600])
def test_two_server_processes_share_one_limit_exactly(blog, clock, limit):
    processes = [limits.KeyRequestCounter(), limits.KeyRequestCounter()]
    answers = []
    for n in range(3 * limit):
        clock.now += 0.001
        answers.append(processes[n % 2].take(blog.site.pk, limit, now=MINUTE * 60 + 30))
    assert answers.count(0) == limit
    assert set(answers) == {0, 30}
    # Once both have been refused, neither asks the database again this minute.
    writes = counted(blog)
    assert [process.take(blog.site.pk, limit, now=MINUTE * 60 + 31) for process in processes] == [29, 29]
    assert counted(blog) == writes


def test_clear_forgets_what_the_process_held(blog, clock):
    counter = limits.KeyRequestCounter()
    counter.take(blog.site.pk, 10_000, now=MINUTE * 60)
    clock.now += 0.01
    counter.take(blog.site.pk, 10_000, now=MINUTE * 60)
    assert counted(blog) == 101
    counter.clear()  # as tests/conftest.py does between tests
    counter.take(blog.site.pk, 10_000, now=MINUTE * 60)
    assert counted(blog) == 102  # a fresh start: one token, the 99 held before are lost
    assert limits.request_counter is not counter and isinstance(
        limits.request_counter, limits.KeyRequestCounter
    )


def test_take_request_counts_with_the_configured_limit(blog, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "3")
    answers = [limits.take_request(blog.site, now=MINUTE * 60 + 45) for _ in range(4)]
    assert answers == [0, 0, 0, 15]
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "0")  # no limit: nothing counted
    assert limits.take_request(blog.site, now=MINUTE * 60 + 45) == 0
    assert counted(blog) == 3  # the fourth was refused without asking: the third reached the limit


# --- the connection a hot statement runs on (PostgreSQL) -----------------------------------------


def _terminate(pid: int) -> None:
    """The server ends that connection's session, as a restart or a pooler would."""
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_server_closed_is_opened_again_by_the_next_requests_statement():
    """Without Django's cursor, the hot statements skip its `SELECT 1` before a request's first
    statement: that statement is the check, and a connection that no longer answers is replaced."""
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    [(first,)] = lookups.run("SELECT pg_backend_pid()", [])
    connection.close_if_unusable_or_obsolete()  # a new request (Django's request_started)
    assert connection.health_check_done is False
    _terminate(first)
    [(second,)] = lookups.run("SELECT pg_backend_pid()", [])
    assert second != first
    assert connection.health_check_done is True  # checked by use: the ORM's next cursor sends no SELECT 1
    # Within a request, once the connection answered, a failure is the statement's: not sent twice.
    _terminate(second)
    with pytest.raises((OperationalError, InterfaceError)):
        lookups.run("SELECT pg_backend_pid()", [])
    connection.close()


@pytest.mark.postgres
def test_the_hot_statements_are_counted_as_djangos_cursor_counts_them(blog, django_assert_num_queries):
    with django_assert_num_queries(1):
        lookups.run("SELECT 1", [])


def test_the_authors_hour_is_counted_only_where_a_per_hour_limit_reads_it(blog):
    """Counting an author's messages of the hour costs the database more as they write more; only
    the policy's per-hour limit reads that count, so a check counts them only when it is on."""
    from palabre.moderation.models import ItemModeration, ModerationPolicy
    from palabre.moderation.services import forget_cached_policy, policy_for

    site = blog.site
    for n in range(2):
        check(blog, f"{HAM} ({n})")
    both = [
        lookups.check_reads(
            channel_id=site.channel_id,
            external_id="akismet-new",
            organisation_id=site.organisation_id,
            platform=site.channel.platform,
            handle="camille@example.org",
            at=timezone.now(),
            fingerprint=engine.fingerprint(HAM),
            count_recent=counted,
        )
        for counted in (True, False)
    ]
    assert [reads.author.recent_count for reads in both] == [2, 0]
    assert both[0].author.approved == both[1].author.approved and both[0].state == both[1].state
    assert policy_for(site.organisation).rate_limit_per_hour == 0  # off: the third is not held for it
    third = item_of(blog, check(blog, f"{HAM} (2)"))
    codes = [r["code"] for r in ItemModeration.objects.get(item=third).last_decision.reasons]
    assert "rate_limited" not in codes

    ModerationPolicy.objects.filter(organisation=site.organisation).update(rate_limit_per_hour=3)
    forget_cached_policy(site.organisation_id)
    fourth = item_of(blog, check(blog, f"{HAM} (3)"))
    decision = ItemModeration.objects.get(item=fourth).last_decision
    (reason,) = [r for r in decision.reasons if r["code"] == "rate_limited"]
    assert reason["params"] == {"count": 4, "limit": 3}
