"""Forms of the inbox pages. They shape input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palabre.inbox.models import Intent, KnowledgeArticle, Sentiment, Status

LANGUAGES = [("fr", _("French")), ("en", _("English"))]
ANY_LANGUAGE = [("", _("Any language")), *LANGUAGES]


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[*Status.choices, ("all", _("All statuses"))]
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=ANY_LANGUAGE)
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[("", _("Any sentiment")), *Sentiment.choices]
    )
    intent = forms.ChoiceField(
        label=_("Intent"), required=False, choices=[("", _("Any intent")), *Intent.choices]
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority")), ("urgent", _("Urgent")), ("high", _("High and urgent"))],
    )
    sla = forms.ChoiceField(
        label=_("Response time"), required=False, choices=[("", _("Any")), ("breached", _("Overdue"))]
    )
    q = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search…")}),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("", _("Automatic (priority when filtered by priority, else newest)")),
            ("recent", _("Newest activity")),
            ("priority", _("Priority")),
            ("oldest", _("Waiting longest")),
        ],
    )

    def __init__(self, *args, channels, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("Any channel"))] + [(str(c.pk), str(c)) for c in channels]
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *[(str(m.user_id), m.user.get_full_name() or m.user.get_username()) for m in members],
        ]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your reply"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 5}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    saved_reply = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Offered only where the channel's connector declares private replies (a direct message).
    private = forms.BooleanField(label=_("Answer in private (a direct message)"), required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=5_000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("Only the team sees this. @name to notify someone.")}
        ),
    )


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of this view"), max_length=80)
    shared = forms.BooleanField(label=_("Share with the team"), required=False)


class SavedReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=ANY_LANGUAGE)
    text = forms.CharField(
        label=_("Text"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Variables: {first_name}, {name}, {agent_name}, {channel}, {brand}."),
    )


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=KnowledgeArticle.Category.choices)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=ANY_LANGUAGE)
    body = forms.CharField(label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 10}))


DAY_LABELS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


class SettingsForm(forms.Form):
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    first_response_minutes = forms.IntegerField(
        label=_("First response target, in business minutes"), min_value=1, max_value=60 * 24 * 14
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One date a line, e.g. 2024-12-25."),
    )
    on_call = forms.ChoiceField(label=_("On-call person (urgent messages out of hours)"), required=False)
    auto_assign = forms.BooleanField(
        label=_("Assign new threads automatically (round robin by language and skills)"), required=False
    )

    def __init__(self, *args, members, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on_call"].choices = [("", _("Nobody"))] + [
            (str(m.user_id), m.user.get_full_name() or m.user.get_username()) for m in members
        ]
        for day, label in enumerate(DAY_LABELS):
            self.fields[f"day_{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                help_text=_("e.g. 09:00-12:30, 14:00-18:00; empty: closed"),
            )
        self.channel_fields = []
        for channel in channels:
            name = f"ack_{channel.pk}"
            self.fields[name] = forms.CharField(
                label=str(channel),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.channel_fields.append(name)

    @property
    def day_fields(self):
        return [self[f"day_{day}"] for day in range(7)]

    @property
    def ack_fields(self):
        return [self[name] for name in self.channel_fields]


class ProfileForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages I answer in"),
        required=False,
        choices=LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    skills = forms.MultipleChoiceField(
        label=_("What I handle"), required=False, choices=Intent.choices, widget=forms.CheckboxSelectMultiple
    )
    auto_assign = forms.BooleanField(label=_("Give me threads automatically"), required=False)
    sign_replies = forms.BooleanField(label=_("Sign my replies with my initials"), required=False)
