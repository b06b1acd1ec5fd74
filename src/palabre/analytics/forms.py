"""The dashboard's filters: period (local days), channel, member, campaign."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# A year and a day: a longer period lists too many days for a chart and a business calendar.
MAX_DAYS = 366


class ReportFilterForm(forms.Form):
    channel = forms.TypedChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    member = forms.TypedChoiceField(label=_("Member"), required=False, coerce=int, empty_value=None)
    campaign = forms.TypedChoiceField(label=_("Campaign"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, channels=(), members=(), campaigns=(), **kwargs):
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
        self.fields["campaign"].choices = [("", pgettext_lazy("all campaigns", "All")), *campaigns]

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first and last:
            if last < first:
                self.add_error("to", _("The end of the period comes before its start."))
            elif last - first >= timedelta(days=MAX_DAYS):
                self.add_error("to", _("Choose a period of at most 366 days."))
        return data


class RecipientForm(forms.Form):
    """A recipient of the report e-mails: a member or an address, in a language, weekly and/or monthly."""

    # Only the members whose role may see analytics are offered: the reports hold every figure.
    member = forms.TypedChoiceField(
        label=_("Member"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _("Choose a member whose role allows seeing analytics and reports.")
        },
    )
    email = forms.EmailField(
        label=_("or an address"),
        required=False,
        max_length=254,
        help_text=_(
            "An address outside the organisation needs the permission to change its settings, and "
            "stops receiving the reports when the person who added it leaves or loses that permission."
        ),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    weekly = forms.BooleanField(label=_("Weekly report (on Monday)"), required=False, initial=True)
    monthly = forms.BooleanField(label=_("Monthly report (on the 1st)"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "—"), *members]
