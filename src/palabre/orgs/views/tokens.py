"""API tokens: list, creation (the secret shown once), revocation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs import queries, services
from palabre.orgs.forms import (
    ApiTokenForm,
    apply_service_errors,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor
from palabre.orgs.views.pages import member_view, no_store


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
