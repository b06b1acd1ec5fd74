"""What the Facebook Pages and Instagram connectors share, declared once: the Meta app's fields and
its Facebook Login flow, the webhooks' signature and handshake, one Graph call with the platform's
name in its errors, where a reply goes, and hiding a comment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from palabre.connectors.base import Connector, CredentialField, FieldKind, OAuthSpec, PermanentError
from palabre.connectors.meta_graph import GRAPH_VERSION, call, signature_ok, subscription_challenge

# The Meta app's own id and secret, which both connectors' channels carry.
APP_FIELDS = (
    CredentialField(
        "client_id",
        _("App ID"),
        _("developers.facebook.com > My Apps > the brand's app > App settings > Basic: “App ID”."),
        required=True,
    ),
    CredentialField(
        "client_secret",
        _("App secret"),
        _(
            "The same page: “App secret” (Show). Palabre uses it for the connection, to check the "
            "webhooks' signature and to read the permissions' review status."
        ),
        kind=FieldKind.SECRET,
        required=True,
    ),
)


def login_flow(scopes: tuple[str, ...]) -> OAuthSpec:
    """Facebook Login's authorisation-code flow (Instagram professional accounts come through it too)."""
    return OAuthSpec(
        authorize_url=f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth",
        token_url=f"https://graph.facebook.com/{GRAPH_VERSION}/oauth/access_token",
        scopes=scopes,
        scope_separator=",",
    )


class GraphConnector(Connector):
    """A platform of Meta's Graph API. Subclasses give `label` (the platform's name in messages),
    `hidden_field` (the comment field that hides it) and `_token(channel)`."""

    label: ClassVar[str] = ""
    hidden_field: ClassVar[str] = ""

    def _token(self, channel) -> str:
        raise NotImplementedError

    def _call(self, method: str, path: str, token: str, **kwargs) -> dict[str, Any]:
        return call(method, path, token=token, label=self.label, **kwargs)

    def verify_webhook(self, channel, headers, body: bytes) -> bool:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        return signature_ok(str(credentials.get("client_secret") or ""), headers, body)

    def verify_subscription(self, channel, query: Mapping[str, str]) -> str | None:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        return subscription_challenge(str(credentials.get("verify_token") or ""), query)

    def _comment_target(self, item) -> str:
        """Where a reply goes: under the comment it answers. A thread is a comment and its replies
        on both platforms, so a reply to a reply goes under that comment."""
        if item.kind == "reply" and item.parent is not None and item.parent.kind == "comment":
            return item.parent.external_id
        return item.external_id

    def _set_hidden(self, channel, item, hidden: bool) -> None:
        if item.kind not in ("comment", "reply"):
            raise PermanentError(
                f"{self.label}: only comments can be hidden or shown again, not a {item.kind}."
            )
        token = self._token(channel)
        self._call("POST", item.external_id, token, data={self.hidden_field: "true" if hidden else "false"})

    def hide(self, channel, item) -> None:
        self._set_hidden(channel, item, True)

    def unhide(self, channel, item) -> None:
        self._set_hidden(channel, item, False)
