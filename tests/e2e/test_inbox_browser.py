"""The demo inbox in a real browser: filter, assign with the keyboard, reply with a saved reply,
see the personalisation warning on a canned one, close the thread."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_community_manager_works_a_thread_of_the_demo_inbox(live_server, demo, browser_page, sign_in):
    from palabre.inbox.models import Conversation, Reply

    page = browser_page
    sign_in(page, live_server.url, "cm", demo, lang="en")

    page.click("nav.sidenav a[href='/inbox/']")
    page.wait_for_load_state("load")  # its scripts run before we press or change
    expect(page.locator(".inbox-row").first).to_be_visible()

    # Filter: the blog's comments, still open.
    blog = page.locator("#id_channel option", has_text="Le Journal (commentaires du blog)").get_attribute(
        "value"
    )
    page.select_option("#id_channel", blog)
    expect(page).to_have_url(re.compile(r"channel=\d+"))
    rows = page.locator("[data-inbox-list] .inbox-row")
    expect(rows.first).to_be_visible()
    assert all("Le Journal (commentaires du blog)" in text for text in rows.all_inner_texts())

    # Keyboard: j selects the first thread, o opens it, a assigns it to me.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(rows.first).to_have_class(re.compile("current"))
    page.keyboard.press("o")
    expect(page.locator("[data-inbox-thread]")).to_be_visible()
    # The thread shows before its scripts have run: keys pressed earlier reach no handler.
    page.wait_for_load_state("load")
    thread_id = int(re.search(r"/inbox/t/(\d+)/", page.url).group(1))
    # "a" posts the assignment and the thread comes back: a thread the demo already gave Sarah shows
    # her name before that, and a reply typed meanwhile would be lost in the reload.
    with page.expect_navigation():
        page.keyboard.press("a")
    page.wait_for_load_state("load")
    expect(page.locator("#assignee-select option:checked")).to_have_text("Sarah Lemoine")

    # A canned saved reply: the personalisation check warns, and says why.
    page.click("button[data-saved-reply]:has-text('Merci pour votre message')")
    expect(page.locator("#id_text")).to_have_value(re.compile("^Merci pour votre message"))
    warning = page.locator("[data-personalisation-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("takes up nothing of what the person wrote")

    # Sending it anyway needs a second, explicit click; the text is kept meanwhile.
    page.click("button[data-send-reply]")
    expect(page.locator("button[data-send-reply]")).to_have_text("Send anyway")
    expect(page.locator("#id_text")).to_have_value(re.compile("^Merci pour votre message"))
    page.click("button[data-send-reply]")
    expect(page.locator(".messages")).to_contain_text("Reply queued")
    delivered = page.locator(".inbox-reply").last
    expect(delivered).to_contain_text("— SL")
    page.reload()
    expect(page.locator(".inbox-reply .badge.delivery").last).to_have_attribute("data-delivery", "sent")
    assert Reply.objects.filter(conversation_id=thread_id).count() == 1

    # e closes the thread.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    expect(page.locator("#thread-status")).to_have_text("Closed")
    assert Conversation.objects.get(pk=thread_id).status == "closed"
