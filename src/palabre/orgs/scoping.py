"""One organisation scope for every model that belongs to an organisation.

A model of an organisation takes `objects = OrgScopedQuerySet.as_manager()` (or subclasses the
queryset) and is read as `Model.objects.for_org(organisation)` or `Model.objects.visible_to(actor)`,
instead of a filter written by hand at each call. A model whose organisation is reached through
another row names the path once, as `organisation_path = "channel__organisation"`.
`tests/orgs/test_scoping.py` keeps the hand-written filters from coming back in the apps done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Self

from django.db import models

if TYPE_CHECKING:
    from palabre.orgs.models import Organisation


class Acting(Protocol):
    """Who acts (`palabre.orgs.services.Actor`), named by what the scope reads of it: models do
    not import services."""

    organisation: Organisation


class OrgScopedQuerySet(models.QuerySet):
    def for_org(self, organisation: Organisation | int) -> Self:
        """The rows of one organisation (the organisation or its id)."""
        return self.filter(**{getattr(self.model, "organisation_path", "organisation"): organisation})

    def visible_to(self, actor: Acting) -> Self:
        """The rows of the actor's organisation: what the actor's permissions then apply to."""
        return self.for_org(actor.organisation)
