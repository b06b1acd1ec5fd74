"""What a Mastodon token may do: its scopes (told by the instance where it can, else tried), checked
against what the channel will be asked to do when its credentials are saved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from palabre.connectors import http_client
from palabre.connectors.base import (
    ChannelHealthInfo,
    ConnectorError,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason

if TYPE_CHECKING:
    from mastodon import Mastodon

TOKEN = "token"
APPLICATION = "application"

# What the channel is asked to do, and the scope each needs: reading mentions, naming the
# account, replying and posting.
NEEDED_SCOPES = ("read:notifications", "read:accounts", "write:statuses")


def missing_scopes(granted: Sequence[str]) -> list[str]:
    """The needed scopes that `granted` does not cover (`read` covers every `read:...`)."""
    have = set(granted)
    return [scope for scope in NEEDED_SCOPES if scope not in have and scope.split(":")[0] not in have]


class MastodonConnection:
    """The connection check of a Mastodon channel, for `MastodonConnector`: the account, the
    instance's length limit, and the token's scopes against what the channel will be asked to do."""

    def health(self, channel) -> ChannelHealthInfo:
        """The account, named as people know it, and the token's permissions: a token that lacks
        one the channel needs (a read-only token) fails here, before the first reply does."""
        api = self.client(channel)
        account = self._call(api, "account_verify_credentials")
        try:
            acct, account_id = str(account["acct"]), str(account["id"])
        except (KeyError, TypeError) as error:
            raise MalformedPayload(f"Mastodon's account lacks {error}") from error
        # The account's own domain (its `url`), which may differ from the API's host
        # (mastodon.example.com serving @brand@example.com).
        domain = urlsplit(str(account.get("url") or "")).hostname or urlsplit(api.api_base_url).hostname or ""
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{domain}"
        scopes, source = self.token_scopes(api)
        if scopes is not None:
            missing = missing_scopes(scopes)
            if missing:
                whose = "access token" if source == TOKEN else "access token's application"
                raise PermissionMissing(
                    f"Mastodon: the {whose} lacks the permission(s) "
                    + ", ".join(missing)
                    + " (it has: "
                    + (", ".join(scopes) or "none")
                    + "). Create a token with them and replace the channel's credentials."
                )
        if source == TOKEN:
            checked, note = "verified", ""
        elif source == APPLICATION:
            checked = "partial"
            note = (
                "The server does not tell the token's own permissions (no /oauth/token/info), only its "
                "application's, which allow what the channel needs: a token authorised with fewer "
                "would still fail at the first reply."
            )
        else:
            checked = "partial"
            note = "The server tells neither the token's permissions nor its application's."
        details: dict[str, Any] = {"id": account_id, "url": str(account.get("url") or "")}
        limit = self.status_limit(api)
        if limit:
            details["max_characters"] = limit
        return ChannelHealthInfo(
            account=handle,
            scopes=tuple(scopes or ()),
            details=details,
            permissions_checked=checked,
            permissions_note=note,
        )

    def status_limit(self, api: Mastodon) -> int | None:
        """The instance's own length limit for a status (`configuration.statuses.max_characters`,
        instance API v2, else v1); None when the server does not say (then 500 applies)."""
        for method in ("instance_v2", "instance_v1"):
            try:
                instance = self._call(api, method)
                value = instance["configuration"]["statuses"]["max_characters"]
            except (ConnectorError, KeyError, TypeError):
                continue
            if isinstance(value, int) and 0 < value <= 1_000_000:
                return value
        return None

    def token_scopes(self, api: Mastodon) -> tuple[list[str] | None, str]:
        """The scopes the access token itself carries, and where they were read (TOKEN,
        APPLICATION, or "" when the server tells neither).

        A token may carry fewer scopes than its application (the authorisation asks for a subset):
        the application's list says what a token *could* do, the token's what it *can*. Mastodon's
        OAuth provider is Doorkeeper, mounted with `use_doorkeeper` (config/routes.rb), whose
        token-info route `GET /oauth/token/info` answers, for the bearer token,
        `{"resource_owner_id": ..., "scope": ["read", "write:statuses"], "expires_in": null,
        "application": {"uid": ...}, "created_at": ...}` (Doorkeeper::AccessTokenMixin#as_json).
        Mastodon's API docs do not list that route; where a server of Mastodon's API lacks it, the
        application's scopes (`GET /api/v1/apps/verify_credentials`, `scopes` since Mastodon 4.3,
        docs.joinmastodon.org/methods/apps/#verify_credentials) are the best left, and the check
        says it is partial."""
        scopes = self._token_info_scopes(api)
        if scopes is not None:
            return scopes, TOKEN
        scopes = self.granted_scopes(api)
        return (scopes, APPLICATION) if scopes is not None else (None, "")

    def _token_info_scopes(self, api: Mastodon) -> list[str] | None:
        import requests  # loaded with Mastodon.py's client by then; not at start-up

        url = api.api_base_url.rstrip("/") + "/oauth/token/info"
        try:
            response = api.session.get(
                url,
                headers={"Authorization": f"Bearer {api.access_token}", "User-Agent": http_client.USER_AGENT},
                timeout=api.request_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            host = urlsplit(api.api_base_url).hostname or api.api_base_url
            raise TransientError(f"Mastodon {host}: {network_reason(error)}") from error
        if response.status_code == 401:
            raise TokenExpired("Mastodon 401: the access token is invalid or revoked: reconnect the channel")
        if response.status_code != 200:
            return None  # no such route on this server
        try:
            scope = response.json().get("scope")
        except (ValueError, AttributeError):
            return None
        if isinstance(scope, str):  # the space-separated form of RFC 6749
            return scope.split()
        if isinstance(scope, list) and all(isinstance(one, str) for one in scope):
            return list(scope)
        return None

    def granted_scopes(self, api: Mastodon) -> list[str] | None:
        """The scopes of the token's application (`GET /api/v1/apps/verify_credentials`, which
        names them since Mastodon 4.3), or None where the server does not tell."""
        try:
            application = self._call(api, "app_verify_credentials")
        except PermanentError as error:
            if isinstance(error, TokenExpired | PermissionMissing):
                raise
            return None  # a server of Mastodon's API without this endpoint
        scopes = application.get("scopes") if isinstance(application, dict) else None
        if not isinstance(scopes, list):
            return None
        return [str(scope) for scope in scopes]
