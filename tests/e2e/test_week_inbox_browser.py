"""A community manager's week, the inbox and listening jobs, in a real browser on the demo: answer
the most urgent thread (urgent filter, priority sort, a reply checked by the live length counter),
close threads in bulk and undo, write a listening query with its live preview and see it search
what was already collected. In French and in English, at desktop width and at 390 px; screenshots
go to $PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))
ROUNDS = [("fr", 1280), ("en", 390), ("en", 1280), ("fr", 390)]

WORDS = {
    "fr": {
        "too_many": "caractères de trop",
        "queued": "Réponse mise en file d’envoi",
        "closed": "2 conversations fermées",
        "undone": "2 conversations remises comme avant",
        "matches": re.compile(r"\d+ publications? sur les \d+ stockées ces 30 derniers jours"),
        "error": "Caractère",
        "found": "trouvées",
    },
    "en": {
        "too_many": "characters too many",
        "queued": "Reply queued for sending",
        "closed": "2 conversations closed",
        "undone": "2 conversations put back as they were",
        "matches": re.compile(r"\d+ posts? of the \d+ stored over the last 30 days"),
        "error": "Character",
        "found": "found",
    },
}


def _shot(page, name: str, lang: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"week-{name}-{lang}-{width}.png"), full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (name, lang, width, scroll_width)


def _answer_the_most_urgent_thread(page, url, lang, width):
    words = WORDS[lang]
    page.goto(f"{url}/inbox/")
    page.wait_for_load_state("load")
    page.select_option("#id_priority", "urgent")
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    page.select_option("#id_sort", "priority")
    expect(page).to_have_url(re.compile(r"sort=priority"))
    rows = page.locator("[data-inbox-list] .inbox-row")
    expect(rows.first).to_be_visible()
    priorities = [int(p) for p in page.locator("[data-inbox-list] .badge.priority").all_inner_texts()]
    assert priorities == sorted(priorities, reverse=True) and min(priorities) >= 70, priorities
    _shot(page, "inbox-urgent", lang, width)
    # The most urgent thread on a channel where Palabre answers with a length limit (Mastodon,
    # Bluesky): the first such row of the sorted list.
    urls = [row.get_attribute("data-thread-url") for row in rows.all()]
    for thread_url in urls:
        page.goto(f"{url}{thread_url}")
        if page.locator("#reply-counter").count():
            break
    else:
        pytest.fail("no urgent thread on a channel with a length limit")
    page.wait_for_load_state("load")
    box = page.locator("#id_text")
    box.fill("Bonjour, " + "nous regardons tout de suite ce qui s'est passé avec votre lampe. " * 12)
    counter = page.locator("#reply-counter")
    expect(counter).to_have_class(re.compile("over"))
    expect(counter).to_contain_text(words["too_many"])
    _shot(page, "reply-too-long", lang, width)
    box.fill(
        "Bonjour, nous sommes désolés pour votre lampe Nova : ne l'utilisez plus, on vous rappelle aujourd'hui."
    )
    expect(counter).not_to_have_class(re.compile("over"))
    page.click("button[data-send-reply]")
    if page.locator("button[data-send-reply]").count() and not page.locator(".messages").count():
        page.click("button[data-send-reply]")  # the personalisation check asked to confirm
    expect(page.locator(".messages")).to_contain_text(words["queued"])
    _shot(page, "reply-sent", lang, width)
    # Open again, so the next round finds the same most urgent thread.
    page.locator("form:has(input[name=status][value=open]) button").click()
    expect(page.locator("#thread-status")).to_have_text(re.compile("Ouverte|Open"))


def _close_two_and_undo(page, url, lang, width):
    words = WORDS[lang]
    page.goto(f"{url}/inbox/")
    page.wait_for_load_state("load")
    picks = page.locator("input.inbox-pick")
    picks.nth(0).check()
    picks.nth(1).check()
    expect(page.locator("[data-selected-count]")).to_contain_text("2")
    page.select_option("#bulk-action", "close")
    page.click("#bulk-apply")
    done = page.locator("#bulk-done")
    expect(done).to_contain_text(words["closed"])
    _shot(page, "bulk-closed", lang, width)
    page.click("#bulk-undo")
    expect(page.locator("#bulk-done")).to_contain_text(words["undone"])


def _write_and_preview_a_query(page, url, lang, width):
    words = WORDS[lang]
    page.goto(f"{url}/listening/queries/")
    page.wait_for_load_state("load")
    page.fill("#id_name", f"Livraison {lang} {width}")
    page.fill("#id_query", "livraison AND (retard")
    preview = page.locator("#query-preview")
    expect(preview).to_contain_text(words["error"])
    expect(preview.locator(".query-caret-preview mark")).to_have_text("(")
    page.fill("#id_query", "livraison OR livré*")
    expect(preview).to_contain_text(words["matches"])
    expect(preview.locator("mark").first).to_be_visible()
    _shot(page, "listening-preview", lang, width)
    page.locator("#id_query").evaluate("el => el.form.requestSubmit()")
    backfill = page.locator("#backfill")
    expect(backfill).to_contain_text(words["found"])
    _shot(page, "listening-backfill", lang, width)


def test_the_inbox_and_listening_jobs_of_a_week(live_server, demo, new_page, sign_in):
    for lang, width in ROUNDS:
        page = new_page(width=width)
        sign_in(page, live_server.url, "cm", demo, lang=lang)
        _answer_the_most_urgent_thread(page, live_server.url, lang, width)
        _close_two_and_undo(page, live_server.url, lang, width)
        _write_and_preview_a_query(page, live_server.url, lang, width)
        page.goto(f"{live_server.url}/listening/")
        expect(page.locator("#chart-peak")).to_be_visible()
        _shot(page, "listening-volume", lang, width)
        page.context.close()
