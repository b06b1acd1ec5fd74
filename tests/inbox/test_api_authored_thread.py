"""A thread answered through the API (a token, no person signed in) still opens in the inbox.

Replies and notes sent with an API token have no author account: the thread page used to fail
(500) on every such thread, because the template asked the missing author for its name.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.django_db


def test_a_thread_answered_with_a_token_opens_in_the_inbox(
    client, owner, owner_actor, channel, post, conversation_of
):
    thread = conversation_of(post(channel, "La table Bergen existe-t-elle en 220 cm ?"))
    _token, secret = create_api_token(actor=owner_actor, name="Helpdesk", scopes=[p.value for p in Perm])
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    note = client.post(
        f"/api/inbox/threads/{thread.pk}/notes",
        json.dumps({"text": "Vu par le centre d'appels"}),
        content_type="application/json",
        **bearer,
    )
    assert note.status_code == 201
    sent = client.post(
        f"/api/inbox/threads/{thread.pk}/replies",
        json.dumps({"text": "Oui, la Bergen existe en 220 cm, livrée en 6 semaines."}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="helpdesk-0001",
        **bearer,
    )
    assert sent.status_code == 201, sent.content
    client.force_login(owner)
    page = client.get(reverse("inbox:thread", args=[thread.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Oui, la Bergen existe en 220 cm" in content and "Vu par le centre d" in content
    # Who answered is still said: an API token, not a person.
    assert content.count("Jeton d’API") + content.count("API token") >= 2
