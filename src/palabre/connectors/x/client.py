"""X's API v2 as the X connector calls it: the bearer token, the address (X's or the channel's
`api_base_url`), the `x-rate-limit-*` headers, and X's refusals read as the connectors' errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from django.utils import timezone

from palabre.connectors import http_client
from palabre.connectors.base import (
    ConnectorError,
    MalformedPayload,
    TokenExpired,
)

API = "https://api.x.com"
WEB = "https://x.com"

USER_FIELDS = "name,username,public_metrics"


def reset_wait(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds until `x-rate-limit-reset` (epoch seconds), at least one; None when not told."""
    value = response.headers.get("x-rate-limit-reset", "").strip()
    if not value.isdigit():
        return None
    now = now or timezone.now()
    return max(int(value) - now.timestamp(), 1.0)


class XClient:
    """One call to X's API v2 for a channel (its bearer token, its address), its rate-limit
    headers kept and its refusals read, for `XConnector`."""

    def _base(self, channel) -> str:
        base = (channel.options or {}).get("api_base_url") or API
        return str(base).rstrip("/")

    def _call(
        self,
        channel,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        files: Any = None,
        data: dict[str, Any] | None = None,
        sending: bool = False,
    ) -> dict:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        token = credentials.get("access_token")
        if not token:
            raise TokenExpired("The channel has no X access token: connect it with X.")
        url = self._base(channel) + path
        response = http_client.send(
            method,
            url,
            label="X",
            sending=sending,
            params=params,
            json=json_body,
            files=files,
            data=data,
            headers={"Authorization": f"Bearer {token}"},
        )
        self._remember_limits(channel, path, response)
        if response.status_code >= 400:
            raise self._translate(response, path, sending=sending)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            answer = response.json()
        except ValueError as error:
            raise MalformedPayload(f"X answered {path} with something else than JSON.") from error
        if not isinstance(answer, dict):
            raise MalformedPayload(f"X's answer to {path} is not an object.")
        return answer

    def _remember_limits(self, channel, path: str, response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining", "")
        if remaining.isdigit():
            self.last_limits = {
                "rate_limit_remaining": int(remaining),
                "rate_limit_limit": int(response.headers.get("x-rate-limit-limit", "0") or 0),
                "rate_limit_reset_in": reset_wait(response),
            }

    def _translate(self, response: httpx.Response, path: str, *, sending: bool) -> ConnectorError:
        status = response.status_code
        detail, reason = http_client.error_detail(http_client.json_or_none(response.content))
        text = f"X {status}{' ' + reason if reason else ''}: {detail or response.reason_phrase}"
        wait = None
        if status == 429:
            wait = reset_wait(response) or http_client.retry_after(response) or 900.0
            text = f"{text} (the limit resets in {int(wait)} s)"
        elif status == 401:
            text = f"{text} (reconnect the channel with X)"
        elif status == 403 and reason == "client-not-enrolled":
            text = f"{text} (the app's project lacks the access tier {path} needs)"
        return http_client.status_error(status, text, sending=sending, retry_after=wait)

    def user_id(self, channel) -> str:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        if credentials.get("user_id"):
            return str(credentials["user_id"])
        from palabre.connectors.services import connector_state, save_connector_state

        state = connector_state(channel)
        if state.get("user_id"):
            return str(state["user_id"])
        me = self._me(channel)
        save_connector_state(channel, {**state, "user_id": me["id"]})
        return str(me["id"])

    def _me(self, channel) -> dict:
        answer = self._call(channel, "GET", "/2/users/me", params={"user.fields": USER_FIELDS})
        me = answer.get("data")
        if not isinstance(me, dict) or "id" not in me:
            raise MalformedPayload("X's /2/users/me answer lacks the account.")
        return me
