"""A moderator works the held tab with the keyboard in a real browser: j, a, and the item moves on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"

pytestmark = pytest.mark.e2e


@pytest.fixture
def held_items(transactional_db, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
    from palabre.moderation import services as moderation
    from palabre.moderation.models import ItemModeration
    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Dupont", owner=owner)
    boss = Actor.for_user(owner, organisation)
    services.add_member(
        actor=Actor.palabre(organisation), username="nadia", password=PASSWORD, role="moderator"
    )
    channel = services.create_channel(actor=boss, platform="site", handle="blog.dupont.fr", name="Blog")
    moderation.create_rule(actor=boss, kind="suspect_word", pattern="remboursement", enabled=True)
    items = []
    for n, text in enumerate(
        ["Je veux un remboursement, vite", "Toujours pas de remboursement ?", "Remboursement refusé, bravo"]
    ):
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
        assert ItemModeration.objects.get(item=item).status == "held"
        items.append(item)
    return items


def test_a_moderator_approves_a_held_item_with_the_keyboard(live_server, held_items, browser_page, sign_in):
    page = browser_page

    sign_in(page, live_server.url, "nadia", PASSWORD)
    expect(page.locator("nav.sidenav #moderation-badge")).to_have_text("3")

    page.click("nav.sidenav >> text=Moderation")
    page.wait_for_load_state("load")  # its scripts run before we press or change
    tabs = page.locator("#queue-tabs")
    expect(tabs.locator("a[aria-current=page]")).to_contain_text("Held")
    expect(tabs.locator("a[aria-current=page] .count")).to_have_text("3")
    entries = page.locator(".mod-entry:not(.decided)")
    expect(entries).to_have_count(3)

    # ? shows the shortcuts, Escape closes them.
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()

    # j moves the focus ring to the first entry, j again to the second, k back to the first.
    page.keyboard.press("j")
    first = entries.nth(0)
    expect(first).to_have_class("mod-entry current")
    page.keyboard.press("j")
    expect(entries.nth(1)).to_have_class("mod-entry current")
    page.keyboard.press("k")
    expect(first).to_have_class("mod-entry current")
    item_id = first.get_attribute("data-item")

    # x selects it for a bulk action, x again unselects it.
    page.keyboard.press("x")
    expect(first.locator("input[data-select]")).to_be_checked()
    page.keyboard.press("x")
    expect(first.locator("input[data-select]")).not_to_be_checked()

    # a approves: the entry is swapped in place, the counts follow, the focus goes on.
    page.keyboard.press("a")
    decided = page.locator(f"#entry-{item_id}")
    expect(decided).to_have_class("mod-entry decided")
    expect(decided).to_contain_text("Approved.")
    expect(tabs.locator("a[aria-current=page] .count")).to_have_text("2")
    expect(page.locator("nav.sidenav #moderation-badge")).to_have_text("2")
    expect(page.locator(".mod-entry.current")).to_have_count(1)

    # The item has left the held tab, and shows in the approved one.
    page.reload()
    expect(page.locator(".mod-entry")).to_have_count(2)
    expect(page.locator(f"#entry-{item_id}")).to_have_count(0)
    page.click("#queue-tabs >> text=Approved")
    expect(page.locator(f"#entry-{item_id}")).to_be_visible()
    expect(page.locator(f"#entry-{item_id} .badge.status-approved")).to_have_text("Approved")
