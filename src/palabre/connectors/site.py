"""Site comments: what a brand's own site sends Palabre, and what Palabre does back.

In: the drop-in protocols (`compat`: the comment widget's form, Akismet's comment-check and
submit-spam/ham, Perspective's analyze and suggestscore) answer the site from the moderation engine
and hand what they accepted to this connector (`receive_comment`, `receive_comments`), which stores
it as items of the site's channel through the pipeline: the site's way in, as pulls and webhooks
are the platforms'. Only `connectors`, `conversations` and the demo loader store items
(tests/test_architecture.py).

Out: the platform here is Palabre itself, so:
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
from palabre.conversations.pipeline import Stored, analyse_items_or_each, ingest_items
from palabre.conversations.services import ingest_item

if TYPE_CHECKING:
    from collections.abc import Iterable

    from palabre.conversations.models import Item
    from palabre.conversations.services import IncomingItem
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


# --- in: what the site's endpoints accepted -------------------------------------------------------


def receive_comment(channel: Channel, incoming: IncomingItem, *, analyse: bool = True) -> tuple[Item, bool]:
    """One comment the site's endpoints accepted, stored (or updated) as an item of the site's
    channel; its analysis queued once committed unless `analyse` is False. Returns (item, created)."""
    return ingest_item(channel=channel, incoming=incoming, analyse=analyse)


def receive_comments(
    channel: Channel, incoming: Iterable[IncomingItem], *, analyse: bool = True, skip_invalid: bool = False
) -> Stored:
    """A batch of the site's comments through the pipeline at once (`ingest_items`: an invalid one
    raises, or with `skip_invalid` comes back in `refused`)."""
    return ingest_items(channel=channel, incoming=incoming, analyse=analyse, skip_invalid=skip_invalid)


def analyse_received(item_ids: list[int], created_ids: Iterable[int] = ()) -> dict:
    """The pipeline's stages on comments received with `analyse=False`, in this process, as one
    batch, once the caller's transaction has committed: what the queued task would do, without a
    trip through the queue (Akismet's journal, which stores thousands a second)."""
    return analyse_items_or_each(list(item_ids), created_ids)
