"""One reading of a platform's refusal (http_client): the status as the connectors' error, and the
message and code out of the error bodies the platforms write."""

import json

import httpx
import pytest

from palabre.connectors import http_client
from palabre.connectors.base import (
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, RateLimited),
        (401, TokenExpired),
        (403, PermissionMissing),
        (404, PermanentError),
        (410, PermanentError),
        (422, PermanentError),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_each_status_is_one_kind_of_error(status, kind):
    error = http_client.status_error(status, "Example 999: refused", sending=True, retry_after=12.0)
    assert type(error) is kind
    assert str(error) == "Example 999: refused"
    # Only a server error may have done what was asked before it failed.
    assert error.maybe_delivered is (kind is TransientError)


def test_success_is_no_error_and_a_rate_limit_waits_what_the_platform_said():
    assert http_client.status_error(200, "fine") is None
    assert http_client.status_error(204, "fine") is None
    assert http_client.status_error(429, "slow down", retry_after=30.0).retry_after == 30.0
    assert http_client.status_error(429, "slow down").retry_after == 60.0
    assert http_client.status_error(503, "down").maybe_delivered is False


@pytest.mark.parametrize(
    ("body", "detail", "code"),
    [
        ({"message": "Missing Permissions", "code": 50013}, "Missing Permissions", "50013"),  # Discord
        ({"message": "Not enough permissions", "serviceErrorCode": 100}, "Not enough permissions", "100"),
        (  # X
            {"title": "Client Forbidden", "detail": "This app lacks access", "reason": "client-not-enrolled"},
            "This app lacks access",
            "client-not-enrolled",
        ),
        ({"errors": ["You are not permitted", "Try later"]}, "You are not permitted; Try later", ""),
        (  # Google
            {"error": {"code": 403, "message": "Quota spent", "errors": [{"reason": "quotaExceeded"}]}},
            "Quota spent",
            "quotaExceeded",
        ),
        ({"error": "invalid_grant", "error_description": "Token revoked"}, "Token revoked", ""),
        ({"unexpected": True}, "", ""),
        (None, "", ""),
        (["not", "an", "object"], "", ""),
    ],
)
def test_error_detail_reads_every_platforms_shape(body, detail, code):
    assert http_client.error_detail(body) == (detail, code)


def test_json_or_none_tells_an_empty_body_from_one_that_is_not_json():
    assert http_client.json_or_none(b"") == {}
    assert http_client.json_or_none(b"<html>oops</html>") is None
    assert http_client.json_or_none(json.dumps({"a": 1}).encode()) == {"a": 1}


def test_retry_after_reads_bare_headers_as_google_hands_them():
    assert http_client.retry_after({"retry-after": "7"}) == 7.0
    assert http_client.retry_after({}) is None
    assert http_client.retry_after(httpx.Response(429, headers={"Retry-After": "3"})) == 3.0


def test_send_turns_a_refused_address_into_a_permanent_error():
    # The cloud metadata address is refused by the address guard before any connection.
    with pytest.raises(PermanentError) as caught:
        http_client.send("GET", "http://169.254.169.254/latest/meta-data", label="Example")
    assert type(caught.value) is PermanentError
