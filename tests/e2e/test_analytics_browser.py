"""The demo brand's analytics in a real browser, in English and French, on a desktop and on a
phone (390 px): the page fits the screen and tells the demo's story (the recall spike in the
mentions, the response times, the after-hours load, the campaigns of the last weeks over the time
chart), and the campaign filter gives the figures of one of them. Screenshots go to $PALABRE_SHOTS
(default /tmp/shots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_demo_dashboard_tells_the_story(live_server, demo, new_page, width, language):
    page = new_page(width=width)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cm")
    page.fill("#id_password", demo)
    page.click("form.stacked button[type=submit]")
    if language == "fr":
        page.click("form.lang button[value=fr]")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    # Two periods of the whole demo, computed on a test server that shares two cores with the rest.
    page.goto(f"{live_server.url}/analytics/", timeout=60_000)
    heading = "Analyses" if language == "fr" else "Analytics"
    expect(page.locator("h1")).to_have_text(heading)
    # Three charts drawn on the server, each twice (a narrow drawing for phones), bars among them.
    charts = page.locator("figure.analytics-chart svg.pygal-chart")
    expect(charts).to_have_count(6)
    shown = "figure.chart-compact" if width < 600 else "figure.chart-wide"
    expect(page.locator(shown)).to_have_count(3)
    for figure in page.locator(shown).all():
        expect(figure).to_be_visible()
    assert page.locator("figure.analytics-chart svg .rect").count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"analytics-{language}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The demo's four past campaigns (src/palabre/publishing/demo.py): a band each over the time
    # chart, in its legend, and listed under it.
    campaign = "Campagne" if language == "fr" else "Campaign"
    chart = page.locator(f"#listening-title ~ {shown} svg")
    for name in (
        "Journées Lumière",
        "Concours fauteuil Ravello",
        "Sondage lin ou velours",
        "Collection de printemps",
    ):
        expect(page.locator("ul.annotations")).to_contain_text(f"{campaign} {name}")
        expect(chart).to_contain_text(name)
    # Each a band over its days (the longest, the contest's, runs over more than two weeks), not a line.
    bands = [chart.locator(f".serie-{n} path.line").bounding_box() for n in range(5, 9)]
    assert max(box["width"] for box in bands) > width / 6 and min(box["height"] for box in bands) > 40
    # The team: the demo's answers are its members' (the community manager's first), none unattributed.
    team = page.locator("#team-title ~ .table-scroll table")
    expect(team.locator("tbody tr").first).to_contain_text("Sarah Lemoine")
    expect(team).not_to_contain_text(
        "Réponses sans auteur identifié" if language == "fr" else "no known author"
    )
    # Filtered by the contest: its two posts (Mastodon, Bluesky) and the conversations under them.
    page.select_option("#id_campaign", label="Concours fauteuil Ravello")
    page.click("form.filters button[type=submit]", timeout=60_000)
    figures = page.locator("#quality-title + ul")
    expect(figures).to_contain_text("2 publications" if language == "fr" else "2 posts:", timeout=60_000)
    expect(page.locator("ul.annotations")).to_contain_text(f"{campaign} Concours fauteuil Ravello")
    expect(page.locator("ul.annotations li")).to_have_count(2)  # the contest and its posts' day
    page.screenshot(path=str(SHOTS / f"analytics-campaign-{language}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server.url}/analytics/", timeout=60_000)
    if width == 1280:
        # The same figures and charts as a PDF, kept beside the screenshots to be looked at.
        pdf = page.request.get(f"{live_server.url}/analytics/report.pdf", timeout=120_000)
        assert pdf.ok and pdf.body().startswith(b"%PDF")
        (SHOTS / f"analytics-{language}.pdf").write_bytes(pdf.body())
    page.context.close()
