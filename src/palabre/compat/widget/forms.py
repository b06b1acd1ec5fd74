"""The comment form of the site widget: one Django form for the JSON endpoint and the page without
JavaScript, so both name the same fields with the same messages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palabre.moderation.models import ModerationSite

MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_TEXT_CHARS = 5000
MAX_PAGE_CHARS = 1000  # Item.url


class WidgetCommentForm(forms.Form):
    """What a reader sends. `form_token` and `page` are checked by the widget against the site."""

    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_NAME_CHARS,
        error_messages={
            "required": _("Give your name."),
            "max_length": _("Your name is too long: %(limit_value)d characters at most."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=MAX_EMAIL_CHARS,
        help_text=_("Never shown publicly."),
        error_messages={
            "required": _("Give your e-mail address (it is never shown)."),
            "invalid": _("This e-mail address looks wrong: check it (for example name@example.com)."),
            "max_length": _("This e-mail address is too long."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    text = forms.CharField(
        label=_("Comment"),
        max_length=MAX_TEXT_CHARS,
        error_messages={
            "required": _("Write your comment."),
            "max_length": _(
                "Your comment is %(show_value)d characters long; the limit is %(limit_value)d. "
                "Shorten it: your text is kept."
            ),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # The honeypot: hidden from people (see the templates), filled in by robots.
    website = forms.CharField(required=False, label=_("Leave this field empty"), strip=False)
    form_token = forms.CharField(required=False, widget=forms.HiddenInput)
    page = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, site: ModerationSite, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        # The server is the judge (and keeps the text on every error): no browser-side refusal.
        self.fields["text"].widget.attrs.pop("maxlength", None)
        self.seconds_to_submit: float | None = None
        self.token_expired = False

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_page(self) -> str:
        from palabre.compat.widget import comments as widget

        page = widget.clean_page(self.site, self.cleaned_data.get("page", ""))
        if page is None:
            raise forms.ValidationError(_("This page is not on the site %(site)s.") % {"site": self.site.url})
        return page

    def clean_form_token(self) -> str:
        from palabre.compat.widget import comments as widget

        token = self.cleaned_data.get("form_token", "")
        age = widget.form_token_age(self.site, token)
        if age is None:
            self.token_expired = True
            raise forms.ValidationError(
                _("This form is too old or incomplete. Send it again: your text is kept."), code="expired"
            )
        self.seconds_to_submit = age
        return token

    def claim_token(self) -> bool:
        """After is_valid(): the token serves this comment, or, already used, the form is refused."""
        from palabre.compat.widget import comments as widget

        if widget.claim_form_token(self.site, self.cleaned_data["form_token"]):
            return True
        self.token_expired = True
        self.add_error(
            "form_token",
            forms.ValidationError(
                _("This form was already sent once. Send it again: your text is kept."), code="used"
            ),
        )
        return False
