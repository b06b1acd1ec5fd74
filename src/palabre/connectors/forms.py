from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palabre.connectors.base import CredentialField, FieldKind
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


class ChannelOptionsForm(forms.Form):
    """The options the channel's connector declares (`Connector.option_fields`), each as its kind
    asks; empty: the connector's default. The service checks the values again (and the API's)."""

    def __init__(self, *args, fields: tuple[CredentialField, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in fields:
            common = {"label": field.label, "help_text": field.help, "required": False}
            if field.kind == FieldKind.CHOICE:
                choices = [("", _("Default")), *((choice, choice) for choice in field.choices)]
                self.fields[field.name] = forms.ChoiceField(choices=choices, **common)
            elif field.kind == FieldKind.INTEGER:
                self.fields[field.name] = forms.IntegerField(**common)
            else:
                attrs = {"autocomplete": "off", "spellcheck": "false"}
                if field.kind == FieldKind.URL:
                    attrs["placeholder"] = "https://"
                self.fields[field.name] = forms.CharField(
                    max_length=500, widget=forms.TextInput(attrs=attrs), **common
                )
