"""Fixtures: a brand with a blog registered for the comment form, with rules that hold and reject."""

from __future__ import annotations

import pytest
from widget_world import BANNED, BLOG, SUSPECT, Blog

from palabre.moderation import services as moderation
from palabre.moderation.models import ModerationSite
from palabre.orgs.services import Actor


@pytest.fixture(autouse=True)
def english_readers(settings):
    """Readers whose browser asks for no language get the default: English in these tests."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def make_blog():
    def make(organisation, url: str = BLOG + "/", *, name: str = "Blog", origins: list[str] = ()) -> Blog:
        actor = Actor.palabre(organisation)
        site, _key = moderation.create_moderation_site(actor=actor, name=name, url=url)
        if origins:
            ModerationSite.objects.filter(pk=site.pk).update(allowed_origins=list(origins))
            site.refresh_from_db()
        return Blog(site=site, actor=actor)

    return make


@pytest.fixture
def blog(org, make_blog) -> Blog:
    found = make_blog(org)
    moderation.create_rule(actor=found.actor, kind="suspect_word", pattern=SUSPECT, enabled=True)
    moderation.create_rule(actor=found.actor, kind="banned_word", pattern=BANNED, enabled=True)
    return found
