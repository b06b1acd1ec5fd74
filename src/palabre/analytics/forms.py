"""The dashboard's filters: period (local days), channel, member."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# A year and a day: a longer period lists too many days for a chart and a business calendar.
MAX_DAYS = 366


class ReportFilterForm(forms.Form):
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    member = forms.TypedChoiceField(label=_("Member"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, channels=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        # "from" and "to" are Python words: the fields are named here, as the URLs and the API say.
        self.fields = {
            "from": forms.DateField(
                label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            ),
            "to": forms.DateField(
                label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            ),
            **self.fields,
        }
        self.fields["channel"].choices = [("", pgettext_lazy("all channels", "All")), *channels]
        self.fields["member"].choices = [("", pgettext_lazy("all members", "All")), *members]

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first and last:
            if last < first:
                self.add_error("to", _("The end of the period comes before its start."))
            elif last - first >= timedelta(days=MAX_DAYS):
                self.add_error("to", _("Choose a period of at most 366 days."))
        return data
