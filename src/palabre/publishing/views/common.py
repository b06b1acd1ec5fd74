"""What the publishing pages share: the labels and styles of states and statuses, who may see publishing, guardrail findings highlighted in a text."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import pgettext_lazy

from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.publishing.models import PostStatus, VariantState

STATE_STYLES = {
    VariantState.DRAFT: "draft",
    VariantState.SCHEDULED: "scheduled",
    VariantState.HELD: "held",
    VariantState.BLOCKED: "blocked",
    VariantState.HANDED_OVER: "published",
    VariantState.CANCELLED: "draft",
}


# A post is "une publication" in French: its statuses agree with it (the model's labels are shared
# with moderation's decisions, masculine there).
POST_STATUS_LABELS = {
    PostStatus.DRAFT: pgettext_lazy("post status", "Draft"),
    PostStatus.PENDING: pgettext_lazy("post status", "Awaiting approval"),
    PostStatus.APPROVED: pgettext_lazy("post status", "Approved"),
    PostStatus.REJECTED: pgettext_lazy("post status", "Rejected"),
}


def _can_see(actor: Actor) -> None:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        raise PermissionDenied


def highlight(text: str, findings: list[dict]) -> list[dict[str, Any]]:
    """The text cut into pieces, those a finding points at marked with its severity."""
    marks = sorted(
        (f["span"][0], f["span"][1], f["severity"])
        for f in findings
        if f.get("span") and 0 <= f["span"][0] < f["span"][1] <= len(text)
    )
    pieces, position = [], 0
    for start, end, severity in marks:
        if start < position:
            continue
        if start > position:
            pieces.append({"text": text[position:start], "mark": ""})
        pieces.append({"text": text[start:end], "mark": severity})
        position = end
    if position < len(text):
        pieces.append({"text": text[position:], "mark": ""})
    return pieces


def show_refusal(request: HttpRequest, error: ValidationError | PermissionDenied) -> None:
    """A service's refusal as messages on the next page (a ValidationError may hold several)."""
    for message in getattr(error, "messages", [str(error)]):
        messages.error(request, message)
