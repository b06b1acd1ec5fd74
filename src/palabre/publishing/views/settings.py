"""Crisis holds released, a text checked, the publishing policy, the dashboard panel."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs.forms import apply_service_errors
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import services
from palabre.publishing.forms import (
    PolicyForm,
)
from palabre.publishing.models import PostStatus, PostVariant, VariantState
from palabre.publishing.views.common import _can_see
from palabre.storable import MAX_ROW_ID


@require_POST
@member_view(Perm.POSTS_APPROVE)
def release(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        released = services.release_held(actor=actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(count)s held post(s) back on the calendar.") % {"count": len(released)}
        )
    return redirect("publishing:calendar")


@require_POST
@member_view()
def check(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The editor's live check (htmx): the guardrails on the text being typed."""
    _can_see(actor)
    text = request.POST.get("text", "")[:63_206]
    channel_ids = [int(c) for c in request.POST.getlist("channels") if c.isdigit() and int(c) <= MAX_ROW_ID]
    channels = list(Channel.objects.visible_to(actor).filter(pk__in=channel_ids)) or [None]
    promotional = {"yes": True, "no": False}.get(request.POST.get("promotional", ""))
    results = []
    if text.strip():
        for channel in channels:
            verdict = services.check_text(actor=actor, text=text, channel=channel, promotional=promotional)
            findings = [f.as_dict() for f in verdict.findings]
            results.append({"channel": channel, "verdict": verdict.verdict, "findings": findings})
    return render(request, "publishing/_check.html", {"results": results})


@member_view(Perm.POSTS_APPROVE)
def policy(request: HttpRequest, actor: Actor) -> HttpResponse:
    current = services.policy_for(actor.organisation)
    initial = {
        "sensitive_terms": "\n".join(current.sensitive_terms),
        "charter_words": "\n".join(current.charter_words),
        "competitor_texts": "\n".join(current.competitor_texts),
        "promotion_window": current.promotion_window,
        "promotion_share": current.promotion_share,
        "reschedule_keeps_approval": current.reschedule_keeps_approval,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Guardrail settings saved."))
            return redirect("publishing:policy")
    return render(request, "publishing/policy.html", {"form": form})


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict | None:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        return None
    now = timezone.now()
    week = (
        PostVariant.objects.visible_to(actor)
        .filter(state=VariantState.SCHEDULED, scheduled_at__gte=now, scheduled_at__lt=now + timedelta(days=7))
        .count()
    )
    pending = services.posts_for(actor).filter(status=PostStatus.PENDING).count()
    held = PostVariant.objects.visible_to(actor).filter(state=VariantState.HELD).count()
    url = reverse("publishing:calendar")
    counts = [
        {"label": _("Posts awaiting approval"), "value": pending, "url": url},
        {"label": _("Posts scheduled this week"), "value": week, "url": url},
    ]
    if held:
        counts.append({"label": _("Posts held for a crisis"), "value": held, "url": url})
    return {"counts": counts}
