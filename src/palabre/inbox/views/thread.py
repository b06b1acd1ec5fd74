"""One thread: its items, the reply box, corrections, assignment, status, notes, presence, replies sent and retried."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from palabre.connectors.connection import can_reply_privately, connection_of, item_actions
from palabre.conversations import corrections as shared_corrections
from palabre.inbox import corrections as item_corrections
from palabre.inbox import queries, services
from palabre.inbox.forms import (
    NoteForm,
    ReplyForm,
)
from palabre.inbox.models import Presence, Status
from palabre.inbox.views.common import _members, reason_texts, warning_texts
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, wants_partial

# What a delivery error means, in the person's language: the platform's own message (often
# English) is kept below it as a detail.
DELIVERY_ERRORS = {
    "rate_limited": gettext_lazy("The platform limits how often Palabre may call it."),
    "transient": gettext_lazy("The platform could not be reached."),
    "permanent": gettext_lazy("The platform refused this reply."),
    "token_expired": gettext_lazy("The channel's credentials are expired or revoked: reconnect the channel."),
    "permission_missing": gettext_lazy("The channel's credentials lack a permission this reply needs."),
    "not_supported": gettext_lazy("Palabre has no connector able to reply on this channel."),
    "needs_check": gettext_lazy("The reply may or may not have reached the platform: check there first."),
}


def _delivery(action) -> dict[str, Any]:
    """How a reply's delivery reads on the thread: a state, a label, and why it failed."""
    if action is None:
        return {"state": "", "label": _("not queued"), "reason": "", "detail": ""}
    status = action.status
    reason = ""
    if action.last_error and status in ("queued", "failed", "needs_check"):
        reason = str(DELIVERY_ERRORS.get(action.last_error_code, _("The delivery failed.")))
    if status == "queued" and action.attempts:
        label = _("Retrying (attempt %(n)s failed)") % {"n": action.attempts}
        state = "retrying"
    elif status == "failed":
        label, state = _("Not delivered"), "failed"
    else:
        label, state = action.get_status_display(), status
    return {"state": state, "label": label, "reason": reason, "detail": action.last_error if reason else ""}


def _reply_form(conversation, data=None) -> ReplyForm:
    if data is not None:
        return ReplyForm(data)
    return ReplyForm(initial={"idempotency_key": uuid.uuid4().hex})


def _thread_context(request: HttpRequest, actor: Actor, conversation, **extra) -> dict[str, Any]:
    items = queries.thread_items(actor, conversation)
    replies = queries.replies(actor, conversation)
    deliveries = services.delivery_of(replies)
    text = " ".join(i.text for i in items if not services.is_brand_item(i))[-4000:]
    language = conversation.language if conversation.language in ("fr", "en") else ""
    triage = {
        t.item.pk: t for t in item_corrections.triage_of([i for i in items if not services.is_brand_item(i)])
    }
    answered = services.answered_post(items)
    context = {
        "conversation": conversation,
        "items": [
            {"item": i, "brand": services.is_brand_item(i), "triage": triage.get(i.pk)}
            for i in (items[1:] if answered and answered["stored"] else items)
        ],
        "answered": answered,
        "head_triage": triage.get(conversation.last_customer_item_id),
        **_correction_choices(actor),
        "replies": [
            {"reply": r, "action": deliveries.get(r.pk), "delivery": _delivery(deliveries.get(r.pk))}
            for r in replies
        ],
        "notes": queries.notes(actor, conversation),
        "contact": queries.contact_history(actor, conversation),
        "articles": queries.suggested_articles(actor, text),
        # The thread's language first, then the others.
        "saved_replies": sorted(
            queries.saved_replies(actor), key=lambda r: (r.language not in ("", language), r.title)
        ),
        "members": _members(actor),
        "reasons": reason_texts(conversation.reasons_now()),
        "breached": conversation.sla_breached(),
        "can_reply": actor.can(Perm.INBOX_REPLY),
        "channel_replies": queries.can_reply_on(conversation.channel),
        # Not connected (no credentials, a refused token): no reply box, the reason and next step.
        "connection": connection_of(conversation.channel),
        "item_actions": item_actions(conversation.channel),
        "private_reply": can_reply_privately(conversation.channel),
        "reply_length": services.reply_length(
            actor=actor,
            conversation=conversation,
            text=str(extra["reply_form"].data.get("text") or "") if "reply_form" in extra else "",
        ),
        "reply_form": _reply_form(conversation),
        "note_form": NoteForm(auto_id="note_%s"),
        "warnings": [],
        "statuses": Status.choices,
        "signature": services.signature_of(actor)
        if actor.user and services.profile_for(actor.organisation, actor.user).sign_replies
        else "",
    }
    context.update(extra)
    return context


