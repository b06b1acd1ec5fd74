"""Alerts to the people in charge: a channel starts failing, a token is about to expire.

Silent failures are what people blame connector tools for first: each alert is an e-mail to the
organisation's owners and administrators, once per episode, and the dashboard panel shows it too.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from palabre import config
from palabre.connectors.explain import explain
from palabre.connectors.models import ChannelSync
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Role

logger = logging.getLogger(__name__)

# Errors after which the outbox tries again by itself (the others wait for a person).
RETRIED_BY_ITSELF = {"transient", "rate_limited"}


def _int(setting: config.Setting) -> int:
    try:
        return int(setting.raw())
    except ValueError:
        return int(setting.default)


def failure_threshold() -> int:
    return max(_int(config.CONNECTORS_FAILURE_ALERT_COUNT), 1)


def token_alert_days() -> int:
    return max(_int(config.CONNECTORS_TOKEN_ALERT_DAYS), 0)


def recipients(organisation_id: int) -> list[str]:
    emails = (
        Membership.objects.active()
        .for_org(organisation_id)
        .filter(role__in=[Role.OWNER, Role.ADMIN])
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def _send(sync: ChannelSync, subject: str, body: str) -> bool:
    to = recipients(sync.organisation_id)
    if not to:
        return False
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception:  # the alert is also on the dashboard; a mail server down must not break pulls
        logger.exception("connectors: alert mail for channel %s failed", sync.channel_id)
        return False
    return True


def public_base_url() -> str:
    """This Palabre's public address, for links in mails: PALABRE_LISTENING_PUBLIC_URL, else the
    first host it answers to (https when PALABRE_HTTPS is on); "" when neither tells."""
    base = config.LISTENING_PUBLIC_URL.raw().strip().rstrip("/")
    if base:
        return base
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    if not hosts:
        return ""
    scheme = "https" if config.as_bool(config.HTTPS) else "http"
    return f"{scheme}://{hosts[0]}"


def _health_path(sync: ChannelSync) -> str:
    """The absolute address of the channel's health page (the path alone when none is known)."""
    return public_base_url() + reverse("connectors:channel", args=[sync.channel_id])


def alert_if_failing(sync_id: int) -> bool:
    """Mail once when a channel reaches K consecutive failures; again only after it recovered."""
    threshold = failure_threshold()
    claimed = ChannelSync.objects.filter(
        pk=sync_id, consecutive_failures__gte=threshold, failing_alert_sent_at__isnull=True
    ).update(failing_alert_sent_at=timezone.now())
    if not claimed:
        return False
    sync = ChannelSync.objects.select_related("channel", "organisation").get(pk=sync_id)
    with translation.override(sync.organisation.language or settings.LANGUAGE_CODE):
        subject = _("Palabre: the channel %(channel)s is failing") % {"channel": sync.channel.name}
        retried = sync.last_error_code in RETRIED_BY_ITSELF
        body = _(
            "The channel %(channel)s failed %(count)s times in a row.\n"
            "%(explanation)s\n"
            "Detail: %(error)s\n\n"
            "%(waiting)s\n"
            "See the channel's health: %(path)s"
        ) % {
            "channel": sync.channel.name,
            "count": sync.consecutive_failures,
            "explanation": explain(sync.last_error_code),
            "error": sync.last_error or "-",
            "waiting": _("Replies and publications waiting for it are kept; Palabre retries them by itself.")
            if retried
            else _(
                "Palabre will not retry by itself: replies and publications that failed are kept, "
                "marked failed; retry them by hand from the outbox once the channel works again."
            ),
            "path": _health_path(sync),
        }
    return _send(sync, subject, body)


def expiring_soon() -> models.QuerySet[ChannelSync]:
    limit = timezone.now() + timedelta(days=token_alert_days())
    return ChannelSync.objects.filter(token_expires_at__isnull=False, token_expires_at__lte=limit)


def check_token_alerts() -> int:
    """Mail once per token about to expire (or expired). Returns how many alerts went out."""
    sent = 0
    for sync in (
        expiring_soon()
        .exclude(token_alert_sent_for=models.F("token_expires_at"))
        .select_related("channel", "organisation")
    ):
        claimed = (
            ChannelSync.objects.filter(pk=sync.pk)
            .exclude(token_alert_sent_for=sync.token_expires_at)
            .update(token_alert_sent_for=sync.token_expires_at)
        )
        if not claimed:
            continue
        with translation.override(sync.organisation.language or settings.LANGUAGE_CODE):
            expired = sync.token_expires_at <= timezone.now()
            subject = (
                _("Palabre: the token of %(channel)s has expired")
                if expired
                else _("Palabre: the token of %(channel)s expires soon")
            ) % {"channel": sync.channel.name}
            body = (
                _(
                    "The access token of the channel %(channel)s expired on %(date)s.\n"
                    "Palabre cannot read or answer on this channel until new credentials are entered "
                    "on its page; replies that failed meanwhile must be retried by hand. "
                    "See the channel's health: %(path)s"
                )
                if expired
                else _(
                    "The access token of the channel %(channel)s expires on %(date)s.\n"
                    "Reconnect the channel before then, or its replies, publications and new messages "
                    "will stop. See the channel's health: %(path)s"
                )
            ) % {
                "channel": sync.channel.name,
                "date": timezone.localtime(sync.token_expires_at).strftime("%Y-%m-%d %H:%M"),
                "path": _health_path(sync),
            }
        if _send(sync, subject, body):
            sent += 1
    return sent
