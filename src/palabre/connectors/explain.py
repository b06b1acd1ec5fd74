"""Words for what went wrong with a channel, for the people who must act on it.

- `network_reason(error)`: a short English cause for a network failure, read from the exception
  chain (the platform SDKs' own messages are empty, as atproto's, or a client library's raw
  text, as Mastodon.py's urllib3 dump). It goes into the stored error, as its detail.
- `explain(code)`: what the error means and the next step, in the active language, from the
  error's code (`ConnectorError.code`): shown above the stored detail on the health page and in
  alert mails.
"""

from __future__ import annotations

import ssl
import sys

import httpx
from django.utils.translation import gettext as _


def _chain(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_reason(error: BaseException) -> str:
    """Why a request did not get an answer, in a few words (never empty)."""
    # `requests` (under Mastodon.py and PRAW) is imported only where those are used: before that,
    # no error can be one of its own.
    requests = sys.modules.get("requests")
    tls, timeout, connection = (
        (requests.exceptions.SSLError, requests.exceptions.Timeout, requests.exceptions.ConnectionError)
        if requests is not None
        else ((), (), ())
    )
    for link in _chain(error):
        if isinstance(link, (ssl.SSLError, tls)):
            return "the server's TLS certificate could not be verified"
        if isinstance(link, (httpx.TimeoutException, timeout, TimeoutError)):
            return "the server did not answer in time"
        if isinstance(link, (httpx.ConnectError, connection, ConnectionError)):
            return "the connection to the server failed (refused, reset, or the name is not found)"
        if isinstance(link, httpx.RemoteProtocolError):
            return "the server closed the connection without a valid answer"
    for link in _chain(error):
        if str(link).strip() and isinstance(link, httpx.HTTPError):
            return str(link).strip()[:200]
    return "a network error, with no detail from the server"


def explain(code: str) -> str:
    """What an error code means for the person, and what to do next ("" for no error)."""
    texts = {
        "token_expired": _(
            "The platform refused the channel's credentials (expired, revoked or wrong). "
            "Replace them on the channel's page; replies that failed meanwhile must be retried by hand."
        ),
        "permission_missing": _(
            "The credentials lack a permission the channel needs (see the detail). Create a token "
            "or app password with it and replace the credentials; replies that failed must be retried by hand."
        ),
        "transient": _(
            "The platform could not be reached or answered with an error. Palabre tries again by "
            "itself; if it lasts, check the server address and the platform's status."
        ),
        "rate_limited": _("The platform asks to slow down. Palabre waits and tries again by itself."),
        "permanent": _(
            "The platform refused the request for good (see the detail). Palabre will not retry it by "
            "itself: correct what the detail says, then retry by hand."
        ),
        "malformed_payload": _(
            "The platform answered something Palabre does not understand (see the detail). "
            "If it lasts, check that the server address is the platform's API."
        ),
        "not_supported": _("This channel's platform cannot do this."),
        "window_closed": _(
            "The platform lets the brand answer in private only for a while (Meta: 24 hours after the "
            "person's last message, 7 days after a comment), and that time is over (see the detail). "
            "Answer in public, or when the person writes again."
        ),
    }
    if not code:
        return ""
    return texts.get(
        code, _("The channel failed (see the detail). Check the connection on the channel's page.")
    )
