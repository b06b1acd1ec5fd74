"""Listening pages: dashboards, mentions with filters and CSV, queries with their syntax errors,
sources, alerts and crisis mode; another organisation's objects answer 404."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening.models import ListeningQuery, ListeningSource
from palabre.listening.services import ingest_candidates, is_crisis_active


@pytest.fixture
def listened(org, make_query, make_source):
    brand = make_query(org, '"Maison Lumière" OR #MaisonLumiere', name="Marque")
    make_query(org, '"Atelier Boréal"', name="Boréal", kind="competitor")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog déco")
    now = timezone.now()
    texts = [
        ("1", "Maison Lumière, livraison en retard, service client injoignable, honteux", "lea"),
        ("2", "J'adore mon canapé Maison Lumière, superbe qualité", "tom"),
        ("3", 'Atelier Boréal ou Maison Lumière ? =HYPERLINK("x")', "sam"),
        ("4", "Atelier Boréal a de belles tables", "sam"),
    ]
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id=eid,
                text=text,
                author=author,
                published_at=now - timedelta(hours=int(eid)),
                url=f"https://blog.example.fr/{eid}",
            )
            for eid, text, author in texts
        ],
    )
    return brand, source


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_dashboard_shows_volume_sentiment_authors_terms_and_share_of_voice(org, owner, listened, client_of):
    response = client_of(owner).get(reverse("listening:overview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "<rect" in page
    assert "Marque" in page and "Boréal" in page  # share of voice
    assert "sam" in page and "Blog déco" in page and "blog.example.fr" in page
    assert '<span class="name">boréal</span>' in page  # top terms, counted folded, shown as written


def test_the_brands_own_accounts_are_not_a_top_term(
    org, owner, listened, client_of, make_channel, make_org, clock_instant
):
    """@MaisonDupontFR is in most of the brand's mentions: the dashboard's top terms leave out the
    organisation's own channels' handles, not another organisation's."""
    brand, source = listened
    make_channel(org, "mastodon", handle="@MaisonDupontFR@piaille.fr")
    make_channel(org, "x", handle="MaisonDupontFR")
    make_channel(make_org("Autre maison"), "x", handle="Lumiere")
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id=f"own-{k}",
                text=f"Maison Lumière @MaisonDupontFR avis {k}",
                published_at=clock_instant,
            )
            for k in range(5)
        ],
    )
    page = client_of(owner).get(reverse("listening:overview")).content.decode()
    assert '<span class="name">maisondupontfr</span>' not in page
    assert '<span class="name">lumière</span>' in page  # another organisation's handle is only a word here


def test_mentions_list_filters_and_keyset_pagination(
    org, owner, listened, client_of, django_assert_max_num_queries
):
    brand, _source = listened
    client = client_of(owner)
    page = client.get(reverse("listening:mentions"), {"query": brand.pk}).content.decode()
    assert "superbe qualité" in page and "belles tables" not in page
    page = client.get(reverse("listening:mentions"), {"sentiment": "negative"}).content.decode()
    assert "honteux" in page and "superbe" not in page
    with django_assert_max_num_queries(14):
        assert client.get(reverse("listening:mentions")).status_code == 200
    response = client.get(reverse("listening:mentions"), {"since": "2030-01-02", "until": "2030-01-01"})
    assert "La date de fin précède la date de début." in response.content.decode()  # French by default


def test_csv_export_streams_every_filtered_mention_and_defuses_formulas(org, owner, listened, client_of):
    response = client_of(owner).get(reverse("listening:mentions_csv"))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert rows[0][0] == "published_at" and len(rows) == 5
    text_of_3 = next(row for row in rows if row[-2].endswith("/3"))[-1]
    assert text_of_3.startswith("Atelier Boréal")
    injected = [row for row in rows if any(cell.startswith("=") for cell in row)]
    assert injected == []


