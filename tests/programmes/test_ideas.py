"""Ideas from the community, from suggestions to the answer each person gets under their message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from palabre.connectors.models import OutboundAction
from palabre.conversations.services import IncomingAuthor
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.programmes import ideas
from palabre.programmes.models import Idea, IdeaStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_french():
    with translation.override("fr"):
        yield


@pytest.fixture
def community(org, make_channel, ingest):
    # Connected (a token): the outbox queues nothing on a channel that is not.
    blog = make_channel(
        org,
        "mastodon",
        handle="maison@mastodon.example",
        credentials={"access_token": "FAKE-token", "api_base_url": "https://mastodon.example"},
    )
    now = timezone.now()

    def say(external_id, author, text, *, parent="", hours=5):
        return ingest(
            blog,
            external_id,
            kind="comment",
            author=IncomingAuthor(handle=author, display_name=author.title()),
            text=text,
            parent=parent,
            created_at=now - timedelta(hours=hours),
        )

    say("s1", "camille", "Ce serait bien d'avoir l'Oslo en velours")
    say("s2", "marc", "Faites un Oslo en velours vert !")
    say("s3", "lea", "Vous devriez livrer en Belgique")
    say("r1", "paul", "+1", parent="s1", hours=4)
    say("r2", "nina", "Moi aussi !", parent="s1", hours=4)
    say("r3", "marc", "+1", parent="s1", hours=4)  # already counted as a suggester
    say("q1", "hugo", "Ma commande est en retard depuis 3 semaines")
    return blog


def test_suggestions_become_ideas_with_their_supporters(owner_actor, community):
    summary = ideas.collect_ideas(actor=owner_actor)
    assert summary == {"suggestions": 3, "ideas_created": 2, "supports": 3}
    velvet, belgium = Idea.objects.order_by("-supporters")
    assert "velours" in velvet.title and velvet.supporters == 4  # camille, marc, paul, nina
    assert "Belgique" in belgium.title and belgium.supporters == 1
    # Read again: nothing filed twice.
    assert ideas.collect_ideas(actor=owner_actor) == {"suggestions": 0, "ideas_created": 0, "supports": 0}


def test_a_later_suggestion_joins_the_idea_of_its_theme(owner_actor, community, ingest):
    ideas.collect_ideas(actor=owner_actor)
    ingest(
        community,
        "s4",
        kind="comment",
        author="zoe",
        text="Pourquoi ne pas un Oslo en velours côtelé ?",
        created_at=timezone.now() - timedelta(hours=1),
    )
    ideas.collect_ideas(actor=owner_actor)
    assert Idea.objects.count() == 2
    assert Idea.objects.get(title__contains="velours").suggestions.filter(item__external_id="s4").exists()


def test_each_person_who_asked_is_answered_once_under_their_message(owner_actor, community):
    ideas.collect_ideas(actor=owner_actor)
    velvet = Idea.objects.get(title__contains="velours")
    with pytest.raises(ValidationError):
        ideas.announce_status(actor=owner_actor, idea=velvet)  # no status yet
    ideas.set_status(actor=owner_actor, idea=velvet, status=IdeaStatus.PLANNED)
    assert ideas.announce_status(actor=owner_actor, idea=velvet) == {"queued": 4, "impossible": 0}
    answers = {a.item.external_id: a.text for a in OutboundAction.objects.select_related("item")}
    assert set(answers) == {"s1", "s2", "r1", "r2"}  # marc once, under his suggestion
    assert answers["s1"].startswith(
        "Bonjour Camille, vous avez suggéré «\u202fCe serait bien d'avoir l'Oslo en velours\u202f»"
    )
    assert "c’est prévu" in answers["s1"]
    assert answers["r1"].startswith("Bonjour Paul, à propos de l’idée que vous avez soutenue")
    # Announcing again the same status sends nothing new.
    ideas.announce_status(actor=owner_actor, idea=velvet)
    assert OutboundAction.objects.count() == 4


def test_another_organisation_cannot_touch_an_idea(owner_actor, community, make_org, owner_of):
    ideas.collect_ideas(actor=owner_actor)
    idea = Idea.objects.first()
    other = make_org("Concurrent")
    outsider = Actor.for_user(owner_of(other), other)
    with pytest.raises(NotInOrganisation):
        ideas.get_idea(actor=outsider, idea_id=idea.pk)
    with pytest.raises(NotInOrganisation):
        ideas.set_status(actor=outsider, idea=idea, status=IdeaStatus.DECLINED)
    assert ideas.collect_ideas(actor=outsider)["suggestions"] == 0


def test_the_ideas_page_in_french(client, owner, community, owner_actor):
    ideas.collect_ideas(actor=owner_actor)
    client.force_login(owner)
    client.cookies["django_language"] = "fr"
    page = client.get("/programmes/ideas/").content.decode()
    assert "Idées de la communauté" in page and "4 personnes" in page
    idea = Idea.objects.get(title__contains="Belgique")
    client.post(f"/programmes/ideas/{idea.pk}/status/", {"status": "declined"})
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.DECLINED
    announced = client.post(f"/programmes/ideas/{idea.pk}/announce/")
    assert announced.status_code == 302
    assert "pas pour l’instant" in OutboundAction.objects.get(item__external_id="s3").text


def test_a_collection_groups_a_bounded_number_of_short_texts(
    owner_actor, org, make_channel, ingest, monkeypatch
):
    """Grouping by theme costs time and memory in the square of the texts (2,000 suggestions of
    twenty made-up words: a minute of CPU and 1.4 GB, in the request): anyone commenting could fill
    it. A collection now files MAX_NEW new suggestions (the next ones at the next collection),
    compares them with the MAX_FILED latest filed ones, on their first GROUPED_CHARS characters."""
    monkeypatch.setattr(ideas, "MAX_NEW", 3, raising=False)
    monkeypatch.setattr(ideas, "MAX_FILED", 2, raising=False)
    grouped: list[list[str]] = []
    real = ideas.group_by_theme

    def recording(texts):
        grouped.append(list(texts))
        return real(texts)

    monkeypatch.setattr(ideas, "group_by_theme", recording)
    blog = make_channel(org, "mastodon", handle="maison@mastodon.example")
    now = timezone.now()
    for n in range(7):
        ingest(
            blog,
            f"s{n}",
            kind="comment",
            author=IncomingAuthor(handle=f"client{n}"),
            text=f"Ce serait bien d'avoir l'Oslo en velours {n} " + "très " * 2000,
            created_at=now - timedelta(hours=10 - n),
        )
    counts = [ideas.collect_ideas(actor=owner_actor)["suggestions"] for _ in range(3)]
    assert counts == [3, 3, 1]  # every suggestion filed, a few at a time
    assert [len(texts) for texts in grouped] == [3, 5, 3]  # the new ones and at most 2 filed
    assert max(len(text) for texts in grouped for text in texts) <= ideas.GROUPED_CHARS
