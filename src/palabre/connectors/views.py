"""Connections' health, the outbox, and the webhook endpoint.

Thin: pages read through `queries` and change through `services`. The webhook endpoint checks the
signature, stores the body and answers 202: the work is done by a task, never in the request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from palabre import config
from palabre.connectors import oauth_views, queries, services
from palabre.connectors.base import Capability
from palabre.connectors.forms import ChannelOptionsForm, OutboxFilterForm, SyncSettingsForm
from palabre.connectors.models import ActionStatus, ChannelSync
from palabre.connectors.registry import connector_for
from palabre.connectors.sync import store_webhook
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, safe_next
from palabre.pagination import keyset_page

logger = logging.getLogger(__name__)
OUTBOX_PAGE = 50


@member_view(Perm.CHANNELS_VIEW)
def health(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = queries.channel_health(actor)
    return render(
        request,
        "connectors/health.html",
        {"rows": rows, "attention": [row for row in rows if row.needs_attention]},
    )


@member_view(Perm.CHANNELS_VIEW)
def channel(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    found = services.get_channel(actor=actor, channel_id=channel_id)
    row = queries.health_of(actor, found)
    form = SyncSettingsForm(
        initial={
            "poll_enabled": row.sync.poll_enabled if row.sync else True,
            "poll_interval_seconds": row.sync.poll_interval_seconds if row.sync else None,
        }
    )
    return _channel_page(request, actor, row, form)


def _channel_page(request: HttpRequest, actor: Actor, row, form, status: int = 200) -> HttpResponse:
    webhook_url = ""
    if Capability.WEBHOOK in row.capabilities and actor.can(Perm.CHANNELS_MANAGE):
        sync = row.sync or services.sync_for(row.channel)
        webhook_url = request.build_absolute_uri(reverse("connectors:webhook", args=[sync.public_id]))
    actions = queries.outbox(actor, channel_id=row.channel.pk).order_by("-created_at", "-pk")[:30]
    response = render(
        request,
        "connectors/channel.html",
        {
            "row": row,
            "form": form,
            "actions": actions,
            "webhook_url": webhook_url,
            "has_options": bool(services.option_fields(row.channel)),
            **oauth_views.channel_page_context(request, actor, row),
        },
        status=status,
    )
    return oauth_views.allow_authorisation_redirect(response, row.channel)


@require_POST
@member_view(Perm.CHANNELS_MANAGE)
def channel_settings(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    found = services.get_channel(actor=actor, channel_id=channel_id)
    form = SyncSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.update_sync_settings(actor=actor, channel=found, **form.cleaned_data)
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Polling settings saved."))
            return redirect("connectors:channel", found.pk)
    return _channel_page(request, actor, queries.health_of(actor, found), form, status=400)


@member_view(Perm.ORG_MANAGE)
def channel_options(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    """The channel's options, for an organisation's admin: a bad value comes back with its field
    named and what was typed kept (400)."""
    found = services.get_channel(actor=actor, channel_id=channel_id)
    fields = services.option_fields(found)
    if request.method == "POST":
        form = ChannelOptionsForm(request.POST, fields=fields)
        if form.is_valid():
            try:
                services.update_channel_options(actor=actor, channel=found, values=form.cleaned_data)
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    field = name.removeprefix("options.")
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Channel options saved."))
                return redirect("connectors:channel", found.pk)
        status = 400
    else:
        form = ChannelOptionsForm(initial=services.options_of(found), fields=fields)
        status = 200
    return render(request, "connectors/channel_options.html", {"channel": found, "form": form}, status=status)


@require_POST
@member_view(Perm.CHANNELS_MANAGE)
def channel_pull(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    found = services.get_channel(actor=actor, channel_id=channel_id)
    try:
        services.request_pull(actor=actor, channel=found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("New messages will be fetched in a moment."))
    return redirect("connectors:channel", found.pk)


@require_POST
@member_view(Perm.CHANNELS_MANAGE)
def channel_check(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    found = services.get_channel(actor=actor, channel_id=channel_id)
    result = services.connection_result(services.check_channel(actor=actor, channel=found))
    text = " ".join(part for part in (result["message"], result["detail"]) if part)
    {"connected": messages.success, "partial": messages.warning}.get(result["status"], messages.error)(
        request, text
    )
    return redirect("connectors:channel", found.pk)


@member_view(Perm.CHANNELS_VIEW)
def outbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    try:
        page = keyset_page(
            queries.outbox(actor, status=status), cursor=request.GET.get("cursor"), limit=OUTBOX_PAGE
        )
    except ValidationError:
        page = keyset_page(queries.outbox(actor, status=status), cursor=None, limit=OUTBOX_PAGE)
    return render(request, "connectors/outbox.html", {"form": form, "page": page, "status": status})


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    return redirect(safe_next(request, fallback))


def _action_change(request: HttpRequest, actor: Actor, action_id: int, change, done: str) -> HttpResponse:
    action = services.get_action(actor=actor, action_id=action_id)
    try:
        change(action)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return _back(request, reverse("connectors:outbox"))


@require_POST
@member_view(Perm.CHANNELS_VIEW)
def action_retry(request: HttpRequest, actor: Actor, action_id: int) -> HttpResponse:
    return _action_change(
        request, actor, action_id, lambda a: services.retry_action(actor=actor, action=a), _("Sent again.")
    )


@require_POST
@member_view(Perm.CHANNELS_VIEW)
def action_cancel(request: HttpRequest, actor: Actor, action_id: int) -> HttpResponse:
    return _action_change(
        request, actor, action_id, lambda a: services.cancel_action(actor=actor, action=a), _("Cancelled.")
    )


@require_POST
@member_view(Perm.CHANNELS_VIEW)
def action_confirm(request: HttpRequest, actor: Actor, action_id: int) -> HttpResponse:
    return _action_change(
        request,
        actor,
        action_id,
        lambda a: services.confirm_delivered(actor=actor, action=a, url=request.POST.get("url", "").strip()),
        _("Marked as delivered."),
    )


# --- webhooks -----------------------------------------------------------------------------------


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
def webhook(request: HttpRequest, public_id: str) -> HttpResponse:
    """A platform's event: signature checked, body stored, 202; a task does the rest. A GET is a
    platform checking the address (Meta's subscription handshake): the connector answers it."""
    if request.method not in ("POST", "GET"):
        return _error(405, "Use POST.")
    sync = ChannelSync.objects.select_related("channel").filter(public_id=public_id).first()
    if sync is None or sync.channel.status == sync.channel.Status.ARCHIVED:
        return _error(404, "No such webhook.")
    channel = sync.channel
    connector = connector_for(channel)
    if not connector.supports(Capability.WEBHOOK):
        return _error(404, "No such webhook.")
    if request.method == "GET":
        if not connector.answers_subscription:
            return _error(405, "Use POST.")
        challenge = connector.verify_subscription(channel, request.GET)
        if challenge is None:
            return _error(403, "The verification token does not match.")
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")
    limit = int(config.CONNECTORS_WEBHOOK_MAX_BYTES.raw() or 1048576)
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise RequestDataTooBig
        body = request.body
    except (RequestDataTooBig, ValueError):
        return _error(413, "The body is too large.")
    if len(body) > limit:
        return _error(413, "The body is too large.")
    if not connector.verify_webhook(channel, request.headers, body):
        logger.warning("connectors: webhook with a bad signature for channel %s", channel.pk)
        ChannelSync.objects.filter(pk=sync.pk).update(
            last_error_at=timezone.now(),
            last_error=_("A webhook call was refused: its signature does not match."),
            last_error_code="bad_signature",
        )
        return _error(401, "Bad signature.")
    delivery = store_webhook(channel=channel, body=body)
    return JsonResponse({"accepted": delivery.pk}, status=202)


# --- the home page ------------------------------------------------------------------------------


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.CHANNELS_VIEW):
        return None
    rows = queries.channel_health(actor)
    attention = [row for row in rows if row.needs_attention]
    if not attention:
        return None
    return {
        "template": "connectors/_dashboard_panel.html",
        "rows": attention,
        "counts": [
            {
                "label": _("Channels needing attention"),
                "value": len(attention),
                "url": reverse("connectors:health"),
            }
        ],
        "failed": sum(row.failed + row.to_check for row in attention),
        "ActionStatus": ActionStatus,
    }
