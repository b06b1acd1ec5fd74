"""Every figure of the analytics against the week of conftest.py, computed by hand below.

Times in the comments are Paris time; business hours are Monday to Friday, 09:00 to 18:00.
"""

from __future__ import annotations

from datetime import date

import pytest

from palabre.analytics import metrics
from palabre.analytics.metrics import Filters, Period

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(week, period, after_the_week):
    return metrics.figures(week["org"], period, now=after_the_week)


def test_care_response_rate_times_out_of_hours_and_sla(figures):
    care = figures["care"]
    # Threads begun in the week: p1 (the brand's post, commented), c1, c2, c3, c4.
    assert care["conversations"] == 5
    # Answered: c1, c2, c3 -> 3 / 5
    assert care["answered"] == 3
    assert care["response_rate"] == pytest.approx(0.6)
    # First responses, clock minutes: c1 10:00->10:30 = 30; c2 Mon 17:00->Tue 10:00 = 17 h = 1020;
    # c3 Sat 11:00->12:00 = 60. Sorted 30, 60, 1020: median rank ceil(3/2) = 2 -> 60, p90 rank
    # ceil(2.7) = 3 -> 1020.
    assert (care["first_response_median"], care["first_response_p90"]) == (60.0, 1020.0)
    # Business minutes: c1 30; c2 17:00-18:00 + 09:00-10:00 = 120; c3 on a Saturday = 0.
    # Sorted 0, 30, 120 -> median 30, p90 120.
    assert (care["first_response_business_median"], care["first_response_business_p90"]) == (30.0, 120.0)
    # Resolution (closed threads): c1 10:00->11:00 = 60 (60 business); c2 Mon 17:00->Tue 19:00 =
    # 26 h = 1560 clock minutes, 60 + 540 = 600 business. n = 2: median rank 1, p90 rank 2.
    assert (care["resolution_median"], care["resolution_p90"]) == (60.0, 1560.0)
    assert (care["resolution_business_median"], care["resolution_business_p90"]) == (60.0, 600.0)
    # Answered out of hours: c3 (Saturday) -> 1 / 3
    assert care["answered_out_of_hours"] == 1
    assert care["out_of_hours_share"] == pytest.approx(1 / 3)
    # SLA (120 business minutes): c2 took exactly 120, not late; p1 and c4 still wait, for far
    # longer than 120 business minutes by Wednesday 17 -> 2 breaches.
    assert care["sla_target_minutes"] == 120
    assert care["sla_breaches"] == 2
    # Questions never answered: c4 (c1 was answered; p1's thread reads as "other").
    assert care["unanswered_questions"] == 1


def test_care_per_channel_member_and_intent(figures, week):
    care = figures["care"]
    channels = {row["label"]: row for row in care["by_channel"]}
    # Blog: p1, c1, c2, two answered; first responses 30 and 1020 (business 30 and 120).
    assert channels["Blog"]["conversations"] == 3 and channels["Blog"]["answered"] == 2
    assert channels["Blog"]["response_rate"] == pytest.approx(2 / 3)
    assert channels["Blog"]["first_response_median"] == 30.0  # rank ceil(2/2) = 1
    assert channels["Blog"]["first_response_p90"] == 1020.0  # rank ceil(1.8) = 2
    # Shop: c3 answered in 60 clock minutes (0 business), c4 not -> 1 / 2.
    assert channels["Boutique"]["response_rate"] == pytest.approx(0.5)
    assert channels["Boutique"]["first_response_business_median"] == 0.0
    members = {row["label"]: row for row in care["by_member"]}
    # Alice: c1 and c2; Bruno: c3; nobody: p1 and c4.
    assert (members["alice"]["conversations"], members["alice"]["answered"]) == (2, 2)
    assert members["alice"]["resolution_business_p90"] == 600.0
    assert (members["bruno"]["conversations"], members["bruno"]["first_response_median"]) == (1, 60.0)
    assert members[""]["response_rate"] == 0.0
    intents = {row["key"]: row for row in care["by_intent"]}
    # Intents as the triage read them: c1 and c4 questions (1 answered of 2).
    assert intents["question"]["conversations"] == 2
    assert intents["question"]["response_rate"] == pytest.approx(0.5)


