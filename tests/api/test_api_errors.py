"""Error shapes of the API: oversized integers, unknown paths and methods, server errors (logged, JSON)."""

from __future__ import annotations

import io
import logging

import pytest

from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token
from palabre.storable import MAX_ROW_ID

pytestmark = pytest.mark.django_db
TOO_BIG = "99999999999999999999"


@pytest.fixture
def token(owner_actor):
    _token, plaintext = create_api_token(actor=owner_actor, name="everything", scopes=[p.value for p in Perm])
    return plaintext


@pytest.fixture
def api(client, token):
    """The Django test client through the whole middleware stack, with the organisation's token."""
    client.raise_request_exception = False

    def call(method: str, path: str, **kwargs):
        return getattr(client, method)(
            path, HTTP_AUTHORIZATION=f"Bearer {token}", content_type="application/json", **kwargs
        )

    return call


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/items?channel={TOO_BIG}", "channel"),
        (f"/api/items?contact={TOO_BIG}", "contact"),
        (f"/api/items?thread={TOO_BIG}", "thread"),
        (f"/api/items/{TOO_BIG}", "item_id"),
        (f"/api/inbox/threads?channel={TOO_BIG}", "channel"),
        (f"/api/inbox/threads/{TOO_BIG}", "thread_id"),
        (f"/api/listening/mentions?query={TOO_BIG}", "query"),
        (f"/api/listening/mentions?source={TOO_BIG}", "source"),
        (f"/api/listening/dashboard?source={TOO_BIG}", "source"),
        (f"/api/connectors/outbox?channel={TOO_BIG}", "channel"),
        (f"/api/connectors/outbox/{TOO_BIG}", "action_id"),
        (f"/api/channels/{TOO_BIG}", "channel_id"),
        (f"/api/publishing/posts/{TOO_BIG}", "post_id"),
    ],
)
def test_an_oversized_integer_in_a_query_or_path_gets_422_naming_the_field(api, path, field):
    response = api("get", path)
    assert response.status_code == 422, response.content[:300]
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/contacts/merge", {"target": int(TOO_BIG), "sources": [1]}, "target"),
        ("/api/contacts/merge", {"target": 1, "sources": [MAX_ROW_ID + 1]}, "sources.0"),
        ("/api/items/ingest", {"channel_id": int(TOO_BIG), "items": []}, "channel_id"),
        ("/api/publishing/check", {"text": "Bonjour", "channel": int(TOO_BIG)}, "channel"),
        ("/api/inbox/threads/1/assign", {"assignee": int(TOO_BIG)}, "assignee"),
        ("/api/listening/crisis", {"on": True, "alert_id": int(TOO_BIG)}, "alert_id"),
    ],
)
def test_an_oversized_integer_in_a_body_gets_422_naming_the_field(api, path, body, field):
    response = api("post", path, data=body)
    assert response.status_code == 422, response.content[:300]
    assert any(name.startswith(field) for name in response.json()["fields"]), response.json()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/listening/dashboard?since=0001-01-01", "since"),
        ("/api/listening/mentions?until=9999-12-31", "until"),
        ("/api/listening/dashboard?until=9999-12-31", "until"),
        ("/api/listening/mentions?since=2026-03-02&until=2026-03-01", "until"),
    ],
)
def test_a_mention_period_that_cannot_be_drawn_gets_422_naming_the_field(api, path, field):
    """Found by the fuzzing: centuries of daily bars took minutes, the calendar's last day overflowed."""
    response = api("get", path)
    assert response.status_code == 422, response.content[:300]
    assert field in response.json()["fields"]


