"""Moderation pages: the review queue, one item's decisions, rules with their simulation, the policy.

Thin on purpose: reads through `queries`, every change through `services`. Another organisation's
item or rule answers 404; a page the role may not use answers 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from palabre.conversations.services import get_item
from palabre.moderation import queries, services
from palabre.moderation.engine import UNNAMED_GROUP_IDENTITY_HOLD
from palabre.moderation.forms import BulkForm, PolicyForm, ReviewForm, RuleForm
from palabre.moderation.models import ItemModeration, ModerationRule, ModerationStatus
from palabre.moderation.queries import QUEUE_TABS
from palabre.moderation.templatetags.moderation_tags import label_name
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, paginate, safe_next, wants_partial

PER_PAGE = 25
DEFAULT_TAB = ModerationStatus.HELD
TAB_ORDER = (
    ModerationStatus.PENDING,
    ModerationStatus.HELD,
    ModerationStatus.REPORTED,
    ModerationStatus.REJECTED,
    ModerationStatus.APPROVED,
)

# action, label, keyboard shortcut, button style
_BUTTONS = {
    "approve": (gettext_lazy("Approve"), "a", "ok"),
    "restore": (gettext_lazy("Restore"), "a", "ok"),
    "reject": (gettext_lazy("Reject"), "r", "danger"),
    "spam": (gettext_lazy("Spam"), "s", "danger"),
    "ham": (gettext_lazy("Not spam"), "h", "secondary"),
}
_BULK_BUTTONS = {
    "approve": (gettext_lazy("Approve selected"), "ok"),
    "reject": (gettext_lazy("Reject selected"), "danger"),
    "spam": (gettext_lazy("Spam selected"), "danger"),
}
# How long the "Undo" of the queue's confirmation stays; afterwards, the item's log offers it.
UNDO_TOAST_SECONDS = 10
UNDO_SESSION_KEY = "moderation_undo"
# Reason codes without a rule or a classifier label, as people call them (the queue's filter).
REASON_CODE_NAMES = {
    "too_many_links": gettext_lazy("Too many links"),
    "compliment_with_link": gettext_lazy("Compliment with a link"),
    "spam_by_links": gettext_lazy("Spam by its links alone"),
    "known_spammer": gettext_lazy("Known spammer"),
    "url_in_name": gettext_lazy("Address as a name"),
    "commercial_name": gettext_lazy("Commercial name"),
    "first_time_author": gettext_lazy("New author"),
    "rate_limited": gettext_lazy("Too many messages"),
    "known_spam": gettext_lazy("Known spam"),
    "honeypot": gettext_lazy("Robot (hidden field)"),
    "too_fast": gettext_lazy("Sent too fast"),
    "off_hours": gettext_lazy("Outside business hours"),
    "off_hours_first_message": gettext_lazy("First message outside business hours"),
    "lexicon_group_hostile": gettext_lazy("Hostile statement about a group"),
    "lexicon_self_promotion": gettext_lazy("Self-promotion"),
    "lexicon_phishing": gettext_lazy("Phishing"),
}
DONE_MESSAGES = {
    "approve": gettext_lazy("Approved."),
    "restore": gettext_lazy("Restored."),
    "reject": gettext_lazy("Rejected."),
    "spam": gettext_lazy("Marked as spam."),
    "ham": gettext_lazy("Marked as not spam, and published."),
}


def actions_for(status: str, is_spam: bool) -> list[dict[str, str]]:
    """The decisions that make sense from where the item stands."""
    if status == ModerationStatus.REJECTED:
        names = ["restore", "ham" if is_spam else "spam"]
    elif status == ModerationStatus.APPROVED:
        names = ["reject", "spam"]
    else:
        names = ["approve", "reject", "spam", "ham"]
    return [
        {"action": name, "label": _BUTTONS[name][0], "key": _BUTTONS[name][1], "style": _BUTTONS[name][2]}
        for name in names
    ]


def bulk_actions_for(tab: str) -> list[dict[str, str]]:
    names = {
        ModerationStatus.APPROVED: ["reject", "spam"],
        ModerationStatus.REJECTED: ["approve", "spam"],
    }.get(tab, ["approve", "reject", "spam"])
    return [
        {"action": name, "label": _BULK_BUTTONS[name][0], "style": _BULK_BUTTONS[name][1]} for name in names
    ]


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("status") or request.POST.get("tab") or DEFAULT_TAB
    return tab if tab in QUEUE_TABS else DEFAULT_TAB


def _tabs(actor: Actor, current: str, filters: str = "") -> list[dict[str, Any]]:
    counts = queries.queue_counts(actor)
    labels = dict(ModerationStatus.choices)
    return [
        {
            "status": status,
            "label": labels[status],
            "count": counts[status],
            "current": status == current,
            "filters": filters,
        }
        for status in TAB_ORDER
    ]


def _filters(request: HttpRequest) -> tuple[int | None, str]:
    """The queue's channel and reason filters from the address; a malformed one is ignored."""
    raw_channel = request.GET.get("channel") or request.POST.get("channel") or ""
    channel = int(raw_channel) if raw_channel.isdigit() and len(raw_channel) < 12 else None
    reason = (request.GET.get("reason") or request.POST.get("reason") or "").strip()[:80]
    return channel, reason


