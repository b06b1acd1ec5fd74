"""Reddit's client: PRAW over Palabre's guarded `requests` session, with Reddit's User-Agent
rule, its rate-limit headers read, and a write whose outcome is unknown turned into an error
instead of being retried by prawcore."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx

from palabre.connectors import http_client, outbound
from palabre.connectors.base import (
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)

if TYPE_CHECKING:
    import praw
    import requests

# Answers prawcore would retry by itself (a write among them could post twice).
_RETRIED_STATUSES = {408, 500, 502, 503, 504, 520, 522}

DEFAULT_BASE = "https://www.reddit.com"
DEFAULT_OAUTH = "https://oauth.reddit.com"
VERSION = "0.1"


class Interrupted(Exception):
    """A request that did not come back whole: `sent` when it may have reached Reddit."""

    def __init__(self, message: str, *, sent: bool):
        super().__init__(message)
        self.sent = sent


class OutOfRequests(Exception):
    """No requests left in Reddit's window (`X-Ratelimit-Remaining: 0`) for `reset` seconds."""

    def __init__(self, reset: float):
        super().__init__(f"Reddit: no requests left for {reset:.0f} s")
        self.reset = reset


def reddit_session() -> requests.Session:
    """Palabre's guarded `requests` session, made to answer instead of waiting or repeating: what
    prawcore would retry (a timeout, a 5xx) or sleep on (no requests left) raises here, so the
    outbox decides, and a write is never sent twice blindly. The last rate-limit headers are kept
    on the session (`palabre_ratelimit`) for the channel's health."""
    import requests  # PRAW's, loaded with it when Reddit is called: not at start-up

    from palabre.connectors.guarded_requests import requests_session

    session = requests_session()
    session.palabre_ratelimit = {}
    send = session.request

    def request(method, url, *args, **kwargs):
        try:
            response = send(method, url, *args, **kwargs)
        except requests.ConnectionError as error:
            raise Interrupted(f"Reddit: {error}", sent=isinstance(error, requests.ReadTimeout)) from error
        except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            raise Interrupted(f"Reddit: {error}", sent=method.upper() != "GET") from error
        limits = {
            name: response.headers[f"x-ratelimit-{name}"]
            for name in ("remaining", "reset", "used")
            if f"x-ratelimit-{name}" in response.headers
        }
        if limits:
            session.palabre_ratelimit = limits
        if response.status_code in _RETRIED_STATUSES:
            raise Interrupted(f"Reddit {response.status_code}: try again later", sent=method.upper() != "GET")
        if (
            method.upper() == "GET"
            and response.status_code == 200
            and "remaining" in limits
            and _number(limits["remaining"]) < 1
        ):
            raise OutOfRequests(max(_number(limits.get("reset", "60")), 1.0))
        return response

    session.request = request
    return session


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def user_agent(username: str = "") -> str:
    """Reddit's rule: `<platform>:<app id>:<version> (by /u/<reddit username>)`."""
    return f"python:fr.palabre.community:v{VERSION} (by /u/{username or 'palabre'})"


def _ratelimit_wait(message: str) -> float:
    """Seconds in Reddit's "you are doing that too much. try again in 5 minutes." message."""
    found = re.search(r"(\d+)\s*(second|minute|hour)", message or "")
    if not found:
        return 60.0
    return float(found.group(1)) * {"second": 1, "minute": 60, "hour": 3600}[found.group(2)]


