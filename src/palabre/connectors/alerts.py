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
from palabre.connectors.models import ChannelSync
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Role

logger = logging.getLogger(__name__)


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
        .filter(organisation_id=organisation_id, role__in=[Role.OWNER, Role.ADMIN])
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


def _health_path(sync: ChannelSync) -> str:
    return reverse("connectors:channel", args=[sync.channel_id])


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
        body = _(
            "The channel %(channel)s failed %(count)s times in a row.\n"
            "Last error: %(error)s\n\n"
            "Replies and publications waiting for it are kept and will be retried. "
            "See the channel's health: %(path)s"
        ) % {
            "channel": sync.channel.name,
            "count": sync.consecutive_failures,
            "error": sync.last_error or "-",
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
            body = _(
                "The access token of the channel %(channel)s expires on %(date)s.\n"
                "Reconnect the channel before then, or its replies, publications and new messages "
                "will stop. See the channel's health: %(path)s"
            ) % {
                "channel": sync.channel.name,
                "date": timezone.localtime(sync.token_expires_at).strftime("%Y-%m-%d %H:%M"),
                "path": _health_path(sync),
            }
        if _send(sync, subject, body):
            sent += 1
    return sent