def _filter_query(channel: int | None, reason: str) -> str:
    return urlencode({k: v for k, v in (("channel", channel), ("reason", reason)) if v})


def _reason_label(key: str, patterns: dict[str, str]) -> str:
    if key.startswith("rule:"):
        pattern = patterns.get(key)
        return _("Rule “%(pattern)s”") % {"pattern": pattern} if pattern else _("A deleted rule")
    if key in REASON_CODE_NAMES:
        return str(REASON_CODE_NAMES[key])
    # A model's score and a listed word of the same category ("Insulte" twice) are told apart.
    if key.startswith("score_"):
        return _("%(label)s (score)") % {"label": label_name(key[6:])}
    if key.startswith("lexicon_"):
        return _("%(label)s (listed word)") % {"label": label_name(key[8:])}
    return label_name(key)


def _facets(actor: Actor, tab: str, channel: int | None, reason: str) -> dict[str, Any]:
    facets = queries.queue_facets(actor, tab, channel)
    return {
        "channels": [
            {"value": pk, "label": name, "count": count, "selected": pk == channel}
            for pk, name, count in facets.channels
        ],
        "reasons": [
            {
                "value": key,
                "label": _reason_label(key, facets.rule_patterns),
                "count": count,
                "selected": key == reason,
            }
            for key, count in facets.reasons
        ],
        "channel": channel,
        "reason": reason,
        "active": channel is not None or bool(reason),
    }


def _entry(state: ItemModeration, history) -> dict[str, Any]:
    return {
        "state": state,
        "item": state.item,
        "decision": state.last_decision,
        "history": history,
        "actions": actions_for(state.status, state.is_spam),
    }


# --- the queue --------------------------------------------------------------------------------


@member_view(Perm.MODERATION_ACT)
def queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    tab = _tab(request)
    channel, reason = _filters(request)
    try:
        rows = services.queue(actor=actor, status=tab, channel=channel, reason=reason)
    except ValidationError:
        reason = ""  # an unknown reason in a hand-written address: the whole tab
        rows = services.queue(actor=actor, status=tab, channel=channel)
    page = paginate(request, rows, PER_PAGE)
    states = list(page.object_list)
    histories = queries.author_histories(actor, {state.item.contact_id for state in states})
    filters = _filter_query(channel, reason)
    context = {
        "tab": tab,
        "tabs": _tabs(actor, tab, filters),
        "facets": _facets(actor, tab, channel, reason),
        "filters": filters,
        "page": page,
        "entries": [_entry(state, histories.get(state.item.contact_id)) for state in states],
        "thresholds": services.policy_for(actor.organisation).thresholds(),
        "bulk_actions": bulk_actions_for(tab),
        "here": request.get_full_path(),
        "last_action": _last_action(request, actor),
    }
    return render(request, "moderation/queue.html", context)


