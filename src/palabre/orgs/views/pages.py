"""What every page of a member shares: the member_view decorator, partial answers to htmx, pagination, and what other apps add through hooks (dashboard panels, audit labels, channel reach and health: see palabre.hooks)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from palabre import hooks
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor, NotInOrganisation


def member_view(perm: Perm | None = None):
    """For a signed-in member of the active organisation: the view receives their Actor.

    Without the permission the answer is 403; another organisation's object (NotInOrganisation) is 404.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:
                    query = urlencode({"next": request.get_full_path()})
                    return HttpResponseClientRedirect(f"{reverse('login')}?{query}")
                return redirect_to_login(request.get_full_path())
            if not request.membership:
                return redirect("no_organisation")
            actor = Actor.for_user(request.user, request.membership.organisation)
            if perm is not None:
                actor.require(perm)
            try:
                return view(request, actor, *args, **kwargs)
            except NotInOrganisation:
                raise Http404 from None

        return wrapper

    return decorate


def wants_partial(request: HttpRequest) -> bool:
    """An htmx swap gets the fragment; a boosted, restored or plain request gets the page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where a form sends the person back: its `next` when that is a path of this site, else
    `fallback`. Only a path is taken: redirect() would look a bare word up as a URL pattern's name
    (a server error, or another page), and an address elsewhere is an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return fallback


def paginate(request: HttpRequest, rows, per_page: int) -> Page:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def no_store(response: HttpResponse) -> HttpResponse:
    # Pages that carry a secret (a new token, credentials typed back) stay out of every cache.
    response["Cache-Control"] = "no-store"
    return response


# The home page gathers panels that higher apps add through the `dashboard_panels` hook (orgs never
# imports them), in this order; a panel this table does not name comes after them, by its own order.
DashboardPanel = Callable[[HttpRequest, Actor], dict[str, Any] | None]
PANEL_ORDER: dict[str, int] = {
    "publishing": 10,
    "conversations": 20,
    "moderation": 30,
    "connectors": 40,
    "inbox": 50,
    "listening": 60,
}


def dashboard_panels() -> list[DashboardPanel]:
    """`panel(request, actor)` returns None, or a dict with optional `counts` ([{label, value, url}])
    and `template` (rendered with the dict as `panel`)."""
    return [contribution.value for contribution in hooks.ordered(hooks.hook.dashboard_panels())]


ACTION_LABELS = {
    "organisation.created": gettext_lazy("Organisation created"),
    "member.added": gettext_lazy("Member added"),
    "member.role_changed": gettext_lazy("Role changed"),
    "member.removed": gettext_lazy("Member removed"),
    "invitation.created": gettext_lazy("Invitation sent"),
    "invitation.accepted": gettext_lazy("Invitation accepted"),
    "invitation.revoked": gettext_lazy("Invitation withdrawn"),
    "channel.created": gettext_lazy("Channel created"),
    "channel.updated": gettext_lazy("Channel changed"),
    "channel.credentials_replaced": gettext_lazy("Channel credentials replaced"),
    "channel.credentials_reencrypted": gettext_lazy("Channel credentials re-encrypted"),
    "channel.spokesperson_approved": gettext_lazy("Spokesperson channel approved"),
    "token.created": gettext_lazy("API token created"),
    "token.revoked": gettext_lazy("API token revoked"),
    "contact.merged": gettext_lazy("Contacts merged"),
}

TARGET_LABELS = {
    "orgs.organisation": gettext_lazy("Organisation"),
    "orgs.channel": gettext_lazy("Channel"),
    "orgs.apitoken": gettext_lazy("API token"),
    "orgs.membership": gettext_lazy("Membership"),
    "orgs.invitation": gettext_lazy("Invitation"),
    "auth.user": gettext_lazy("Person"),
    "conversations.contact": gettext_lazy("Contact"),
    "conversations.item": gettext_lazy("Conversation item"),
}


# How an entry of the audit log reads, in words: %(who)s is the person (or token), %(target)s
# what they acted on. An action without a sentence reads "who: label, target".
AUDIT_SENTENCES: dict[str, Any] = {
    "organisation.created": gettext_lazy("%(who)s created the organisation %(target)s"),
    "member.added": gettext_lazy("%(who)s added %(target)s to the team"),
    "member.role_changed": gettext_lazy("%(who)s changed the role of %(target)s"),
    "member.removed": gettext_lazy("%(who)s removed %(target)s from the team"),
    "invitation.created": gettext_lazy("%(who)s invited %(target)s"),
    "invitation.accepted": gettext_lazy("%(who)s accepted the invitation %(target)s"),
    "invitation.revoked": gettext_lazy("%(who)s withdrew the invitation %(target)s"),
    "channel.created": gettext_lazy("%(who)s connected the channel %(target)s"),
    "channel.updated": gettext_lazy("%(who)s changed the channel %(target)s"),
    "channel.credentials_replaced": gettext_lazy("%(who)s replaced the credentials of %(target)s"),
    "channel.spokesperson_approved": gettext_lazy("%(who)s approved %(target)s as a spokesperson channel"),
    "token.created": gettext_lazy("%(who)s created the API token %(target)s"),
    "token.revoked": gettext_lazy("%(who)s revoked the API token %(target)s"),
    "contact.merged": gettext_lazy("%(who)s merged the contact %(target)s"),
}


def _audit_labels(kind: str, own: dict[str, Any]) -> dict[str, Any]:
    """Orgs' own labels of a kind (actions, targets, sentences) and those higher apps give through
    the `audit_labels` hook."""
    merged = dict(own)
    for answer in hooks.hook.audit_labels():
        merged.update(answer.get(kind) or {})
    return merged


def action_labels() -> dict[str, Any]:
    return _audit_labels("actions", ACTION_LABELS)


def target_labels() -> dict[str, Any]:
    return _audit_labels("targets", TARGET_LABELS)


def audit_sentences() -> dict[str, Any]:
    return _audit_labels("sentences", AUDIT_SENTENCES)


def audit_sentence(event) -> str:
    """One entry in words, in the reader's language: "Marie rejected “Comment 12: …”"."""
    who = event.actor_label or "Palabre"
    if event.actor_label and event.actor_label.startswith("token:"):
        who = _("the API token %(name)s") % {"name": event.actor_label[6:]}
    target = event.target_label or str(target_labels().get(event.target_type, "")) or "—"
    sentence = audit_sentences().get(event.action)
    if sentence is None:
        action = action_labels().get(event.action, event.action)
        return _("%(who)s: %(action)s, %(target)s") % {"who": who, "action": action, "target": target}
    return str(sentence) % {"who": who, "target": target}


# What Palabre can do on a platform (capability names: pull, webhook, reply, publish, hide,
# delete), told through the `channel_reach` hook by the app that owns the connectors (orgs cannot
# import it).
REACH_LABELS = {
    "pull": gettext_lazy("read"),
    "webhook": gettext_lazy("receive"),
    "reply": gettext_lazy("reply"),
    "publish": gettext_lazy("publish"),
    "hide": gettext_lazy("hide"),
    "delete": gettext_lazy("delete"),
}


def channel_health(actor: Actor) -> dict[int, Any]:
    """The health of each channel's connection, as the health page shows it (the connectors app
    tells through the `channel_health` hook: orgs cannot import it), so that the channels page says
    the same thing."""
    found: dict[int, Any] = {}
    for answer in hooks.hook.channel_health(actor=actor):
        found.update(answer)
    return found


def channel_reach(platform: str) -> list[str]:
    """What Palabre can do on this platform, as translated verbs in a fixed order ([] = nothing)."""
    names: set[str] = set()
    for answer in hooks.hook.channel_reach(platform=platform):
        names |= set(answer)
    return [str(label) for name, label in REACH_LABELS.items() if name in names]
