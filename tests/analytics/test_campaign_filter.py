"""The campaign filter and the annotations of the time chart, on the week of conftest.py and its
two campaigns ("Lampes": p1 on the blog, 8 to 11 June; "Soldes": p2 on the shop, from 10 June).
Figures computed by hand below from the week's story (conftest.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from palabre.analytics import annotations, charts, metrics
from palabre.analytics.metrics import Filters
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-06-08", "to": "2026-06-14"}


def test_the_figures_of_one_campaign(week, campaigns, period, after_the_week):
    figures = metrics.figures(
        week["org"], period, Filters(campaign_id=campaigns["lamps"].pk), now=after_the_week
    )
    care = figures["care"]
    # One thread: p1's (commented, never answered by the brand), waiting far beyond the target.
    assert (care["conversations"], care["answered"], care["response_rate"]) == (1, 0, 0.0)
    assert (care["sla_breaches"], care["unanswered_questions"]) == (1, 0)
    quality = figures["quality"]
    # p1 alone: 3 replies (r1, r2, c5), 4 shares, 10 likes.
    assert (quality["posts"], quality["replies"], quality["replies_per_post"]) == (1, 3, 3.0)
    assert (quality["shares_per_post"], quality["likes_per_post"]) == (4.0, 10.0)
    # Comments r1, r2, c5; "👍" is not substantive -> 2 / 3; Camille, Emma, Zoé, none returning.
    assert (quality["comments"], quality["substantive"]) == (3, 2)
    assert (quality["contributors"], quality["returning_contributors"], quality["new_contributors"]) == (
        3,
        0,
        3,
    )
    health = figures["health"]
    # r1, r2, c5 moderated; r2 spam, c5 rejected; Alice's two decisions, one reversing an automatic one.
    assert (health["moderated"], health["spam"], health["toxic"]) == (3, 1, 1)
    assert (health["moderator_decisions"], health["reviewed_automatic"], health["reversed"]) == (2, 2, 1)
    # The brand answered nobody under p1.
    assert figures["team"]["replies"] == 0

    sales = metrics.figures(
        week["org"], period, Filters(campaign_id=campaigns["sales"].pk), now=after_the_week
    )
    # p2: 1 post, 1 reblog, 2 favourites, nobody commented: no thread, no comment, no moderation.
    assert (sales["quality"]["posts"], sales["quality"]["shares"], sales["quality"]["likes"]) == (1, 1, 2)
    assert (sales["quality"]["comments"], sales["care"]["conversations"], sales["health"]["moderated"]) == (
        0,
        0,
        0,
    )


def test_the_time_chart_marks_campaigns_posts_and_alerts(week, campaigns, period):
    alert = {"id": 7, "query": "Marque", "window_start": datetime(2026, 6, 9, 10, 0, tzinfo=UTC)}
    marks = annotations.timeline_marks(week["org"], period, Filters(), [alert])
    # Lampes 8-11 June; Soldes from 10 June, drawn to the period's end; the undated and the past
    # campaigns are not drawn.
    assert [(c["name"], c["first"], c["last"]) for c in marks["campaigns"]] == [
        ("Lampes", date(2026, 6, 8), date(2026, 6, 11)),
        ("Soldes", date(2026, 6, 10), date(2026, 6, 14)),
    ]
    # The brand's posts: p1 on Monday 8, p2 on Wednesday 10; the alert's window on Tuesday 9 (Paris).
    assert marks["posts"] == [{"day": date(2026, 6, 8), "posts": 1}, {"day": date(2026, 6, 10), "posts": 1}]
    assert marks["alerts"] == [{"id": 7, "day": date(2026, 6, 9), "query": "Marque"}]
    one = annotations.timeline_marks(week["org"], period, Filters(campaign_id=campaigns["sales"].pk), [])
    assert [c["name"] for c in one["campaigns"]] == ["Soldes"]
    assert one["posts"] == [{"day": date(2026, 6, 10), "posts": 1}]

    per_day = metrics.listening(week["org"], period)["per_day"]
    with translation.override("en"):
        svg = charts.mentions_chart(per_day, marks)
    legend = re.findall(r'class="legend[^"]*"><rect[^>]*/><text[^>]*>([^<]*)</text>', svg)
    assert legend == [
        "Mentions",
        "Negative",
        "Positive",
        "Posts published",
        "Crisis alerts",
        "Campaign: Lampes",
        "Campaign: Soldes",
    ]

    overlay = svg.split('class="plot overlay"')[1]  # pygal draws the dots over the lines

    def dots(serie: int) -> int:
        group = re.search(rf'<g class="series serie-{serie} [^"]*">(.*?)</g></g>', overlay, re.S)
        return len(re.findall(r"<circle", group.group(1))) if group else 0

    # 2 days with a post, 1 with an alert; Lampes over 4 days, Soldes over 5.
    assert [dots(3), dots(4), dots(5), dots(6)] == [2, 1, 4, 5]


def test_the_dashboard_filters_by_campaign_and_refuses_another_organisations(
    client, week, campaigns, make_org, owner_of
):
    from palabre.publishing.services import create_campaign

    client.force_login(week["alice"])
    page = client.get("/analytics/", {**WEEK, "campaign": campaigns["lamps"].pk}, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Conversations answered: 0 of 1 (0%)" in html
    assert "Campaign Lampes: from June 8 to June 11" in html
    assert "Figures of the campaign Lampes: its posts published through Palabre" in html
    french = client.get("/analytics/", WEEK, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Publications\u202f: 8 juin (1), 10 juin (1)" in french
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    theirs = create_campaign(actor=Actor.for_user(owner_of(other), other), name="Leur campagne", kind="event")
    refused = client.get("/analytics/", {**WEEK, "campaign": theirs.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert 'name="campaign"' in refused.content.decode() and "Leur campagne" not in refused.content.decode()
    csv = client.get("/analytics/report.csv", {**WEEK, "campaign": theirs.pk})
    assert csv.status_code == 400 and b"campaign" in csv.content


def test_palabre_report_of_one_campaign(week, campaigns, tmp_path, make_org, owner_of):
    import csv

    from palabre.cli import main
    from palabre.publishing.services import create_campaign

    def report(campaign_id: int) -> list[list[str]]:
        output = tmp_path / f"{campaign_id}.csv"
        main(
            [
                "report",
                "--org",
                week["org"].slug,
                "--from",
                "2026-06-08",
                "--to",
                "2026-06-14",
                "--format",
                "csv",
                "--output",
                str(output),
                "--campaign",
                str(campaign_id),
            ]
        )
        return list(csv.reader(output.open(encoding="utf-8")))

    # Lampes: p1's thread only (1 conversation, 3 comments); the week before holds none of it.
    rows = report(campaigns["lamps"].pk)
    assert ["care", "", "conversations", "1", "0"] in rows
    assert ["quality", "", "comments", "3", "0"] in rows
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    theirs = create_campaign(actor=Actor.for_user(owner_of(other), other), name="Leur campagne", kind="event")
    with pytest.raises(SystemExit, match="no campaign"):
        report(theirs.pk)


@pytest.mark.parametrize(
    ("most", "labels"),
    [
        # At most about five steps of 1, 2 or 5 times a power of ten, whole numbers only.
        (2, ["0", "1", "2"]),
        (92, ["0", "20", "40", "60", "80", "100"]),
        (1234, ["0", "500", "1,000", "1,500"]),
    ],
)
def test_the_time_chart_counts_in_whole_steps(most, labels):
    per_day = [{"day": date(2026, 6, 8), "total": most, "negative": 0, "positive": 0}]
    with translation.override("en"):
        svg = charts.mentions_chart(per_day)
    axis = svg.split('class="axis y')[1].split("</g></g>")[0]
    assert re.findall(r"<text[^>]*>([^<]+)</text>", axis) == labels


def test_the_api_filters_by_campaign_and_names_another_organisations(
    client, week, campaigns, make_org, owner_of
):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import create_api_token
    from palabre.publishing.services import create_campaign

    _token, raw = create_api_token(
        actor=Actor.palabre(week["org"]), name="reports", scopes=[Perm.ANALYTICS_VIEW.value]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    data = client.get("/api/analytics/report", {**WEEK, "campaign": campaigns["lamps"].pk}, **auth).json()
    # As the dashboard: p1's thread, its 3 comments, the brand's post.
    assert data["current"]["care"]["conversations"] == 1
    assert (data["current"]["quality"]["posts"], data["current"]["quality"]["comments"]) == (1, 3)
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    theirs = create_campaign(actor=Actor.for_user(owner_of(other), other), name="Leur campagne", kind="event")
    refused = client.get("/api/analytics/report", {**WEEK, "campaign": theirs.pk}, **auth)
    assert refused.status_code == 422 and "campaign" in refused.json()["fields"]
