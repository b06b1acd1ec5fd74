"""The demo's recall alert as a crisis timeline in a real browser, in French, on a desktop and on
a phone (390 px): reached from the alert's page, it shows the delays, the marked curve and fits the
screen. Screenshots go to $PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_demo_alert_reads_as_a_crisis_timeline_in_french(live_server, demo, new_page, width):
    from palabre.listening.models import CrisisAlert

    alert = CrisisAlert.objects.order_by("created_at").first()
    assert alert is not None, "the demo raises the recall alert"
    page = new_page(width=width)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cm")
    page.fill("#id_password", demo)
    page.click("form.stacked button[type=submit]")
    page.click("form.lang button[value=fr]")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(f"{live_server.url}/listening/alerts/{alert.pk}/")
    page.click("text=Chronologie de la crise (retour d’expérience)")
    expect(page.locator("h1")).to_contain_text("Chronologie de la crise")
    # one drawing for the screen: the wide one on a desktop, the narrow one on a phone
    expect(page.locator("figure.analytics-chart:visible svg.pygal-chart")).to_have_count(1)
    expect(page.locator(".tile .label").first).to_have_text("Du premier signal à l’alerte")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"crisis-timeline-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()
