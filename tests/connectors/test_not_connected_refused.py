"""The outbox refuses what could only fail: a reply, a private reply, a publication or a
moderation action on a channel that is not connected (`connectors.connection`), naming the
channel, the reason and the next step, in the reader's language; the API answers 422."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from palabre.connectors import services
from palabre.connectors.connection import connection_of
from palabre.connectors.models import OutboundAction
from palabre.connectors.services.pacing import sync_for
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token


def _refused_credentials(channel) -> None:
    """The platform refused the channel's credentials at its last call (an expired token)."""
    sync = sync_for(channel)
    sync.last_error_at = timezone.now()
    sync.last_error_code = "token_expired"
    sync.last_error = "401: the access token is invalid"
    sync.save()


ASKS = {
    "reply": lambda actor, item: services.queue_reply(actor=actor, item=item, text="Bonjour"),
    "private_reply": lambda actor, item: services.queue_private_reply(actor=actor, item=item, text="Bonjour"),
    "publication": lambda actor, item: services.queue_publication(
        actor=actor,
        channel=item.channel,
        text="Soldes",
        idempotency_key=f"soldes-{OutboundAction.objects.count()}",
    ),
    "hide": lambda actor, item: services.queue_hide(actor=actor, item=item),
    "unhide": lambda actor, item: services.queue_unhide(actor=actor, item=item),
    "delete": lambda actor, item: services.queue_delete(actor=actor, item=item),
    "ban_author": lambda actor, item: services.queue_ban_author(actor=actor, item=item),
}


@pytest.mark.parametrize("ask", ASKS)
def test_nothing_is_queued_on_a_channel_whose_credentials_were_refused(
    counting, owner_actor, forum_item, ask
):
    ASKS[ask](owner_actor, forum_item)  # connected: queued
    assert OutboundAction.objects.count() == 1
    _refused_credentials(forum_item.channel)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        ASKS[ask](owner_actor, forum_item)
    [message] = refused.value.message_dict["channel"]
    assert message == (
        "This channel is not connected. The platform refused the channel's credentials: enter new ones."
    )
    assert OutboundAction.objects.count() == 1


def test_the_refusal_is_in_french_too(counting, owner_actor, forum_item):
    _refused_credentials(forum_item.channel)
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour")
    [message] = refused.value.message_dict["channel"]
    assert message == (
        "Ce canal n’est pas connecté. La plateforme a refusé les identifiants du canal\u202f: "
        "saisissez-en de nouveaux."
    )


def test_a_success_after_the_refusal_connects_the_channel_again(counting, owner_actor, forum_item):
    _refused_credentials(forum_item.channel)
    sync = sync_for(forum_item.channel)
    sync.last_success_at = timezone.now()
    sync.save()
    assert services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour").pk


def test_an_oauth_channel_never_connected_is_refused_with_the_next_step(
    owner_actor, org, make_channel, ingest
):
    # Facebook connects through OAuth: an app's id and secret alone let Palabre do nothing yet.
    page = make_channel(
        org, "facebook", handle="maisondupont", credentials={"client_id": "123", "client_secret": "s3cret"}
    )
    item = ingest(page, "1_2", text="Bonjour ?", author="camille")
    assert connection_of(page).reason == "not_authorised"
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.queue_hide(actor=owner_actor, item=item)
    assert refused.value.message_dict["channel"] == [
        "This channel is not connected. Connect the channel with the platform, from its page."
    ]
    assert not OutboundAction.objects.exists()


def test_the_api_answers_422_naming_the_channel(counting, owner_actor, forum_item, client):
    _refused_credentials(forum_item.channel)
    _token, secret = create_api_token(actor=owner_actor, name="bot", scopes=[p.value for p in Perm])
    answer = client.post(
        f"/api/connectors/items/{forum_item.pk}/reply",
        {"text": "Bonjour", "idempotency_key": "k-1"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 422
    body = answer.json()
    assert list(body["fields"]) == ["channel"]
    assert (
        "not connected" in body["fields"]["channel"][0] and "enter new ones" in body["fields"]["channel"][0]
    )
    assert not OutboundAction.objects.exists()


@pytest.mark.parametrize(
    ("credentials", "reason"),
    [
        # A script app: the moderator's login is the way in, no OAuth page to go through.
        ({"client_id": "id", "client_secret": "s", "username": "mod", "password": "pw"}, ""),
        # A web app that went through the OAuth flow keeps a refresh token.
        ({"client_id": "id", "client_secret": "s", "refresh_token": "r"}, ""),
        # A web app not connected yet.
        ({"client_id": "id", "client_secret": "s"}, "not_authorised"),
    ],
)
def test_a_reddit_script_app_is_connected_without_an_oauth_token(org, make_channel, credentials, reason):
    sub = make_channel(org, "reddit", handle="r/maisondupont", credentials=credentials)
    assert connection_of(sub).reason == reason


def test_fetching_now_is_neither_offered_nor_done_on_a_channel_that_is_not_connected(
    counting, forum, owner, owner_actor, client, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = reverse("connectors:channel", args=[forum.pk])
    pull = reverse("connectors:channel_pull", args=[forum.pk])
    assert pull in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()  # connected: offered
    _refused_credentials(forum)
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The next step is shown instead of a button that could only fail.
    assert pull not in html and "Fetch new messages now" not in html
    assert "enter new ones" in html
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(pull, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "This channel is not connected." in answer.content.decode()
    assert ("pull", "") not in counting.calls
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.request_pull(actor=owner_actor, channel=forum)
    assert list(refused.value.message_dict) == ["channel"]
