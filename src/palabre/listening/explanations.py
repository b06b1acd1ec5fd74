"""An alarm of the streaming detector told in words, in the person's language (gettext)."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext

from palabre.listening.detection import Alarm


def warmup_sentence(warmup: str) -> str:
    """What history the baseline stood on: a young query alerts from its first hours, and says so."""
    if warmup == "hours":
        return gettext(
            "Warm-up: less than a day of history, compared with the hours just before; "
            "the usual daily rhythm is not known yet."
        )
    if warmup == "day":
        return gettext(
            "Warm-up: less than a week of history, compared with the same hours of the previous days."
        )
    if warmup == "week":
        return gettext(
            "Warm-up: less than three weeks of history, compared with the same hour of the previous "
            "weeks and days."
        )
    return gettext("Compared with the same hour of the previous weeks.")


def describe(alarm: Alarm, warmup: str) -> str:
    minutes = int(alarm.width.total_seconds() // 60)
    expected = max(float(alarm.expected), 0.01)
    ratio = float(alarm.observed) / expected
    volume = ngettext(
        "%(observed)d mention in %(minutes)d minutes where about %(expected).1f were usual "
        "(%(ratio).1f times as many).",
        "%(observed)d mentions in %(minutes)d minutes where about %(expected).1f were usual "
        "(%(ratio).1f times as many).",
        int(alarm.observed),
    ) % {"observed": int(alarm.observed), "minutes": minutes, "expected": expected, "ratio": ratio}
    return f"{volume} {warmup_sentence(warmup)}"


def nature_sentence(why: dict) -> str:
    """Crisis or launch, told from the signals beyond volume stored in the alert's explanation."""
    nature = why.get("nature")
    signals = why.get("nature_signals") or {}
    values = {
        "share": round(100 * float(signals.get("negative_share", 0))),
        "usual": round(100 * float(signals.get("usual_negative_share", 0))),
        "authors": int(signals.get("influential_negative", 0)),
        "influential": int(signals.get("influential", 0)),
    }
    if nature == "crisis":
        return (
            gettext(
                "Looks like a crisis: %(share)d%% of these mentions are negative where %(usual)d%% usually "
                "are; %(authors)d of the %(influential)d most-followed authors are negative."
            )
            % values
        )
    if nature == "launch":
        return (
            gettext(
                "Looks like a launch or a welcome buzz rather than a crisis: %(share)d%% of these mentions "
                "are negative, as usual (%(usual)d%%), and no influential author leads a negative wave."
            )
            % values
        )
    if nature == "unclear":
        return (
            gettext("Crisis or launch: not clear yet (%(share)d%% negative where %(usual)d%% usually are).")
            % values
        )
    return ""
