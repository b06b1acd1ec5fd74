"""The OAuth connection pages: the button's POST that sends the person to the platform, and the
one callback address the platform sends them back to. Thin: `connectors.oauth` does the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.connectors import oauth, services
from palabre.connectors.connection import connection_of
from palabre.connectors.moderation_views import policy_context
from palabre.orgs import services as org_services
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view


def callback_url(request: HttpRequest) -> str:
    """The address to register on the platform as the app's redirect URL (one for every channel)."""
    return request.build_absolute_uri(reverse("connectors:oauth_callback"))


def channel_page_context(request: HttpRequest, actor: Actor, row) -> dict[str, Any]:
    """What the channel page shows of the connection: connected or the next step, for an OAuth
    platform the redirect URL to register and the button, and the moderation policy's form."""
    connection = connection_of(row.channel, row.sync)
    context: dict[str, Any] = {"connection": connection, **policy_context(actor, row.channel)}
    spec = oauth.spec_for(row.channel)
    if spec is not None and actor.can(Perm.CHANNELS_MANAGE):
        credentials = row.channel.read_credentials() if row.channel.has_credentials else {}
        context["oauth"] = {
            "redirect_url": callback_url(request),
            "has_app": bool(credentials.get(spec.client_id_field))
            and (spec.token_auth == "none" or bool(credentials.get(spec.client_secret_field))),
            "scopes": spec.scopes,
            "connected": bool(credentials.get("access_token")),
        }
    return context


def allow_authorisation_redirect(response: HttpResponse, channel) -> HttpResponse:
    """The button's POST is answered with a redirect to the platform, and a page's CSP
    `form-action` also governs where a submission may be redirected: the channel page lets its
    forms lead to the platform's authorisation address, and only there."""
    spec = oauth.spec_for(channel)
    if spec is not None:
        parts = urlsplit(spec.authorize_url)
        response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
    return response


@require_POST
@member_view(Perm.CHANNELS_MANAGE)
def oauth_start(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = services.get_channel(actor=actor, channel_id=channel_id)
    try:
        url = oauth.authorisation_url(
            actor=actor, channel=channel, redirect_uri=callback_url(request), session=request.session
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("connectors:channel", channel.pk)
    return redirect(url)


@member_view(Perm.CHANNELS_MANAGE)
def oauth_callback(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        channel = oauth.complete(
            actor=actor,
            params=request.GET,
            redirect_uri=callback_url(request),
            session=request.session,
            now=timezone.now(),
        )
    except oauth.OAuthRefused as refused:
        return render(
            request,
            "connectors/oauth_refused.html",
            {"refused": refused, "channel": refused.channel},
            status=400,
        )
    messages.success(request, _("“%(name)s” is connected through the platform.") % {"name": channel.name})
    connection = org_services.check_connection(actor=actor, channel=channel)
    if connection is not None:
        text = " ".join(part for part in (connection["message"], connection["detail"]) if part)
        {"connected": messages.success, "partial": messages.warning}.get(
            connection["status"], messages.error
        )(request, text)
    return redirect("connectors:channel", channel.pk)
