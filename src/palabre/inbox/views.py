"""Inbox pages: the list of threads, one thread with its reply box, and what the team keeps around
them (saved replies, knowledge base, business hours, notifications, the overnight digest).

Thin on purpose: reads through `queries`, every change through `services`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from palabre.conversations import corrections as shared_corrections
from palabre.inbox import bulk as bulk_actions
from palabre.inbox import corrections as item_corrections
from palabre.inbox import queries, services
from palabre.inbox.forms import (
    ArticleForm,
    InboxFilterForm,
    NoteForm,
    ProfileForm,
    ReplyForm,
    SavedReplyForm,
    SavedViewForm,
    SettingsForm,
)
from palabre.inbox.models import Intent, Presence, Sentiment, Status
from palabre.inbox.queries import InboxFilter
from palabre.orgs import queries as org_queries
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, register_dashboard_panel, wants_partial

PER_PAGE = 30

WARNING_TEXTS = {
    "similar": gettext_lazy(
        "This reply is %(percent)s%% the same as %(count)s recent replies (for example the %(example)s): "
        "it reads as a canned statement. Say something about what this person wrote."
    ),
    "no_overlap": gettext_lazy(
        "This reply takes up nothing of what the person wrote (they talk about: %(words)s). "
        "Answer their message, not a general one."
    ),
    "unfilled": gettext_lazy("Variables left unfilled: %(variables)s."),
}

REASON_TEXTS = {
    "crisis": gettext_lazy("crisis words"),
    "negative": gettext_lazy("negative tone"),
    "complaint": gettext_lazy("a complaint"),
    "unanswered_question": gettext_lazy("an unanswered question"),
    "unanswered_lead": gettext_lazy("an unanswered sales lead"),
    "reach": gettext_lazy("author's reach: %(followers)s followers"),
    "waiting": gettext_lazy("waiting for %(hours)s h"),
}


def warning_texts(warnings: list[dict[str, Any]]) -> list[str]:
    return [str(WARNING_TEXTS[w["code"]]) % w["params"] for w in warnings if w["code"] in WARNING_TEXTS]


def _localised(params: dict[str, Any]) -> dict[str, Any]:
    """Numbers written the reader's way ("72,4 h" and "48 200" in French), through Django's formats."""
    return {
        name: number_format(value, force_grouping=True)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
        for name, value in params.items()
    }


def reason_texts(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "text": str(REASON_TEXTS.get(r["code"], r["code"])) % _localised(r.get("params", {})),
            "points": r["points"],
        }
        for r in reasons
    ]


def _members(actor: Actor):
    return services._repliers(actor.organisation)


# --- the list ----------------------------------------------------------------------------------


def _filter_fields(form: InboxFilterForm) -> list[dict[str, Any]]:
    """The filter form as plain data: Django renders each <option> through a template, which costs
    more than the thread rows themselves on a page redrawn at every filter change."""
    fields = []
    for bound in form:
        current = str(bound.value() or "")
        choices = getattr(bound.field, "choices", None)
        fields.append(
            {
                "name": bound.name,
                "id": bound.id_for_label,
                "label": str(bound.label),
                "value": current,
                "errors": list(bound.errors),
                "placeholder": str(bound.field.widget.attrs.get("placeholder", "")),
                "options": [(str(v), str(label), str(v) == current) for v, label in choices]
                if choices
                else None,
            }
        )
    return fields


def _list_rows(conversations: list) -> list[dict[str, Any]]:
    """Flat, ready-to-print rows: the list page renders 30 of them on every keystroke of a filter,
    so labels, links and durations are computed once here rather than looked up in the template."""
    now = timezone.now()
    labels = {
        "status": {k: str(v) for k, v in Status.choices},
        "intent": {k: str(v) for k, v in Intent.choices},
        "sentiment": {k: str(v) for k, v in Sentiment.choices},
    }
    base = reverse("inbox:list")
    rows = []
    for c in conversations:
        url = f"{base}t/{c.pk}/"
        breached = c.sla_breached(now)
        assignee = c.assignee
        rows.append(
            {
                "pk": c.pk,
                "url": url,
                "author": c.author_label or "?",
                "channel": c.channel.name,
                "ago": timesince(c.last_activity_at, now, depth=1),
                "preview": c.preview[:180],
                "status": c.status,
                "status_label": labels["status"].get(c.status, c.status),
                "intent": c.intent,
                "intent_label": labels["intent"].get(c.intent, c.intent),
                "sentiment": c.sentiment,
                "sentiment_label": labels["sentiment"].get(c.sentiment, c.sentiment),
                "language": c.language.upper(),
                "priority": str(c.priority),
                "breached": breached,
                "due": timeuntil(c.first_response_due_at, now, depth=1)
                if c.awaiting_reply and c.first_response_due_at and not breached
                else "",
                "assignee": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
                "tags": c.tags,
            }
        )
    return rows


@member_view(Perm.ITEMS_VIEW)
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.GET.get("view"):
        view = queries.saved_view(actor, int(request.GET["view"]) if request.GET["view"].isdigit() else 0)
        return redirect(
            f"{reverse('inbox:list')}?{urlencode({**view.filters, 'status': view.filters.get('status', 'open')})}"
        )
    members = _members(actor)
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"
    form = InboxFilterForm(data, channels=org_queries.channels(actor), members=members)
    f = InboxFilter.from_mapping(data)
    try:
        page = queries.conversation_page(actor, f, cursor=request.GET.get("cursor") or None, limit=PER_PAGE)
        error = ""
    except ValidationError as failure:
        apply_service_errors(form, failure)
        page, error = None, " ".join(failure.messages)
    rows = _list_rows(page.rows if page else [])
    params = {k: v for k, v in request.GET.items() if k != "cursor"}
    context = {
        "form": form,
        "filter_fields": _filter_fields(form),
        "rows": rows,
        "next_url": f"?{urlencode({**params, 'cursor': page.next_cursor})}"
        if page and page.next_cursor
        else "",
        "error": error,
        "views": queries.views_for(actor).select_related("owner"),
        "view_form": SavedViewForm(),
        "filters": f.as_dict(),
        "can_reply": actor.can(Perm.INBOX_REPLY),
        "can_moderate": actor.can(Perm.MODERATION_ACT),
        "appending": bool(request.GET.get("cursor")),
        "bulk_done": request.session.pop(BULK_DONE, None),
        "members": members,
    }
    if wants_partial(request):
        template = "inbox/_rows.html" if context["appending"] else "inbox/_results.html"
        return render(request, template, context)
    return render(request, "inbox/list.html", context)


@require_POST
@member_view(Perm.ITEMS_VIEW)
def view_save(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SavedViewForm(request.POST)
    filters = InboxFilter.from_mapping(request.POST).as_dict()
    if form.is_valid():
        try:
            view = services.save_view(
                actor=actor,
                name=form.cleaned_data["name"],
                filters=filters,
                shared=form.cleaned_data["shared"],
            )
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(f"{reverse('inbox:list')}?view={view.pk}")
        except ValidationError as failure:
            messages.error(request, " ".join(failure.messages))
    else:
        messages.error(request, _("Name the view."))
    return redirect(f"{reverse('inbox:list')}?{urlencode(filters)}")


@require_POST
@member_view(Perm.ITEMS_VIEW)
def view_delete(request: HttpRequest, actor: Actor, view_id: int) -> HttpResponse:
    try:
        services.delete_view(actor=actor, view=queries.saved_view(actor, view_id))
        messages.success(request, _("View removed."))
    except ValidationError as failure:
        messages.error(request, " ".join(failure.messages))
    return redirect("inbox:list")


# --- bulk actions ------------------------------------------------------------------------------

BULK_DONE = "inbox_bulk_done"


def _list_url(request: HttpRequest) -> str:
    """Back to the list as the person sees it: the filters htmx sent along, else the page's `next`."""
    if "status" in request.POST:
        return f"{reverse('inbox:list')}?{urlencode(InboxFilter.from_mapping(request.POST).as_dict())}"
    target = request.POST.get("next") or ""
    return target if target.startswith("/inbox/") else reverse("inbox:list")


