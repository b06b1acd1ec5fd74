"""A list endpoint's cursor is the client's to send back, and a client may send anything: a cursor
that Palabre could not have given is refused with 422 naming `cursor`, never a server error."""

from __future__ import annotations

import base64
import json

import pytest

from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

LISTS = ["/api/items", "/api/listening/mentions", "/api/connectors/outbox", "/api/audit"]


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(["0001-01-01T00:00:00+14:00", 5]),  # before year 1 in UTC
        _cursor(["9999-12-31T23:59:59-14:00", 5]),  # after year 9999 in UTC
        _cursor(["2026-01-01T00:00:00+00:00", 2**70]),  # past any row id
        _cursor([["2026-01-01"], 5]),
        "garbage",
    ],
)
def test_a_cursor_palabre_never_gave_is_refused_naming_it(owner_actor, client, path, cursor):
    _token, secret = create_api_token(actor=owner_actor, name="lists", scopes=[p.value for p in Perm])
    response = client.get(path, {"cursor": cursor}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 422, response.content[:300]
    assert "cursor" in response.json()["fields"]


@pytest.mark.parametrize("sort", ["recent", "priority", "oldest"])
@pytest.mark.parametrize(
    "keys",
    [
        ["0001-01-01T00:00:00+14:00"],
        ["9999-12-31T23:59:59-14:00"],
        ["2026-01-01T00:00:00"],  # no offset: not one Palabre writes
        [2**70],
    ],
)
def test_an_inbox_cursor_palabre_never_gave_is_refused_naming_it(owner_actor, client, sort, keys):
    """The inbox's sorts carry their own keys (priority, waiting): each is checked as the time and
    id of the plain lists are."""
    _token, secret = create_api_token(actor=owner_actor, name="inbox", scopes=[p.value for p in Perm])
    good = {
        "recent": ["2026-01-01T00:00:00+00:00", 5],
        "priority": [1, "2026-01-01T00:00:00+00:00", 5],
        "oldest": [True, "2026-01-01T00:00:00+00:00", 5],
    }[sort]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert (
        client.get("/api/inbox/threads", {"sort": sort, "cursor": _cursor(good)}, **auth).status_code == 200
    )
    # Each key in turn replaced by a value Palabre never writes.
    for at in range(len(good)):
        for value in keys:
            if isinstance(value, str) and not isinstance(good[at], str):
                continue
            if not isinstance(value, str) and isinstance(good[at], str | bool):
                continue
            bad = [*good[:at], value, *good[at + 1 :]]
            response = client.get("/api/inbox/threads", {"sort": sort, "cursor": _cursor(bad)}, **auth)
            assert response.status_code == 422, (bad, response.content[:300])
            assert "cursor" in response.json()["fields"]
