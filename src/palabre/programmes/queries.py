"""What the programme pages read, scoped to the actor's organisation."""

from __future__ import annotations

from django.db.models import QuerySet

from palabre.conversations.models import Item, ItemKind
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.programmes.models import Contest, ContestEntry, Idea, Poll

RECENT_POSTS = 50


def brand_posts(actor: Actor) -> QuerySet[Item]:
    """The brand's recent posts, the ones a contest or a poll can be run on."""
    actor.require(Perm.ITEMS_VIEW)
    recent = Item.objects.visible_to(actor).filter(kind=ItemKind.POST).order_by("-created_at")
    ids = list(recent.values_list("pk", flat=True)[:RECENT_POSTS])
    return Item.objects.filter(pk__in=ids).select_related("channel").order_by("-created_at")


def contests(actor: Actor) -> QuerySet[Contest]:
    actor.require(Perm.ITEMS_VIEW)
    return Contest.objects.visible_to(actor)


def polls(actor: Actor) -> QuerySet[Poll]:
    actor.require(Perm.ITEMS_VIEW)
    return Poll.objects.visible_to(actor).select_related("post")


def poll(actor: Actor, poll_id: int) -> Poll:
    found = polls(actor).filter(pk=poll_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def entry(actor: Actor, contest: Contest, entry_id: int) -> ContestEntry:
    found = ContestEntry.objects.filter(
        contest=contest, contest__organisation=actor.organisation, pk=entry_id
    ).first()
    if found is None:
        raise NotInOrganisation
    return found


def published_contest(commitment: str) -> Contest | None:
    """The public page finds a contest by its commitment: published with its rules anyway."""
    if len(commitment) != 64 or any(ch not in "0123456789abcdef" for ch in commitment):
        return None
    return Contest.objects.filter(commitment=commitment).first()


def ideas(actor: Actor) -> QuerySet[Idea]:
    actor.require(Perm.ITEMS_VIEW)
    return Idea.objects.visible_to(actor).prefetch_related("suggestions__item", "suggestions__contact")
