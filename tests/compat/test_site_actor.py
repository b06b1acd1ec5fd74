"""A site reporting through a drop-in protocol acts in its own name, one actor for both protocols."""

from __future__ import annotations

from palabre.compat.actors import site_actor
from palabre.moderation.models import ModerationSite
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm


def test_the_site_is_named_with_its_protocol_in_the_audit_log():
    site = ModerationSite(organisation=Organisation(name="Brand", slug="brand"), name="Blog")
    akismet, perspective = site_actor(site, protocol="akismet"), site_actor(site, protocol="perspective")
    assert (akismet.label, perspective.label) == ("akismet:Blog", "perspective:Blog")
    assert perspective.organisation is site.organisation
    assert perspective.permissions == frozenset({Perm.ITEMS_VIEW.value, Perm.MODERATION_ACT.value})
