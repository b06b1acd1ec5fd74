"""Site comments: the comment form Palabre serves on the brand's own site (moderation's widget).

Comments are already items of the site's channel when a reader sends them. The platform here is
Palabre itself, so:
- reply: the brand's answer is stored in the thread (by the outbox) and the widget shows it under
  the comment; its external id comes from the idempotency key, so delivering twice stores it once;
- hide and delete: the comment stops being shown. Moderation owns what the widget shows, so it
  tells how through the `hide_site_comment` hook (`palabre.hooks`; connectors sit below moderation
  and never import it). A deleted comment is only hidden: nothing a reader wrote is destroyed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from palabre import hooks
from palabre.connectors.base import Capability, Connector, Delivered, NotSupported

if TYPE_CHECKING:
    from palabre.conversations.models import Item
    from palabre.orgs.models import Channel


def reply_external_id(idempotency_key: str) -> str:
    return "widget-reply:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class SiteConnector(Connector):
    platform = "site"
    capabilities = frozenset({Capability.REPLY, Capability.HIDE, Capability.DELETE})
    # The same key gives the same external id, and ingestion is idempotent on it.
    idempotent_delivery = True
    credential_fields = ()  # Palabre itself: nothing to log in with

    def reply(self, channel: Channel, *, in_reply_to: Item, text: str, idempotency_key: str) -> Delivered:
        external_id = reply_external_id(idempotency_key)
        url = f"{in_reply_to.url}#palabre-{external_id.split(':')[1][:12]}" if in_reply_to.url else ""
        return Delivered(external_id=external_id, url=url)

    def _hide(self, item: Item, note: str) -> None:
        if not hooks.hook.hide_site_comment(item=item, note=note):
            raise NotSupported("no moderation is installed to hide site comments")

    def hide(self, channel: Channel, item: Item) -> None:
        self._hide(item, "hidden through the outbox")

    def delete(self, channel: Channel, item: Item) -> None:
        self._hide(item, "deleted through the outbox (kept, hidden)")
