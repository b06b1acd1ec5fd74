from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palabre.connectors.models import ActionStatus


class SyncSettingsForm(forms.Form):
    poll_enabled = forms.BooleanField(label=_("Fetch new messages automatically"), required=False)
    poll_interval_seconds = forms.IntegerField(
        label=_("Every (seconds)"),
        required=False,
        min_value=30,
        max_value=86_400,
        help_text=_("Empty: the platform's usual pace."),
    )


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(ActionStatus.choices)
    )
