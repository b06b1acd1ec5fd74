"""The connection of a Facebook Page or an Instagram account: the login's token traded for a
long-lived one, and the check run when it is saved (`/debug_token`: the token's permissions and
expiry, each missing permission with its App Review status)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from palabre.connectors.base import (
    ChannelHealthInfo,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    TokenExpired,
)
from palabre.connectors.meta_graph import call, pages


def review_status(app_id: str, app_secret: str, *, label: str) -> dict[str, str]:
    """The app's permissions and their Login Review status (`GET /{app-id}/permissions` with the
    app's token, `{app-id}|{app-secret}`): {} when the app's secret is not known or Meta does not
    tell (the review status only adds to the check's message: it never fails the check)."""
    if not app_id or not app_secret:
        return {}
    try:
        body = call("GET", f"{app_id}/permissions", token=f"{app_id}|{app_secret}", label=label)
    except (PermanentError, MalformedPayload):
        return {}
    return {
        str(entry.get("permission")): str(entry.get("status") or "")
        for entry in body.get("data") or []
        if isinstance(entry, dict) and entry.get("permission")
    }


def missing_permissions(
    needed: tuple[str, ...], granted: set[str], reviews: Mapping[str, str], *, label: str
) -> PermissionMissing | None:
    """The error naming what the token lacks, with each permission's review status where known."""
    missing = [name for name in needed if name not in granted]
    if not missing:
        return None
    named = ", ".join(
        f"{name} (app review: {reviews[name]})" if name in reviews else name for name in missing
    )
    return PermissionMissing(
        f"{label}: the token lacks the permission(s) {named} (it has: {', '.join(sorted(granted)) or 'none'}). "
        "Connect the channel again and accept them; an app in Live mode needs them approved by App Review."
    )


def token_health(
    *,
    token: str,
    client_id: str,
    secret: str,
    needed: tuple[str, ...],
    account: str,
    details: dict,
    label: str,
) -> ChannelHealthInfo:
    """The check both Meta connectors run: `/debug_token` tells the token's scopes and expiry."""
    app_token = f"{client_id}|{secret}" if client_id and secret else token
    debug = call("GET", "debug_token", token=app_token, label=label, params={"input_token": token})
    data = debug.get("data") if isinstance(debug.get("data"), dict) else {}
    if data.get("is_valid") is False:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        raise TokenExpired(
            f"{label}: the token is no longer valid: {error.get('message') or 'reconnect the channel'}"
        )
    scopes = tuple(str(scope) for scope in data.get("scopes") or ())
    reviews = review_status(client_id, secret, label=label)
    missing = missing_permissions(needed, set(scopes), reviews, label=label)
    if missing is not None:
        raise missing
    expires = int(data.get("expires_at") or 0)
    details = {**details, "app_review": {name: reviews[name] for name in needed if name in reviews}}
    if data.get("data_access_expires_at"):
        details["data_access_expires_at"] = datetime.fromtimestamp(
            int(data["data_access_expires_at"]), tz=UTC
        ).isoformat()
    return ChannelHealthInfo(
        account=account,
        token_expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        scopes=scopes,
        details=details,
        permissions_checked="verified",
    )


def long_lived_user_token(
    credentials: Mapping[str, Any], token: Mapping[str, Any], *, label: str, now: datetime
) -> tuple[str, str]:
    """What Facebook Login gave (`token`) traded for a long-lived user token with the app's id and
    secret (`fb_exchange_token`): the token, and when it expires (ISO, "" when Meta does not say)."""
    client_id = str(credentials.get("client_id") or "")
    secret = str(credentials.get("client_secret") or "")
    short = str(token.get("access_token") or "")
    if not short or not client_id or not secret:
        raise TokenExpired(f"{label}: the login gave no token, or the app id and secret are missing.")
    long_lived = call(
        "GET",
        "oauth/access_token",
        token=short,
        label=label,
        params={
            "grant_type": "fb_exchange_token",
            "client_id": client_id,
            "client_secret": secret,
            "fb_exchange_token": short,
        },
    )
    user_token = str(long_lived.get("access_token") or "")
    if not user_token:
        raise MalformedPayload(f"{label}: the token exchange answered without access_token.")
    expires = ""
    if long_lived.get("expires_in"):
        expires = (now + timedelta(seconds=int(long_lived["expires_in"]))).isoformat()
    return user_token, expires


def pages_of_login(
    credentials: Mapping[str, Any], token: Mapping[str, Any], *, fields: str, label: str, now: datetime
) -> tuple[list[dict], dict[str, str]]:
    """The Pages the person who logged in manages (`/me/accounts` with `fields`), read with the
    login's token traded for a long-lived one; and what that token adds to the channel's
    credentials (`user_access_token`, and `user_token_expires_at` where Meta says)."""
    user_token, expires = long_lived_user_token(credentials, token, label=label, now=now)
    accounts = [
        account
        for batch, _after in pages("me/accounts", token=user_token, label=label, params={"fields": fields})
        for account in batch
        if isinstance(account, dict)
    ]
    login = {"user_access_token": user_token}
    if expires:
        login["user_token_expires_at"] = expires
    return accounts, login
