"""The dashboard, the report files (HTML, PDF, CSV), the API and `palabre report`, on the week of
conftest.py (figures computed by hand in test_metrics.py)."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date

import pytest

from palabre.cli import main

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-06-08", "to": "2026-06-14"}


@pytest.fixture
def signed_in(client, week):
    client.force_login(week["alice"])
    return client


def test_the_dashboard_shows_the_week_with_its_charts_in_english(signed_in):
    page = signed_in.get("/analytics/", WEEK, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    # Conversations answered: 3 of 5 (60%), the team's 3 replies; three SVG charts drawn by pygal,
    # each twice (a narrow drawing for phones)
    assert "Conversations answered: 3 of 5 (60%)" in html
    assert "3 replies written, 33% of them out of business hours." in html
    assert html.count('class="pygal-chart"') == 6
    assert html.count('class="analytics-chart chart-compact"') == 3
    assert "From June 8, 2026 to June 14, 2026, compared with June 1, 2026 to June 7, 2026." in html


def test_the_dashboard_reads_in_french(signed_in):
    page = signed_in.get("/analytics/", WEEK, HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    # French typography: a no-break space before %, the dates in French
    assert "Conversations avec réponse\u202f: 3 sur 5 (60\u00a0%)" in html
    assert "8 juin 2026" in html


def test_a_bad_period_is_refused_with_the_field_named(signed_in):
    page = signed_in.get("/analytics/", {"from": "2026-06-14", "to": "2026-06-08"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "The end of the period comes before its start." in page.content.decode()
    other_channel = signed_in.get("/analytics/report.csv", {**WEEK, "channel": "999999"})
    assert other_channel.status_code == 400 and b"channel" in other_channel.content


def test_the_csv_holds_every_table_with_the_previous_period(signed_in):
    answer = signed_in.get("/analytics/report.csv", WEEK)
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["table", "row", "figure", "value", "previous_value"]
    # response rate 3/5 = 0.6 now, 0/1 the week before
    assert ["care", "", "response_rate", "0.6", "0.0"] in rows
    # Alice's replies, and the day of two mentions (m2, m3)
    assert ["team.members", "alice", "replies", "2", ""] in rows
    assert ["listening.per_day", "2026-06-10", "total", "2", ""] in rows
    assert ["quality.top_contributors", "Camille", "items", "2", ""] in rows


def test_the_pdf_and_html_reports(signed_in):
    pdf = signed_in.get("/analytics/report.pdf", WEEK)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = signed_in.get("/analytics/report.html", WEEK, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<svg" in html and "Conversations answered: 3 of 5 (60%)" in html


def test_without_pango_the_pdf_is_refused_with_what_to_install(signed_in, monkeypatch):
    """WeasyPrint loads Pango when imported: a server without it answers 503 and says what to
    install instead of a server error (the HTML and CSV reports still work)."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `from weasyprint import HTML` fails
    pdf = signed_in.get("/analytics/report.pdf", WEEK, HTTP_ACCEPT_LANGUAGE="fr")
    assert pdf.status_code == 503
    assert "libpango-1.0-0" in pdf.content.decode() and "Pango est absent" in pdf.content.decode()
    assert signed_in.get("/analytics/report.csv", WEEK).status_code == 200


def test_a_member_without_analytics_is_refused(client, week, make_member):
    guest = make_member(week["org"], "contributor").user
    client.force_login(guest)
    assert client.get("/analytics/", WEEK).status_code == 403


