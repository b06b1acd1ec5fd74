"""A NUL character anywhere in what the API reads is refused with 422 naming the field.

PostgreSQL cannot store NUL in text: psycopg refuses the query (DataError), which the API answered
with a server error; SQLite kept the character silently. Django's forms refuse it on the pages
already (ProhibitNullCharactersValidator); the API now does too, for the body, the query string and
form fields, whatever the operation.
"""

from __future__ import annotations

import json

import pytest

from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(owner_actor):
    _token, secret = create_api_token(actor=owner_actor, name="t", scopes=[p.value for p in Perm])
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _post(client, path, body, bearer):
    return client.post(path, json.dumps(body), content_type="application/json", **bearer)


def test_a_nul_character_in_a_body_is_refused_with_the_field_named(client, org, bearer):
    answer = _post(
        client, "/api/channels", {"platform": "site", "handle": "blog.fr", "name": "Blog\x00"}, bearer
    )
    assert answer.status_code == 422
    assert list(answer.json()["fields"]) == ["name"]
    assert not Channel.objects.filter(organisation=org, handle="blog.fr").exists()


def test_a_nul_character_deep_in_a_body_names_its_path(client, channel, bearer):
    body = {"title": "Lancement", "variants": [{"channel": channel.pk, "text": "Bonjour\x00"}]}
    answer = _post(client, "/api/publishing/posts", body, bearer)
    assert answer.status_code == 422
    assert list(answer.json()["fields"]) == ["variants.0.text"]


def test_a_nul_character_in_the_query_string_is_refused(client, bearer):
    answer = client.get("/api/items", {"q": "commande\x00"}, **bearer)
    assert answer.status_code == 422
    assert list(answer.json()["fields"]) == ["q"]


def test_text_without_nul_is_untouched(client, org, bearer):
    # An escaped backslash before "u0000" is text, not a NUL character.
    answer = _post(
        client, "/api/channels", {"platform": "site", "handle": "b.fr", "name": "C:\\u0000 été"}, bearer
    )
    assert answer.status_code == 201
    assert answer.json()["name"] == "C:\\u0000 été"


def test_an_oversized_body_is_still_answered_413(client, bearer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    answer = _post(
        client, "/api/channels", {"platform": "site", "handle": "b.fr", "name": "\x00" * 2000}, bearer
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