def test_query_with_a_syntax_error_is_shown_at_its_position_keeping_what_was_typed(org, owner, client_of):
    client = client_of(owner)
    typed = '"Maison Lumière" AND (livraison OR retard'
    response = client.post(
        reverse("listening:queries"), {"name": "Livraison", "query": typed, "kind": "brand", "active": "on"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Livraison" in page and "(livraison OR retard</textarea>" in page.replace("&quot;", '"')
    assert 'class="query-caret"' in page and "<mark>(</mark>" in page
    assert not ListeningQuery.objects.filter(organisation=org).exists()
    response = client.post(
        reverse("listening:queries"),
        {"name": "Livraison", "query": typed + ")", "kind": "brand", "active": "on"},
    )
    assert response.status_code == 302
    row = ListeningQuery.objects.get(organisation=org)
    response = client.post(
        reverse("listening:query_edit", args=[row.pk]),
        {"name": "Livraison", "query": "NOT foo", "kind": "brand"},
    )
    assert response.status_code == 400 and "NOT foo" in response.content.decode()


def test_french_interface_explains_the_query_error_in_french(org, owner, client_of):
    client = client_of(owner)
    client.cookies["django_language"] = "fr"
    response = client.post(
        reverse("listening:queries"),
        {"name": "x", "query": "lumiere AND", "kind": "brand"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Caractère" in response.content.decode()


def test_sources_page_shows_health_and_adds_a_source_keeping_input_on_error(org, owner, listened, client_of):
    client = client_of(owner)
    page = client.get(reverse("listening:sources")).content.decode()
    assert "Blog déco" in page
    response = client.post(
        reverse("listening:sources"),
        {"name": "Reddit", "kind": "reddit_search", "interval_minutes": 30, "search": ""},
    )
    assert response.status_code == 400 and 'value="Reddit"' in response.content.decode()
    response = client.post(
        reverse("listening:sources"),
        {"name": "Reddit", "kind": "reddit_search", "interval_minutes": 30, "search": "maison lumiere"},
    )
    assert response.status_code == 302
    assert ListeningSource.objects.get(organisation=org, name="Reddit").config["query"] == "maison lumiere"


def test_crisis_mode_from_the_ui(org, owner, client_of):
    client = client_of(owner)
    assert client.get(reverse("listening:crisis")).status_code == 200
    client.post(reverse("listening:crisis_switch"), {"on": "1", "reason": "Rappel des lampes"})
    assert is_crisis_active(org)
    page = client.get(reverse("listening:crisis")).content.decode()
    assert "Rappel des lampes" in page and "checklist" in page
    response = client.post(
        reverse("listening:subscription_add"), {"kind": "email", "target": "pas-une-adresse"}
    )
    assert response.status_code == 400 and "pas-une-adresse" in response.content.decode()
    client.post(reverse("listening:crisis_switch"), {"on": "0"})
    assert not is_crisis_active(org)


def test_read_only_roles_see_but_cannot_change(org, make_member, listened, client_of):
    analyst = make_member(org, "analyst")
    client = client_of(analyst.user)
    assert client.get(reverse("listening:overview")).status_code == 200
    assert (
        client.post(reverse("listening:queries"), {"name": "x", "query": "x", "kind": "brand"}).status_code
        == 403
    )
    assert client.post(reverse("listening:crisis_switch"), {"on": "1"}).status_code == 403


def test_another_organisation_sees_none_of_it(org, listened, make_org, owner_of, client_of):
    brand, source = listened
    other = make_org("Autre Maison")
    client = client_of(owner_of(other))
    assert "honteux" not in client.get(reverse("listening:mentions")).content.decode()
    assert client.get(reverse("listening:query_edit", args=[brand.pk])).status_code == 404
    assert client.get(reverse("listening:source_edit", args=[source.pk])).status_code == 404
    assert client.get(reverse("listening:mentions"), {"query": brand.pk}).status_code == 200
    rows = b"".join(client.get(reverse("listening:mentions_csv")).streaming_content).decode()
    assert rows.count("\n") == 1


@pytest.mark.parametrize(
    "typed",
    [
        "lumiere AND",
        "(lumiere",
        "lumiere)",
        '"lumiere',
        "lu*miere",
        "NOT lumiere",
        "a NEAR b",
        "a NEAR/3 NOT b",
        "site:x lumiere",
        "lang:f lumiere",
        "a NEAR/3 b NEAR/3 c",
        "()",
    ],
)
def test_every_query_error_has_a_french_message(org, owner_actor, typed):
    from django.utils import translation

    from palabre.listening.services import QueryTextError, validate_query_text

    with translation.override("fr"), pytest.raises(QueryTextError) as error:
        validate_query_text(typed)
    message = error.value.message_dict["query"][0]
    assert message.startswith("Caractère ") and "position" not in message, message


def test_poll_now_polls_through_the_task_and_records_health(
    org, owner, make_query, make_source, loopback, client_of, django_capture_on_commit_callbacks
):
    from .conftest import fixture_text

    make_query(org, '"Maison Lumière"')
    source = make_source(org, "rss", {"url": f"{loopback.url}/feed.xml"}, name="Flux")
    loopback.route("/feed.xml", fixture_text("feed.rss"), content_type="application/rss+xml")
    client = client_of(owner)
    with django_capture_on_commit_callbacks(execute=True):  # the immediate task backend polls on commit
        client.post(reverse("listening:source_poll", args=[source.pk]))
    source.refresh_from_db()
    assert source.health == "healthy" and source.mentions_ingested == 1
    client.post(reverse("listening:source_toggle", args=[source.pk]))
    response = client.post(reverse("listening:source_poll", args=[source.pk]), follow=True)
    assert "Cette source est en pause." in response.content.decode()


def test_french_dashboard_writes_machine_numbers_into_the_chart_and_bars(org, owner, listened, client_of):
    """In French, 60.0 must stay 60.0 in a CSS width and an SVG attribute (a decimal comma empties
    the chart and makes every bar 100 %), while the share read by people is written "60,0"."""
    from lxml import html as lxml_html

    client = client_of(owner)
    client.cookies["django_language"] = "fr"
    response = client.get(reverse("listening:overview"), HTTP_ACCEPT_LANGUAGE="fr")
    tree = lxml_html.fromstring(response.content)
    rects = tree.xpath("//svg//rect")
    assert rects
    for rect in rects:
        for name in ("x", "y", "width", "height"):
            float(rect.get(name))  # a "12,5" would raise
    float(tree.xpath("//svg")[0].get("viewbox").split()[-1])
    widths = [el.get("style") for el in tree.xpath("//ul[@class='hbars']//span[@style]")]
    assert widths and all("," not in style for style in widths)
    assert "width: 60.0%" in widths and "width: 40.0%" in widths
    shown = [el.text_content() for el in tree.xpath("//ul[@class='hbars']//span[@class='n']")]
    assert "60,0\u00a0%" in shown and "40,0\u00a0%" in shown  # French typography: a space before %
