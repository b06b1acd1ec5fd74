"""A person corrects the sentiment or intent Palabre read in a thread's message.

The correction is kept (conversations.corrections), the thread's row is recomputed with it (its
priority follows a complaint or a crisis), and `palabre train --include-feedback` learns from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from palabre.conversations import corrections
from palabre.conversations.models import Correction, Item
from palabre.inbox import services
from palabre.inbox.models import Conversation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation


@dataclass(frozen=True)
class ItemTriage:
    """What the thread page shows beside one customer message."""

    item: Item
    sentiment: corrections.Shown
    intent: corrections.Shown


def item_of(*, actor: Actor, item_id: int, conversation: Conversation | None = None) -> Item:
    """A message of the actor's organisation that belongs to an inbox thread (of `conversation`
    when given), or NotInOrganisation."""
    actor.require(Perm.ITEMS_VIEW)
    item = Item.objects.select_related("channel", "author").visible_to(actor).filter(pk=item_id).first()
    if item is None:
        raise NotInOrganisation
    root_id = item.thread_root_id or item.pk
    if conversation is not None and conversation.root_id != root_id:
        raise NotInOrganisation
    if conversation is None and not Conversation.objects.filter(root_id=root_id).exists():
        raise NotInOrganisation
    return item


def detected(items: list[Item]) -> dict[int, tuple[str, str]]:
    """What the analysis reads in each message: (sentiment, intent), without any correction."""
    from palabre.nlp.triage import triage_many

    found = triage_many([i.text for i in items], [i.language or None for i in items]) if items else []
    return {i.pk: (t.sentiment, t.intent.label) for i, t in zip(items, found, strict=True)}


def triage_of(items: list[Item]) -> list[ItemTriage]:
    """Each customer message with its sentiment and intent as shown: corrected, or as detected."""
    read = detected(items)
    found = corrections.latest(items)
    return [
        ItemTriage(
            item,
            corrections.shown(found, item.pk, "sentiment", read[item.pk][0]),
            corrections.shown(found, item.pk, "intent", read[item.pk][1]),
        )
        for item in items
    ]


def correct_item(*, actor: Actor, item: Item, field: str, value: str) -> Correction:
    """Record the correction of one message's sentiment or intent and recompute its thread."""
    return corrections.correct(
        actor=actor,
        subject=item,
        field=field,
        value=value,
        triage_of=triage_of,
        then=lambda _field, _value: services.refresh_conversation(
            item.organisation, item.thread_root_id or item.pk
        ),
    )


def corrected_triage(item: Item, sentiment: str, intent: str) -> tuple[str, str, Correction | None]:
    """The thread's sentiment and intent once people's corrections of its last message apply."""
    found = corrections.latest([item])
    by_sentiment, by_intent = found.get((item.pk, "sentiment")), found.get((item.pk, "intent"))
    return (
        by_sentiment.new_value if by_sentiment else sentiment,
        by_intent.new_value if by_intent else intent,
        by_intent or by_sentiment,
    )
