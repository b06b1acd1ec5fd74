"""The organisation's channels: list, creation with their credentials, editing, new credentials, the connection said, spokesperson accounts approved."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs import queries, services
from palabre.orgs.forms import (
    ChannelCreateForm,
    ChannelEditForm,
    CredentialsForm,
    apply_service_errors,
    credential_fields,
)
from palabre.orgs.models import Channel, Platform
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor
from palabre.orgs.views.pages import channel_health, channel_reach, member_view, no_store


@member_view(Perm.CHANNELS_VIEW)
def channels(request: HttpRequest, actor: Actor) -> HttpResponse:
    health = channel_health(actor)
    rows = [
        (channel, channel_reach(channel.platform), health.get(channel.pk))
        for channel in queries.channels(actor)
    ]
    unreachable = any(not reach for _channel, reach, _health in rows)
    return render(request, "orgs/channels.html", {"channels": rows, "unreachable": unreachable})


REFRESH_FIELDS = "show_fields"


def _chosen_platform(request: HttpRequest) -> str:
    chosen = request.POST.get("platform") or request.GET.get("platform") or ""
    return chosen if chosen in Platform.values else Platform.values[0]


@member_view(Perm.POSTS_DRAFT)
def channel_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A channel and its credentials in one step: the credential fields are the chosen platform's
    (swapped by htmx when the platform changes; without JavaScript, the "show the fields" button
    re-renders the page with everything typed kept), and the connection is tried at once.

    A member who may not manage channels connects only their own account (a spokesperson channel,
    inactive until an owner approves it): to become an ambassador, for instance."""
    platform = _chosen_platform(request)
    posted = request.method == "POST" and REFRESH_FIELDS not in request.POST
    data = request.POST if posted else None
    own_account_only = not actor.can(Perm.CHANNELS_MANAGE)
    if own_account_only and data is not None:
        data = data.copy()
        data["spokesperson"] = "on"
    form = ChannelCreateForm(data, initial={"platform": platform, "spokesperson": own_account_only})
    if request.method == "POST" and not posted:
        form = ChannelCreateForm(initial={**request.POST.dict(), "platform": platform})
    if own_account_only:
        form.fields["spokesperson"].disabled = True
        form.fields["spokesperson"].initial = True
    form.fields["platform"].widget.attrs.update(
        {"hx-get": reverse("channel_create"), "hx-target": "#credential-fields", "hx-trigger": "change"}
    )
    credentials = CredentialsForm(
        data, declared=credential_fields(platform), optional=True, prefix="new", initial=_typed(request)
    )
    if request.htmx and request.method == "GET":
        return no_store(render(request, "orgs/_credential_fields.html", {"form": credentials}))
    connection = None
    if posted and form.is_valid() & credentials.is_valid():
        try:
            channel = services.create_channel(
                actor=actor, **form.cleaned_data, credentials=credentials.cleaned_data["credentials"] or None
            )
        except ValidationError as error:
            _split_errors(form, credentials, error)
        else:
            if channel.kind == Channel.Kind.SPOKESPERSON:
                messages.success(request, _("Your account is connected; it waits for an owner's approval."))
            else:
                messages.success(request, _("Channel “%(name)s” created.") % {"name": channel.name})
            if channel.has_credentials:
                connection = services.check_connection(actor=actor, channel=channel)
            if connection is None or connection["status"] != "failed":
                _say_connection(request, connection)
                return redirect("channels")
            # Created, but its credentials do not work: correct them on its page, typed values kept.
            retry = CredentialsForm(
                _unprefixed(request.POST, "new"), declared=credential_fields(channel.platform)
            )
            return no_store(
                render(
                    request,
                    "orgs/channel_credentials.html",
                    {"form": retry, "channel": channel, "connection": connection},
                )
            )
    return no_store(
        render(
            request,
            "orgs/channel_form.html",
            {"form": form, "credentials": credentials, "channel": None, "refresh_fields": REFRESH_FIELDS},
        )
    )


def _typed(request: HttpRequest) -> dict:
    """What was typed in the credential fields, kept when the page is shown again for another platform."""
    if request.method != "POST":
        return {}
    return {key.removeprefix("new-"): value for key, value in request.POST.items() if key.startswith("new-")}


def _unprefixed(data, prefix: str) -> dict:
    return {
        key.removeprefix(f"{prefix}-"): value for key, value in data.items() if key.startswith(f"{prefix}-")
    }


def _split_errors(form, credentials: CredentialsForm, error: ValidationError) -> None:
    """The service's errors next to their fields: the credentials' on the credential fields."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    mine = {name: errors for name, errors in error.message_dict.items() if name.startswith("credentials")}
    rest = {name: errors for name, errors in error.message_dict.items() if name not in mine}
    if mine:
        apply_service_errors(credentials, ValidationError(mine), aliases=credentials.aliases())
    if rest:
        apply_service_errors(form, ValidationError(rest))


@member_view(Perm.CHANNELS_MANAGE)
def channel_edit(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = queries.channel(actor, channel_id)
    form = ChannelEditForm(request.POST if request.method == "POST" else None, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_channel(actor=actor, channel=channel, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Channel “%(name)s” saved.") % {"name": channel.name})
            return redirect("channels")
    return render(request, "orgs/channel_form.html", {"form": form, "channel": channel})


@member_view(Perm.CHANNELS_MANAGE)
def channel_credentials(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = queries.channel(actor, channel_id)
    form = CredentialsForm(
        request.POST if request.method == "POST" else None, declared=credential_fields(channel.platform)
    )
    connection = None
    if request.method == "POST" and form.is_valid():
        try:
            services.set_channel_credentials(
                actor=actor, channel=channel, credentials=form.cleaned_data["credentials"]
            )
        except ValidationError as error:
            apply_service_errors(form, error, aliases=form.aliases())
        else:
            connection = services.check_connection(actor=actor, channel=channel)
            if connection is None or connection["status"] != "failed":
                messages.success(request, _("Credentials of “%(name)s” replaced.") % {"name": channel.name})
                _say_connection(request, connection)
                return redirect("channels")
            # Stored, but they do not work: the page stays, with what was typed, to correct it.
    return no_store(
        render(
            request,
            "orgs/channel_credentials.html",
            {"form": form, "channel": channel, "connection": connection},
        )
    )


def _say_connection(request: HttpRequest, connection: dict | None) -> None:
    """The connection check's outcome, as a message on the next page."""
    if connection is None:
        return
    text = connection["message"]
    if connection["detail"]:
        text += " " + connection["detail"]
    if connection["status"] == "connected":
        messages.success(request, text)
    else:
        messages.warning(request, text)


@require_POST
@member_view(Perm.SPOKESPERSON_APPROVE)
def channel_approve(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = queries.channel(actor, channel_id)
    try:
        services.approve_spokesperson_channel(actor=actor, channel=channel)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” may now speak for the brand.") % {"name": channel.name})
    return redirect("channels")
