"""What the inbox pages share: the texts of warnings and triage reasons in the reader's language, the organisation's members."""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy, ngettext

from palabre.inbox import services
from palabre.orgs.services import Actor

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


# Past two days a wait reads in days: "en attente depuis 28 jours", not "669,5 h".
WAITING_IN_DAYS_FROM_HOURS = 48


def _reason_text(reason: dict[str, Any]) -> str:
    params = reason.get("params", {})
    hours = params.get("hours")
    if reason["code"] == "waiting" and isinstance(hours, int | float) and hours >= WAITING_IN_DAYS_FROM_HOURS:
        days = round(hours / 24)
        return ngettext("waiting for %(days)s day", "waiting for %(days)s days", days) % _localised(
            {"days": days}
        )
    return str(REASON_TEXTS.get(reason["code"], reason["code"])) % _localised(params)


def reason_texts(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"text": _reason_text(r), "points": r["points"]} for r in reasons]


def _members(actor: Actor):
    return services._repliers(actor.organisation)
