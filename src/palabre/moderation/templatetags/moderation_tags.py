"""How a moderation decision reads on screen: highlighted spans, reasons in the reader's language,
score bars, trust badges, and the small panels other pages show."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from palabre.moderation import engine, queries
from palabre.moderation.models import ItemModeration
from palabre.orgs.permissions import Perm

register = template.Library()

# Classifier labels and span labels (rules, links, lexicon categories), as people call them.
LABEL_NAMES = {
    "spam": gettext_lazy("Spam"),
    "toxicity": gettext_lazy("Toxicity"),
    "insult": gettext_lazy("Insult"),
    "identity_attack": gettext_lazy("Identity attack"),
    "threat": gettext_lazy("Threat"),
    "sexual": gettext_lazy("Sexual content"),
    "banned_word": gettext_lazy("Banned word"),
    "suspect_word": gettext_lazy("Suspect word"),
    "regex": gettext_lazy("Pattern"),
    "blocked_domain": gettext_lazy("Blocked site"),
    "link": gettext_lazy("Link"),
    "slur": gettext_lazy("Slur"),
    "dehumanizing": gettext_lazy("Dehumanising"),
    "profanity": gettext_lazy("Profanity"),
    "neg_attribute": gettext_lazy("Derogatory attribute"),
    "target": gettext_lazy("Identity group"),
    "self_promotion": gettext_lazy("Self-promotion"),
    "phishing": gettext_lazy("Phishing"),
}

# The reason of a spam phrase of the engine (engine.SPAM_PHRASES), one per category.
SPAM_PHRASE_TEXTS = {
    "self_promotion": gettext_lazy(
        "“%(word)s” sends readers to the author's own channel, page or offer, as comment spam does."
    ),
    "phishing": gettext_lazy(
        "“%(word)s” presses the reader to give their details, to pay or to act before a false deadline, as phishing does."
    ),
}

# What a decision did, automatic (publish/hold/reject) or by a person.
ACTION_NAMES = {
    engine.PUBLISH: gettext_lazy("Published"),
    engine.HOLD: gettext_lazy("Held for review"),
    engine.REJECT: gettext_lazy("Rejected"),
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "spam": gettext_lazy("Marked as spam"),
    "ham": gettext_lazy("Marked as not spam"),
    "restore": gettext_lazy("Restored"),
    "undo": gettext_lazy("Undone"),
}

TRUST_NAMES = {
    "new": (gettext_lazy("New author"), ""),
    "trusted": (gettext_lazy("Trusted"), "ok"),
    "known": (gettext_lazy("Known"), ""),
    "watched": (gettext_lazy("Watched"), "danger"),
}

_CLASS_SAFE = re.compile(r"[^a-z0-9_-]")


def label_name(label: str) -> str:
    return str(LABEL_NAMES.get(label, label.replace("_", " ")))


# --- highlighted text -------------------------------------------------------------------------


def merged_spans(text: str, spans: list[dict[str, Any]]) -> list[tuple[int, int, list[str]]]:
    """Spans clamped to the text and merged where they overlap, each with its labels in order."""
    clean = []
    for span in spans or []:
        try:
            start, end = max(int(span["start"]), 0), min(int(span["end"]), len(text))
        except (KeyError, TypeError, ValueError):
            continue
        if start < end:
            clean.append((start, end, str(span.get("label", ""))))
    clean.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, label in clean:
        if merged and start < merged[-1][1]:
            last_start, last_end, labels = merged[-1]
            if label not in labels:
                labels.append(label)
            merged[-1] = (last_start, max(last_end, end), labels)
        else:
            merged.append((start, end, [label]))
    return merged


@register.filter
def highlight(text: str, spans: list[dict[str, Any]] | None) -> SafeString:
    """The original text, escaped, with each (merged) span in a <mark> titled with its labels."""
    text = text or ""
    parts: list[str] = []
    position = 0
    for start, end, labels in merged_spans(text, spans or []):
        parts.append(conditional_escape(text[position:start]))
        classes = " ".join(f"label-{_CLASS_SAFE.sub('', label.lower())}" for label in labels if label)
        title = ", ".join(label_name(label) for label in labels if label)
        parts.append(format_html('<mark class="{}" title="{}">{}</mark>', classes, title, text[start:end]))
        position = end
    parts.append(conditional_escape(text[position:]))
    # Every part was escaped above: the text between spans and the marks built by format_html.
    return mark_safe("".join(str(part) for part in parts))


# --- reasons ----------------------------------------------------------------------------------


def _score(value: Any) -> str:
    return number_format(float(value), 2)


def _reason_text(code: str, action: str, params: dict[str, Any]) -> str | None:
    if code.startswith("score_"):
        values = {"label": label_name(params.get("label") or code[6:]), "score": _score(params["score"])}
        if action == engine.REJECT:
            return _("%(label)s: very likely (score %(score)s).") % values
        return _("%(label)s: possible (score %(score)s).") % values
    if code == "spam_by_links":
        return _(
            "Spam by its links alone (score %(score)s): without them the words read as an ordinary message."
        ) % {"score": _score(params["score"])}
    if code == "banned_word":
        return _("Contains the banned word “%(word)s”.") % {"word": params["word"]}
    if code == "suspect_word":
        return _("Contains the suspect word “%(word)s”.") % {"word": params["word"]}
    if code == "regex":
        return _("Matches the pattern “%(pattern)s”.") % {"pattern": params["pattern"]}
    if code == "blocked_domain":
        return _("Links to the blocked site %(domain)s.") % {"domain": params["domain"]}
    if code == "too_many_links":
        return ngettext(
            "%(count)s links, more than the %(max)s allowed.",
            "%(count)s links, more than the %(max)s allowed.",
            int(params["max"]),
        ) % {"count": params["count"], "max": params["max"]}
    if code == "compliment_with_link":
        return _("A generic compliment with a link, as comment spam does.")
    if code == "known_spammer":
        return _("%(author)s is listed as a spammer.") % {"author": params["author"]}
    if code == "url_in_name":
        return _("The commenter's name is a web address.")
    if code == "commercial_name":
        return _("The commenter's name “%(name)s” reads as a keyword or a shop.") % {"name": params["name"]}
    if code == "first_time_author":
        needed = int(params["needed"])
        return ngettext(
            "New author: held until %(needed)s approved comment.",
            "New author: held until %(needed)s approved comments.",
            needed,
        ) % {"needed": needed}
    if code == "rate_limited":
        return _("%(count)s messages within an hour (limit: %(limit)s).") % {
            "count": params["count"],
            "limit": params["limit"],
        }
    if code == "known_spam":
        return _("Same message as one a moderator marked as spam.")
    if code == "honeypot":
        return _("A field of the comment form hidden from people was filled in, as robots do.")
    if code == "too_fast":
        return _("Sent %(seconds)s s after the comment form was shown, faster than a person writes.") % {
            "seconds": number_format(float(params["seconds"]), 1)
        }
    if code == "off_hours":
        return _(
            "Outside business hours: held under hold thresholds lowered by %(tightening)s (%(labels)s)."
        ) % {
            "tightening": _score(params["tightening"]),
            "labels": ", ".join(label_name(str(label)) for label in params["labels"]),
        }
    if code == "off_hours_first_message":
        return _("Outside business hours: a first message from this author waits for a person.")
    if code.startswith("lexicon_") and code[8:] in SPAM_PHRASE_TEXTS:
        return str(SPAM_PHRASE_TEXTS[code[8:]]) % {"word": params["word"]}
    if code.startswith("lexicon_"):
        category = params.get("category") or code[8:]
        return _("Contains “%(word)s” (%(category)s).") % {
            "word": params["word"],
            "category": label_name(category),
        }
    return None


@register.filter
def reason_text(reason: dict[str, Any]) -> str:
    """A stored reason in the reader's language; the stored English message when the code is unknown."""
    if not isinstance(reason, dict):
        return str(reason)
    try:
        text = _reason_text(str(reason.get("code", "")), reason.get("action", ""), reason.get("params") or {})
    except (KeyError, TypeError, ValueError):
        text = None
    return text or str(reason.get("message", ""))


