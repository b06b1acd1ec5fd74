"""Capabilities said honestly everywhere: a channel that is not connected (no connector, no
credentials, never authorised on the platform, a token refused) says so with its next step on the
channels and health pages, offers no reply box in the inbox, and is refused by publishing's
readiness before approval; the inbox offers only the moderation actions the platform has."""

from __future__ import annotations

import pytest
from django.urls import reverse

from palabre.connectors.base import (
    Capability,
    Connector,
    CredentialField,
    FieldKind,
    OAuthSpec,
    TokenExpired,
)
from palabre.connectors.connection import connection_of
from palabre.connectors.services import record_failure
from palabre.inbox.models import Conversation
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor, set_channel_credentials
from palabre.publishing import readiness


class AuthorisedForum(Connector):
    """A forum reached through OAuth, which hides and deletes but cannot ban nor show again."""

    platform = "discourse"
    capabilities = frozenset(
        {Capability.PULL, Capability.REPLY, Capability.PUBLISH, Capability.HIDE, Capability.DELETE}
    )
    credential_fields = (
        CredentialField("client_id", "Client id", required=True),
        CredentialField("client_secret", "Client secret", kind=FieldKind.SECRET, required=True),
        CredentialField("access_token", "Access token", kind=FieldKind.SECRET),
    )
    oauth = OAuthSpec(
        authorize_url="https://forum.example/oauth/authorize", token_url="https://forum.example/oauth/token"
    )


@pytest.fixture
def oauth_forum(use_connector, org, make_channel):
    use_connector(AuthorisedForum)
    return make_channel(
        org,
        "discourse",
        handle="forum.maison-dupont.fr",
        name="Forum",
        credentials={"client_id": "a", "client_secret": "b"},
    )


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _authorise(channel):
    set_channel_credentials(
        actor=Actor.palabre(channel.organisation),
        channel=channel,
        credentials={"client_id": "a", "client_secret": "b", "access_token": "tok"},
    )
    channel.refresh_from_db()


def _thread(channel, ingest, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = ingest(channel, "topic-1", text="Ma commande n'est jamais arrivée", author="camille")
    return Conversation.objects.get(root_id=item.pk), item


def test_the_channels_and_health_pages_say_not_connected_with_the_next_step(
    client, owner, oauth_forum, english
):
    client.force_login(owner)
    for url in (reverse("channels"), reverse("connectors:health")):
        page = client.get(url).content.decode()
        row = page[page.index("<strong>Forum</strong>") :]
        row = row[: row.index("</tr>")]
        assert 'data-connection="not_authorised"' in row
        assert "Not connected" in row and "the channel with the platform" in row
    _authorise(oauth_forum)
    page = client.get(reverse("channels")).content.decode()
    row = page[page.index("<strong>Forum</strong>") :]
    assert "data-connection" not in row[: row.index("</tr>")]


def test_a_refused_token_asks_for_a_reconnection_in_french(client, owner, oauth_forum):
    _authorise(oauth_forum)
    record_failure(oauth_forum, TokenExpired("401 from the platform"))
    assert connection_of(oauth_forum).reason == "reconnect"
    client.force_login(owner)
    page = client.get(reverse("connectors:health"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Non connecté" in page
    assert "reconnectez-le avec la plateforme" in page


def test_the_inbox_offers_no_reply_box_on_a_channel_not_connected(
    client, owner, oauth_forum, ingest, django_capture_on_commit_callbacks, english
):
    conversation, _item = _thread(oauth_forum, ingest, django_capture_on_commit_callbacks)
    client.force_login(owner)
    page = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'id="reply-form"' not in page
    assert 'data-connection="not_authorised"' in page
    assert "until the channel is connected" in page
    assert reverse("connectors:channel", args=[oauth_forum.pk]) in page
    _authorise(oauth_forum)
    page = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'id="reply-form"' in page


def test_the_inbox_offers_only_the_moderation_actions_the_platform_has(
    client, org, make_member, oauth_forum, ingest, django_capture_on_commit_callbacks, english
):
    _authorise(oauth_forum)
    conversation, item = _thread(oauth_forum, ingest, django_capture_on_commit_callbacks)
    client.force_login(make_member(org, Role.MODERATOR).user)
    page = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'data-item-action="hide"' in page and 'data-item-action="delete"' in page
    assert 'data-item-action="ban_author"' not in page and 'data-item-action="unhide"' not in page
    assert reverse("connectors:item_action", args=[item.pk, "hide"]) in page


def test_publishing_refuses_a_channel_not_connected_before_approval(oauth_forum, english):
    (finding,) = readiness.problems(oauth_forum)
    assert finding.params["reason"] == "not_connected"
    assert "Not connected" in finding.explanation
    _authorise(oauth_forum)
    assert readiness.problems(oauth_forum) == []
    (finding,) = readiness.problems(oauth_forum, [{"mime_type": "image/png"}])
    assert finding.params["reason"] == "no_media"


class MessagingForum(AuthorisedForum):
    capabilities = AuthorisedForum.capabilities | {Capability.PRIVATE_REPLY}


def test_a_private_reply_is_offered_only_where_the_platform_has_it(
    client, owner, use_connector, oauth_forum, ingest, django_capture_on_commit_callbacks, english
):
    from palabre.connectors.models import ActionKind, OutboundAction

    _authorise(oauth_forum)
    conversation, item = _thread(oauth_forum, ingest, django_capture_on_commit_callbacks)
    client.force_login(owner)
    url = reverse("inbox:thread", args=[conversation.pk])
    assert 'name="private"' not in client.get(url).content.decode()
    use_connector(MessagingForum)
    assert 'name="private"' in client.get(url).content.decode()
    answer = client.post(
        reverse("inbox:reply", args=[conversation.pk]),
        {
            "text": "Bonjour Camille, je vous écris en privé pour le suivi.",
            "idempotency_key": "private-0001",
            "private": "on",
            "confirmed": "true",  # past the personalisation check's warnings, if any
        },
    )
    assert answer.status_code == 302
    (action,) = OutboundAction.objects.filter(item=item)
    assert action.kind == ActionKind.PRIVATE_REPLY
