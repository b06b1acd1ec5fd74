"""A contest and a poll, from creation to the announced result, in French, in a real browser, at
desktop width and at 390 px. Screenshots go to $PALABRE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

PASSWORD = "Palabre-e2e-2024!"
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))

pytestmark = pytest.mark.e2e


@pytest.fixture
def brand(transactional_db):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
    from palabre.orgs import services
    from palabre.orgs.services import Actor

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    organisation = services.create_organisation(name="Maison Lumière", owner=owner)
    blog = services.create_channel(
        actor=Actor.for_user(owner, organisation), platform="site", handle="maison-lumiere", name="Blog"
    )
    now = timezone.now()

    def item(external_id, text, *, kind="comment", author, parent="", hours_ago=3, followers=None):
        ingest_item(
            channel=blog,
            incoming=IncomingItem(
                external_id=external_id,
                kind=kind,
                text=text,
                created_at=now - timedelta(hours=hours_ago),
                author=IncomingAuthor(handle=author, followers=followers),
                parent_external_id=parent,
            ),
        )

    item(
        "contest",
        "Concours : gagnez le canapé Oslo en commentant !",
        kind="post",
        author="maison-lumiere",
        hours_ago=30,
    )
    item(
        "poll",
        "Quelle couleur pour le prochain Oslo ? 1 vert sapin, 2 bleu nuit",
        kind="post",
        author="maison-lumiere",
        hours_ago=30,
    )
    # A regular customer, who also writes to the brand about other things.
    item("q1", "Bonjour, livrez-vous à Lyon ?", author="sophie", hours_ago=20, followers=140)
    item(
        "e1",
        "Je participe ! On a l'Oslo bleu depuis deux ans.",
        author="sophie",
        parent="contest",
        followers=140,
    )
    item("q2", "Merci pour le SAV rapide", author="marc", hours_ago=25, followers=80)
    item("e2", "Je participe 🙂", author="marc", parent="contest", followers=80)
    for n in (1, 2, 3):  # throw-away lookalike accounts
        item(f"h{n}", f"Je participe @ami{n}", author=f"julie.concours{n}", parent="contest", followers=0)
    for n, (author, text) in enumerate(
        [("sophie", "Vert sapin !"), ("marc", "2"), ("lea", "🌲"), ("paul", "1 ou 2, j'hésite")]
    ):
        item(f"v{n}", text, author=author, parent="poll", hours_ago=2)
    return organisation


def login(page, base: str) -> None:
    page.set_default_timeout(30_000)
    page.context.add_cookies([{"name": "palabre_language", "value": "fr", "url": base}])
    page.goto(f"{base}/login/")
    page.fill("#id_username", "camille")
    page.fill("#id_password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"programmes-{name}-fr-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width + 1, f"{name} overflows to {overflow}px at {width}px"


def local(moment, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_contest_from_its_rules_to_the_announced_winner(live_server, brand, new_page, clock, width):
    from django.utils import timezone

    from palabre.programmes.draw import verify
    from palabre.programmes.models import Contest

    base = live_server.url
    page = new_page(width=width)
    login(page, base)
    page.goto(f"{base}/programmes/")
    form = page.locator("form", has=page.locator("input[name=form][value=contest]"))
    form.locator("#id_contest-title").fill("Le canapé Oslo à gagner")
    form.locator("#id_contest-rules").fill("Un commentaire par personne, tirage vérifiable le lendemain.")
    form.locator("input[name=contest-posts]").first.check()
    form.locator("#id_contest-closes_at").fill(local(timezone.now() + timedelta(hours=1), brand.time_zone))
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Le canapé Oslo à gagner")
    commitment = page.locator("[data-commitment]").inner_text()
    assert len(commitment) == 64

    page.click("text=Relever les participations")
    expect(page.locator("h2", has_text="5 participations")).to_contain_text("3 à examiner")
    hunter_row = page.locator("li[data-reference='site:julie.concours2']")
    expect(hunter_row).to_contain_text("3 comptes de ce concours ont le même modèle de nom")
    expect(page.locator("li[data-reference='site:sophie']")).not_to_have_class("entry flagged")
    shot(page, "entries", width)
    for n in (1, 2, 3):
        row = page.locator(f"li[data-reference='site:julie.concours{n}']")
        row.locator("input[name=note]").fill("Comptes en série")
        row.locator("button", has_text="Écarter").click()
        expect(page.locator(f"li[data-reference='site:julie.concours{n}']")).to_contain_text("Écartée")

    clock.shift(timedelta(hours=2))  # past the close: the server follows the test's clock
    page.click("text=Clôturer et figer les participations")
    expect(page.locator(".badge").first).to_have_text("Clos, participations figées")
    page.click("text=Révéler la graine et tirer au sort")
    winner = page.locator("[data-winners] li").first
    expect(winner).to_have_text("site:marc" if "marc" in winner.inner_text() else "site:sophie")
    winner_reference = winner.inner_text()
    assert winner_reference in ("site:marc", "site:sophie")
    shot(page, "drawn", width)

    page.click("text=Rédiger l’annonce")
    expect(page.locator("textarea").first).to_contain_text(f"@{winner_reference.split(':')[1]}")
    expect(page.locator("textarea").first).to_contain_text(commitment)

    # Anyone, signed in or not, can check the draw from the public page's record.
    visitor = new_page(width=width)
    visitor.goto(f"{base}/programmes/draws/{commitment}/")
    expect(visitor.locator("ol li").first).to_have_text(winner_reference)
    shot(visitor, "public", width)
    record = json.loads(visitor.request.get(f"{base}/programmes/draws/{commitment}/?format=json").text())
    check = verify(
        commitment_published=record["commitment"],
        digest_published=record["entries_digest"],
        seed=record["seed"],
        entries=record["entries"],
        winners_announced=record["winners"],
    )
    assert check.ok and record["entries"] == ["site:marc", "site:sophie"]
    assert Contest.objects.get().winners == [winner_reference]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_poll_from_the_question_to_the_result_post(live_server, brand, new_page, width):
    from django.utils import timezone

    base = live_server.url
    page = new_page(width=width)
    login(page, base)
    page.goto(f"{base}/programmes/")
    form = page.locator("form", has=page.locator("input[name=form][value=poll]"))
    form.locator("#id_poll-question").fill("Quelle couleur pour le prochain Oslo ?")
    form.locator("#id_poll-post").select_option(
        label=form.locator("#id_poll-post option", has_text="Quelle couleur").inner_text()
    )
    form.locator("#id_poll-options").fill("🌲 Vert sapin\nBleu nuit")
    form.locator("#id_poll-closes_at").fill(local(timezone.now() + timedelta(days=1), brand.time_zone))
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Quelle couleur pour le prochain Oslo ?")

    page.click("text=Dépouiller les votes")
    results = page.locator("[data-results]")
    expect(results.locator("li").nth(0)).to_contain_text("2 (67\u00a0%)")
    expect(results.locator("li").nth(1)).to_contain_text("1 (33\u00a0%)")
    expect(page.locator("main")).to_contain_text("3 votants")
    expect(page.locator("main")).to_contain_text("1 réponse ambiguë non comptée")
    shot(page, "poll", width)

    page.click("text=Rédiger la publication du résultat")
    text = page.locator("textarea").first
    expect(text).to_contain_text("Résultats de notre sondage")
    expect(text).to_contain_text("Vert sapin\u202f: 67\u00a0%")
    shot(page, "poll-post", width)
