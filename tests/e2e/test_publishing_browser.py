"""A contributor drafts a post in a real browser, reads the guardrails' warning, fixes it, and a
community manager approves it: it is then scheduled on the editorial calendar."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"

pytestmark = [pytest.mark.e2e, pytest.mark.clock]


@pytest.fixture
def publisher():
    """Facebook has no connector yet (the post page would say "Not connected"): a test one."""
    from palabre.connectors.base import Capability, Connector, Delivered
    from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector

    class FacebookPublisher(Connector):
        platform = "facebook"
        capabilities = frozenset({Capability.PUBLISH})

        def publish(self, channel, *, text, media=(), idempotency_key):
            return Delivered("1_2", "https://www.facebook.com/maisonlumiere/posts/2")

    previous = connector_class_for("facebook")
    register_connector("facebook", FacebookPublisher)
    yield FacebookPublisher
    if previous is None:
        unregister_connector("facebook")
    else:
        register_connector("facebook", previous)


@pytest.fixture
def team(transactional_db, publisher):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Lumière", owner=owner)
    boss = Actor.for_user(owner, organisation)
    services.add_member(
        actor=Actor.palabre(organisation), username="lea", password=PASSWORD, role="contributor"
    )
    services.add_member(
        actor=Actor.palabre(organisation), username="hugo", password=PASSWORD, role="community_manager"
    )
    channel = services.create_channel(
        actor=boss, platform="facebook", handle="maisonlumiere", name="Facebook"
    )
    return organisation, channel


def login(sign_in, page, base: str, username: str) -> None:
    sign_in(page, base, username, PASSWORD)
    expect(page.locator("nav.sidenav")).to_be_visible()


def test_contributor_drafts_fixes_a_warning_and_a_cm_approves(live_server, team, new_page, sign_in):
    from django.utils import timezone

    organisation, channel = team
    zone = ZoneInfo(organisation.time_zone)
    # Scheduled on a Sunday, the last day the week view shows, whatever day the clock says: the
    # keyboard move below then crosses into the next week, which the calendar must follow.
    soon = (timezone.now() + timedelta(days=2)).astimezone(zone)
    when = (soon + timedelta(days=6 - soon.weekday())).replace(hour=18, minute=30)
    base = live_server.url

    writer = new_page()
    login(sign_in, writer, base, "lea")
    writer.click("nav.sidenav >> text=Publishing")
    writer.wait_for_load_state("load")  # its scripts run before we press or change
    writer.click(".subnav >> text=New post")
    writer.fill("#id_title", "Nouvelle collection")
    writer.check(f"input[name=channels][value='{channel.pk}']")
    writer.fill("#id_scheduled_at", when.strftime("%Y-%m-%dT%H:%M"))
    writer.fill("#id_text", "NOUVELLE COLLECTION DISPONIBLE MAINTENANT EN BOUTIQUE")
    # The live check coaches while typing.
    expect(writer.locator("#live-check")).to_contain_text("capitals")
    writer.click("#post-form button[type=submit]")

    # The saved draft shows the warning and highlights the words it concerns.
    expect(writer.locator(".coaching .finding.warn")).to_contain_text("reads as shouting")
    expect(writer.locator(".post-text mark.warn")).to_be_visible()
    variant_form = writer.locator("section.variant form.variant-form")
    variant_form.locator("textarea").fill(
        "Notre nouvelle collection est arrivée en boutique : venez la découvrir !"
    )
    variant_form.locator("button[type=submit]").click()
    expect(writer.locator(".coaching")).to_contain_text("The guardrails found nothing to change.")
    writer.click("text=Submit for approval")
    expect(writer.locator("#post-status")).to_have_text("Awaiting approval")

    approver = new_page()
    login(sign_in, approver, base, "hugo")
    approver.goto(f"{base}/publishing/")
    approver.click("text=Nouvelle collection")
    expect(approver.locator(".post-text")).to_contain_text("Notre nouvelle collection")
    approver.click(".approve-form button[type=submit]")
    expect(approver.locator("#post-status")).to_have_text("Approved")

    approver.click("text=See the calendar")
    approver.wait_for_load_state("load")  # calendar.js must hear the keyboard move below
    entry = approver.locator(f".cal-day[data-date='{when.date().isoformat()}'] .cal-entry")
    expect(entry).to_contain_text("18:30")
    expect(entry).to_contain_text("Nouvelle collection")
    expect(entry).to_contain_text("Scheduled")

    # With the keyboard, the CM moves it one day later; the author sees it there.
    entry.focus()
    approver.keyboard.press("Alt+ArrowRight")
    next_day = (when + timedelta(days=1)).date().isoformat()
    expect(approver.locator(f".cal-day[data-date='{next_day}'] .cal-entry")).to_contain_text(
        "Nouvelle collection"
    )

    writer.goto(f"{base}/publishing/?view=week&date={next_day}")
    expect(writer.locator(f".cal-day[data-date='{next_day}'] .cal-entry")).to_contain_text("Scheduled")
