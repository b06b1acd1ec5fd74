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


class PlatformModerationForm(forms.Form):
    """What moderation does on the channel's platform; the choices are the connector's."""

    on_reject = forms.ChoiceField(label=_("When a comment is rejected"))
    on_restore = forms.ChoiceField(label=_("When a moderator restores it"))

    def __init__(self, *args, choices: dict[str, list[tuple[str, str]]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on_reject"].choices = choices["on_reject"]
        self.fields["on_restore"].choices = choices["on_restore"]