class RedditClient:
    """PRAW's client for a channel and one call through it, for `RedditConnector`."""

    def client(self, channel) -> praw.Reddit:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        client_id, secret = credentials.get("client_id"), credentials.get("client_secret")
        if not client_id or not secret:
            raise TokenExpired("The channel has no Reddit app (client id and secret).")
        oauth_url = str(credentials.get("oauth_url") or DEFAULT_OAUTH).rstrip("/")
        reddit_url = str(credentials.get("reddit_url") or DEFAULT_BASE).rstrip("/")
        try:
            for url in {oauth_url, reddit_url}:
                outbound.checked_base_url(url)
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except httpx.HTTPError as error:
            raise TransientError(str(error)) from error
        login: dict[str, str] = {}
        if credentials.get("refresh_token"):
            login["refresh_token"] = str(credentials["refresh_token"])
        elif credentials.get("username") and credentials.get("password"):
            login = {"username": str(credentials["username"]), "password": str(credentials["password"])}
        else:
            raise TokenExpired(
                "The Reddit channel has neither a moderator's username and password (script app) nor "
                "a refresh token (web app): connect it."
            )
        session = reddit_session()
        import praw  # PRAW and prawcore cost 0.14 s of CPU to import: when Reddit is called only

        api = praw.Reddit(
            client_id=str(client_id),
            client_secret=str(secret),
            user_agent=user_agent(str(credentials.get("username") or "")),
            oauth_url=oauth_url,
            reddit_url=reddit_url,
            check_for_updates=False,
            check_for_async=False,
            requestor_kwargs={"session": session, "timeout": http_client.timeout()},
            **login,
        )
        api.palabre_session = session
        return api

    def _call(self, function, *args, sending: bool = False, scope: str = "", **kwargs):
        """`function(*args, **kwargs)` (a PRAW call), its failures as ConnectorErrors."""
        import praw.exceptions
        import prawcore

        try:
            return function(*args, **kwargs)
        except prawcore.TooManyRequests as error:
            wait = error.response.headers.get("retry-after") or error.response.headers.get(
                "x-ratelimit-reset"
            )
            raise RateLimited(
                "Reddit 429: too many requests", retry_after=_number(wait or "60") or 60.0
            ) from error
        except prawcore.InsufficientScope as error:
            raise PermissionMissing(
                f"Reddit: the token lacks the scope {scope or 'this call needs'} (reconnect with it)"
            ) from error
        except prawcore.InvalidToken as error:
            raise TokenExpired(
                "Reddit 401: the access token is invalid or revoked: reconnect the channel"
            ) from error
        except prawcore.OAuthException as error:
            raise TokenExpired(
                f"Reddit refused the login ({error.error}): check the username, password or app"
            ) from error
        except prawcore.Forbidden as error:
            raise PermissionMissing(
                "Reddit 403: the account may not do this here (is it a moderator of the subreddit, "
                f"with the permission{' for ' + scope if scope else ''}?)"
            ) from error
        except (prawcore.NotFound, prawcore.Redirect) as error:
            raise PermanentError("Reddit 404: no such subreddit, post or comment") from error
        except prawcore.ResponseException as error:
            status = error.response.status_code
            words = "the app's id or secret is refused" if status == 401 else "refused"
            message = f"Reddit {status}: {words}"
            raise http_client.status_error(status, message, sending=sending) or PermanentError(
                message
            ) from error
        except prawcore.RequestException as error:
            cause = error.original_exception
            if isinstance(cause, OutOfRequests):
                raise RateLimited(str(cause), retry_after=cause.reset) from error
            if isinstance(cause, outbound.AddressRefused):
                raise PermanentError(str(cause)) from error
            if isinstance(cause, Interrupted):
                raise TransientError(str(cause), maybe_delivered=sending and cause.sent) from error
            raise TransientError(f"Reddit: {cause}", maybe_delivered=sending) from error
        except praw.exceptions.RedditAPIException as error:
            for item in error.items:
                if item.error_type == "RATELIMIT":
                    raise RateLimited(
                        f"Reddit: {item.message}", retry_after=_ratelimit_wait(item.message)
                    ) from error
            raise PermanentError(
                "Reddit refused: " + "; ".join(i.error_message for i in error.items)
            ) from error
        except prawcore.PrawcoreException as error:
            raise TransientError(f"Reddit: {error}", maybe_delivered=sending) from error
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedPayload(f"Unexpected answer from Reddit: {error!r}") from error