def test_the_mentions_page_says_what_is_wrong_with_the_period(client, owner):
    client.force_login(owner)
    response = client.get("/listening/mentions/", {"until": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["form"].errors["until"]


@pytest.mark.parametrize("text", ["Voir http://[promo/ ici", "www.[x", "https://a]b.fr/oslo"])
def test_a_link_with_a_broken_host_is_moderated_not_a_server_error(api, text):
    """Found by the fuzzing: an unclosed IPv6 bracket in a link made the moderation of the comment
    raise (Python's urlsplit), whoever posted it."""
    response = api("post", "/api/moderation/check", data={"text": text})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["action"] in {"publish", "hold", "reject"}


@pytest.mark.parametrize("kind", ["blocked_domain", "allowed_domain"])
@pytest.mark.parametrize("path", ["/api/moderation/rules", "/api/moderation/rules/simulate"])
def test_a_site_rule_that_names_no_site_is_refused_naming_the_pattern(api, kind, path):
    """Found by the fuzzing: such a rule, once stored, broke every moderation of its organisation."""
    response = api("post", path, data={"kind": kind, "pattern": "[", "action": "hold"})
    assert response.status_code == 422, response.content[:300]
    assert "pattern" in response.json()["fields"]
    assert api("post", "/api/moderation/check", data={"text": "Bonjour"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", "/api/publishing/schedule?start=2000-01-01T00:00:01Z&end=0001-01-01T00:00:00%2B00:01", None, "end"),
        ("get", "/api/items?since=9999-12-31T23:59:59-01:00", None, "since"),
        ("get", "/api/audit?until=0001-01-01T00:00:00%2B05:00", None, "until"),
        ("post", "/api/tokens", {"name": "t", "scopes": ["items.view"], "expires_at": "9999-12-31T23:00:00-05:00"}, "expires_at"),
        ("post", "/api/publishing/campaigns", {"name": "Soldes", "kind": "contest", "starts_on": "0001-01-01T00:00:00+01:00"}, "starts_on"),
    ],
)  # fmt: skip
def test_a_moment_at_the_ends_of_the_calendar_gets_422_naming_the_field(api, method, path, body, field):
    """Found by the fuzzing: year 1 or 9999 with an offset overflowed once converted to UTC (500)."""
    response = api(method, path, **({"data": body} if body else {}))
    assert response.status_code == 422, response.content[:300]
    assert field in response.json()["fields"]


def test_the_largest_row_id_is_simply_not_found(api):
    response = api("get", f"/api/items/{MAX_ROW_ID}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("path", ["/api/nope", "/api/items/abc", "/api/items/12/nope", "/api/"])
def test_an_unknown_api_path_gets_a_json_404(api, path):
    response = api("get", path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "not_found"


def test_an_unknown_api_path_is_json_without_credentials_too(client):
    response = client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "Not found: no such path or object in this API.",
    }


def test_a_method_the_route_does_not_take_gets_a_json_405_with_allow(api):
    response = api("delete", "/api/items")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "GET" in response["Allow"]
    assert "GET" in response.json()["message"]


def test_pages_keep_their_html_404(client, owner):
    client.force_login(owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- server errors ---------------------------------------------------------------------------


@pytest.fixture
def server_log():
    """What the handlers configured by settings.LOGGING write for django.request, read back.

    Only the handlers Palabre configures (plain stream handlers), not pytest's capture: the point is
    that the server's own log gets the error when DEBUG is off.
    """
    logger, handlers = logging.getLogger("django.request"), []
    while logger is not None:
        handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    buffer = io.StringIO()
    streams = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


class ListeningStoreDown(RuntimeError):
    pass


def _break_listening(monkeypatch):
    from palabre.listening import queries

    def broken(actor):
        raise ListeningStoreDown("the listening store is down")

    monkeypatch.setattr(queries, "listening_queries", broken)


def test_an_api_server_error_is_logged_with_its_traceback_and_answered_in_json(
    api, settings, monkeypatch, server_log
):
    settings.DEBUG = False
    _break_listening(monkeypatch)
    response = api("get", "/api/listening/queries")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "server_error"
    logged = server_log.getvalue()
    assert "Internal Server Error: /api/listening/queries" in logged
    assert "Traceback (most recent call last)" in logged
    assert "ListeningStoreDown: the listening store is down" in logged
    assert "the listening store is down" not in response.content.decode(), "no detail leaks to the client"


def test_a_page_server_error_is_logged_and_keeps_its_html_page(
    client, owner, settings, monkeypatch, server_log
):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(owner)
    _break_listening(monkeypatch)
    response = client.get("/listening/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "ListeningStoreDown: the listening store is down" in server_log.getvalue()


# --- page URLs -------------------------------------------------------------------------------


def _routes(patterns=None, prefix=""):
    from django.urls import URLResolver, get_resolver

    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def test_page_urls_take_ids_through_the_bounded_converter():
    """(The API's paths keep Django's int: their handlers' bounded types answer 422 naming the field.)"""
    from django.urls.converters import IntConverter

    plain = [
        route
        for route, entry in _routes()
        if not route.startswith("api/")
        and any(type(c) is IntConverter for c in getattr(entry.pattern, "converters", {}).values())
    ]
    assert plain == []


def test_a_page_id_beyond_64_bits_is_not_found_before_any_view_runs(client, owner, channel):
    import re

    from django.urls import Resolver404, resolve

    client.force_login(owner)
    client.raise_request_exception = False
    with_ids = [route for route, _entry in _routes() if "<id:" in route]
    assert len(with_ids) > 40
    for route in with_ids:
        for number in (MAX_ROW_ID + 1, int(TOO_BIG)):
            url = "/" + re.sub(r"<id:\w+>", str(number), route)
            url = re.sub(r"<\w+:\w+>|<\w+>", "x", url)
            with pytest.raises(Resolver404):
                resolve(url)
            response = client.post(url) if "delete" in url or "revoke" in url else client.get(url)
            assert response.status_code == 404, url
    largest = "/" + re.sub(r"<id:\w+>", str(MAX_ROW_ID), with_ids[0])
    assert resolve(re.sub(r"<\w+:\w+>|<\w+>", "x", largest))
