"""Who acts when a site reports through a drop-in protocol (Akismet's submit-spam/ham and a filled
honeypot, Perspective's suggestscore): the site itself, in its organisation, allowed to see and
moderate items, recorded in the audit log as `akismet:Blog` or `perspective:Blog`."""

from __future__ import annotations

from dataclasses import dataclass

from palabre.moderation.models import ModerationSite
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor


@dataclass(frozen=True)
class SiteActor(Actor):
    protocol: str = ""
    site_name: str = ""

    @property
    def label(self) -> str:
        return f"{self.protocol}:{self.site_name}"


def site_actor(site: ModerationSite, *, protocol: str) -> Actor:
    return SiteActor(
        organisation=site.organisation,
        system=True,
        permissions=frozenset({Perm.ITEMS_VIEW.value, Perm.MODERATION_ACT.value}),
        protocol=protocol,
        site_name=site.name,
    )
