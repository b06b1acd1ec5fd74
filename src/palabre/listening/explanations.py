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
