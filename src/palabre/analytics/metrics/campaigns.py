"""The campaign filter: the figures of one campaign's posts and of the conversations under them.

A campaign's post is known on its channel by the platform's id its publication received: a
variant of one of the campaign's posts whose outbound action was sent carries it
(`OutboundAction.external_id`), and the post comes back through the channel as an item with that
id. The campaign's conversations are the threads those posts start (their comments and replies).
Both are subqueries: the filter adds no query to the dashboard.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from palabre.analytics.metrics.sql import Filters
from palabre.conversations.models import Item, ItemKind
from palabre.orgs.models import Organisation
from palabre.publishing.models import PostVariant


def campaign_posts(organisation: Organisation, campaign_id: int) -> QuerySet:
    """The items of the campaign's published posts, as their channels show them."""
    published = PostVariant.objects.for_org(organisation).filter(
        post__campaign_id=campaign_id,
        channel_id=OuterRef("channel_id"),
        action__external_id=OuterRef("external_id"),
    )
    return Item.objects.for_org(organisation).filter(kind=ItemKind.POST).filter(Exists(published))


def in_campaign(rows: QuerySet, organisation: Organisation, filters: Filters, item: str = "") -> QuerySet:
    """`rows` kept to the campaign's posts and their threads when the filter names a campaign.
    `item`: the path from a row to its item ("" for items themselves, "root" for an inbox thread,
    "item" for a moderation state or decision)."""
    if not filters.campaign_id:
        return rows
    posts = campaign_posts(organisation, filters.campaign_id).values("pk")
    own = f"{item}__in" if item else "pk__in"
    thread = f"{item}__thread_root__in" if item else "thread_root__in"
    return rows.filter(Q(**{own: posts}) | Q(**{thread: posts}))
