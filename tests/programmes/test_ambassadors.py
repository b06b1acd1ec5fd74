"""Ambassadors share the brand's approved posts on their own accounts, never without them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from palabre.connectors.base import Capability, Connector, Delivered
from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector
from palabre.orgs.services import Actor, approve_spokesperson_channel, create_channel
from palabre.programmes import ambassadors
from palabre.programmes.models import AmbassadorShare
from palabre.publishing.services import approve_post, create_post, submit_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_french():
    with translation.override("fr"):
        yield


class ForumPublisher(Connector):
    """A forum the brand and its employees post on, for the test: publishing is noted, not sent."""

    platform = "discourse"
    capabilities = frozenset({Capability.PUBLISH})

    def publish(self, channel, *, text, media=(), idempotency_key):
        return Delivered("topic-1", "https://forum.example/t/1")


@pytest.fixture(autouse=True)
def forum_connector():
    previous = connector_class_for("discourse")
    register_connector("discourse", ForumPublisher)
    yield
    if previous is None:
        unregister_connector("discourse")
    else:
        register_connector("discourse", previous)


@pytest.fixture
def brand_post(org, owner_actor, make_channel):
    blog = make_channel(org, "discourse", handle="forum.maison.example")
    post = create_post(
        actor=owner_actor,
        title="Atelier portes ouvertes",
        variants=[
            {"channel": blog.pk, "text": "Portes ouvertes de l'atelier de Nantes samedi, venez voir l'Oslo !"}
        ],
    )
    submit_post(actor=owner_actor, post=post)
    return approve_post(actor=owner_actor, post=post, acknowledge_warnings=True)


@pytest.fixture
def employee(org, make_member, owner_actor):
    user = make_member(org, "contributor", username="lea").user
    actor = Actor.for_user(user, org)
    channel = create_channel(actor=actor, platform="discourse", handle="lea", name="Léa", spokesperson=True)
    approve_spokesperson_channel(actor=owner_actor, channel=channel)
    return actor, channel


def test_an_employee_opts_in_and_shares_with_the_disclosure_as_their_own_draft(employee, brand_post):
    actor, channel = employee
    assert not ambassadors.offers(actor).exists()  # nothing is offered before opting in
    ambassadors.opt_in(actor=actor, channel_id=channel.pk, disclosure="  #collaborateur  ")
    assert list(ambassadors.offers(actor)) == [brand_post]
    shared = ambassadors.share(actor=actor, post_id=brand_post.pk)
    draft = shared.draft
    assert draft.created_by == actor.user and draft.status == "draft"
    (variant,) = draft.variants.all()
    assert variant.channel == channel
    assert variant.text.endswith("\n\n#collaborateur") and variant.text.startswith("Portes ouvertes")
    assert not ambassadors.offers(actor).exists()  # shared once
    ambassadors.opt_out(actor=actor)
    assert ambassadors.ambassador_of(actor) is None


def test_nobody_shares_in_an_ambassadors_name(employee, brand_post, owner_actor, org, owner):
    actor, channel = employee
    ambassadors.opt_in(actor=actor, channel_id=channel.pk, disclosure="#collaborateur")
    # The owner is no ambassador: sharing asks them to opt in with their own account.
    with pytest.raises(PermissionDenied):
        ambassadors.share(actor=Actor.for_user(owner, org), post_id=brand_post.pk)
    # Nor can anyone opt in with somebody else's account.
    with pytest.raises(ValidationError) as refused:
        ambassadors.opt_in(actor=Actor.for_user(owner, org), channel_id=channel.pk, disclosure="#boss")
    assert "channel" in refused.value.message_dict
    assert not AmbassadorShare.objects.exists()


def test_an_unapproved_account_or_no_disclosure_is_refused(org, make_member):
    user = make_member(org, "contributor", username="hugo").user
    actor = Actor.for_user(user, org)
    pending = create_channel(actor=actor, platform="discourse", handle="hugo", name="Hugo", spokesperson=True)
    with pytest.raises(ValidationError) as refused:
        ambassadors.opt_in(actor=actor, channel_id=pending.pk, disclosure=" ")
    assert set(refused.value.message_dict) == {"channel", "disclosure"}


def test_the_ambassador_page_in_french(client, employee, brand_post):
    actor, channel = employee
    client.force_login(actor.user)
    client.cookies["django_language"] = "fr"
    page = client.get("/programmes/ambassadors/").content.decode()
    assert "Devenir ambassadeur" in page
    joined = client.post("/programmes/ambassadors/", {"channel": channel.pk, "disclosure": "#collaboratrice"})
    assert joined.status_code == 302
    page = client.get("/programmes/ambassadors/").content.decode()
    assert "Atelier portes ouvertes" in page
    shared = client.post(f"/programmes/ambassadors/share/{brand_post.pk}/")
    assert shared.status_code == 302 and "/publishing/posts/" in shared["Location"]


def test_a_contributor_connects_their_own_account_only(client, org, make_member):
    from palabre.orgs.models import Channel

    user = make_member(org, "contributor", username="ines").user
    client.force_login(user)
    page = client.get("/channels/new/")
    assert page.status_code == 200
    created = client.post(
        "/channels/new/",
        {"platform": "discourse", "handle": "ines", "name": "Inès", "spokesperson": ""},  # unticked: forced
    )
    assert created.status_code == 302
    channel = Channel.objects.get(handle="ines")
    assert channel.kind == Channel.Kind.SPOKESPERSON and channel.spokesperson == user
    assert channel.spokesperson_approved_at is None  # an owner still has to approve it
    client.force_login(make_member(org, "moderator").user)
    assert client.get("/channels/new/").status_code == 403
