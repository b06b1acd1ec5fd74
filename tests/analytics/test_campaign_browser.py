"""The campaign filter, the annotated time chart and the report e-mails page in a real browser, in
French, on a desktop (1280 px) and a phone (390 px): the page fits the screen. Screenshots go to
$PALABRE_SHOTS (default /tmp/shots). On the week of conftest.py and its two campaigns."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not shutil.which("/usr/bin/chromium"), reason="needs Debian's chromium"),
]
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))
WEEK = "from=2026-06-08&to=2026-06-14"


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM must allow it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_campaign_annotations_and_report_emails_in_french(live_server, browser, week, campaigns, width):
    from django.test import Client

    expect = playwright.expect
    # Signed in through Django's session (the clock stands in June 2026: a cookie with an expiry
    # date would read as expired to the browser, which lives in the real present).
    client = Client()
    client.force_login(week["alice"])
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
            {"name": "palabre_language", "value": "fr", "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/analytics/?{WEEK}")
    expect(page.locator("h1")).to_have_text("Analyses")
    marks = page.locator("ul.annotations")
    expect(marks).to_contain_text("Campagne Lampes\u202f: du 8 juin au 11 juin")
    expect(marks).to_contain_text("Publications\u202f: 8 juin (1), 10 juin (1)")
    # The phone gets the narrow drawing of the time chart, the desktop the wide one.
    shown = "figure.chart-compact" if width < 600 else "figure.chart-wide"
    chart = page.locator(f"#listening-title ~ {shown} svg")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("Campagne\u202f: Soldes")
    page.screenshot(path=str(SHOTS / f"analytics-campaigns-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.select_option("#id_campaign", label="Lampes")
    page.click("form.filters button[type=submit]")
    expect(page.locator("body")).to_contain_text("Conversations avec réponse : 0 sur 1")
    page.screenshot(path=str(SHOTS / f"analytics-campaign-lampes-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.click("text=Rapports par e-mail")
    expect(page.locator("h1")).to_have_text("Rapports par e-mail")
    page.fill("#id_email", "direction@maison-dupont.fr")
    page.select_option("#id_language", "en")
    page.check("#id_monthly")
    page.click("form[action$='/emails/recipients/'] button[type=submit]")
    # An address outside the organisation needs org.manage, which a community manager lacks: the
    # reason comes next to the field, with what was typed kept; a member is added instead.
    expect(page.locator(".field.has-error")).to_contain_text("Seul un membre autorisé")
    expect(page.locator("#id_email")).to_have_value("direction@maison-dupont.fr")
    page.fill("#id_email", "")
    page.select_option("#id_member", index=1)
    page.click("form[action$='/emails/recipients/'] button[type=submit]")
    expect(page.locator("body")).to_contain_text("Destinataire du rapport ajouté.")
    expect(page.locator("#recipients-title + ul")).to_contain_text("hebdomadaire et mensuel")
    # A bad address comes back with the field named and what was typed kept.
    page.fill("#id_email", "pas-une-adresse")
    page.click("form[action$='/emails/recipients/'] button[type=submit]")
    expect(page.locator(".field.has-error")).to_contain_text("adresse de courriel valide")
    expect(page.locator("#id_email")).to_have_value("pas-une-adresse")
    page.screenshot(path=str(SHOTS / f"analytics-emails-fr-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
