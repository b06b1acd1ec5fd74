"""A person corrects the sentiment or intent Palabre read in a mention.

A corrected sentiment replaces the mention's own (so the tone charts and the negative share count
it); the intent, read on the fly for mentions, is shown as corrected. Both are kept
(conversations.corrections) for `palabre train --include-feedback`.
"""

from __future__ import annotations

from dataclasses import dataclass

from palabre.conversations import corrections
from palabre.conversations.models import Correction
from palabre.listening.models import Mention
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation


@dataclass(frozen=True)
class MentionTriage:
    mention: Mention
    sentiment: corrections.Shown
    intent: corrections.Shown


def mention_of(*, actor: Actor, mention_id: int) -> Mention:
    actor.require(Perm.ITEMS_VIEW)
    mention = Mention.objects.visible_to(actor).select_related("source").filter(pk=mention_id)
    found = mention.first()
    if found is None:
        raise NotInOrganisation
    return found


def triage_of(mentions: list[Mention]) -> list[MentionTriage]:
    """Each mention with its sentiment (stored, corrected or not) and intent (read now, or corrected)."""
    from palabre.nlp.triage import triage_many

    if not mentions:
        return []
    found = corrections.latest(mentions)
    read = triage_many([m.text for m in mentions], [m.language or None for m in mentions])
    rows = []
    for mention, triage in zip(mentions, read, strict=True):
        intent = triage.intent.label
        sentiment = corrections.shown(found, mention.pk, "sentiment")
        if not sentiment.corrected:
            sentiment = corrections.Shown(mention.sentiment, mention.sentiment)
        rows.append(MentionTriage(mention, sentiment, corrections.shown(found, mention.pk, "intent", intent)))
    return rows


def correct_mention(*, actor: Actor, mention: Mention, field: str, value: str) -> Correction:
    """Record the correction of a mention's sentiment or intent; a sentiment also becomes the
    mention's own."""

    def keep_sentiment(field: str, value: str) -> None:
        if field == "sentiment":
            Mention.objects.filter(pk=mention.pk).update(sentiment=value)
            mention.sentiment = value

    return corrections.correct(
        actor=actor, subject=mention, field=field, value=value, triage_of=triage_of, then=keep_sentiment
    )
