"""Pages of the organisation: home, channels, members, audit log, API tokens.

Thin on purpose: each view reads through `queries`, changes through `services`, and renders.
Another organisation's objects answer 404; a page the role may not use answers 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_htmx.http import HttpResponseClientRedirect

from palabre.orgs import queries, services
from palabre.orgs.forms import (
    ApiTokenForm,
    AuditFilterForm,
    ChannelCreateForm,
    ChannelEditForm,
    CredentialsForm,
    InvitationCodeForm,
    InvitationForm,
    JoinForm,
    OrganisationForm,
    apply_service_errors,
    credential_fields,
    role_choices,
)
from palabre.orgs.models import Channel, Membership, Platform
from palabre.orgs.permissions import MATRIX, PERM_LABELS, ROLE_LABELS, Perm, Role
from palabre.orgs.services.actors import Actor, NotInOrganisation

# --- shared by every page of a member -----------------------------------------------------------


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


def paginate(request: HttpRequest, rows, per_page: int) -> Page:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def no_store(response: HttpResponse) -> HttpResponse:
    # Pages that carry a secret (a new token, credentials typed back) stay out of every cache.
    response["Cache-Control"] = "no-store"
    return response


# The home page gathers panels that higher apps register (orgs never imports them).
DashboardPanel = Callable[[HttpRequest, Actor], dict[str, Any] | None]
_dashboard_panels: dict[str, DashboardPanel] = {}


def register_dashboard_panel(name: str, panel: DashboardPanel) -> None:
    """`panel(request, actor)` returns None, or a dict with optional `counts` ([{label, value, url}])
    and `template` (rendered with the dict as `panel`)."""
    _dashboard_panels[name] = panel


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


def register_audit_labels(
    *, actions: dict[str, Any], targets: dict[str, Any], sentences: dict[str, Any] | None = None
) -> None:
    """Higher apps name their own audit actions and target types for the audit log page, and
    may say how an entry reads in words (`sentences`, see AUDIT_SENTENCES)."""
    ACTION_LABELS.update(actions)
    TARGET_LABELS.update(targets)
    AUDIT_SENTENCES.update(sentences or {})


def audit_sentence(event) -> str:
    """One entry in words, in the reader's language: "Marie rejected “Comment 12: …”"."""
    who = event.actor_label or "Palabre"
    if event.actor_label and event.actor_label.startswith("token:"):
        who = _("the API token %(name)s") % {"name": event.actor_label[6:]}
    target = event.target_label or str(TARGET_LABELS.get(event.target_type, "")) or "—"
    sentence = AUDIT_SENTENCES.get(event.action)
    if sentence is None:
        action = ACTION_LABELS.get(event.action, event.action)
        return _("%(who)s: %(action)s, %(target)s") % {"who": who, "action": action, "target": target}
    return str(sentence) % {"who": who, "target": target}


# What Palabre can do on a platform (capability names: pull, webhook, reply, publish, hide,
# delete), told by the app that owns the connectors (orgs cannot import it).
_CHANNEL_REACH: list[Callable[[str], frozenset[str]]] = []
REACH_LABELS = {
    "pull": gettext_lazy("read"),
    "webhook": gettext_lazy("receive"),
    "reply": gettext_lazy("reply"),
    "publish": gettext_lazy("publish"),
    "hide": gettext_lazy("hide"),
    "delete": gettext_lazy("delete"),
}


def register_channel_reach(provider: Callable[[str], frozenset[str]]) -> None:
    """A higher app tells, for a platform, the capabilities its connector declares."""
    if provider not in _CHANNEL_REACH:
        _CHANNEL_REACH.append(provider)


# The health of each channel's connection, as the health page shows it (the connectors app tells:
# orgs cannot import it), so that the channels page says the same thing.
_CHANNEL_HEALTH: list[Callable[[Actor], dict[int, Any]]] = []


def register_channel_health(provider: Callable[[Actor], dict[int, Any]]) -> None:
    """`provider(actor)` answers {channel id: its health row} for the organisation's channels."""
    if provider not in _CHANNEL_HEALTH:
        _CHANNEL_HEALTH.append(provider)


def channel_health(actor: Actor) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for provider in _CHANNEL_HEALTH:
        found.update(provider(actor))
    return found