def test_another_organisation_sees_its_own_empty_figures(client, week, make_org, owner_of):
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    client.force_login(owner_of(other))
    html = client.get("/analytics/", WEEK, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Conversations answered: 0 of 0" in html
    assert "Camille" not in html and "alice" not in html


def test_the_api_gives_the_same_figures_and_names_bad_fields(client, week, make_org, make_channel):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token

    _token, raw = create_api_token(
        actor=Actor.palabre(week["org"]), name="reports", scopes=[Perm.ANALYTICS_VIEW.value]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    data = client.get("/api/analytics/report", WEEK, **auth).json()
    assert data["period"] == {"from": "2026-06-08", "to": "2026-06-14", "time_zone": "Europe/Paris"}
    assert data["current"]["care"]["answered"] == 3
    assert data["current"]["care"]["first_response_business_p90"] == 120.0
    assert data["previous"]["care"]["conversations"] == 1
    refused = client.get("/api/analytics/report", {"from": "2026-06-14", "to": "2026-06-01"}, **auth)
    assert refused.status_code == 422 and "to" in refused.json()["fields"]
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    foreign_channel = make_channel(other, "site", handle="voisin.example")
    refused = client.get("/api/analytics/report", {**WEEK, "channel": foreign_channel.pk}, **auth)
    assert refused.status_code == 422 and "channel" in refused.json()["fields"]


def test_palabre_report_writes_csv_html_and_pdf(week, tmp_path):
    slug = week["org"].slug
    main(
        [
            "report",
            "--org",
            slug,
            "--from",
            "2026-06-08",
            "--to",
            "2026-06-14",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "r.csv"),
        ]
    )
    rows = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert ["care", "", "answered", "3", "0"] in rows
    main(
        [
            "report",
            "--org",
            slug,
            "--from",
            "2026-06-08",
            "--to",
            "2026-06-14",
            "--format",
            "html",
            "--lang",
            "en",
            "--output",
            str(tmp_path / "r.html"),
        ]
    )
    assert "Conversations answered: 3 of 5 (60%)" in (tmp_path / "r.html").read_text(encoding="utf-8")
    main(
        [
            "report",
            "--org",
            slug,
            "--from",
            "2026-06-08",
            "--to",
            "2026-06-14",
            "--format",
            "pdf",
            "--output",
            str(tmp_path / "r.pdf"),
        ]
    )
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(SystemExit, match="--to comes before --from"):
        main(
            [
                "report",
                "--org",
                slug,
                "--from",
                "2026-06-14",
                "--to",
                "2026-06-08",
                "--output",
                str(tmp_path / "x.pdf"),
            ]
        )


def test_members_are_named_as_their_colleagues_know_them(signed_in, week):
    alice = week["alice"]
    alice.first_name, alice.last_name = "Alice", "Moreau"
    alice.save()
    html = signed_in.get("/analytics/", WEEK, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    team = html[html.index('id="team-title"') : html.index('id="quality-title"')]
    # Her 2 replies under her name (in the chart and the table), not her login; Bruno has none set.
    assert "<td>Alice Moreau</td><td>2</td>" in team and ">Alice Moreau</text>" in team
    assert ">alice<" not in team and "bruno" in team
    assert "Du 8 juin 2026 au 14 juin 2026, comparé à la période du 1 juin 2026 au 7 juin 2026." in html
    # Counts after their label, so that one reads right in French as well as none or many.
    assert re.search(r"Contributeurs\u202f: \d+ \(déjà venus\u202f: \d+\u202f; nouveaux\u202f: \d+\)\.", html)
    assert re.search(
        r"Décisions automatiques revues par les modérateurs\u202f: \d+, dont inversées\u202f: \d+\.", html
    )


def test_a_period_with_nothing_says_so_instead_of_drawing_flat_charts(signed_in):
    page = signed_in.get("/analytics/", {"from": "2020-01-01", "to": "2020-01-31"}, HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Aucune mention, publication ni campagne sur cette période\u202f: rien à tracer." in html
    assert 'class="pygal-chart"' not in html


def test_the_api_names_members_as_the_screens_do(client, week):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token

    week["alice"].first_name, week["alice"].last_name = "Alice", "Martin"
    week["alice"].save(update_fields=["first_name", "last_name"])
    _token, raw = create_api_token(
        actor=Actor.palabre(week["org"]), name="reports", scopes=[Perm.ANALYTICS_VIEW.value]
    )
    data = client.get("/api/analytics/report", WEEK, HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    rows = [*data["current"]["team"]["members"], *data["current"]["care"]["by_member"]]
    labels = {row["key"]: row["label"] for row in rows}
    assert labels[week["alice"].pk] == "Alice Martin"
    assert labels[week["bruno"].pk] == "bruno"  # no name on the account: its login


def test_a_chart_is_drawn_only_where_a_page_shows_it(signed_in, week, monkeypatch):
    """The dashboard draws each chart it shows once, and its phone drawing; the HTML file draws
    no phone drawing; a period with nothing to draw on the time chart does not draw it."""
    from palabre.analytics import charts, report
    from palabre.analytics.metrics import Period

    drawn: list[str] = []

    def counting(name: str):
        draw = getattr(charts, name)

        def counted(*args, **kwargs):
            drawn.append(name + (" compact" if kwargs.get("compact") else ""))
            return draw(*args, **kwargs)

        return counted

    for name in ("mentions_chart", "response_chart", "team_chart"):
        monkeypatch.setattr(charts, name, counting(name))
    assert signed_in.get("/analytics/", WEEK).status_code == 200
    assert sorted(drawn) == sorted(
        f"{name}{size}"
        for name in ("mentions_chart", "response_chart", "team_chart")
        for size in ("", " compact")
    )
    drawn.clear()
    data = report.build(week["org"], Period(date(2026, 6, 8), date(2026, 6, 14), week["org"].time_zone))
    report.render_html(data, week["org"])
    assert sorted(drawn) == ["mentions_chart", "response_chart", "team_chart"]
    drawn.clear()
    assert signed_in.get("/analytics/", {"from": "2020-01-01", "to": "2020-01-31"}).status_code == 200
    assert drawn == []  # no mention, post or campaign, no thread, no answer: nothing drawn


def test_a_tile_is_coloured_only_when_the_figure_it_shows_moved():
    """99.7 % after 100 % both read "100 %": the tile stays neutral instead of turning red beside
    two equal figures (the demo's substantive comments did)."""
    from palabre.analytics.report import _trend

    assert _trend("substantive_share", 0.9969, 1.0, True) == "same"
    assert _trend("substantive_share", 0.98, 1.0, True) == "worse"
    assert _trend("first_response_business_median", 40.2, 39.8, False) == "same"
    assert _trend("first_response_business_median", 38, 40, False) == "better"
    assert _trend("replies_per_post", 4.74, 4.66, True) == "same"
    assert _trend("sla_breaches", 99, 2, False) == "worse"
    assert _trend("sla_breaches", 3, None, False) == "same"
