from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from palabre.listening.models import AlertSubscription, QueryKind, Sentiment, SourceKind
from palabre.listening.queries import period_errors


class QueryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    query = forms.CharField(
        label=_("Query"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"}),
        help_text=_(
            'Words, "exact phrases", AND / OR / NOT (or ET / OU / SAUF), parentheses, NEAR/5, #hashtags, '
            "@mentions, prefix*, lang:fr, source:reddit, domain:lemonde.fr. Accents, case, l'/d' and "
            "plurals are taken care of."
        ),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=QueryKind.choices)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


SOURCE_CONFIG_FIELDS = {
    SourceKind.RSS: ["url"],
    SourceKind.WEB_PAGE: ["url"],
    SourceKind.MASTODON_HASHTAG: ["instance", "hashtag"],
    SourceKind.MASTODON_TIMELINE: ["instance", "local"],
    SourceKind.BLUESKY_JETSTREAM: ["endpoint"],
    SourceKind.REDDIT_SEARCH: ["search", "subreddit"],
    SourceKind.OWN_CHANNELS: [],
}


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, label) for k, label in SourceKind.choices if k != SourceKind.OWN_CHANNELS],
    )
    interval_minutes = forms.IntegerField(
        label=_("Poll every (minutes)"), min_value=1, max_value=1440, initial=15
    )
    url = forms.CharField(
        label=_("Feed or page address"),
        required=False,
        max_length=1000,
        help_text=_("For RSS/Atom feeds and web pages."),
    )
    instance = forms.CharField(
        label=_("Mastodon instance"), required=False, max_length=300, help_text=_("e.g. https://piaille.fr")
    )
    hashtag = forms.CharField(label=_("Hashtag"), required=False, max_length=100)
    local = forms.BooleanField(label=_("Only this instance's posts"), required=False)
    endpoint = forms.CharField(
        label=_("Jetstream address"),
        required=False,
        max_length=300,
        help_text=_("Empty: wss://jetstream2.us-east.bsky.network/subscribe"),
    )
    search = forms.CharField(label=_("Reddit search"), required=False, max_length=512)
    subreddit = forms.CharField(
        label=_("Subreddit"), required=False, max_length=100, help_text=_("Optional, without r/.")
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["kind"].disabled = True
            self.fields["kind"].choices = SourceKind.choices

    def config(self) -> dict:
        data = self.cleaned_data
        names = SOURCE_CONFIG_FIELDS.get(data.get("kind"), [])
        config = {}
        for name in names:
            key = "query" if name == "search" else name
            config[key] = data.get(name)
        return {k: v for k, v in config.items() if v not in ("", None)}


# service errors on `config.<key>` land on the form field that carries it
CONFIG_ALIASES = {
    "config.url": "url",
    "config.instance": "instance",
    "config.hashtag": "hashtag",
    "config.endpoint": "endpoint",
    "config.query": "search",
    "config.subreddit": "subreddit",
}


class MentionFilterForm(forms.Form):
    query = forms.TypedChoiceField(label=_("Query"), required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    language = forms.ChoiceField(label=_("Language"), required=False)
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[("", _("All")), *Sentiment.choices]
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label=_("Text"), required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )

    def __init__(self, *args, queries=(), sources=(), languages=(), **kwargs):
        super().__init__(*args, **kwargs)
        # "All" agrees with what it stands for: in French, a query, a source, a language are feminine.
        self.fields["query"].choices = [
            ("", pgettext_lazy("all queries", "All")),
            *[(q.pk, q.name) for q in queries],
        ]
        self.fields["source"].choices = [
            ("", pgettext_lazy("all sources", "All")),
            *[(s.pk, s.name) for s in sources],
        ]
        self.fields["language"].choices = [
            ("", pgettext_lazy("all languages", "All")),
            *[(code, code) for code in languages],
        ]

    def clean(self):
        data = super().clean()
        errors = period_errors(data.get("since"), data.get("until"), today=timezone.localdate())
        for field, message in errors.items():
            self.add_error(field, message)
        return data


class SubscriptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Send to"), choices=AlertSubscription.Kind.choices)
    target = forms.CharField(label=_("E-mail address or webhook URL"), max_length=500)


class CrisisForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PlaybookForm(forms.Form):
    steps = forms.CharField(
        label=_("Playbook steps"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One step a line. Empty: the default playbook."),
    )