def test_care_filters_by_channel_and_member(week, period, after_the_week):
    blog = metrics.care(week["org"], period, Filters(channel_id=week["blog"].pk), now=after_the_week)
    # p1, c1, c2; answered c1, c2
    assert (blog["conversations"], blog["answered"]) == (3, 2)
    bruno = metrics.care(week["org"], period, Filters(member_id=week["bruno"].pk), now=after_the_week)
    # c3 only, answered on a Saturday
    assert (bruno["conversations"], bruno["answered_out_of_hours"]) == (1, 1)


def test_conversation_quality(figures):
    quality = figures["quality"]
    # Brand posts: p1 and p2.
    assert quality["posts"] == 2
    # Replies to them: r1, r2, c5 under p1 -> 3 / 2 posts = 1.5
    assert (quality["replies"], quality["replies_per_post"]) == (3, 1.5)
    # Shares: p1 4 + p2 1 (reblogs) = 5 -> 2.5 per post; likes 10 + 2 (favourites) = 12 -> 6.0
    assert (quality["shares"], quality["shares_per_post"]) == (5, 2.5)
    assert (quality["likes"], quality["likes_per_post"]) == (12, 6.0)
    # Comments of the week: r1, r2, c1, c2, c3, c4, c5 = 7; not substantive: "👍" (emoji) and
    # "Merci !" (one word) -> 5 / 7
    assert (quality["comments"], quality["substantive"]) == (7, 5)
    assert quality["substantive_share"] == pytest.approx(5 / 7)
    # Contributors: Camille, Emma, Louis, Nina, Zoé, Paul = 6; Louis wrote on 3 June: returning.
    assert (quality["contributors"], quality["returning_contributors"], quality["new_contributors"]) == (
        6,
        1,
        5,
    )
    # Camille wrote twice (r1, c1); everybody else once, in name order.
    assert quality["top_contributors"][0] == {"name": "Camille", "items": 2}
    assert [row["name"] for row in quality["top_contributors"][1:]] == [
        "Emma",
        "Louis",
        "Nina",
        "Paul",
        "Zoe",
    ]


def test_community_health(figures, week):
    health = figures["health"]
    # Moderated items of the week: r1, r2, c1, c2, c3, c4, c5 = 7 (the brand's own are not).
    assert health["moderated"] == 7
    # Spam: r2 (marked by Alice) -> 1 / 7; rejected and not spam: c5 -> 1 / 7
    assert (health["spam"], health["toxic"]) == (1, 1)
    assert health["spam_share"] == pytest.approx(1 / 7)
    assert health["toxic_share"] == pytest.approx(1 / 7)
    # Alice decided twice (r2 spam, c5 reject).
    assert health["moderator_decisions"] == 2
    assert health["load_by_moderator"] == [{"key": week["alice"].pk, "label": "alice", "decisions": 2}]
    # Held automatically at 14:00 (c5, the suspect word), decided at 14:30 -> 30 minutes.
    assert (health["time_to_moderate_median"], health["time_to_moderate_p90"]) == (30.0, 30.0)
    # Reviewed automatic decisions: r2 (published, then spam: reversed) and c5 (held, then
    # rejected: confirmed) -> 1 reversed out of 2
    assert (health["reviewed_automatic"], health["reversed"]) == (2, 1)
    assert health["reversed_share"] == 0.5
    # The suspect-word rule fired once (c5).
    assert health["top_rules"] == [{"rule": f"rule:{week['rule'].pk}", "label": "remboursement", "fired": 1}]


def test_listening_volume_sentiment_and_share_of_voice(figures):
    listening = figures["listening"]
    # m1..m4 -> 4; negative m1, m2 -> 2 / 4; positive m3 -> 1 / 4
    assert listening["mentions"] == 4
    assert (listening["negative_share"], listening["positive_share"]) == (0.5, 0.25)
    days = {row["day"]: row for row in listening["per_day"]}
    assert len(days) == 7  # every day of the period, empty ones included
    assert days[date(2026, 6, 9)] == {
        "day": date(2026, 6, 9),
        "total": 1,
        "positive": 0,
        "neutral": 0,
        "negative": 1,
    }
    assert days[date(2026, 6, 10)]["total"] == 2 and days[date(2026, 6, 10)]["positive"] == 1
    assert days[date(2026, 6, 11)]["neutral"] == 1 and days[date(2026, 6, 14)]["total"] == 0
    # Share of voice: the brand 3, the competitor 1 -> 0.75 and 0.25
    assert [(row["query"], row["mentions"], row["share"]) for row in listening["share_of_voice"]] == [
        ("Marque", 3, 0.75),
        ("Concurrent", 1, 0.25),
    ]


