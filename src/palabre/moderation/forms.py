"""Forms of the moderation pages. They shape input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palabre.moderation import engine
from palabre.moderation.models import ModerationPolicy, ModerationRule
from palabre.moderation.templatetags.moderation_tags import label_name

BULK_ACTIONS = ("approve", "reject", "spam")
MAX_BULK = 200


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ModerationRule.Kind.choices)
    pattern = forms.CharField(
        label=_("Word, pattern, site or author"),
        max_length=500,
        help_text=_(
            "A word matches its accented, upper-case and disguised forms (l3tt3rs, spaced l e t t e r s); "
            "a regular expression is matched as written, ignoring case. A site is a domain "
            "(maisonlumiere.fr): links to an allowed site are neither counted nor read as spam."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    action = forms.ChoiceField(
        label=_("Action"),
        choices=ModerationRule.Action.choices,
        initial=engine.HOLD,
        help_text=_("A banned word always rejects."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    exact_match = forms.BooleanField(
        label=_("This exact word only"),
        required=False,
        help_text=_(
            "Unticked, a word also catches its plurals and simple inflections "
            "(escroc: escrocs; voleur: voleuse, voleurs)."
        ),
    )


class ReviewForm(forms.Form):
    """One decision on one item; the note is optional and kept in the log."""

    action = forms.CharField(max_length=16)
    note = forms.CharField(max_length=500, required=False)


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in BULK_ACTIONS])
    items = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id may be sent; the view checks that each is one of the organisation's items.
        raw = self.data.getlist("items") if hasattr(self.data, "getlist") else []
        self.fields["items"].choices = [(value, value) for value in raw if str(value).isdigit()]

    def clean_items(self):
        items = self.cleaned_data["items"]
        if len(items) > MAX_BULK:
            raise forms.ValidationError(
                _("Select at most %(max)s items at once."), params={"max": MAX_BULK}, code="too_many"
            )
        return list(dict.fromkeys(items))


def _threshold_field(label: str, help_text: str = "") -> forms.FloatField:
    return forms.FloatField(
        label=label,
        min_value=0,
        max_value=1,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
    )


class PolicyForm(forms.Form):
    """Thresholds per label (hold, reject), then the rules about links and authors."""

    max_links = forms.IntegerField(
        label=_("Most links per comment"),
        min_value=0,
        max_value=32767,
        help_text=_("More links than this holds the comment; 0 for no limit."),
    )
    first_time_hold_until = forms.IntegerField(
        label=_("Hold new authors until this many approved comments"),
        min_value=0,
        max_value=32767,
        help_text=_("0 publishes first comments like any other."),
    )
    rate_limit_per_hour = forms.IntegerField(
        label=_("Most comments per author per hour"),
        min_value=0,
        max_value=32767,
        help_text=_("Beyond this, comments are held; 0 for no limit."),
    )
    off_hours_enabled = forms.BooleanField(label=_("Stricter outside business hours"), required=False)
    off_hours_tightening = forms.FloatField(
        label=_("Lower the hold thresholds by"),
        required=False,
        min_value=0,
        max_value=0.5,
        help_text=_(
            "Taken off each label's hold threshold (never below 0.05); rejection thresholds do not move."
        ),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "0.5"}),
    )
    off_hours_hold_first_messages = forms.BooleanField(
        label=_("Hold the first message of an author with no approved message"),
        required=False,
        help_text=_("Private messages are not concerned."),
    )

    def __init__(self, *args, policy: ModerationPolicy, **kwargs):
        hold = {**engine.DEFAULT_HOLD, **policy.hold_thresholds}
        reject = {**engine.DEFAULT_REJECT, **policy.reject_thresholds}
        initial = {
            "max_links": policy.max_links,
            "first_time_hold_until": policy.first_time_hold_until,
            "rate_limit_per_hour": policy.rate_limit_per_hour,
            "off_hours_enabled": policy.off_hours_enabled,
            "off_hours_tightening": policy.off_hours_tightening,
            "off_hours_hold_first_messages": policy.off_hours_hold_first_messages,
        }
        for label in engine.DEFAULT_HOLD:
            initial[f"hold_{label}"] = hold[label]
            initial[f"reject_{label}"] = reject[label]
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for label in engine.DEFAULT_HOLD:
            name = label_name(label)
            self.fields[f"hold_{label}"] = _threshold_field(_("Hold from (%(label)s)") % {"label": name})
            self.fields[f"reject_{label}"] = _threshold_field(_("Reject from (%(label)s)") % {"label": name})

    def threshold_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": label,
                "name": label_name(label),
                "hold": self[f"hold_{label}"],
                "reject": self[f"reject_{label}"],
            }
            for label in engine.DEFAULT_HOLD
        ]

    def clean(self):
        cleaned = super().clean()
        for label in engine.DEFAULT_HOLD:
            hold, reject = cleaned.get(f"hold_{label}"), cleaned.get(f"reject_{label}")
            if hold is not None and reject is not None and hold > reject:
                self.add_error(f"hold_{label}", _("Holding should start below the rejection threshold."))
        return cleaned

    def policy_changes(self) -> dict[str, Any]:
        """What to hand to update_policy: only thresholds that differ from the engine's defaults are kept,
        so a better default in a later version reaches this organisation too."""
        data = self.cleaned_data
        hold = {
            label: round(data[f"hold_{label}"], 3)
            for label in engine.DEFAULT_HOLD
            if round(data[f"hold_{label}"], 3) != engine.DEFAULT_HOLD[label]
        }
        reject = {
            label: round(data[f"reject_{label}"], 3)
            for label in engine.DEFAULT_REJECT
            if round(data[f"reject_{label}"], 3) != engine.DEFAULT_REJECT[label]
        }
        return {
            "hold_thresholds": hold,
            "reject_thresholds": reject,
            "max_links": data["max_links"],
            "first_time_hold_until": data["first_time_hold_until"],
            "rate_limit_per_hour": data["rate_limit_per_hour"],
            "off_hours_enabled": data["off_hours_enabled"],
            "off_hours_hold_first_messages": data["off_hours_hold_first_messages"],
        } | (
            # Left empty: the amount in place stays.
            {}
            if data.get("off_hours_tightening") is None
            else {"off_hours_tightening": round(data["off_hours_tightening"], 3)}
        )
