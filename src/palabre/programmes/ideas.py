"""Ideas from the community: suggestions found in what people write to the brand, grouped by
theme, backed by "+1" replies, given a status by the team and announced back to each person who
asked, in a reply under their own message."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.conversations.models import Item, ItemKind
from palabre.conversations.services import surviving_contact
from palabre.nlp.suggestions import is_support, suggestion_cue
from palabre.nlp.themes import group_by_theme
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.programmes.models import Idea, IdeaStatus, IdeaSuggestion

SUGGESTION_KINDS = (
    ItemKind.COMMENT,
    ItemKind.REPLY,
    ItemKind.MENTION,
    ItemKind.DIRECT_MESSAGE,
    ItemKind.REVIEW,
)
LOOK_BACK_DAYS = 90
# Grouping by theme costs time and memory in the square of the texts, in the request (2,000
# suggestions of twenty made-up words: a minute of CPU and 1.4 GB), and anyone commenting writes
# them: a collection reads this many new suggestions (the next ones at the next collection),
# compares them with this many of the latest filed ones, on the start of each text.
MAX_SCAN = 5000  # the latest messages read for a suggestion's cue
MAX_NEW = 200
MAX_FILED = 300
GROUPED_CHARS = 500
CUE_CHARS = 2000  # where a suggestion's cue is looked for
TITLE_LENGTH = 120


def _person(item: Item) -> int | None:
    return surviving_contact(item.contact).pk if item.contact_id else None


@transaction.atomic
def collect_ideas(*, actor: Actor, now: datetime | None = None, days: int = LOOK_BACK_DAYS) -> dict:
    """Find the suggestions of the last `days` not yet filed, group them with the ideas already
    there, and count each idea's supporters. Ideas are never split or merged here: a suggestion
    joins the idea most of its theme belongs to, or starts a new one."""
    actor.require(Perm.PROGRAMMES_MANAGE)
    now = now or timezone.now()
    recent = (
        Item.objects.visible_to(actor)
        .filter(kind__in=SUGGESTION_KINDS, created_at__gte=now - timedelta(days=days))
        .filter(idea_suggestion__isnull=True)
        .exclude(contact__isnull=True)
        .select_related("contact")
        .defer("text")
        .annotate(head=Left("text", CUE_CHARS))
        .order_by("-created_at")[:MAX_SCAN]
    )
    new = [item for item in recent if suggestion_cue(item.head)][:MAX_NEW]
    filed = list(
        IdeaSuggestion.objects.filter(idea__organisation=actor.organisation, backs=False)
        .annotate(head=Left("item__text", GROUPED_CHARS))
        .order_by("-created_at", "-pk")[:MAX_FILED]
    )
    texts = [s.head for s in filed] + [item.head[:GROUPED_CHARS] for item in new]
    created = 0
    for theme in group_by_theme(texts):
        ideas = Counter(filed[i].idea_id for i in theme.members if i < len(filed))
        newcomers = [new[i - len(filed)] for i in theme.members if i >= len(filed)]
        if not newcomers:
            continue
        if ideas:
            idea = Idea.objects.get(pk=ideas.most_common(1)[0][0])
        else:
            central = texts[theme.central]
            idea = Idea.objects.create(organisation=actor.organisation, title=_title(central))
            created += 1
        for item in newcomers:
            IdeaSuggestion.objects.create(
                idea=idea, item=item, contact_id=_person(item), created_at=item.created_at
            )
    backed = _file_support(actor)
    counted = Idea.objects.visible_to(actor).annotate(people=Count("suggestions__contact", distinct=True))
    changed = [idea for idea in counted if idea.supporters != idea.people]
    for idea in changed:
        idea.supporters = idea.people
    Idea.objects.bulk_update(changed, ["supporters"])
    summary = {"suggestions": len(new), "ideas_created": created, "supports": backed}
    record(actor, "programmes.ideas_collected", None, after=summary)
    return summary


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1].rstrip() + "…"


def _file_support(actor: Actor) -> int:
    """Replies that back a filed suggestion ("+1", "moi aussi") count their authors as supporters."""
    suggestions = IdeaSuggestion.objects.filter(idea__organisation=actor.organisation, backs=False)
    by_item = {s.item_id: s.idea_id for s in suggestions}
    replies = (
        Item.objects.visible_to(actor)
        .filter(parent_id__in=list(by_item))
        .filter(idea_suggestion__isnull=True)
        .exclude(contact__isnull=True)
        .select_related("contact")
    )
    filed = 0
    for reply in replies:
        if is_support(reply.text):
            IdeaSuggestion.objects.create(
                idea_id=by_item[reply.parent_id],
                item=reply,
                contact_id=_person(reply),
                backs=True,
                created_at=reply.created_at,
            )
            filed += 1
    return filed


def get_idea(*, actor: Actor, idea_id: int) -> Idea:
    actor.require(Perm.ITEMS_VIEW)
    idea = Idea.objects.visible_to(actor).filter(pk=idea_id).first()
    if idea is None:
        raise NotInOrganisation(_("No such idea in this organisation."))
    return idea


@transaction.atomic
def set_status(*, actor: Actor, idea: Idea, status: str) -> Idea:
    actor.require(Perm.PROGRAMMES_MANAGE)
    idea = Idea.objects.visible_to(actor).select_for_update().filter(pk=idea.pk).first()
    if idea is None:
        raise NotInOrganisation(_("No such idea in this organisation."))
    if status not in IdeaStatus.values:
        raise ValidationError({"status": _("Choose one of the statuses offered.")})
    before = idea.status
    idea.status = status
    idea.status_changed_at = timezone.now()
    idea.save(update_fields=["status", "status_changed_at"])
    record(actor, "programmes.idea_status", idea, before={"status": before}, after={"status": status})
    return idea


def _news(status: str) -> str:
    return {
        IdeaStatus.UNDER_REVIEW: _("we are looking into it."),
        IdeaStatus.PLANNED: _("it is planned, thank you for the idea!"),
        IdeaStatus.DONE: _("it is done, thank you for the idea!"),
        IdeaStatus.DECLINED: _("we will not do it for now, but thank you for the idea."),
    }[status]


def announcement_text(suggestion: IdeaSuggestion, status: str) -> str:
    """Personal: the person's name and their own words, then the news."""
    name = suggestion.contact.display_name if suggestion.contact_id else ""
    excerpt = _title(suggestion.item.text)[:80]
    if suggestion.backs:
        return _("Hello %(name)s, about the idea you backed (“%(idea)s”): %(news)s") % {
            "name": name,
            "idea": suggestion.idea.title[:80],
            "news": _news(status),
        }
    return _("Hello %(name)s, you suggested “%(excerpt)s”: %(news)s") % {
        "name": name,
        "excerpt": excerpt,
        "news": _news(status),
    }


