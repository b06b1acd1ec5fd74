"""On a phone (390 px wide), in French, the inbox list, a thread, listening and the channels page fit
the screen: no horizontal scrolling. Screenshots go to $PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))

# The widest elements, named, when a page overflows: what to fix is then in the failure message.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length)
    .filter(el => {
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') return false;
      }
      return true;
    })
    .slice(0, 8)
    .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}#${el.id} right=${Math.round(el.getBoundingClientRect().right)}`);
}"""


def _fits(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (name, scroll_width, page.evaluate(OVERFLOWING))


@pytest.mark.parametrize("width", [390, 1280])
def test_inbox_and_a_thread_fit_the_screen_in_french(live_server, demo, new_page, width, sign_in):
    page = new_page(width=width)
    sign_in(page, live_server.url, "cm", demo, lang="fr")
    page.goto(f"{live_server.url}/inbox/?sort=priority")
    expect(page.locator(".inbox-row").first).to_be_visible()
    _fits(page, "inbox", width)
    if width < 800:
        # The first screen shows threads: the rarer filters wait under "Plus de filtres".
        assert page.locator(".inbox-row").first.bounding_box()["y"] < 900
        page.screenshot(path=str(SHOTS / f"inbox-first-screen-{width}.png"))
        expect(page.locator("#id_channel")).to_be_hidden()
        page.click("button.fold-toggle:has-text('Plus de filtres')")
        expect(page.locator("#id_channel")).to_be_visible()
    page.locator(".inbox-row a.inbox-open").first.click()
    expect(page.locator("[data-inbox-thread]")).to_be_visible()
    _fits(page, "thread", width)
    for name, path in [
        ("listening", "/listening/"),
        ("channels", "/channels/"),
        ("moderation", "/moderation/"),
        ("moderation rules", "/moderation/rules/"),
        ("members", "/members/"),
        ("password", "/account/password/"),
        ("publishing", "/publishing/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        _fits(page, name, width)
    page.context.close()