def channel_reach(platform: str) -> list[str]:
    """What Palabre can do on this platform, as translated verbs in a fixed order ([] = nothing)."""
    names: set[str] = set()
    for provider in _CHANNEL_REACH:
        names |= set(provider(platform))
    return [str(label) for name, label in REACH_LABELS.items() if name in names]


# --- signing in, language, organisation ---------------------------------------------------------


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Remember the person's language (all their devices), and set Django's cookie for this one."""
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(settings.LANGUAGES):
        services.set_language(user=request.user, language=code)
    return set_language(request)


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    chosen = services.memberships_of(request.user).filter(
        organisation_id=request.POST.get("organisation") or 0
    )
    membership = chosen.first()
    if membership is None:
        raise Http404
    services.set_active_organisation(user=request.user, organisation=membership.organisation)
    # Back home: the page left behind showed the other organisation's objects.
    if request.htmx:
        return HttpResponseClientRedirect(reverse("home"))
    return redirect("home")


@login_required
def no_organisation(request: HttpRequest) -> HttpResponse:
    if request.membership:
        return redirect("home")
    form = None
    if request.user.is_superuser:
        form = OrganisationForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                organisation = services.create_organisation(
                    name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], owner=request.user
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                services.set_active_organisation(user=request.user, organisation=organisation)
                return redirect("home")
    return render(request, "orgs/no_organisation.html", {"form": form})


# --- home ---------------------------------------------------------------------------------------


@member_view()
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    counts = queries.dashboard_counts(actor)
    tiles = []
    if counts["channels"] is not None:
        tiles.append({"label": _("Channels"), "value": counts["channels"], "url": reverse("channels")})
    if counts["members"] is not None:
        tiles.append({"label": _("Members"), "value": counts["members"], "url": reverse("members")})
    panels = []
    for panel in _dashboard_panels.values():
        result = panel(request, actor)
        if result:
            tiles.extend(result.get("counts", []))
            if result.get("template"):
                panels.append(result)
    events = None
    if actor.can(Perm.AUDIT_VIEW):
        events = [_audit_row(event) for event in queries.audit_events(actor)[:8]]
    return render(request, "orgs/home.html", {"tiles": tiles, "panels": panels, "events": events})


# --- channels -----------------------------------------------------------------------------------


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


@member_view(Perm.CHANNELS_MANAGE)
def channel_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A channel and its credentials in one step: the credential fields are the chosen platform's
    (swapped by htmx when the platform changes; without JavaScript, the "show the fields" button
    re-renders the page with everything typed kept), and the connection is tried at once."""
    platform = _chosen_platform(request)
    posted = request.method == "POST" and REFRESH_FIELDS not in request.POST
    data = request.POST if posted else None
    form = ChannelCreateForm(data, initial={"platform": platform})
    if request.method == "POST" and not posted:
        form = ChannelCreateForm(initial={**request.POST.dict(), "platform": platform})
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


# --- members ------------------------------------------------------------------------------------


def _member_row(
    actor: Actor, membership: Membership, *, error: str = "", saved: bool = False
) -> dict[str, Any]:
    manageable = actor.can(Perm.MEMBERS_MANAGE) and (
        membership.role != Role.OWNER or actor.can(Perm.OWNERS_MANAGE)
    )
    return {"membership": membership, "manageable": manageable, "error": error, "saved": saved}


@member_view(Perm.MEMBERS_VIEW)
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = [_member_row(actor, m) for m in queries.members(actor)]
    context = {
        "rows": rows,
        "roles": role_choices(queries.grantable_roles(actor)),
        "former": queries.former_members(actor),
        "invitations": queries.pending_invitations(actor) if actor.can(Perm.MEMBERS_MANAGE) else None,
    }
    return render(request, "orgs/members.html", context)


