"""Figures as a reader reads them: shares as percentages, durations in minutes or hours, in the
reader's language (Django's localisation for the numbers, gettext for the units)."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return _("%(percent)s%%") % {"percent": formats.number_format(round(value * 100), use_l10n=True)}


@register.filter
def minutes(value: float | None) -> str:
    """12 min, 3.5 h, 2.1 d: the unit that keeps the number short."""
    if value is None:
        return "–"
    if value < 90:
        return _("%(n)s min") % {"n": formats.number_format(round(value), use_l10n=True)}
    if value < 48 * 60:
        return _("%(n)s h") % {"n": formats.number_format(round(value / 60, 1), decimal_pos=1, use_l10n=True)}
    return _("%(n)s d") % {"n": formats.number_format(round(value / 1440, 1), decimal_pos=1, use_l10n=True)}


@register.filter
def number(value: float | int | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return formats.number_format(
        round(value, decimals), decimal_pos=decimals or None, use_l10n=True, force_grouping=True
    )


@register.filter
def headline(item: dict) -> str:
    """A headline figure in its unit."""
    name, value = item["name"], item["value"]
    if name.endswith("_share") or name.endswith("_rate"):
        return percent(value)
    if name.endswith("_median") or name.endswith("_p90"):
        return minutes(value)
    if isinstance(value, float):
        return number(value, 1)
    return number(value)


@register.filter
def previous_headline(item: dict) -> str:
    return headline({"name": item["name"], "value": item["previous"]})
