"""What every listening service checks first: the object belongs to the actor's organisation."""

from __future__ import annotations

from palabre.orgs.services import Actor, NotInOrganisation


def _require_same_organisation(actor: Actor, organisation_id: int) -> None:
    if organisation_id != actor.organisation.pk:
        raise NotInOrganisation()
