from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.orgs.forms import RowIdsChoiceField
from palabre.orgs.models import Channel
from palabre.publishing.models import Campaign
from palabre.storable import FIRST_YEAR, LAST_YEAR


class LocalDateTimeField(forms.DateTimeField):
    """A browser's datetime-local value, read in the organisation's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *args, zone: str = "Europe/Paris", **kwargs):
        self.zone = ZoneInfo(zone)
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        if timezone.is_aware(result):
            result = result.replace(tzinfo=None)
        # The years the API accepts too: a moment of year 1 or 9999 overflowed when stored in UTC.
        if not FIRST_YEAR <= result.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Give a moment between the years %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR},
                code="invalid",
            )
        return result.replace(tzinfo=self.zone)


def local_input(value, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if value else ""


class PostForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("For the team; not published."))
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=63_206)
    channels = RowIdsChoiceField(
        label=_("Channels"), queryset=Channel.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)
    promotional = forms.TypedChoiceField(
        label=_("Promotional post"),
        choices=[("", _("Decide from the text and campaign")), ("yes", _("Yes")), ("no", _("No"))],
        required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.for_org(organisation).exclude(
            status=Channel.Status.ARCHIVED
        )
        self.fields["campaign"].queryset = Campaign.objects.for_org(organisation)
        self.fields["scheduled_at"] = LocalDateTimeField(
            label=_("Publication time"), required=False, zone=organisation.time_zone
        )


class VariantForm(forms.Form):
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), max_length=63_206)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheduled_at"] = LocalDateTimeField(
            label=_("Publication time"), required=False, zone=organisation.time_zone
        )


class MediaForm(forms.Form):
    file = forms.FileField(
        label=_("Picture or video"),
        help_text=_("JPEG, PNG, GIF, WebP or MP4, at most 8 MB; checked by its content."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,video/mp4"}
        ),
    )
    description = forms.CharField(
        label=_("Alternative text"),
        required=False,
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "What the picture shows, for people who cannot see it. The platforms show it to screen readers."
        ),
    )
    scope = forms.ChoiceField(
        label=_("For"),
        choices=[("post", _("every channel of the post")), ("variant", _("this channel only"))],
        initial="post",
    )


class DescribeForm(forms.Form):
    description = forms.CharField(label=_("Alternative text"), required=False, max_length=1500)


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("What to change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class PolicyForm(forms.Form):
    sensitive_terms = forms.CharField(
        label=_("Sensitive topics"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One word or phrase a line; a final * matches any ending. Added to the default lexicon."),
    )
    charter_words = forms.CharField(
        label=_("Words the brand does not use"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Your editorial charter: a post with one of these is blocked."),
    )
    competitor_texts = forms.CharField(
        label=_("Competitors' recent posts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One a line, besides what listening collects: a close copy is blocked."),
    )
    promotion_window = forms.IntegerField(
        label=_("Posts looked at for the promotion ratio"), min_value=3, max_value=100
    )
    promotion_share = forms.FloatField(
        label=_("Most promotional share (0 to 1)"), min_value=0.05, max_value=1
    )
    reschedule_keeps_approval = forms.BooleanField(
        label=_("An approver who only changes the time keeps the approval"),
        required=False,
        help_text=_(
            "On: an approver moves an approved post without a new approval (the change is in the "
            "audit log). Off: any new time sends the post back for approval."
        ),
    )
