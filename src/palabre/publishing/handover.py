"""A leaving member's drafts go to the colleague chosen at their removal (orgs sends
`member_leaving`; publishing answers what it handed over, for the offboarding report)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm, role_has
from palabre.orgs.services import Actor, record
from palabre.publishing.models import Post, PostStatus

# Posts still being written: a draft, or one sent back by an approver.
UNFINISHED = (PostStatus.DRAFT, PostStatus.REJECTED)


def hand_over_drafts(
    *, actor: Actor, membership: Membership, successor: Membership | None, **_kwargs: Any
) -> list[dict[str, Any]]:
    """The leaving member's unfinished posts become the successor's to carry on (who wrote them
    first stays in the audit log). A successor whose role cannot write posts, or none, leaves
    them as they are, listed for someone to pick up."""
    may_write = successor is not None and role_has(successor.role, Perm.POSTS_DRAFT)
    to = successor.user if may_write else None
    handed = []
    posts = (
        Post.objects.for_org(membership.organisation)
        .filter(created_by=membership.user, status__in=UNFINISHED)
        .order_by("created_at", "pk")
    )
    for post in posts:
        if to is not None:
            post.created_by = to
            post.save(update_fields=["created_by"])
            record(
                actor,
                "post.handed_over_to_member",
                post,
                before={"created_by": membership.user.get_username()},
                after={"created_by": to.get_username()},
            )
        handed.append(
            {
                "kind": "draft",
                "id": post.pk,
                "label": post.title[:120],
                "url": reverse("publishing:post", args=[post.pk]),
                "to": to.get_username() if to else None,
            }
        )
    return handed
