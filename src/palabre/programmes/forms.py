from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from palabre.orgs.forms import RowIdsChoiceField
from palabre.publishing.forms import LocalDateTimeField

MAX_OPTION_LENGTH = 120


def post_label(item) -> str:
    return f"{item.channel.name} · {item.text[:80]}"


class PostChoiceField(RowIdsChoiceField):
    def label_from_instance(self, item) -> str:
        return post_label(item)


class OnePostChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, item) -> str:
        return post_label(item)


class ContestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    rules = forms.CharField(
        label=_("Rules"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("Published with the commitment of the draw, before the contest opens."),
    )
    posts = PostChoiceField(
        label=_("Posts whose comments are the entries"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    closes_at = LocalDateTimeField(label=_("Closes at"))
    winners = forms.IntegerField(label=_("Number of winners"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, posts, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["posts"].queryset = posts
        self.fields["closes_at"].zone = ZoneInfo(zone)


def parse_options(text: str) -> list[dict]:
    """One option per line; a line may start with the emoji that votes for it ("🌲 Vert sapin")."""
    options = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        first, _space, rest = line.partition(" ")
        emoji = first if rest and not any(ch.isalnum() for ch in first) else ""
        label = rest.strip() if emoji else line
        if len(label) > MAX_OPTION_LENGTH:
            raise ValidationError(
                _("An option is longer than %(max)s characters.") % {"max": MAX_OPTION_LENGTH}
            )
        options.append({"label": label, "emoji": emoji})
    return options


class PollForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300)
    post = OnePostChoiceField(label=_("Post that asks it"), queryset=None)
    options = forms.CharField(
        label=_("Options"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, optionally after the emoji that votes for it, e.g. “🌲 Vert sapin”."),
    )
    closes_at = LocalDateTimeField(label=_("Closes at"))

    def __init__(self, *args, posts, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts
        self.fields["closes_at"].zone = ZoneInfo(zone)

    def clean_options(self) -> list[dict]:
        return parse_options(self.cleaned_data["options"])


class ExclusionForm(forms.Form):
    note = forms.CharField(label=_("Why is it excluded?"), max_length=300, required=False)


class AmbassadorForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("My personal account"), queryset=None)
    disclosure = forms.CharField(
        label=_("Disclosure added to each share"),
        max_length=120,
        initial="#collaborateur",
        help_text=_("Say that you work for the brand: the law asks it of an employee who promotes it."),
    )

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = channels
