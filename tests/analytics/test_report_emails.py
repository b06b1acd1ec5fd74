"""The weekly and monthly report e-mails: the right period, sent once by the schedule, to the right
people, in their language, with another organisation's figures never included.

On the week of conftest.py (Maison Dupont, Europe/Paris, 8 to 14 June 2026: 3 of 5 conversations
answered), whose report is due on Monday 15 June from 07:00 Paris time (05:00 UTC). Mails go to
Django's locmem outbox.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from palabre.analytics import emails, services
from palabre.analytics.metrics import Period
from palabre.analytics.models import ReportDispatch
from palabre.orgs.models import Membership
from palabre.orgs.services import Actor, change_role, offboard_member
from palabre.schedule.jobs import job_named
from palabre.schedule.services import run_due

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def paris(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def subscribed(week, make_org, owner_of, make_member, clock):
    """Added on Friday 12 June: Claire (a member, French, weekly), the management's address
    (English, weekly and monthly), Denis (a member who then leaves); the neighbour organisation's
    own recipient."""
    org = week["org"]
    clock.move_to(paris(6, 12, 9), tick=False)
    cm = Actor.for_user(week["alice"], org)
    claire = make_member(org, "analyst", username="claire", email="claire@maison-dupont.fr").user
    denis = make_member(org, "analyst", username="denis", email="denis@maison-dupont.fr")
    services.add_recipient(actor=cm, member_id=claire.pk, language="fr", weekly=True, monthly=False)
    # An address outside the organisation is added by someone who may change its settings.
    services.add_recipient(
        actor=Actor.for_user(owner_of(org), org),
        email="direction@maison-dupont.fr",
        language="en",
        weekly=True,
        monthly=True,
    )
    services.add_recipient(actor=cm, member_id=denis.user_id, language="fr", weekly=True, monthly=True)
    offboard_member(actor=Actor.for_user(owner_of(org), org), membership=denis)
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    owner = owner_of(other)
    services.add_recipient(
        actor=Actor.for_user(owner, other),
        email="voisin@atelier.fr",
        language="fr",
        weekly=True,
        monthly=False,
    )
    return {"org": org, "other": other}


def run_schedule(clock, moment: datetime, capture) -> dict:
    clock.move_to(moment, tick=False)
    with capture(execute=True):
        return run_due(worker="w1", jobs=[job_named("analytics.reports")])


def by_address() -> dict[str, mail.EmailMessage]:
    return {message.to[0]: message for message in mail.outbox}


def html_of(message) -> str:
    return message.alternatives[0][0]


def test_the_periods_due():
    # Week: Monday to Sunday, due from 07:00 local on the Monday after; month: from the 1st.
    assert emails.last_period("weekly", date(2026, 6, 15)) == (date(2026, 6, 8), date(2026, 6, 14))
    assert emails.last_period("weekly", date(2026, 6, 21)) == (date(2026, 6, 8), date(2026, 6, 14))
    assert emails.last_period("monthly", date(2026, 7, 1)) == (date(2026, 6, 1), date(2026, 6, 30))
    assert emails.last_period("monthly", date(2026, 1, 31)) == (date(2025, 12, 1), date(2025, 12, 31))

    class Org:
        time_zone = "Europe/Paris"

    assert emails.due_period(Org, "weekly", paris(6, 15, 6, 59)) is None
    assert emails.due_period(Org, "weekly", paris(6, 15, 7)) == Period(
        date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris"
    )
    # Tuesday: still last week's (a worker stopped on Monday sends it late); never an older one.
    assert emails.due_period(Org, "weekly", paris(6, 16, 3)).first == date(2026, 6, 8)
    assert emails.due_period(Org, "monthly", paris(7, 1, 6)) is None
    assert emails.due_period(Org, "monthly", paris(7, 1, 7)).last == date(2026, 6, 30)


def test_the_schedule_sends_each_report_once_to_the_right_people(
    subscribed, clock, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mail.outbox.clear()
    # Monday 06:59 in Paris: the week is not due yet.
    assert run_schedule(clock, paris(6, 15, 6, 59), capture)["analytics.reports"] == {"enqueued": 0}
    assert mail.outbox == []
    # 07:10 (the job runs every ten minutes): the week of 8 to 14 June, to each weekly recipient of
    # each organisation, one mail each.
    assert run_schedule(clock, paris(6, 15, 7, 10), capture)["analytics.reports"] == {"enqueued": 2}
    sent = by_address()
    assert set(sent) == {"claire@maison-dupont.fr", "direction@maison-dupont.fr", "voisin@atelier.fr"}
    claire, direction, voisin = (
        sent["claire@maison-dupont.fr"],
        sent["direction@maison-dupont.fr"],
        sent["voisin@atelier.fr"],
    )
    # Each in the recipient's language, with the week's figures (3 of 5 answered) and the PDF.
    assert direction.subject == "Weekly report of Maison Dupont, June 8, 2026 to June 14, 2026"
    assert "Conversations answered: 3 of 5 (60%)" in direction.body
    assert "Conversations answered: 3 of 5 (60%)" in html_of(direction)
    assert claire.subject == "Rapport hebdomadaire de Maison Dupont, du 8 juin 2026 au 14 juin 2026"
    assert "Conversations avec réponse\u202f: 3 sur 5 (60\u00a0%)" in html_of(claire)
    name, pdf, mimetype = claire.attachments[0]
    assert (name, mimetype) == ("palabre-maison-dupont-2026-06-08-2026-06-14.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF")
    # The neighbour's report holds its own (empty) figures, nothing of Maison Dupont's.
    assert voisin.subject.startswith("Rapport hebdomadaire de Atelier Voisin")
    assert "Conversations avec réponse\u202f: 0 sur 0" in html_of(voisin)
    assert "Maison Dupont" not in voisin.body + html_of(voisin)
    # Ten minutes later, and on Tuesday: nothing more.
    mail.outbox.clear()
    assert run_schedule(clock, paris(6, 15, 7, 20), capture)["analytics.reports"] == {"enqueued": 0}
    run_schedule(clock, paris(6, 16, 9), capture)
    assert mail.outbox == []
    rows = ReportDispatch.objects.order_by("organisation_id")
    assert [(r.frequency, r.first, r.last, len(r.sent_to)) for r in rows] == [
        ("weekly", date(2026, 6, 8), date(2026, 6, 14), 2),
        ("weekly", date(2026, 6, 8), date(2026, 6, 14), 1),
    ]
    # Wednesday 1 July: June's monthly report to the management; the weekly ones of 15 to 21 June
    # were never sent (no worker ran): only the last week ended, 22 to 28 June, leaves late.
    run_schedule(clock, paris(7, 1, 7, 30), capture)
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert subjects == [
        ("claire@maison-dupont.fr", "Rapport hebdomadaire de Maison Dupont, du 22 juin 2026 au 28 juin 2026"),
        ("direction@maison-dupont.fr", "Monthly report of Maison Dupont, June 1, 2026 to June 30, 2026"),
        ("direction@maison-dupont.fr", "Weekly report of Maison Dupont, June 22, 2026 to June 28, 2026"),
        ("voisin@atelier.fr", "Rapport hebdomadaire de Atelier Voisin, du 22 juin 2026 au 28 juin 2026"),
    ]


def test_two_workers_send_a_period_once_and_a_dead_workers_claim_is_taken_again(subscribed, clock):
    org = subscribed["org"]
    clock.move_to(paris(6, 15, 8), tick=False)
    week = Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")
    now = paris(6, 15, 8)
    assert emails.claim(org, "weekly", week, now=now) is not None
    # A second worker, at once: the row is claimed.
    assert emails.send_period_report(org, "weekly", week, now=now) == {
        "skipped": "claimed by another worker or sent"
    }
    assert mail.outbox == []
    # The first worker died after mailing Claire; after the lease, another worker sends the rest.
    ReportDispatch.objects.filter(organisation=org).update(sent_to=["claire@maison-dupont.fr"])
    assert emails.send_period_report(org, "weekly", week, now=now + timedelta(minutes=29))["skipped"]
    assert emails.send_period_report(org, "weekly", week, now=now + timedelta(minutes=31)) == {
        "sent": 1,
        "failed": 0,
    }
    assert [m.to for m in mail.outbox] == [["direction@maison-dupont.fr"]]
    row = ReportDispatch.objects.get(organisation=org)
    assert row.sent_at is not None and row.attempts == 2
    assert row.sent_to == ["claire@maison-dupont.fr", "direction@maison-dupont.fr"]
    # Sent: never again.
    assert emails.send_period_report(org, "weekly", week, now=now + timedelta(days=1))["skipped"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_workers_claiming_a_period_at_once_send_it_once_on_postgresql(make_org):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts on a real server")
    org = make_org("Maison Dupont", slug="maison-dupont")
    week = Period(date(2026, 6, 8), date(2026, 6, 14), org.time_zone)
    now = paris(6, 15, 8)  # given to each worker: no clock is read
    barrier = threading.Barrier(8)
    claims: list = []

    def work() -> None:
        try:
            barrier.wait()
            claims.append(emails.claim(org, "weekly", week, now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 8 and sum(1 for claim in claims if claim is not None) == 1
    assert ReportDispatch.objects.filter(organisation=org).count() == 1


def test_a_member_whose_role_no_longer_allows_analytics_is_skipped_with_a_log_line(
    subscribed, clock, django_capture_on_commit_callbacks, caplog, owner_of
):
    org = subscribed["org"]
    claire = Membership.objects.active().for_org(org).get(user__username="claire")
    change_role(actor=Actor.for_user(owner_of(org), org), membership=claire, role="moderator")
    mail.outbox.clear()
    with caplog.at_level("WARNING", logger="palabre.analytics.emails"):
        run_schedule(clock, paris(6, 15, 7, 10), django_capture_on_commit_callbacks)
    assert set(by_address()) == {"direction@maison-dupont.fr", "voisin@atelier.fr"}
    assert [r.getMessage() for r in caplog.records if r.name == "palabre.analytics.emails"] == [
        f"report mail of maison-dupont not sent to member {claire.user_id}: their role no longer allows analytics"
    ]


def test_without_pango_the_report_mail_goes_without_its_pdf(subscribed, clock, monkeypatch, caplog):
    """A server without Pango (WeasyPrint cannot load it) still mails the figures, with a log line."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `from weasyprint import HTML` fails
    org = subscribed["org"]
    clock.move_to(paris(6, 15, 8), tick=False)
    week = Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")
    assert emails.send_period_report(org, "weekly", week, now=paris(6, 15, 8)) == {"sent": 2, "failed": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["claire@maison-dupont.fr", "direction@maison-dupont.fr"]
    assert all(m.attachments == [] and m.alternatives for m in mail.outbox)
    assert "sent without its PDF" in caplog.text