@member_view(Perm.ITEMS_VIEW)
def thread(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    return render(request, "inbox/thread.html", _thread_context(request, actor, conversation))


def _correction_choices(actor: Actor) -> dict[str, Any]:
    return {
        "can_correct": actor.can(Perm.MODERATION_ACT),
        "sentiments": shared_corrections.choices("sentiment"),
        "intents": shared_corrections.choices("intent"),
    }


@require_POST
@member_view(Perm.MODERATION_ACT)
def correct(request: HttpRequest, actor: Actor, conversation_id: int, item_id: int) -> HttpResponse:
    """Correct a message's sentiment and/or intent: the fields whose value changed are recorded."""
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    item = item_corrections.item_of(actor=actor, item_id=item_id, conversation=conversation)
    [current] = item_corrections.triage_of([item])
    changed, errors = shared_corrections.apply_posted(
        request.POST,
        current,
        lambda field, value: item_corrections.correct_item(actor=actor, item=item, field=field, value=value),
    )
    if wants_partial(request):
        # The message's controls, and the thread's head out of band: its priority may have moved.
        conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
        last = conversation.last_customer_item
        shown = {t.item.pk: t for t in item_corrections.triage_of([item] + ([last] if last else []))}
        context = {
            "t": shown[item.pk],
            "conversation": conversation,
            "errors": errors,
            "oob": True,
            "head_triage": shown.get(conversation.last_customer_item_id),
            "reasons": reason_texts(conversation.reasons_now()),
            **_correction_choices(actor),
        }
        return render(request, "inbox/_item_triage.html", context, status=422 if errors else 200)
    if errors:
        messages.error(request, " ".join(errors))
    elif changed:
        messages.success(request, _("Correction saved: the next training learns from it."))
    return _back_to_thread(request, conversation)


def _back_to_thread(request: HttpRequest, conversation) -> HttpResponse:
    return redirect("inbox:thread", conversation_id=conversation.pk)


def _back_to_next(request: HttpRequest, conversation) -> HttpResponse:
    """To the inbox page the form came from (`next`, inside the inbox only), else to the thread."""
    target = request.POST.get("next") or ""
    return redirect(target) if target.startswith("/inbox/") else _back_to_thread(request, conversation)


@require_POST
@member_view(Perm.INBOX_REPLY)
def assign(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    value = request.POST.get("assignee", "")
    try:
        if value == "auto":
            done = services.auto_assign(actor=actor, conversation=conversation)
            if done is None:
                messages.warning(request, _("Nobody handles this language and intent; assign by hand."))
        else:
            assignee_id = actor.user_id if value == "me" else (int(value) if value.isdigit() else None)
            services.assign(actor=actor, conversation=conversation, assignee_id=assignee_id)
            messages.success(request, _("Assignment saved."))
    except ValidationError as failure:
        messages.error(request, " ".join(failure.messages))
    return _back_to_next(request, conversation)


@require_POST
@member_view(Perm.INBOX_REPLY)
def status(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    try:
        services.set_status(actor=actor, conversation=conversation, status=request.POST.get("status", ""))
        messages.success(request, _("Status: %(status)s.") % {"status": conversation.get_status_display()})
    except ValidationError as failure:
        messages.error(request, " ".join(failure.messages))
    return _back_to_next(request, conversation)


@require_POST
@member_view(Perm.INBOX_REPLY)
def note(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    form = NoteForm(request.POST, auto_id="note_%s")
    if form.is_valid():
        try:
            services.add_note(actor=actor, conversation=conversation, text=form.cleaned_data["text"])
            messages.success(request, _("Note added."))
            return _back_to_thread(request, conversation)
        except ValidationError as failure:
            apply_service_errors(form, failure)
    return render(
        request,
        "inbox/thread.html",
        _thread_context(request, actor, conversation, note_form=form),
        status=422,
    )


@require_POST
@member_view(Perm.INBOX_REPLY)
def reply(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    form = ReplyForm(request.POST)
    warnings: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        saved = queries.saved_reply(actor, data["saved_reply"]) if data.get("saved_reply") else None
        try:
            services.send_reply(
                actor=actor,
                conversation=conversation,
                text=data["text"],
                idempotency_key=data["idempotency_key"],
                saved_reply=saved,
                confirmed=data["confirmed"],
                private=data["private"],
            )
            messages.success(request, _("Reply queued for sending."))
            return _back_to_thread(request, conversation)
        except services.ReplyNeedsConfirmation as pending:
            warnings = warning_texts([w.as_dict() for w in pending.warnings])
            form = ReplyForm({**request.POST.dict(), "confirmed": "true"})
            form.is_valid()
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = _thread_context(
        request, actor, conversation, reply_form=form, warnings=warnings, confirming=bool(warnings)
    )
    return render(request, "inbox/thread.html", context, status=200 if warnings else 422)


@require_POST
@member_view(Perm.INBOX_REPLY)
def check(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    """The personalisation check while the person types (htmx)."""
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    text = request.POST.get("text", "")[:10_000]
    warnings = services.personalisation_warnings(actor=actor, conversation=conversation, text=text)
    return render(
        request, "inbox/_warnings.html", {"warnings": warning_texts([w.as_dict() for w in warnings])}
    )


@member_view(Perm.INBOX_REPLY)
def fill(request: HttpRequest, actor: Actor, conversation_id: int, saved_id: int) -> HttpResponse:
    """A saved reply, variables filled, for the reply box."""
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    saved = queries.saved_reply(actor, saved_id)
    text = services.fill_saved_reply(actor=actor, saved=saved, conversation=conversation)
    return render(request, "inbox/_reply_text.html", {"text": text, "saved": saved})


@require_POST
@member_view(Perm.ITEMS_VIEW)
def presence(request: HttpRequest, actor: Actor, conversation_id: int) -> HttpResponse:
    conversation = services.conversation_for(actor=actor, conversation_id=conversation_id)
    state = request.POST.get("state") or Presence.State.VIEWING
    others = services.touch_presence(actor=actor, conversation=conversation, state=state)
    return render(request, "inbox/_presence.html", {"others": others})


@require_POST
@member_view(Perm.INBOX_REPLY)
def retry(request: HttpRequest, actor: Actor, reply_id: int) -> HttpResponse:
    found = queries.reply_for(actor, reply_id)
    try:
        services.retry_reply(actor=actor, reply=found)
        messages.success(request, _("Sending again."))
    except ValidationError as failure:
        messages.error(request, " ".join(failure.messages))
    return redirect("inbox:thread", conversation_id=found.conversation_id)