def test_team_workload_and_after_hours(figures):
    team = figures["team"]
    # Replies: Alice c1 (Mon 10:30), c2 (Tue 10:00); Bruno c3 (Sat 12:00, after hours).
    assert (team["replies"], team["after_hours"]) == (3, 1)
    assert team["after_hours_share"] == pytest.approx(1 / 3)
    assert [(m["label"], m["replies"], m["after_hours"]) for m in team["members"]] == [
        ("alice", 2, 0),
        ("bruno", 1, 1),
    ]


@pytest.mark.parametrize("threads_before", [14, -30], ids=["hashed", "probed"])
def test_team_members_found_for_each_answer_and_filtered(week, period, monkeypatch, threads_before):
    """Each answer counts for its thread's member whether the thread rows begun around the period
    are hashed (PostgreSQL) or the thread row is probed by root (a thread begun before that window,
    and SQLite): the window is moved past the whole week to probe every answer. The member filter
    keeps that member's answers."""
    import importlib
    from datetime import timedelta

    # The module (the package's `team` is its function).
    team_module = importlib.import_module("palabre.analytics.metrics.team")
    monkeypatch.setattr(team_module, "THREADS_BEFORE", timedelta(days=threads_before))

    def members(filters: Filters) -> list[tuple[str, int, int, int]]:
        found = metrics.team(week["org"], period, filters)
        return [(m["label"], m["replies"], m["after_hours"], m["conversations"]) for m in found["members"]]

    # Replies: Alice c1 (Mon 10:30), c2 (Tue 10:00); Bruno c3 (Sat 12:00, after hours).
    assert members(Filters()) == [("alice", 2, 0, 2), ("bruno", 1, 1, 1)]
    assert members(Filters(member_id=week["bruno"].pk)) == [("bruno", 1, 1, 1)]


def test_previous_period_is_compared(week, period, after_the_week):
    report = metrics.report(week["org"], period, now=after_the_week)
    # The week before (1 to 7 June) holds only Louis's first message: one thread, unanswered.
    assert report["previous_period"] == {"from": date(2026, 6, 1), "to": date(2026, 6, 7)}
    assert report["previous"]["care"]["conversations"] == 1
    assert report["previous"]["care"]["response_rate"] == 0.0
    assert report["current"]["care"]["conversations"] == 5


def test_period_is_whole_local_days_in_the_organisations_time_zone():
    period = Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")
    # Midnight in Paris is 22:00 UTC the day before in summer.
    assert period.start.isoformat() == "2026-06-08T00:00:00+02:00"
    assert period.end.isoformat() == "2026-06-15T00:00:00+02:00"
    assert period.previous() == Period(date(2026, 6, 1), date(2026, 6, 7), "Europe/Paris")


def test_another_organisation_sees_none_of_it(week, period, after_the_week, make_org):
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    figures = metrics.figures(other, period, now=after_the_week)
    assert figures["care"]["conversations"] == 0
    assert figures["quality"]["comments"] == 0 and figures["quality"]["posts"] == 0
    assert figures["health"]["moderated"] == 0 and figures["health"]["top_rules"] == []
    assert figures["listening"]["mentions"] == 0 and figures["listening"]["share_of_voice"] == []
    assert figures["team"]["replies"] == 0


def test_the_number_of_queries_does_not_grow_with_the_rows(
    week, period, after_the_week, django_assert_max_num_queries
):
    # Every block is a fixed set of aggregate queries (percentiles: one per measure and grouping).
    with django_assert_max_num_queries(40):
        metrics.figures(week["org"], period, now=after_the_week)
