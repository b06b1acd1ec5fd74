"""Crisis alerts: subscriptions, raising an alert and its status, and the open alerts publishing's
guardrails read."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors import outbound
from palabre.listening.models import (
    AlertDelivery,
    AlertSubscription,
    CrisisAlert,
    QueryKind,
)
from palabre.listening.services.scope import _require_same_organisation
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

# Each crisis alert goes to every subscription, one after the other on a worker every organisation
# shares (a webhook up to 10 s, three times): their number is bounded.
MAX_SUBSCRIPTIONS = 20


def add_subscription(*, actor: Actor, kind: str, target: str) -> AlertSubscription:
    actor.require(Perm.LISTENING_MANAGE)
    target = (target or "").strip()
    if AlertSubscription.objects.visible_to(actor).count() >= MAX_SUBSCRIPTIONS:
        raise ValidationError(
            {
                "target": [
                    _("An organisation sends its alerts to at most %(n)s addresses: remove one first.")
                    % {"n": MAX_SUBSCRIPTIONS}
                ]
            }
        )
    if kind == AlertSubscription.Kind.EMAIL:
        try:
            EmailValidator()(target)
        except ValidationError:
            raise ValidationError({"target": [_("Enter a valid e-mail address.")]}) from None
    elif kind == AlertSubscription.Kind.WEBHOOK:
        try:
            URLValidator(schemes=["http", "https"])(target)
        except ValidationError:
            raise ValidationError({"target": [_("Enter a valid http(s) URL.")]}) from None
        refusal = outbound.refusal_for_url(target)
        if refusal is not None:
            raise ValidationError({"target": [refusal.explain()]})
    else:
        raise ValidationError({"kind": [_("Unknown kind: %(kind)s") % {"kind": kind}]})
    if AlertSubscription.objects.visible_to(actor).filter(kind=kind, target=target).exists():
        raise ValidationError({"target": [_("This address already receives the alerts.")]})
    with transaction.atomic():
        subscription = AlertSubscription.objects.create(
            organisation=actor.organisation,
            kind=kind,
            target=target,
            secret=secrets.token_urlsafe(32) if kind == AlertSubscription.Kind.WEBHOOK else "",
        )
        record(actor, "crisis.subscription_added", subscription, after={"kind": kind, "target": target})
    return subscription


def remove_subscription(*, actor: Actor, subscription: AlertSubscription) -> None:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, subscription.organisation_id)
    with transaction.atomic():
        record(actor, "crisis.subscription_removed", subscription)
        subscription.delete()


# --- alerts -----------------------------------------------------------------------------------


def set_alert_status(*, actor: Actor, alert: CrisisAlert, status: str) -> CrisisAlert:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, alert.organisation_id)
    if status not in CrisisAlert.Status.values:
        raise ValidationError({"status": [_("Unknown status: %(status)s") % {"status": status}]})
    if alert.status != status:
        before = {"status": alert.status}
        alert.status = status
        with transaction.atomic():
            alert.save(update_fields=["status"])
            record(actor, "crisis.alert_" + status, alert, before=before, after={"status": status})
    return alert


def raise_alert(
    *, organisation: Organisation, signal: Any, explanation: dict, now: datetime | None = None
) -> CrisisAlert | None:
    """Store a detected spike once (unique per query, metric, bucket) and enqueue its delivery.

    `now` is the instant of the detection run that found it (the crisis timeline's "alert")."""
    try:
        with transaction.atomic():
            alert = CrisisAlert.objects.create(
                organisation=organisation,
                query_id=signal.query_id,
                metric=signal.metric,
                bucket_minutes=signal.bucket_minutes,
                window_start=signal.window_start,
                window_end=signal.window_end,
                observed=signal.observed,
                expected=signal.expected,
                score=signal.score,
                explanation=explanation,
                created_at=now or timezone.now(),
            )
            deliveries = [
                AlertDelivery(organisation=organisation, alert=alert, subscription=subscription)
                for subscription in AlertSubscription.objects.for_org(organisation).filter(active=True)
            ]
            AlertDelivery.objects.bulk_create(deliveries)
            record(
                Actor.palabre(organisation),
                "crisis.alert_raised",
                alert,
                after={
                    "metric": signal.metric,
                    "observed": signal.observed,
                    "expected": round(signal.expected, 2),
                },
            )
    except IntegrityError:
        return None
    from palabre.listening.tasks import deliver_alert_task

    alert_id = alert.pk
    transaction.on_commit(lambda: deliver_alert_task.enqueue(alert_id))
    return alert


@dataclass(frozen=True)
class OpenAlert:
    """An open crisis alert as publishing's guardrails read it: what it is about (the query's
    terms not under a NOT) and how to name it."""

    alert_id: int
    name: str
    metric: str
    terms: tuple[str, ...]


EMERGING_TERM_MIN_SCORE = 1.96
EMERGING_TERMS_FOR_GUARDRAILS = 3


def open_alerts(organisation: Organisation) -> list[OpenAlert]:
    """The organisation's open crisis alerts, newest first, one per query, with what each is
    about: a topic query's own terms (a product, a recall); for the brand's query, the terms that
    emerged in the spike (the brand itself is in every post). A competitor's crisis is not ours."""
    from palabre.nlp.query import QuerySyntaxError, parse_query

    def valid(term: str) -> bool:
        try:
            parse_query(term)
        except QuerySyntaxError:
            return False
        return len(term.strip('#@*"')) >= 3

    found, seen = [], set()
    rows = (
        CrisisAlert.objects.for_org(organisation)
        .filter(status=CrisisAlert.Status.OPEN)
        .exclude(query__kind=QueryKind.COMPETITOR)
    )
    for alert in rows.select_related("query").order_by("-created_at", "-pk")[:50]:
        if alert.query_id in seen:
            continue
        seen.add(alert.query_id)
        if alert.query.kind == QueryKind.BRAND:
            # Only terms that clearly rose with the spike (z of the log-odds ratio at 1.96 or
            # more), a few at most: a weak one ("jour") would hold every post that says it.
            emerging = (alert.explanation or {}).get("terms") or []
            candidates = [
                str(t.get("term", ""))
                for t in emerging
                if isinstance(t, dict) and float(t.get("score") or 0) >= EMERGING_TERM_MIN_SCORE
            ][:EMERGING_TERMS_FOR_GUARDRAILS]
        else:
            try:
                candidates = [str(term) for term in parse_query(alert.query.query, max_nears=None).terms]
            except QuerySyntaxError:
                candidates = []
        terms = tuple(t for t in candidates if valid(t))
        found.append(OpenAlert(alert.pk, alert.query.name, str(alert.get_metric_display()), terms))
    return found
