"""A person's first minutes in a real browser: sign in, French, a channel, a role, the audit log."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"

pytestmark = pytest.mark.e2e


@pytest.fixture
def brand(transactional_db):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Dupont", owner=owner)
    membership = services.add_member(
        actor=Actor.palabre(organisation), username="hugo", password=PASSWORD, role="contributor"
    )
    return {"organisation": organisation, "owner": owner, "hugo": membership}


def test_sign_in_speak_french_connect_a_channel_change_a_role_and_read_it_in_the_audit_log(
    live_server, brand, browser_page, sign_in
):
    page = browser_page

    sign_in(page, live_server.url, "camille", PASSWORD)
    expect(page.locator("h1")).to_have_text("Maison Dupont")

    # French, for this person, from now on.
    page.click("form.lang button[value=fr]")
    expect(page.locator("nav.sidenav")).to_contain_text("Accueil")
    expect(page.locator("nav.sidenav")).to_contain_text("Canaux")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # A channel.
    page.click("nav.sidenav >> text=Canaux")
    page.wait_for_load_state("load")  # its scripts run before we press or change
    page.click("text=Connecter un canal")
    page.select_option("#id_platform", "mastodon")
    page.fill("#id_handle", "@dupont@piaille.fr")
    page.fill("#id_name", "Piaille")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Canal «\u202fPiaille\u202f» créé.")
    expect(page.locator("table")).to_contain_text("@dupont@piaille.fr")
    expect(page.locator("table")).to_contain_text("Non configurés")

    # A role, changed inline (htmx swaps the row).
    page.click("nav.sidenav >> text=Membres")
    page.wait_for_load_state("load")  # htmx must be listening before the select changes
    row = page.locator(f"#member-{brand['hugo'].pk}")
    row.locator("select[name=role]").select_option("moderator")
    expect(row.locator(".saved")).to_contain_text("Enregistré")
    expect(row.locator("select[name=role]")).to_have_value("moderator")

    # The audit log tells who did it, and the filter narrows it in place.
    page.click("nav.sidenav >> text=Journal d’audit")
    page.wait_for_load_state("load")  # its scripts run before we press or change
    expect(page.locator("#audit-results")).to_contain_text("Rôle modifié")
    page.select_option("#id_action", "member.role_changed")
    expect(page.locator("#audit-results")).not_to_contain_text("Canal créé")
    results = page.locator("#audit-results")
    expect(results).to_contain_text("camille")
    expect(results).to_contain_text("hugo")
    expect(results).to_contain_text("contributor")
    expect(results).to_contain_text("moderator")
    assert "action=member.role_changed" in page.url
