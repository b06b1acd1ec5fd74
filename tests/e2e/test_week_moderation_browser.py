"""A community manager's week, the moderation and team jobs, in a real browser: filter the held
queue by channel and reason, reject an item and undo it from the toast; remove a member and hand
their open threads and drafts over to a colleague, then read the offboarding report. In French
and in English, at desktop width and at 390 px; screenshots go to $PALABRE_SHOTS (default
/tmp/shots)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Palabre-e2e-2024!"
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))
ROUNDS = [("fr", 1280), ("en", 390), ("en", 1280), ("fr", 390)]
WORDS = {
    "fr": {
        "held": "Retenu",
        "reject": "Rejeter",
        "rejected": "Rejeté.",
        "undo": "Annuler",
        "undone": "Annulé : l’élément est revenu à son état d’avant.",
        "remove": "Retirer ce membre",
        "handed": "Transmis à marie.",
        "role": "Propriétaire",
    },
    "en": {
        "held": "Held",
        "reject": "Reject",
        "rejected": "Rejected.",
        "undo": "Undo",
        "undone": "Undone: the item is back where it stood.",
        "remove": "Remove this member",
        "handed": "Handed over to marie.",
        "role": "Owner",
    },
}


@pytest.fixture
def week(transactional_db, django_capture_on_commit_callbacks):
    """Maison Dupont: an owner, a leaving community manager with open threads and a draft, a
    colleague; a blog and a forum whose comments a suspect word holds."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
    from palabre.inbox.models import Conversation
    from palabre.inbox.services import assign, refresh_conversation
    from palabre.moderation import services as moderation
    from palabre.moderation.models import ItemModeration
    from palabre.orgs import services
    from palabre.orgs.services import Actor
    from palabre.publishing.services import create_post

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Dupont", owner=owner)
    boss = Actor.for_user(owner, organisation)
    system = Actor.palabre(organisation)
    leaving = services.add_member(actor=system, username="julie", password=PASSWORD, role="community_manager")
    services.add_member(actor=system, username="marie", password=PASSWORD, role="community_manager")
    julie = Actor.for_user(leaving.user, organisation)
    blog = services.create_channel(actor=boss, platform="site", handle="blog.dupont.fr", name="Blog")
    forum = services.create_channel(actor=boss, platform="site", handle="forum.dupont.fr", name="Forum")
    moderation.create_rule(actor=boss, kind="suspect_word", pattern="remboursement", enabled=True)
    texts = [
        (blog, "Je veux un remboursement, vite"),
        (blog, "Toujours pas de remboursement ?"),
        (forum, "Remboursements refusés, bravo"),
    ]
    for n, (channel, text) in enumerate(texts):
        incoming = IncomingItem(
            external_id=f"c{n}",
            kind="comment",
            text=text,
            created_at=timezone.now() - timedelta(hours=3 - n),
            author=IncomingAuthor(handle=f"@lecteur{n}"),
            language="fr",
        )
        with django_capture_on_commit_callbacks(execute=True):
            item, _created = ingest_item(channel=channel, incoming=incoming)
        if not ItemModeration.objects.filter(item=item).exists():
            moderation.moderate_item(item)
        refresh_conversation(organisation, item.pk, new_item=item)
        assign(actor=julie, conversation=Conversation.objects.get(root=item), assignee_id=leaving.user_id)
    create_post(actor=julie, title="Soldes d'hiver", variants=[{"channel": blog.pk, "text": "Bientôt -20 %"}])
    return {"leaving": leaving, "forum": forum}


def _shot(page, name: str, lang: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"week-{name}-{lang}-{width}.png"), full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (name, lang, width, scroll_width)


def _moderate_and_undo(page, url, lang, width, forum_id):
    words = WORDS[lang]
    page.goto(f"{url}/moderation/?status=held")
    page.wait_for_load_state("load")
    expect(page.locator("#queue-tabs a[aria-current=page]")).to_contain_text(words["held"])
    page.select_option("#filter-channel", str(forum_id))
    page.click(".queue-filters button[type=submit]")
    expect(page).to_have_url(re.compile(rf"channel={forum_id}"))
    entries = page.locator(".mod-entry:not(.decided)")
    expect(entries).to_have_count(1)
    expect(page.locator("#filter-channel option:checked")).to_contain_text("(1)")
    _shot(page, "moderation-filtered", lang, width)
    page.goto(f"{url}/moderation/?status=held")
    page.wait_for_load_state("load")
    expect(entries).to_have_count(3)
    first = entries.nth(0)
    item_id = first.get_attribute("data-item")
    first.locator("button[value=reject]").click()
    decided = page.locator(f"#entry-{item_id}.decided")
    expect(decided).to_contain_text(words["rejected"])
    undo = decided.locator("button[data-undo]")
    expect(undo).to_contain_text(words["undo"])
    _shot(page, "moderation-undo-toast", lang, width)
    undo.click()
    restored = page.locator(f"#entry-{item_id}")
    expect(restored).not_to_have_class(re.compile(r"decided"))
    expect(restored).to_contain_text(words["undone"].replace(" :", "\u202f:"))
    expect(page.locator("#queue-tabs a[aria-current=page] .count")).to_have_text("3")
    _shot(page, "moderation-undone", lang, width)


def _offboard_and_hand_over(page, url, lang, width, leaving_id):
    words = WORDS[lang]
    page.goto(f"{url}/members/{leaving_id}/remove/")
    page.wait_for_load_state("load")
    marie = page.locator("#successor option", has_text="marie").get_attribute("value")
    page.select_option("#successor", marie)
    _shot(page, "member-remove", lang, width)
    page.click(f"button:has-text('{words['remove']}')")
    expect(page).to_have_url(re.compile(r"/report/$"))
    handover = page.locator("#handover")
    expect(handover).to_contain_text(words["handed"])
    expect(handover.locator("li")).to_have_count(4)  # three open threads and the draft
    expect(handover).to_contain_text("Soldes d'hiver")
    expect(page.locator("header .who, .who").first).to_contain_text(words["role"])
    _shot(page, "member-report", lang, width)


@pytest.mark.parametrize(("lang", "width"), ROUNDS, ids=[f"{lang}-{width}" for lang, width in ROUNDS])
def test_moderate_undo_and_offboard_a_member(live_server, week, new_page, lang, width, sign_in):
    page = new_page(width=width)
    sign_in(page, live_server.url, "camille", PASSWORD, lang=lang)
    _moderate_and_undo(page, live_server.url, lang, width, week["forum"].pk)
    _offboard_and_hand_over(page, live_server.url, lang, width, week["leaving"].pk)
    page.context.close()
