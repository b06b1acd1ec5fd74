"""Members and invitations: the team page, inviting, accepting, roles, removal with its report, the permission matrix."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs import queries, services
from palabre.orgs.forms import (
    InvitationCodeForm,
    InvitationForm,
    JoinForm,
    apply_service_errors,
    role_choices,
)
from palabre.orgs.models import Membership
from palabre.orgs.permissions import MATRIX, PERM_LABELS, ROLE_LABELS, Perm, Role
from palabre.orgs.services.actors import Actor, NotInOrganisation
from palabre.orgs.views.pages import member_view, no_store, wants_partial


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
        .visible_to(actor)
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
        "outside_recipients": [w for w in handover.get("work", []) if w.get("kind") == "report_recipient"],
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