def announce_status(*, actor: Actor, idea: Idea) -> dict:
    """Answer each person who asked or backed the idea, once per status, under their own message,
    through the outbox. A channel that cannot reply is counted, not failed silently."""
    from palabre.connectors.services import queue_reply

    actor.require(Perm.PROGRAMMES_MANAGE)
    actor.require(Perm.INBOX_REPLY)
    idea = get_idea(actor=actor, idea_id=idea.pk)
    if idea.status == IdeaStatus.NEW:
        raise ValidationError({"status": _("Give the idea a status before announcing it.")})
    queued, impossible, seen = 0, 0, set()
    for suggestion in idea.suggestions.select_related("item__channel", "contact", "idea"):
        person = suggestion.contact_id or f"item-{suggestion.item_id}"
        if person in seen:
            continue  # one answer per person, under their first message
        seen.add(person)
        try:
            queue_reply(
                actor=actor,
                item=suggestion.item,
                text=announcement_text(suggestion, idea.status),
                idempotency_key=f"idea-{idea.pk}-{idea.status}-{suggestion.pk}",
            )
        except ValidationError:
            impossible += 1
        else:
            queued += 1
    idea.announced_status = idea.status
    idea.save(update_fields=["announced_status"])
    summary = {"queued": queued, "impossible": impossible}
    record(actor, "programmes.idea_announced", idea, after={"status": idea.status, **summary})
    return summary