@member_view(Perm.MEMBERS_MANAGE)
def member_invite(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = InvitationForm(
        request.POST if request.method == "POST" else None, roles=queries.grantable_roles(actor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.invite_member(
                actor=actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # The code is in this answer only: no redirect, no copy kept anywhere.
            return no_store(render(request, "orgs/invitation_created.html", {"issued": issued}))
    return render(request, "orgs/member_invite.html", {"form": form})


@require_POST
@member_view(Perm.MEMBERS_MANAGE)
def invitation_revoke(request: HttpRequest, actor: Actor, invitation_id: int) -> HttpResponse:
    invitation = queries.invitation(actor, invitation_id)
    try:
        services.revoke_invitation(actor=actor, invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The invitation of %(email)s is withdrawn.") % {"email": invitation.email}
        )
    return redirect("members")


def invitation_code(request: HttpRequest) -> HttpResponse:
    """Where a person types the code they were handed (installs that send no mail)."""
    form = InvitationCodeForm(request.GET or None)
    if form.is_valid():
        return redirect("invitation", code=form.cleaned_data["code"].strip())
    return render(request, "orgs/invitation_code.html", {"form": form})


def invitation(request: HttpRequest, code: str) -> HttpResponse:
    """An invitation's page: what it offers, then acceptance, signed in or with a new account.

    The code is used up on POST only (a mail scanner that opens the link accepts nothing)."""
    found = services.find_invitation(code)
    join_form = None
    error = ""
    membership = None
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = services.accept_invitation(user=request.user, code=code)
        except ValidationError as failure:
            error = " ".join(failure.messages)
    elif request.method == "POST":
        join_form = JoinForm(request.POST)
        if join_form.is_valid():
            try:
                membership = services.join_with_new_account(code=code, **join_form.cleaned_data)
            except ValidationError as failure:
                apply_service_errors(join_form, failure)
            else:
                auth_login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    if membership is not None:
        services.set_active_organisation(user=membership.user, organisation=membership.organisation)
        messages.success(
            request,
            _("Welcome to %(name)s, as %(role)s.")
            % {"name": membership.organisation.name, "role": membership.role_label},
        )
        return redirect("home")
    if join_form is None and not request.user.is_authenticated:
        join_form = JoinForm(initial={"email": found.email} if found is not None else None)
    context = {
        "invitation": found,
        "status": found.status if found is not None else "",
        "join_form": join_form,
        "error": error,
        "code": code,
    }
    return no_store(render(request, "orgs/invitation.html", context, status=200 if found else 404))


def _active_membership(actor: Actor, membership_id: int) -> Membership:
    membership = queries.membership(actor, membership_id)
    if not membership.is_active:
        raise NotInOrganisation
    return membership


@require_POST
@member_view(Perm.MEMBERS_MANAGE)
def member_role(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    membership = _active_membership(actor, membership_id)
    error = ""
    try:
        services.change_role(actor=actor, membership=membership, role=request.POST.get("role", ""))
    except ValidationError as failure:
        error = " ".join(failure.messages)
    except PermissionDenied as failure:
        error = str(failure) or _("Your role does not allow this.")
    if error:
        membership.refresh_from_db()
    if wants_partial(request):
        context = {"row": _member_row(actor, membership, error=error, saved=not error)}
        context["roles"] = role_choices(queries.grantable_roles(actor))
        return render(request, "orgs/_member_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.")
            % {"name": membership.user.get_username(), "role": membership.role_label},
        )
    return redirect("members")


@member_view(Perm.MEMBERS_MANAGE)
def member_remove(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    """First the access report (what they could reach), then the removal on confirmation."""
    membership = _active_membership(actor, membership_id)
    if membership.role == Role.OWNER:
        actor.require(Perm.OWNERS_MANAGE)
    error = ""
    # Who takes over their open threads and drafts: another active member, or nobody (listed).
    colleagues = list(
        Membership.objects.active()
        .filter(organisation=actor.organisation)
        .exclude(pk=membership.pk)
        .select_related("user")
        .order_by("user__username")
    )
    chosen = request.POST.get("successor", "")
    if request.method == "POST":
        successor = next((m for m in colleagues if str(m.pk) == chosen), None)
        try:
            if chosen and successor is None:
                raise ValidationError({"successor": _("Choose another active member of this organisation.")})
            services.offboard_member(actor=actor, membership=membership, successor=successor)
        except ValidationError as failure:
            error = " ".join(failure.messages)
        else:
            return redirect("member_report", membership_id=membership.pk)
    report = services.access_report(membership)
    context = {
        # Not "membership": that name is the signed-in person's own, which the header shows.
        "member": membership,
        "report": report,
        "permission_labels": _permission_labels(report),
        "error": error,
        "colleagues": colleagues,
        "chosen": chosen,
    }
    return render(request, "orgs/member_remove.html", context)


@member_view(Perm.MEMBERS_MANAGE)
def member_report(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    membership = queries.membership(actor, membership_id)
    if membership.is_active:
        raise Http404
    report = membership.offboarding_report or {}
    handover = report.get("handover") or {}
    context = {
        "member": membership,
        "report": report,
        "permission_labels": _permission_labels(report),
        "handover_to": handover.get("to"),
        "threads": [w for w in handover.get("work", []) if w.get("kind") == "thread"],
        "drafts": [w for w in handover.get("work", []) if w.get("kind") == "draft"],
    }
    return render(request, "orgs/member_report.html", context)


def _permission_labels(report: dict[str, Any]) -> list[str]:
    # Labelled now, in the reader's language, rather than in the one used on the day of removal.
    known = {perm.value: perm for perm in Perm}
    return [PERM_LABELS[known[code]] for code in report.get("permissions", []) if code in known]


@member_view()
def permission_matrix(request: HttpRequest, actor: Actor) -> HttpResponse:
    mine = actor.membership.role
    rows = [
        {
            "perm": perm,
            "label": PERM_LABELS[perm],
            "cells": [{"yes": perm in MATRIX[role], "mine": role == mine} for role in Role],
        }
        for perm in Perm
    ]
    roles = [{"value": role.value, "label": ROLE_LABELS[role]} for role in Role]
    return render(request, "orgs/permissions.html", {"roles": roles, "rows": rows, "my_role": mine})


# --- audit log ----------------------------------------------------------------------------------


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, indent=1 if isinstance(value, dict | list) else None)


def _audit_row(event) -> dict[str, Any]:
    before = (
        event.before if isinstance(event.before, dict) else ({"value": event.before} if event.before else {})
    )
    after = event.after if isinstance(event.after, dict) else ({"value": event.after} if event.after else {})
    keys = list(dict.fromkeys([*before, *after]))
    changes = [
        {
            "key": key,
            "before": _readable(before.get(key)) if key in before else "",
            "after": _readable(after.get(key)) if key in after else "",
            "changed": before.get(key) != after.get(key) and key in before and key in after,
        }
        for key in keys
    ]
    return {
        "event": event,
        "sentence": audit_sentence(event),
        "action": ACTION_LABELS.get(event.action, event.action),
        "target_type": TARGET_LABELS.get(event.target_type, event.target_type),
        "changes": changes,
        "has_before": bool(before),
    }


@member_view(Perm.AUDIT_VIEW)
def audit(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = AuditFilterForm(
        request.GET or None, facets=queries.audit_facets(actor), action_labels=ACTION_LABELS
    )
    page = paginate(request, queries.audit_events(actor, form.as_filter()), 50)
    context = {"form": form, "page": page, "rows": [_audit_row(event) for event in page]}
    template = "orgs/_audit_results.html" if wants_partial(request) else "orgs/audit.html"
    return render(request, template, context)


# --- API tokens ---------------------------------------------------------------------------------


@member_view(Perm.TOKENS_MANAGE)
def tokens(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "orgs/tokens.html", {"tokens": queries.api_tokens(actor)})


@member_view(Perm.TOKENS_MANAGE)
def token_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ApiTokenForm(
        request.POST if request.method == "POST" else None, scopes=queries.grantable_scopes(actor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            token, plaintext = services.create_api_token(
                actor=actor,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as error:
            apply_service_errors(form, error, aliases={"expires_at": "expires_on"})
        else:
            # Shown in this answer only: no redirect, no copy kept anywhere.
            context = {"token": token, "plaintext": plaintext}
            return no_store(render(request, "orgs/token_created.html", context))
    return render(request, "orgs/token_form.html", {"form": form})


@require_POST
@member_view(Perm.TOKENS_MANAGE)
def token_revoke(request: HttpRequest, actor: Actor, token_id: int) -> HttpResponse:
    token = queries.api_token(actor, token_id)
    services.revoke_api_token(actor=actor, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens")