def _bulk_value(request: HttpRequest, action: str) -> str:
    field = {"assign": "assign_to", "tag": "tag", "untag": "tag", "priority": "level"}.get(action)
    return request.POST.get(field, "") if field else ""


@require_POST
@member_view(Perm.INBOX_REPLY)
def bulk(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The list's bulk bar. The result and its undo show above the list it redirects to (htmx
    follows the redirect and swaps the list; without JavaScript the whole page comes back)."""
    action = request.POST.get("action", "")
    try:
        result = bulk_actions.apply(
            actor=actor, action=action, ids=request.POST.getlist("ids"), value=_bulk_value(request, action)
        )
    except ValidationError as failure:
        request.session[BULK_DONE] = {"error": " ".join(failure.messages)}
    else:
        request.session[BULK_DONE] = {
            "message": result.message,
            "field": result.restore_field,
            "values": json.dumps({str(k): v for k, v in result.before.items()})
            if result.restore_field
            else "",
        }
    return redirect(_list_url(request))


@require_POST
@member_view(Perm.INBOX_REPLY)
def bulk_restore(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        values = json.loads(request.POST.get("values") or "{}")
        count = bulk_actions.restore(actor=actor, restore_field=request.POST.get("field", ""), values=values)
    except json.JSONDecodeError:
        request.session[BULK_DONE] = {"error": _("Nothing to put back.")}
    except ValidationError as failure:
        request.session[BULK_DONE] = {"error": " ".join(failure.messages)}
    else:
        request.session[BULK_DONE] = {
            "message": ngettext(
                "%(count)s conversation put back as it was",
                "%(count)s conversations put back as they were",
                count,
            )
            % {"count": count}
        }
    return redirect(_list_url(request))


# --- one thread --------------------------------------------------------------------------------


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
        "reasons": reason_texts(conversation.priority_reasons),
        "breached": conversation.sla_breached(),
        "can_reply": actor.can(Perm.INBOX_REPLY),
        "channel_replies": queries.can_reply_on(conversation.channel),
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
            "reasons": reason_texts(conversation.priority_reasons),
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


# --- saved replies and knowledge base ----------------------------------------------------------


@member_view(Perm.INBOX_REPLY)
def saved_replies(request: HttpRequest, actor: Actor, saved_id: int | None = None) -> HttpResponse:
    saved = queries.saved_reply(actor, saved_id) if saved_id else None
    initial = {"title": saved.title, "text": saved.text, "language": saved.language} if saved else None
    form = SavedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_saved_reply(actor=actor, saved=saved, **form.cleaned_data)
            messages.success(request, _("Saved reply saved."))
            return redirect("inbox:saved_replies")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = {"form": form, "editing": saved, "rows": queries.saved_replies(actor)}
    return render(request, "inbox/saved_replies.html", context, status=422 if form.errors else 200)


@require_POST
@member_view(Perm.INBOX_REPLY)
def saved_reply_delete(request: HttpRequest, actor: Actor, saved_id: int) -> HttpResponse:
    services.delete_saved_reply(actor=actor, saved=queries.saved_reply(actor, saved_id))
    messages.success(request, _("Saved reply deleted."))
    return redirect("inbox:saved_replies")


@member_view(Perm.ITEMS_VIEW)
def articles(request: HttpRequest, actor: Actor, article_id: int | None = None) -> HttpResponse:
    article = queries.article(actor, article_id) if article_id else None
    initial = (
        {
            "title": article.title,
            "body": article.body,
            "category": article.category,
            "language": article.language,
        }
        if article
        else None
    )
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        actor.require(Perm.INBOX_REPLY)
        if form.is_valid():
            try:
                services.save_article(actor=actor, article=article, **form.cleaned_data)
                messages.success(request, _("Article saved."))
                return redirect("inbox:articles")
            except ValidationError as failure:
                apply_service_errors(form, failure)
    context = {
        "form": form,
        "editing": article,
        "rows": queries.articles(actor),
        "can_edit": actor.can(Perm.INBOX_REPLY),
    }
    return render(request, "inbox/articles.html", context, status=422 if form.errors else 200)


@require_POST
@member_view(Perm.INBOX_REPLY)
def article_delete(request: HttpRequest, actor: Actor, article_id: int) -> HttpResponse:
    services.delete_article(actor=actor, article=queries.article(actor, article_id))
    messages.success(request, _("Article deleted."))
    return redirect("inbox:articles")


# --- settings, profile, notifications, digest --------------------------------------------------


def _settings_initial(actor: Actor) -> dict[str, Any]:
    s = services.settings_for(actor.organisation)
    initial = {
        "time_zone": s.time_zone,
        "first_response_minutes": s.first_response_minutes,
        "holidays": "\n".join(s.holidays),
        "on_call": str(s.on_call_id or ""),
        "auto_assign": s.auto_assign,
    }
    for day in range(7):
        initial[f"day_{day}"] = ", ".join(f"{a}-{b}" for a, b in (s.weekly_hours or {}).get(str(day), []))
    for key, text in (s.acknowledgements or {}).items():
        initial[f"ack_{key}"] = text
    return initial


@member_view(Perm.ORG_MANAGE)
def inbox_settings(request: HttpRequest, actor: Actor) -> HttpResponse:
    channels = org_queries.channels(actor)
    form = SettingsForm(
        request.POST or None, initial=_settings_initial(actor), members=_members(actor), channels=channels
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            week = services.parse_week({str(day): data[f"day_{day}"] for day in range(7)})
            services.update_settings(
                actor=actor,
                time_zone=data["time_zone"].strip(),
                weekly_hours=week,
                holidays=[line.strip() for line in data["holidays"].splitlines() if line.strip()],
                first_response_minutes=data["first_response_minutes"],
                on_call_id=int(data["on_call"]) if data["on_call"] else None,
                auto_assign=data["auto_assign"],
                acknowledgements={name.removeprefix("ack_"): data[name] for name in form.channel_fields},
            )
            messages.success(request, _("Inbox settings saved."))
            return redirect("inbox:settings")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    return render(request, "inbox/settings.html", {"form": form}, status=422 if form.errors else 200)


@member_view(Perm.ITEMS_VIEW)
def profile(request: HttpRequest, actor: Actor) -> HttpResponse:
    mine = services.profile_for(actor.organisation, actor.user)
    initial = {
        "languages": mine.languages,
        "skills": mine.skills,
        "auto_assign": mine.auto_assign,
        "sign_replies": mine.sign_replies,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(actor=actor, **form.cleaned_data)
            messages.success(request, _("Profile saved."))
            return redirect("inbox:profile")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = {"form": form, "signature": services.signature_of(actor)}
    return render(request, "inbox/profile.html", context, status=422 if form.errors else 200)


@member_view(Perm.ITEMS_VIEW)
def notifications(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        services.mark_notifications_read(actor=actor)
        return redirect("inbox:notifications")
    return render(request, "inbox/notifications.html", {"rows": queries.notifications(actor)})


@member_view(Perm.ITEMS_VIEW)
def digest(request: HttpRequest, actor: Actor) -> HttpResponse:
    summary = services.overnight(actor.organisation)
    labels = dict(Intent.choices)
    summary["intents"] = [(labels.get(k, k or "—"), v) for k, v in sorted(summary["by_intent"].items())]
    return render(request, "inbox/digest.html", {"summary": summary})


def _dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.ITEMS_VIEW):
        return None
    base = queries.filtered(actor, InboxFilter())
    return {
        "counts": [
            {"label": _("Open threads"), "value": base.count(), "url": reverse("inbox:list")},
            {
                "label": _("Overdue responses"),
                "value": queries.filtered(actor, InboxFilter(sla="breached")).count(),
                "url": f"{reverse('inbox:list')}?{QueryDict('sla=breached').urlencode()}",
            },
        ]
    }


register_dashboard_panel("inbox", _dashboard_panel)
