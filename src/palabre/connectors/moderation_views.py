"""Moderation on the platform, from Palabre's pages: the channel's policy (set by an admin on the
channel page) and the actions a moderator asks on one item (hide, show again, delete, ban the
author), offered only where the channel's connector declares them. Thin: the outbox's services
queue, check and audit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.connectors import services
from palabre.connectors.forms import PlatformModerationForm
from palabre.conversations.models import Item
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.orgs.views import member_view, safe_next

# The outbox service behind each item action (`connection.ITEM_ACTIONS` says what each needs).
QUEUE = {
    "hide": services.queue_hide,
    "unhide": services.queue_unhide,
    "delete": services.queue_delete,
    "ban_author": services.queue_ban_author,
}


def policy_context(actor: Actor, channel, data=None) -> dict[str, Any]:
    """The channel page's policy form, for an admin, where the platform can do anything of it."""
    if not actor.can(Perm.CHANNELS_MANAGE):
        return {}
    choices = services.policy_choices(channel)
    if len(choices["on_reject"]) < 2 and len(choices["on_restore"]) < 2:
        return {"moderation_policy": None}
    form = PlatformModerationForm(data, choices=choices, initial=services.policy_of(channel))
    return {"moderation_policy": form}


@require_POST
@member_view(Perm.CHANNELS_MANAGE)
def channel_moderation(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = services.get_channel(actor=actor, channel_id=channel_id)
    form = PlatformModerationForm(request.POST, choices=services.policy_choices(channel))
    if form.is_valid():
        try:
            services.update_platform_moderation(actor=actor, channel=channel, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Moderation on the platform saved."))
    else:
        messages.error(
            request,
            " ".join(
                f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()
            ),
        )
    return redirect("connectors:channel", channel.pk)


@require_POST
@member_view(Perm.MODERATION_ACT)
def item_action(request: HttpRequest, actor: Actor, item_id: int, action: str) -> HttpResponse:
    item = Item.objects.select_related("channel").visible_to(actor).filter(pk=item_id).first()
    if item is None or action not in QUEUE:
        raise NotInOrganisation
    try:
        QUEUE[action](actor=actor, item=item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Asked of the platform: follow it in the outbox."))
    return redirect(safe_next(request, reverse("connectors:outbox")))
