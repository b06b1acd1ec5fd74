"""A contest from its rules to its winners, through Palabre's services, and checked from outside."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from palabre.conversations.models import Contact
from palabre.conversations.services import IncomingAuthor, merge_contacts
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.programmes import services
from palabre.programmes.draw import commitment, verify
from palabre.programmes.models import ContestStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def brand(org, make_channel):
    return make_channel(org, "site", handle="maison-oslo")


@pytest.fixture
def contest_post(brand, ingest):
    return ingest(
        brand, "post-1", kind="post", author="maison-oslo", text="Concours : gagnez le canapé Oslo !"
    )


def _comment(ingest, brand, author, text, *, minutes, followers=None, parent="post-1", raw=None):
    return ingest(
        brand,
        f"c-{author}-{minutes}",
        kind="comment",
        author=IncomingAuthor(handle=author, display_name=author, followers=followers),
        text=text,
        parent=parent,
        created_at=timezone.now() - timedelta(days=2) + timedelta(minutes=minutes),
        raw=raw or {},
    )


@pytest.fixture
def contest(owner_actor, contest_post, brand, ingest):
    contest = services.create_contest(
        actor=owner_actor,
        title="Le canapé Oslo à gagner",
        rules="Un commentaire par personne. Tirage vérifiable.",
        post_ids=[contest_post.pk],
        closes_at=timezone.now() + timedelta(days=1),
        winners=2,
    )
    # Regular customers: they also write to the brand about other things.
    for n in range(3):
        _comment(ingest, brand, "camille", f"Question sur ma commande {n}", minutes=n, parent="")
    _comment(
        ingest, brand, "camille", "Je participe ! On a l'Oslo depuis deux ans.", minutes=10, followers=180
    )
    _comment(
        ingest, brand, "camille", "Et je participe encore !", minutes=11, followers=180
    )  # one entry only
    _comment(ingest, brand, "marc.durand", "Question : livrez-vous à Lyon ?", minutes=3, parent="")
    _comment(ingest, brand, "marc.durand", "Je participe 🙂", minutes=12, followers=250)
    # Contest hunters: lookalike throw-away accounts, nothing else to say.
    for n in (1, 2, 3):
        _comment(ingest, brand, f"julie.concours{n}", f"Je participe @ami{n}", minutes=20 + n, followers=0)
    _comment(
        ingest,
        brand,
        "nouveau",
        "Count me in!",
        minutes=30,
        followers=2,
        raw={"account": {"created_at": (timezone.now() - timedelta(days=5)).isoformat()}},
    )
    # The brand's own answer under its post is no entry.
    _comment(ingest, brand, "maison-oslo", "Merci à tous, tirage demain !", minutes=40)
    return contest


def _close_and_draw(actor, contest, clock):
    clock.shift(timedelta(days=2))
    services.close_contest(actor=actor, contest=contest)
    return services.draw_contest(actor=actor, contest=contest)


def test_entries_are_one_per_person_scored_and_the_brand_left_out(owner_actor, contest):
    assert services.collect_entries(actor=owner_actor, contest=contest) == 6
    entries = {e.reference: e for e in contest.entries.all()}
    assert set(entries) == {
        "site:camille",
        "site:marc.durand",
        "site:julie.concours1",
        "site:julie.concours2",
        "site:julie.concours3",
        "site:nouveau",
    }
    assert entries["site:camille"].item.text.startswith("Je participe ! On a")  # the first entry
    flagged = {ref for ref, e in entries.items() if e.hunter_score >= 0.5}
    assert flagged == {"site:julie.concours1", "site:julie.concours2", "site:julie.concours3", "site:nouveau"}
    reasons = {r["signal"] for r in entries["site:nouveau"].hunter_reasons}
    assert "Account created 3 days ago" in entries["site:nouveau"].reasons_in_words()
    assert reasons == {"no_interaction", "new_account", "empty_account", "generic"}


def test_a_person_with_two_accounts_enters_once(owner_actor, contest, ingest, brand):
    _comment(ingest, brand, "camille_pro", "Je participe aussi avec ce compte", minutes=50)
    services.collect_entries(actor=owner_actor, contest=contest)
    assert contest.entries.count() == 7
    camille, second = (
        Contact.objects.get(organisation=contest.organisation, handles__handle=h)
        for h in ("camille", "camille_pro")
    )
    merge_contacts(actor=owner_actor, target=camille, sources=[second])
    services.collect_entries(actor=owner_actor, contest=contest)
    assert contest.entries.count() == 6
    assert contest.entries.get(contact=camille).reference == "site:camille"


def test_from_rules_to_winners_anyone_can_check(owner_actor, contest, clock):
    published_before = services.published_record(contest)
    assert published_before["seed"] is None and published_before["entries"] is None
    assert published_before["commitment"] == contest.commitment
    services.collect_entries(actor=owner_actor, contest=contest)
    for entry in contest.entries.filter(hunter_score__gte=0.5):
        services.review_entry(actor=owner_actor, entry=entry, keep=False, note="Comptes en série")
    with pytest.raises(ValidationError, match="still open"):
        services.close_contest(actor=owner_actor, contest=contest)
    drawn = _close_and_draw(owner_actor, contest, clock)
    assert drawn.status == ContestStatus.DRAWN
    assert sorted(drawn.winners) == ["site:camille", "site:marc.durand"]
    record = services.published_record(drawn)
    assert record["entries"] == ["site:camille", "site:marc.durand"]
    assert commitment(record["seed"]) == record["commitment"]
    check = verify(
        commitment_published=record["commitment"],
        digest_published=record["entries_digest"],
        seed=record["seed"],
        entries=record["entries"],
        winners_announced=record["winners"],
    )
    assert check.ok, check.findings
    actions = list(
        AuditEvent.objects.filter(organisation=contest.organisation).values_list("action", flat=True)
    )
    for action in (
        "contest_created",
        "entries_collected",
        "entry_reviewed",
        "contest_closed",
        "contest_drawn",
    ):
        assert f"programmes.{action}" in actions


def test_an_exclusion_needs_a_reason_and_a_closed_contest_is_frozen(owner_actor, contest, clock):
    services.collect_entries(actor=owner_actor, contest=contest)
    entry = contest.entries.get(reference="site:nouveau")
    with pytest.raises(ValidationError) as refused:
        services.review_entry(actor=owner_actor, entry=entry, keep=False)
    assert "review_note" in refused.value.message_dict
    clock.shift(timedelta(days=2))
    services.close_contest(actor=owner_actor, contest=contest)
    with pytest.raises(ValidationError, match="frozen"):
        services.review_entry(actor=owner_actor, entry=entry, keep=False, note="trop tard")
    with pytest.raises(ValidationError, match="frozen"):
        services.collect_entries(actor=owner_actor, contest=contest)


def test_an_exclusion_note_with_a_nul_character_is_refused_and_the_entry_unchanged(owner_actor, contest):
    services.collect_entries(actor=owner_actor, contest=contest)
    entry = contest.entries.get(reference="site:nouveau")
    with pytest.raises(ValidationError) as refused:
        services.review_entry(actor=owner_actor, entry=entry, keep=False, note="x\x00y")
    assert "review_note" in refused.value.message_dict
    entry.refresh_from_db()
    assert entry.review_note == ""


def test_entries_changed_behind_the_services_back_stop_the_draw(owner_actor, contest, clock):
    services.collect_entries(actor=owner_actor, contest=contest)
    clock.shift(timedelta(days=2))
    services.close_contest(actor=owner_actor, contest=contest)
    contest.entries.filter(reference="site:nouveau").delete()
    with pytest.raises(ValidationError, match="changed since the close"):
        services.draw_contest(actor=owner_actor, contest=contest)


def test_another_organisation_reaches_nothing(contest, make_org, owner_of, contest_post):
    other = make_org("Concurrent")
    outsider = Actor.for_user(owner_of(other), other)
    with pytest.raises(NotInOrganisation):
        services.get_contest(actor=outsider, contest_id=contest.pk)
    with pytest.raises(NotInOrganisation):
        services.collect_entries(actor=outsider, contest=contest)
    with pytest.raises(NotInOrganisation):
        services.create_contest(
            actor=outsider,
            title="Vol de post",
            rules="",
            post_ids=[contest_post.pk],
            closes_at=timezone.now() + timedelta(days=1),
        )


def test_a_moderator_cannot_run_a_contest(contest, make_member, org):
    moderator = make_member(org, "moderator").user
    with pytest.raises(PermissionDenied):
        services.collect_entries(actor=Actor.for_user(moderator, org), contest=contest)


def test_bad_contest_fields_are_named(owner_actor, contest_post):
    with pytest.raises(ValidationError) as refused:
        services.create_contest(
            actor=owner_actor, title=" ", rules="", post_ids=[], closes_at=timezone.now(), winners=0
        )
    assert set(refused.value.message_dict) == {"title", "winners_wanted", "posts", "closes_at"}


def test_the_public_record_never_shows_an_entrants_address(
    owner_actor, contest, ingest, brand, clock, client
):
    """On the site and e-mail channels a commenter's handle is their e-mail address (the widget's,
    Akismet's) or, for Akismet without one, their IP address: published as the entry's reference,
    the public draw page (for anyone with its link) listed them. Such an entrant is listed as their
    contact number instead; a public handle stays as it is."""
    _comment(ingest, brand, "Lea.Martin@example.org", "Je participe, merci !", minutes=50)
    _comment(ingest, brand, "203.0.113.7", "Moi aussi je participe", minutes=51)
    _comment(ingest, brand, "2001:db8::7", "Et moi !", minutes=52)
    services.collect_entries(actor=owner_actor, contest=contest)
    drawn = _close_and_draw(owner_actor, contest, clock)
    record = services.published_record(drawn)
    hidden = ("Lea.Martin@example.org", "lea.martin@example.org", "203.0.113.7", "2001:db8::7")
    published = str(record) + client.get(f"/programmes/draws/{drawn.commitment}/").content.decode()
    assert not [value for value in hidden if value in published]
    lea = Contact.objects.get(
        organisation=contest.organisation, handles__handle__iexact="lea.martin@example.org"
    )
    assert f"site:contact-{lea.pk}" in record["entries"]
    assert "site:camille" in record["entries"]
    assert verify(
        commitment_published=record["commitment"],
        digest_published=record["entries_digest"],
        seed=record["seed"],
        entries=record["entries"],
        winners_announced=record["winners"],
    ).ok
