"""Alerts and crisis mode: alerts, crisis switch and checklist, playbook, alert recipients."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.listening import queries, services
from palabre.listening.explanations import nature_sentence, warmup_sentence
from palabre.listening.forms import (
    CrisisForm,
    PlaybookForm,
    SubscriptionForm,
)
from palabre.listening.models import Sentiment
from palabre.listening.views.common import PER_PAGE
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.pagination import keyset_page


@member_view(Perm.ITEMS_VIEW)
def alert_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        page = keyset_page(queries.alerts(actor), cursor=request.GET.get("cursor"), limit=PER_PAGE)
    except ValidationError:  # a cursor Palabre did not write (an edited or truncated link)
        page = keyset_page(queries.alerts(actor), cursor=None, limit=PER_PAGE)
    return render(request, "listening/alerts.html", {"page": page})


@member_view(Perm.ITEMS_VIEW)
def alert_detail(request: HttpRequest, actor: Actor, alert_id: int) -> HttpResponse:
    alert = queries.alert(actor, alert_id)
    sentiments = dict(Sentiment.choices)
    driving = [
        {**message, "sentiment_label": sentiments.get(message.get("sentiment"), "")}
        for message in alert.explanation.get("driving", [])
    ]
    context = {
        "alert": alert,
        "why": {**alert.explanation, "driving": driving},
        # a young query's baseline: what history it stood on, in the reader's language
        "warmup": warmup_sentence(alert.explanation["warmup"]) if alert.explanation.get("warmup") else "",
        # crisis or launch, from the negative share, influential authors and emerging terms
        "nature": nature_sentence(alert.explanation),
        "deliveries": alert.deliveries.select_related("subscription"),
        "crisis": services.current_crisis(actor.organisation),
    }
    return render(request, "listening/alert.html", context)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def alert_status(request: HttpRequest, actor: Actor, alert_id: int) -> HttpResponse:
    alert = queries.alert(actor, alert_id)
    status = request.POST.get("status", "")
    try:
        services.set_alert_status(actor=actor, alert=alert, status=status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("listening:alert", alert_id=alert.pk)


def _crisis_context(actor: Actor, subscription_form: SubscriptionForm | None = None) -> dict[str, Any]:
    current = services.current_crisis(actor.organisation)
    steps = []
    if current is not None:
        for index, step in enumerate(current.checklist):
            steps.append(
                {**step, "index": index, "label": _(step["text"]) if step.get("default") else step["text"]}
            )
    can_manage = actor.can(Perm.LISTENING_MANAGE)
    playbook_steps = services.playbook_steps(actor.organisation)
    return {
        "current": current,
        "steps": steps,
        "history": queries.crisis_history(actor)[:10],
        "crisis_form": CrisisForm(),
        "playbook_form": PlaybookForm(
            initial={"steps": "\n".join(s["text"] for s in playbook_steps if not s["default"])}
        ),
        "default_playbook": [_(text) for text in services.DEFAULT_PLAYBOOK],
        "subscriptions": queries.subscriptions(actor) if can_manage else [],
        "subscription_form": subscription_form or SubscriptionForm(),
        "can_manage": can_manage,
    }


@member_view(Perm.ITEMS_VIEW)
def crisis(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "listening/crisis.html", _crisis_context(actor))


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def crisis_switch(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = CrisisForm(request.POST)
    form.is_valid()
    on = request.POST.get("on") == "1"
    alert = None
    if request.POST.get("alert"):
        alert = queries.alert(actor, int(request.POST["alert"]))
    services.switch_crisis_mode(actor=actor, on=on, reason=form.cleaned_data.get("reason", ""), alert=alert)
    if on:
        messages.warning(request, _("Crisis mode is on: scheduled promotional posts are paused."))
    else:
        messages.success(request, _("Crisis mode is off."))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def crisis_step(request: HttpRequest, actor: Actor, crisis_id: int, index: int) -> HttpResponse:
    episode = queries.crisis(actor, crisis_id)
    try:
        services.set_checklist_step(
            actor=actor, crisis=episode, index=index, done=request.POST.get("done") == "1"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def playbook(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = PlaybookForm(request.POST)
    if form.is_valid():
        try:
            services.update_playbook(actor=actor, steps=form.cleaned_data["steps"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Playbook saved; it applies to the next crisis."))
    return redirect("listening:crisis")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def subscription_add(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            services.add_subscription(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Alert recipient added."))
            return redirect("listening:crisis")
    # Re-rendered with what was typed and the errors next to it.
    return render(request, "listening/crisis.html", _crisis_context(actor, form), status=400)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def subscription_remove(request: HttpRequest, actor: Actor, subscription_id: int) -> HttpResponse:
    services.remove_subscription(actor=actor, subscription=queries.subscription(actor, subscription_id))
    messages.success(request, _("Alert recipient removed."))
    return redirect("listening:crisis")
