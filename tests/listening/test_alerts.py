"""Detection on stored mentions raises one alert per spike, explained, delivered by e-mail to a real
SMTP server and by a signed webhook to a real HTTP server, both on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import sys
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening import delivery
from palabre.listening.crisis import detect_for_query, recent_competitor_texts, trending_terms
from palabre.listening.models import AlertDelivery, CrisisAlert
from palabre.listening.services import add_subscription, ingest_candidates
from palabre.orgs.services import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from platform_server import DrippingServer  # noqa: E402

pytestmark = pytest.mark.clock

CALM = [
    "Très joli canapé Maison Lumière",
    "Commande Maison Lumière reçue, merci",
    "La boutique Maison Lumière de Lyon est superbe",
    "Maison Lumière : les nouvelles lampes sont belles",
]
STORM = [
    "Ma lampe Aurore Maison Lumière a surchauffé, c'est dangereux ! #RappelAurore",
    "Maison Lumière, votre lampe Aurore a brûlé ma table, honteux #RappelAurore",
    "Lampe Aurore qui surchauffe : Maison Lumière ne répond pas, scandale",
]


@pytest.fixture
def storm(org, make_query, make_source):
    """Three weeks of calm mentions, then a burst of angry ones in the last ten minutes."""
    query = make_query(org, '"Maison Lumière"', name="Marque")
    source = make_source(org, "rss", {"url": "https://example.org/feed"}, name="Flux")
    now = timezone.now()
    rng = random.Random(5)
    candidates = []
    for hour in range(3 * 168, 1, -1):
        for k in range(rng.choice([0, 0, 1, 1, 2])):
            candidates.append(
                Candidate(
                    external_id=f"calm-{hour}-{k}",
                    text=rng.choice(CALM),
                    published_at=now - timedelta(hours=hour, minutes=rng.randrange(60)),
                    author=f"client{rng.randrange(40)}",
                )
            )
    for k in range(24):
        candidates.append(
            Candidate(
                external_id=f"storm-{k}",
                text=STORM[k % 3],
                published_at=now - timedelta(minutes=12) + timedelta(seconds=20 * k),
                author=f"angry{k}",
                author_reach=100 * k,
            )
        )
    ingest_candidates(source=source, candidates=candidates)
    return query


def test_a_spike_raises_one_explained_alert_and_only_once(storm):
    alerts = detect_for_query(storm)
    (alert,) = alerts  # volume and negative share rose together: one alert tells both
    assert (
        alert.bucket_minutes in (5, 60) and alert.observed > alert.expected
    )  # which one ends first depends on the clock
    assert {alert.metric} | {a["metric"] for a in alert.explanation["also"]} == {"volume", "negative_share"}
    why = alert.explanation
    terms = [t["term"] for t in why["terms"]]
    assert "aurore" in terms and "#rappelaurore" in terms
    assert why["driving"][0]["reach"] == max(d["reach"] for d in why["driving"])
    assert why["sources"] == [{"name": "Flux", "count": why["mentions"]}]
    count = CrisisAlert.objects.count()
    assert detect_for_query(storm) == [] and CrisisAlert.objects.count() == count  # no duplicates


def test_trending_terms_and_competitor_texts_for_publishing(org, storm, make_query, make_source):
    terms = trending_terms(org, since=timezone.now() - timedelta(hours=1))
    by_term = {t.term: t for t in terms}
    assert "#rappelaurore" in by_term
    assert by_term["#rappelaurore"].negative_share > 0.5 and by_term["#rappelaurore"].examples
    make_query(org, '"Atelier Boréal"', name="Boréal", kind="competitor")
    source = make_source(org, "rss", {"url": "https://example.org/other"}, name="Autre")
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id="c1", text="Atelier Boréal : -20 % sur les tables", published_at=timezone.now()
            )
        ],
    )
    assert recent_competitor_texts(org, since=timezone.now() - timedelta(days=1)) == [
        "Atelier Boréal : -20 % sur les tables"
    ]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    import socket

    with socket.socket() as probe:  # the controller checks it is up by connecting: it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


def test_alert_mail_reaches_a_real_smtp_server(org, storm, smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "alertes@maison.example"
    add_subscription(actor=Actor.palabre(org), kind="email", target="cm@maison.example")
    (alert, *_rest) = detect_for_query(storm)
    outcome = delivery.deliver_alert(alert.pk, pause=0)
    assert outcome["sent"] == 1
    (message,) = smtp_server.received
    assert message["To"] == "cm@maison.example" and message["From"] == "alertes@maison.example"
    # French typography puts narrow no-break spaces in the subject, so it travels encoded (RFC 2047).
    subject = str(make_header(decode_header(message["Subject"])))
    assert "\u202fMarque\u202f" in subject
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "aurore" in body and "angry" in body
    assert AlertDelivery.objects.get(alert=alert).status == "sent"


def test_alert_webhook_is_signed_and_retried(org, storm, loopback):
    subscription = add_subscription(actor=Actor.palabre(org), kind="webhook", target=f"{loopback.url}/hook")
    failures = iter([500, 500])

    def answer(handler):
        status = next(failures, 204)
        return status, {}, b""

    loopback.routes["/hook"] = (0, {}, answer)
    (alert, *_rest) = detect_for_query(storm)
    outcome = delivery.deliver_alert(alert.pk, pause=0)
    assert outcome["sent"] == 1
    requests = [r for r in loopback.requests if r["path"] == "/hook"]
    assert len(requests) == 3  # two failures, then delivered
    last = requests[-1]
    timestamp = last["headers"]["X-Palabre-Timestamp"]
    expected = hmac.new(
        subscription.secret.encode(), timestamp.encode() + b"." + last["body"], hashlib.sha256
    ).hexdigest()
    assert last["headers"]["X-Palabre-Signature"] == f"sha256={expected}"
    payload = json.loads(last["body"])
    assert payload["event"] == "crisis.alert" and payload["query"]["name"] == "Marque"
    assert payload["why"]["terms"]


def test_a_failing_webhook_stays_pending_and_visible(org, storm, loopback):
    add_subscription(actor=Actor.palabre(org), kind="webhook", target=f"{loopback.url}/down")
    loopback.route("/down", "nope", status=503, content_type="text/plain")
    (alert, *_rest) = detect_for_query(storm)
    outcome = delivery.deliver_alert(alert.pk, pause=0)
    assert outcome["retry"] == 1
    row = AlertDelivery.objects.get(alert=alert)
    assert row.status == "pending" and row.attempts == 1 and "503" in row.last_error
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_alert(alert.pk, pause=0)
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == delivery.MAX_ATTEMPTS


def test_a_webhook_inside_is_not_called_when_the_alert_is_sent(org, storm, loopback, monkeypatch):
    """Added while an intranet receiver was allowed; the allowance is gone: nothing leaves."""
    add_subscription(actor=Actor.palabre(org), kind="webhook", target=f"{loopback.url}/hook")
    loopback.route("/hook", "", status=204, content_type="text/plain")
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "")
    (alert, *_rest) = detect_for_query(storm)
    outcome = delivery.deliver_alert(alert.pk, pause=0)
    assert outcome["sent"] == 0 and outcome["retry"] == 1
    assert "AddressRefused" in AlertDelivery.objects.get(alert=alert).last_error
    assert loopback.requests == []


def test_a_webhook_receiver_dripping_its_answer_is_given_up_at_the_timeout(
    org, storm, allow_loopback, monkeypatch
):
    """httpx's timeout bounds each read: a receiver sending one byte every few seconds held the
    alert worker for as long as it liked. The whole exchange now ends at WEBHOOK_TIMEOUT."""
    with DrippingServer(40) as server:
        monkeypatch.setattr(delivery, "_clock", server.clock)
        add_subscription(actor=Actor.palabre(org), kind="webhook", target=f"{server.url}/hook")
        (alert, *_rest) = detect_for_query(storm)
        outcome = delivery.deliver_alert(alert.pk, pause=0)
    assert outcome["sent"] == 0 and outcome["retry"] == 1
    assert "Timeout" in AlertDelivery.objects.get(alert=alert).last_error


def test_the_alert_page_reads_in_french(storm, owner, client):
    """The messages behind the spike show their tone in the reader's words and their authors'
    reach grouped the French way; the heading's colon has its space."""
    from django.urls import reverse

    from palabre.orgs.services import set_language

    (alert,) = detect_for_query(storm)
    alert.explanation["driving"][0]["reach"] = 48215  # an author followed by many
    alert.save(update_fields=["explanation"])
    set_language(user=owner, language="fr")
    client.force_login(owner)
    page = client.get(reverse("listening:alert", args=[alert.pk])).content.decode()
    assert "Alerte de crise\u202f: Marque" in page
    assert ">Négatif</span>" in page and ">negative</span>" not in page
    assert " · 48\u00a0215</span>" in page or " · 48\u202f215</span>" in page
