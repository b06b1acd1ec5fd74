"""The programme pages through Django's test client: French, errors kept, other organisations 404."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from palabre.conversations.services import IncomingAuthor
from palabre.programmes import services
from palabre.programmes.models import Contest, Poll

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def post(org, make_channel, ingest):
    brand = make_channel(org, "site", handle="maison-oslo", name="Blog Maison Oslo")
    post = ingest(brand, "post-1", kind="post", author="maison-oslo", text="Quelle couleur pour l'Oslo ?")
    for n, (author, text) in enumerate([("camille", "Vert sapin !"), ("marc", "2"), ("lea", "🌲")]):
        ingest(
            brand,
            f"r{n}",
            kind="comment",
            author=IncomingAuthor(handle=author),
            text=text,
            parent="post-1",
            created_at=timezone.now() - timedelta(hours=3 - n),
        )
    return post


@pytest.fixture
def french(client, owner):
    client.force_login(owner)
    client.cookies["django_language"] = "fr"
    return client


def _local(moment) -> str:
    return timezone.localtime(moment, timezone=ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


def test_a_contest_created_in_french_then_drawn_and_checked_in_public(french, post, clock):
    page = french.get("/programmes/")
    assert page.status_code == 200
    assert "Nouveau concours" in page.content.decode()
    created = french.post(
        "/programmes/",
        {
            "form": "contest",
            "contest-title": "L'Oslo à gagner",
            "contest-rules": "Un commentaire par personne.",
            "contest-posts": [post.pk],
            "contest-closes_at": _local(timezone.now() + timedelta(hours=1)),
            "contest-winners": "1",
        },
    )
    contest = Contest.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/programmes/contests/{contest.pk}/"
    assert french.post(f"/programmes/contests/{contest.pk}/collect/").status_code == 302
    detail = french.get(f"/programmes/contests/{contest.pk}/").content.decode()
    assert "3 participations" in detail and contest.commitment in detail
    clock.shift(timedelta(hours=2))
    french.post(f"/programmes/contests/{contest.pk}/close/")
    french.post(f"/programmes/contests/{contest.pk}/draw/")
    contest.refresh_from_db()
    assert len(contest.winners) == 1
    announce = french.post(f"/programmes/contests/{contest.pk}/announce/")
    assert announce.status_code == 302 and "/publishing/posts/" in announce["Location"]
    # The public page needs no account; its record is what `palabre contest verify` reads.
    french.logout()
    public = french.get(f"/programmes/draws/{contest.commitment}/")
    assert public.status_code == 200 and contest.seed_revealed in public.content.decode()
    record = french.get(f"/programmes/draws/{contest.commitment}/?format=json").json()
    assert record["winners"] == contest.winners and record["seed"] == contest.seed_revealed


def test_a_refused_contest_keeps_what_was_typed_and_names_the_field(french, post):
    refused = french.post(
        "/programmes/",
        {
            "form": "contest",
            "contest-title": "Grand jeu de l'été",
            "contest-posts": [post.pk],
            "contest-closes_at": _local(timezone.now() - timedelta(days=1)),
            "contest-winners": "1",
        },
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "La clôture doit être dans le futur." in body
    assert 'value="Grand jeu de l&#x27;été"' in body
    assert not Contest.objects.exists()


def test_a_poll_counted_and_its_result_drafted(french, post):
    created = french.post(
        "/programmes/",
        {
            "form": "poll",
            "poll-question": "Quelle couleur ?",
            "poll-post": post.pk,
            "poll-options": "🌲 Vert sapin\nBleu nuit\nRouge brique",
            "poll-closes_at": _local(timezone.now() + timedelta(days=1)),
        },
    )
    poll = Poll.objects.get()
    assert created.status_code == 302
    assert poll.options[0] == {"label": "Vert sapin", "emoji": "🌲"}
    french.post(f"/programmes/polls/{poll.pk}/count/")
    page = french.get(f"/programmes/polls/{poll.pk}/").content.decode()
    assert "3 votants" in page
    assert "67\u00a0%" in page  # French typography: a no-break space before %
    drafted = french.post(f"/programmes/polls/{poll.pk}/announce/")
    assert drafted.status_code == 302


def test_another_organisation_gets_404_and_a_moderator_403(
    client, post, owner_actor, make_org, owner_of, make_member, org
):
    contest = services.create_contest(
        actor=owner_actor,
        title="Concours",
        rules="",
        post_ids=[post.pk],
        closes_at=timezone.now() + timedelta(days=1),
    )
    other = make_org("Concurrent")
    client.force_login(owner_of(other))
    assert client.get(f"/programmes/contests/{contest.pk}/").status_code == 404
    assert client.post(f"/programmes/contests/{contest.pk}/collect/").status_code == 404
    client.force_login(make_member(org, "moderator").user)
    assert client.get(f"/programmes/contests/{contest.pk}/").status_code == 200
    assert client.post(f"/programmes/contests/{contest.pk}/collect/").status_code == 403
    assert client.get("/programmes/draws/not-a-commitment/").status_code == 404


@pytest.mark.parametrize(
    ("zone", "when"),
    [
        ("Europe/Paris", "0001-01-01T00:30"),
        ("America/Los_Angeles", "9999-12-31T23:59"),
        ("UTC", "3500-01-01T00:00"),
    ],
)
def test_a_closing_time_beyond_the_years_is_refused_naming_it(french, org, post, zone, when):
    """Year 1 just after midnight in Paris is year 0 in UTC, December 9999 in Los Angeles year
    10000: a server error when stored. Refused with the field named, what was typed kept."""
    org.time_zone = zone
    org.save(update_fields=["time_zone"])
    answer = french.post(
        "/programmes/",
        {
            "form": "contest",
            "contest-title": "L'Oslo à gagner",
            "contest-posts": [post.pk],
            "contest-closes_at": when,
            "contest-winners": "1",
        },
    )
    assert answer.status_code == 400
    content = answer.content.decode()
    assert "Donnez un moment entre les années 1970 et 2999." in content
    assert "L&#x27;Oslo à gagner" in content or "L'Oslo à gagner" in content
    assert not Contest.objects.exists()