def _last_action(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    """The decision this person took last without htmx (a full page), while it can be undone."""
    remembered = request.session.get(UNDO_SESSION_KEY)
    if not isinstance(remembered, dict):
        return None
    state = queries.moderation_of(actor, int(remembered.get("item") or 0))
    if state is None or state.last_decision_id != remembered.get("decision"):
        return None
    if not services.undoable(state.last_decision, state):
        return None
    return {"item": state.item_id, "decision": state.last_decision}


@require_POST
@member_view(Perm.MODERATION_ACT)
def review(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    """One decision on one item: the entry is swapped in place (htmx) or the page comes back."""
    form = ReviewForm(request.POST)
    action = request.POST.get("action", "")
    error = ""
    decision = None
    if not form.is_valid():
        error = _("This note is too long.") if "note" in form.errors else _("Choose an action.")
    else:
        try:
            decision = services.review_item(
                actor=actor, item_id=item_id, action=action, note=form.cleaned_data["note"]
            )
        except ValidationError as failure:
            error = " ".join(failure.messages)
    if wants_partial(request):
        tab = _tab(request)
        state = queries.moderation_of(actor, item_id)
        item = get_item(actor=actor, item_id=item_id)
        context = {
            "entry": {
                "state": state,
                "item": item,
                "decision": decision,
                "actions": actions_for(state.status, state.is_spam) if state else [],
            },
            "done": DONE_MESSAGES.get(action) if decision else "",
            "undo_seconds": UNDO_TOAST_SECONDS,
            "cannot_undo": services.undo_limits(item) if decision else [],
            "error": error,
            "tab": tab,
            "tabs": _tabs(actor, tab, _filter_query(*_filters(request))),
            "attention": queries.attention_count(actor.organisation),
            "here": safe_next(request, reverse("moderation:queue")),
        }
        return render(request, "moderation/_entry_done.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, DONE_MESSAGES[action])
        request.session[UNDO_SESSION_KEY] = {"item": item_id, "decision": decision.pk}
    return redirect(safe_next(request, reverse("moderation:queue")))


@require_POST
@member_view(Perm.MODERATION_ACT)
def undo(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    """Take back the latest moderator's decision on an item: in the queue (htmx), the entry comes
    back as it stood; elsewhere, the page the person came from."""
    raw = request.POST.get("decision", "")
    decision_id = int(raw) if raw.isdigit() and len(raw) < 12 else None
    error = ""
    try:
        services.undo_review(actor=actor, item_id=item_id, decision_id=decision_id)
    except ValidationError as failure:
        error = " ".join(failure.messages)
    request.session.pop(UNDO_SESSION_KEY, None)
    if wants_partial(request):
        tab = _tab(request)
        state = queries.moderation_of(actor, item_id)
        item = get_item(actor=actor, item_id=item_id)
        histories = queries.author_histories(actor, {item.contact_id})
        entry_context = _entry(state, histories.get(item.contact_id)) if state else None
        context = {
            "entry": entry_context,
            "undone": not error,
            "error": error,
            "thresholds": services.policy_for(actor.organisation).thresholds(),
            "tab": tab,
            "tabs": _tabs(actor, tab, _filter_query(*_filters(request))),
            "attention": queries.attention_count(actor.organisation),
            "here": safe_next(request, reverse("moderation:queue")),
        }
        return render(request, "moderation/_entry_undone.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Undone: the item is back where it stood."))
    return redirect(safe_next(request, reverse("moderation:entry", args=[item_id])))


@require_POST
@member_view(Perm.MODERATION_ACT)
def bulk(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = BulkForm(request.POST)
    back = safe_next(request, reverse("moderation:queue"))
    if not form.is_valid():
        if "items" in form.errors and form.data.getlist("items"):
            messages.error(request, " ".join(form.errors["items"]))
        elif "items" in form.errors:
            messages.warning(request, _("Select at least one item first."))
        else:
            messages.error(request, _("Choose an action."))
        return redirect(back)
    ids = form.cleaned_data["items"]
    if queries.items_in_organisation(actor, ids) != set(ids):
        raise Http404
    action = form.cleaned_data["action"]
    # All or none: one bad item leaves the others as they were.
    with transaction.atomic():
        for item_id in ids:
            services.review_item(actor=actor, item_id=item_id, action=action)
    count = len(ids)
    text = {
        "approve": ngettext("%(count)s item approved.", "%(count)s items approved.", count),
        "reject": ngettext("%(count)s item rejected.", "%(count)s items rejected.", count),
        "spam": ngettext("%(count)s item marked as spam.", "%(count)s items marked as spam.", count),
    }[action]
    messages.success(request, text % {"count": count})
    return redirect(back)


@member_view(Perm.MODERATION_ACT)
def entry(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    """One item: its text as the machine read it, where it stands, and every decision taken on it."""
    item = get_item(actor=actor, item_id=item_id)
    state = queries.moderation_of(actor, item.pk)
    log = list(queries.decisions(actor, item))
    evidence = next((d for d in log if d.spans or d.reasons or d.scores), None)
    histories = queries.author_histories(actor, {item.contact_id})
    context = {
        "item": item,
        "state": state,
        "log": log,
        "evidence": evidence,
        "history": histories.get(item.contact_id),
        "actions": actions_for(state.status, state.is_spam) if state else actions_for("pending", False),
        "thresholds": services.policy_for(actor.organisation).thresholds(),
        "here": request.get_full_path(),
        "undo_decision": state.last_decision
        if state and services.undoable(state.last_decision, state)
        else None,
        "cannot_undo": services.undo_limits(item),
    }
    return render(request, "moderation/entry.html", context)


# --- rules ------------------------------------------------------------------------------------


def _rule_groups(actor: Actor) -> list[dict[str, Any]]:
    by_kind: dict[str, list[ModerationRule]] = {}
    for rule in queries.rules(actor):
        rule.refusal = services.rule_refusal(rule)
        by_kind.setdefault(rule.kind, []).append(rule)
    return [
        {"kind": kind, "label": label, "rules": by_kind[kind]}
        for kind, label in ModerationRule.Kind.choices
        if kind in by_kind
    ]


def _simulation(result: dict[str, Any]) -> dict[str, Any]:
    changes = [
        {**change, "created_at": datetime.fromisoformat(change["created_at"])} for change in result["changes"]
    ]
    return {**result, "changes": changes}


def _rules_page(
    request: HttpRequest, actor: Actor, form: RuleForm, simulation=None, simulated_rule=None
) -> HttpResponse:
    context = {
        "form": form,
        "groups": _rule_groups(actor),
        "simulation": None if simulated_rule else simulation,
        "simulated_rule": simulated_rule,
        "stored_simulation": simulation if simulated_rule else None,
    }
    return render(request, "moderation/rules.html", context)


def _stored_rule_simulation(actor: Actor, raw_id: str) -> tuple[ModerationRule | None, dict | None]:
    """A rule still in simulation, and what it would have done on the last 30 days."""
    if not raw_id.isdigit() or len(raw_id) > 12:
        return None, None
    rule = queries.rules(actor).filter(pk=int(raw_id)).first()
    if rule is None or rule.state != ModerationRule.State.SIMULATING:
        return None, None
    result = services.simulate_rule(
        actor=actor,
        kind=rule.kind,
        pattern=rule.pattern,
        action=rule.action,
        days=30,
        exact_match=rule.exact_match,
    )
    return rule, _simulation(result)


@member_view(Perm.MODERATION_RULES)
def rules(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = RuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.create_rule(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Rule “%(pattern)s” added in simulation: it decides nothing until you enable it. "
                    "Below, what it would have done on the last 30 days."
                )
                % {"pattern": rule.pattern},
            )
            return redirect(f"{reverse('moderation:rules')}?simulate={rule.pk}#stored-rule-simulation")
    simulated_rule, simulation = _stored_rule_simulation(actor, request.GET.get("simulate", ""))
    return _rules_page(request, actor, form, simulation, simulated_rule)


@require_POST
@member_view(Perm.MODERATION_RULES)
def rule_simulate(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What the rule being written would have changed on the last 30 days, before it is saved."""
    form = RuleForm(request.POST)
    simulation = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.simulate_rule(
                actor=actor,
                kind=data["kind"],
                pattern=data["pattern"],
                action=data["action"],
                days=30,
                exact_match=data["exact_match"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            simulation = _simulation(result)
    if wants_partial(request):
        return render(request, "moderation/_rule_editor.html", {"form": form, "simulation": simulation})
    return _rules_page(request, actor, form, simulation)


@require_POST
@member_view(Perm.MODERATION_RULES)
def rule_toggle(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = queries.rule(actor, rule_id)
    rule = services.update_rule(actor=actor, rule=rule, enabled=not rule.enabled)
    if wants_partial(request):
        return render(request, "moderation/_rule_row.html", {"rule": rule, "saved": True})
    if rule.enabled:
        messages.success(request, _("Rule “%(pattern)s” enabled.") % {"pattern": rule.pattern})
    else:
        messages.success(request, _("Rule “%(pattern)s” disabled.") % {"pattern": rule.pattern})
    return redirect("moderation:rules")


@require_POST
@member_view(Perm.MODERATION_RULES)
def rule_delete(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = queries.rule(actor, rule_id)
    pattern = rule.pattern
    services.delete_rule(actor=actor, rule=rule)
    messages.success(request, _("Rule “%(pattern)s” deleted.") % {"pattern": pattern})
    return redirect("moderation:rules")


# --- policy -----------------------------------------------------------------------------------


@member_view(Perm.MODERATION_RULES)
def policy(request: HttpRequest, actor: Actor) -> HttpResponse:
    current = services.policy_for(actor.organisation)
    form = PolicyForm(request.POST if request.method == "POST" else None, policy=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(actor=actor, **form.policy_changes())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Moderation settings saved."))
            return redirect("moderation:policy")
    effective = current.thresholds().hold
    rows = []
    for row in form.threshold_rows():
        offset = float(current.learned_offsets.get(row["label"], 0.0))
        signed = f"{'+' if offset > 0 else '−' if offset < 0 else ''}{number_format(abs(offset), 2)}"
        rows.append({**row, "offset": offset, "signed_offset": signed, "effective": effective[row["label"]]})
    context = {
        "form": form,
        "rows": rows,
        "has_learned": any(r["offset"] for r in rows),
        "unnamed_group_identity_hold": UNNAMED_GROUP_IDENTITY_HOLD,
    }
    return render(request, "moderation/policy.html", context)


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.MODERATION_ACT):
        return None
    waiting = {"label": _("Waiting for moderation"), "value": queries.attention_count(actor.organisation)}
    return {"counts": [{**waiting, "url": reverse("moderation:queue")}]}