@register.filter
def action_name(action: str) -> str:
    return str(ACTION_NAMES.get(action, action))


@register.filter
def label_title(label: str) -> str:
    return label_name(label)


# --- scores, trust ------------------------------------------------------------------------------


@register.filter
def score_bars(scores: dict[str, float] | None, thresholds: engine.Thresholds | None = None) -> list[dict]:
    """One bar per label, in the classifiers' order; `level` says which threshold the score passed."""
    bars = []
    hold = getattr(thresholds, "hold", None) or engine.DEFAULT_HOLD
    reject = getattr(thresholds, "reject", None) or engine.DEFAULT_REJECT
    known = [label for label in engine.DEFAULT_HOLD if label in (scores or {})]
    for label in known + sorted(set(scores or {}) - set(known)):
        try:
            value = min(max(float(scores[label]), 0.0), 1.0)
        except (TypeError, ValueError):
            continue
        level = (
            "reject" if value >= reject.get(label, 1.01) else "hold" if value >= hold.get(label, 1.01) else ""
        )
        bars.append(
            {
                "label": label,
                "name": label_name(label),
                "value": value,
                "shown": number_format(value, 2),
                "percent": round(value * 100),
                "level": level,
            }
        )
    return bars


@register.inclusion_tag("moderation/_trust_badge.html")
def trust_badge(history) -> dict[str, Any]:
    name, tone = TRUST_NAMES.get(getattr(history, "trust", "new"), TRUST_NAMES["new"])
    return {"name": name, "tone": tone, "history": history}


# --- on other pages -----------------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def moderation_attention(context) -> int:
    """Held and reported items of the active organisation, for the menu (0 without the permission)."""
    perms = context.get("perms_in_org") or {}
    organisation = context.get("organisation")
    if not organisation or not perms.get(Perm.MODERATION_ACT.name):
        return 0
    return queries.attention_count(organisation)


@register.inclusion_tag("moderation/_item_panel.html", takes_context=True)
def moderation_panel(context, item) -> dict[str, Any]:
    """Where an item stands in moderation, for the conversation page."""
    state = (
        ItemModeration.objects.for_org(item.organisation_id)
        .filter(item=item)
        .select_related("last_decision", "last_decision__decided_by")
        .first()
    )
    perms = context.get("perms_in_org") or {}
    return {"item": item, "state": state, "can_moderate": bool(perms.get(Perm.MODERATION_ACT.name))}
