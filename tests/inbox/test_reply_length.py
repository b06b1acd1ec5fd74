"""A reply is checked against its platform's length limit before it is queued, counted as the
platform counts (Mastodon: links 23, the mention the connector adds, the signature; Bluesky:
graphemes; X: weighted), with the numbers the reply box's live counter uses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palabre.connectors.lengths import length, limit_for
from palabre.inbox import services
from palabre.inbox.models import Reply
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.clock


@pytest.fixture
def mastodon(org, make_channel):
    # Connected (credentials entered): the reply box is offered only on a channel that is.
    return make_channel(
        org,
        "mastodon",
        handle="@maisondupont@mastodon.social",
        name="Mastodon",
        credentials={"api_base_url": "https://mastodon.social", "access_token": "token"},
    )


@pytest.fixture
def toot(mastodon, post, conversation_of):
    return conversation_of(post(mastodon, "Ma lampe Lumi clignote, que faire ?", author="lea@piaille.fr"))


def test_platform_counting_rules():
    assert length("e\u0301" * 3 + " 👨‍👩‍👧", "graphemes") == 5
    link = "https://www.maison-dupont.fr/" + "a" * 200
    assert length(f"@lea@piaille.fr voir {link}", "mastodon") == len("@lea voir ") + 23
    assert length("Bonjour", "x") == 7 and length("日本", "x") == 4 and length(f"lien {link}", "x") == 5 + 23


def test_mastodon_instance_limit_comes_from_the_channel(mastodon):
    assert limit_for(mastodon).max_chars == 500
    mastodon.options = {**(mastodon.options or {}), "max_characters": 1000}
    assert limit_for(mastodon).max_chars == 1000


def test_the_mention_and_signature_count_and_a_long_reply_is_refused(toot, cm_actor):
    found = services.reply_length(actor=cm_actor, conversation=toot, text="")
    assert found.prefix == "@lea@piaille.fr " and found.suffix.startswith("\n— ")
    base = services.reply_length(actor=cm_actor, conversation=toot, text="x").size
    room = 500 - base + 1
    fits = "x" * room
    assert services.reply_length(actor=cm_actor, conversation=toot, text=fits).over == 0
    with pytest.raises(ValidationError) as refused:
        services.send_reply(actor=cm_actor, conversation=toot, text=fits + "y", idempotency_key="k-long-0001")
    message = refused.value.message_dict["text"][0]
    assert "501 characters" in message and "Mastodon" in message and "by 1" in message
    assert not Reply.objects.exists()
    # A link counts 23 whatever its length: the same reply with a long link instead fits.
    with_link = "x" * (room - 24) + " https://www.maison-dupont.fr/" + "a" * 300
    assert services.reply_length(actor=cm_actor, conversation=toot, text=with_link).over == 0


def test_email_and_site_replies_have_no_limit(channel, post, conversation_of, cm_actor):
    conversation = conversation_of(post(channel, "Une question sur la livraison ?"))
    assert services.reply_length(actor=cm_actor, conversation=conversation, text="x" * 9000) is None


def test_the_page_keeps_the_text_and_names_the_field_in_french(client, cm, toot, settings):
    settings.LANGUAGE_CODE = "fr"
    client.force_login(cm)
    page = client.get(f"/inbox/t/{toot.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'id="reply-counter"' in page and 'data-max="500"' in page and 'data-counting="mastodon"' in page
    assert 'data-prefix="@lea@piaille.fr "' in page
    text = "Bonjour Léa, " + "très " * 120
    response = client.post(
        f"/inbox/t/{toot.pk}/reply/",
        {"text": text, "idempotency_key": "k-long-page-1"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert text.strip() in html
    assert "caractères avec la signature et la mention" in html and "Raccourcissez la réponse de" in html


def test_the_api_refuses_a_long_reply_with_422_naming_text(client, owner_actor, toot):
    _token, secret = create_api_token(actor=owner_actor, name="len", scopes=[p.value for p in Perm])
    response = client.post(
        f"/api/inbox/threads/{toot.pk}/replies",
        {"text": "a" * 600, "idempotency_key": "k-long-api-1"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422 and "text" in response.json()["fields"]
    detail = client.get(f"/api/inbox/threads/{toot.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert detail["reply_limit"] == {
        "max_chars": 500,
        "counting": "mastodon",
        "prefix": "@lea@piaille.fr ",
        "suffix": "",
    }
