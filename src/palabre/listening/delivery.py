"""Delivery of crisis alerts: e-mail (Django's SMTP backend) and signed webhooks, with retries.

A webhook body is JSON; `X-Palabre-Signature: sha256=<hex>` is the HMAC-SHA256 of
`<timestamp>.<body>` with the subscription's secret, `X-Palabre-Timestamp` the Unix time used, so a
receiver can refuse replays. A failed delivery is retried with backoff and stays visible.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from palabre import config
from palabre.connectors import outbound
from palabre.listening.explanations import nature_sentence, warmup_sentence
from palabre.listening.models import AlertDelivery, AlertSubscription, CrisisAlert

logger = logging.getLogger(__name__)

QUICK_TRIES = 3
MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT = 10.0  # for the whole exchange, the answer's reading included
_clock = time.monotonic  # what that deadline is read on (tests give theirs)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def alert_payload(alert: CrisisAlert) -> dict:
    base = config.LISTENING_PUBLIC_URL.raw().rstrip("/")
    return {
        "event": "crisis.alert",
        "id": alert.pk,
        "organisation": alert.organisation.slug,
        "query": {"id": alert.query_id, "name": alert.query.name, "kind": alert.query.kind},
        "metric": alert.metric,
        "bucket_minutes": alert.bucket_minutes,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "observed": alert.observed,
        "expected": round(alert.expected, 3),
        "score": alert.score,
        "why": alert.explanation,
        "url": f"{base}{reverse('listening:alert', args=[alert.pk])}" if base else "",
    }


def send_email(alert: CrisisAlert, subscription: AlertSubscription) -> None:
    payload = alert_payload(alert)
    with translation.override(
        config.LISTENING_ALERT_LANGUAGE.raw() or config.LANGUAGE.raw() or settings.LANGUAGE_CODE
    ):
        warmup = alert.explanation.get("warmup")
        context = {
            "alert": alert,
            "payload": payload,
            "why": alert.explanation,
            # a young query's baseline, said in the alert as on its page
            "warmup": warmup_sentence(warmup) if warmup else "",
            "nature": nature_sentence(alert.explanation),
        }
        subject = render_to_string("listening/email/alert_subject.txt", context).strip()
        text = render_to_string("listening/email/alert.txt", context)
        html = render_to_string("listening/email/alert.html", context)
    message = EmailMultiAlternatives(subject, text, to=[subscription.target])
    message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)


def send_webhook(alert: CrisisAlert, subscription: AlertSubscription) -> None:
    body = json.dumps(alert_payload(alert), ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    # Through the address guard; a webhook is not followed to another address (a 3xx fails).
    with (
        outbound.deadline(WEBHOOK_TIMEOUT, clock=_clock),
        outbound.client(follow_redirects=False, timeout=WEBHOOK_TIMEOUT) as client,
    ):
        response = client.post(
            subscription.target,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Palabre-Webhook/1",
                "X-Palabre-Event": "crisis.alert",
                "X-Palabre-Delivery": f"{alert.pk}-{subscription.pk}",
                "X-Palabre-Timestamp": timestamp,
                "X-Palabre-Signature": sign(subscription.secret, timestamp, body),
            },
        )
    if response.status_code >= 300:
        raise RuntimeError(f"HTTP {response.status_code}")


SENDERS = {AlertSubscription.Kind.EMAIL: send_email, AlertSubscription.Kind.WEBHOOK: send_webhook}


def deliver_alert(alert_id: int, *, pause: float = 0.5) -> dict:
    """Send the alert to every subscription not yet served; schedules a later retry if some fail."""
    alert = CrisisAlert.objects.select_related("query", "organisation").filter(pk=alert_id).first()
    if alert is None:
        return {"alert": alert_id, "skipped": "gone"}
    outcome = {"alert": alert_id, "sent": 0, "failed": 0, "retry": 0}
    pending = AlertDelivery.objects.select_related("subscription").filter(
        alert=alert, status=AlertDelivery.Status.PENDING
    )
    for delivery in pending:
        sender = SENDERS[delivery.subscription.kind]
        error = ""
        for attempt in range(QUICK_TRIES):
            try:
                sender(alert, delivery.subscription)
                error = ""
                break
            except Exception as failure:  # SMTP, network, HTTP status: all retried the same way
                error = f"{type(failure).__name__}: {failure}"[:1000]
                if attempt < QUICK_TRIES - 1:
                    time.sleep(pause * (2**attempt))
        delivery.attempts += 1
        if not error:
            delivery.status, delivery.sent_at, delivery.last_error = (
                AlertDelivery.Status.SENT,
                timezone.now(),
                "",
            )
            outcome["sent"] += 1
        else:
            delivery.last_error = error
            logger.warning("Alert %s to %s failed: %s", alert.pk, delivery.subscription, error)
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = AlertDelivery.Status.FAILED
                outcome["failed"] += 1
            else:
                outcome["retry"] += 1
        delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    if outcome["retry"]:
        _schedule_retry(alert.pk, minutes=2 ** min(max(d.attempts for d in pending), 6))
    return outcome


def _schedule_retry(alert_id: int, *, minutes: int) -> None:
    from palabre.listening.tasks import deliver_alert_task

    try:
        deliver_alert_task.using(run_after=timezone.now() + timedelta(minutes=minutes)).enqueue(alert_id)
    except Exception:  # a backend that cannot defer: `palabre listening run` retries pending ones
        logger.info("Alert %s waits for the next sweep to be retried", alert_id)


def _pending_alert_ids() -> set[int]:
    return set(
        AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING).values_list("alert_id", flat=True)
    )


def queue_pending_deliveries() -> int:
    """A delivery task for each alert with deliveries still pending (the schedule's pass: sending
    them there, one organisation's slow webhooks held the pass for every organisation)."""
    from palabre.listening.tasks import deliver_alert_task

    ids = _pending_alert_ids()
    for alert_id in ids:
        deliver_alert_task.enqueue(alert_id)
    return len(ids)


def retry_pending_deliveries() -> int:
    """Send the pending deliveries now (`palabre listening run`, whose caller waits for them)."""
    ids = _pending_alert_ids()
    for alert_id in ids:
        deliver_alert(alert_id)
    return len(ids)
