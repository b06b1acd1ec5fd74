"""Forms of the organisation pages. They shape input; the services decide and write."""

from __future__ import annotations

import json
from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre import hooks
from palabre.orgs.models import Channel, Platform
from palabre.orgs.permissions import PERM_LABELS, ROLE_LABELS, Perm, Role
from palabre.orgs.queries import AuditFilter
from palabre.storable import MAX_ROW_ID


def apply_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError next to the fields it names, the rest above the form.

    `aliases` maps a service's argument name to the form field that carries it.
    """
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            field = aliases.get(name, name)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class RowIdsChoiceField(forms.ModelMultipleChoiceField):
    """Several rows chosen by id; an id beyond a row id's 64 bits is an unknown choice (Django's
    field would hand it to the database, which cannot bind it: a server error)."""

    def _check_values(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            text = str(pk).strip()
            if text.isdigit() and int(text) > MAX_ROW_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


def role_choices(roles: list[str]) -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[Role(role)]) for role in roles]


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and dashes; made from the name when left empty."),
    )


# --- channels ---------------------------------------------------------------------------------


class ChannelCreateForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    handle = forms.CharField(
        label=_("Handle"),
        max_length=200,
        help_text=_("The account name, address or URL on the platform."),
    )
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("How the team calls this channel."))
    spokesperson = forms.BooleanField(
        label=_("This is my own personal account (spokesperson)"),
        required=False,
        help_text=_(
            "A personal account speaks for the brand only once an owner has approved it; "
            "until then it stays inactive."
        ),
    )


class ChannelEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    handle = forms.CharField(label=_("Handle"), max_length=200)
    status = forms.ChoiceField(label=_("Status"))

    def __init__(self, *args, channel: Channel, **kwargs):
        kwargs.setdefault(
            "initial", {"name": channel.name, "handle": channel.handle, "status": channel.status}
        )
        super().__init__(*args, **kwargs)
        statuses = Channel.Status.choices
        if channel.status != Channel.Status.AWAITING_APPROVAL:
            # Only a new spokesperson channel waits for approval; no one puts a channel back there.
            statuses = [(v, label) for v, label in statuses if v != Channel.Status.AWAITING_APPROVAL]
        self.fields["status"].choices = statuses


CREDENTIAL_ROWS = 4


def credential_fields(platform: str) -> list[dict] | None:
    """The platform's connector's credential fields as plain dicts (name, label, help, kind, secret,
    required, choices), or None where none are declared: told by the connectors app through the
    `credential_fields` hook (orgs cannot import it)."""
    return hooks.hook.credential_fields(platform=platform)


def field_name(credential: str) -> str:
    """The form field that carries a declared credential."""
    return f"credential_{credential}"


class CredentialsForm(forms.Form):
    """Write-only: credentials are typed here and never shown again, not even their names' values.

    With `declared` (the platform's fields), one form field per declared credential, labelled and
    explained; otherwise free name/value rows. A JSON box takes the place of either."""

    credentials_json = forms.CharField(
        label=_("Credentials as JSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_('An object, e.g. {"access_token": "…"}. Takes the place of the fields above.'),
    )

    def __init__(self, *args, declared: list[dict] | None = None, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.declared = declared
        # On a new channel the credentials may come later (or the platform takes none).
        self.optional = optional
        if declared is not None:
            for spec in declared:
                field = self._declared_field(spec)
                field.credential_required = spec["required"]  # shown without "(optional)"
                self.fields[field_name(spec["name"])] = field
            self.order_fields([field_name(spec["name"]) for spec in declared])
            return
        for row in range(1, CREDENTIAL_ROWS + 1):
            self.fields[f"key_{row}"] = forms.CharField(
                label=_("Field name"),
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )
            self.fields[f"value_{row}"] = forms.CharField(
                label=_("Value"),
                required=False,
                max_length=4000,
                strip=False,
                # Kept masked when the form comes back with an error, so nothing is typed twice.
                widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
            )
        # The JSON box comes last on the page.
        self.order_fields([*(f"{p}_{r}" for r in range(1, CREDENTIAL_ROWS + 1) for p in ("key", "value"))])

    @staticmethod
    def _declared_field(spec: dict) -> forms.Field:
        label = f"{spec['label']} ({spec['name']})"
        # Not required here: the JSON box may carry it; the service names a missing one.
        options = {"label": label, "help_text": spec["help"], "required": False}
        if spec["kind"] == "choice":
            return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in spec["choices"])], **options)
        if spec["secret"]:
            # Kept masked when the form comes back with an error, so nothing is typed twice.
            widget = forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"})
            return forms.CharField(max_length=4000, strip=False, widget=widget, **options)
        attrs = {"autocomplete": "off", "spellcheck": "false"}
        if spec["kind"] == "url":
            attrs["placeholder"] = "https://"
        return forms.CharField(max_length=4000, widget=forms.TextInput(attrs=attrs), **options)

    def typed_fields(self):
        return [self[field_name(spec["name"])] for spec in self.declared or ()]

    def aliases(self) -> dict[str, str]:
        """Where the service's errors go: `credentials.<name>` next to its field."""
        aliases = {"credentials": "credentials_json"}
        for spec in self.declared or ():
            aliases[f"credentials.{spec['name']}"] = field_name(spec["name"])
        return aliases

    def rows(self):
        if self.declared is not None:
            return []
        return [(self[f"key_{r}"], self[f"value_{r}"]) for r in range(1, CREDENTIAL_ROWS + 1)]

    def clean(self):
        cleaned = super().clean()
        raw = (cleaned.get("credentials_json") or "").strip()
        if raw:
            try:
                credentials = json.loads(raw)
            except ValueError:
                self.add_error("credentials_json", _("This is not valid JSON."))
                return cleaned
            if not isinstance(credentials, dict) or not credentials:
                self.add_error("credentials_json", _("Give a JSON object with at least one field."))
                return cleaned
        elif self.declared is not None:
            credentials = {}
            for spec in self.declared:
                value = cleaned.get(field_name(spec["name"])) or ""
                if value.strip():
                    credentials[spec["name"]] = value
            if not credentials and not self.errors and not self.optional:
                raise ValidationError(_("Give at least one credential field."))
        else:
            credentials = {}
            for row in range(1, CREDENTIAL_ROWS + 1):
                key = (cleaned.get(f"key_{row}") or "").strip()
                value = cleaned.get(f"value_{row}") or ""
                if key and not value:
                    self.add_error(f"value_{row}", _("Give a value for this field."))
                elif value and not key:
                    self.add_error(f"key_{row}", _("Name this field."))
                elif key in credentials:
                    self.add_error(f"key_{row}", _("This field name is given twice."))
                elif key:
                    credentials[key] = value
            if not credentials and not self.errors and not self.optional:
                raise ValidationError(_("Give at least one credential field."))
        cleaned["credentials"] = credentials
        return cleaned


# --- members ----------------------------------------------------------------------------------


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("The invitation goes to this address; the person joins once they accept it."),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)
        self.fields["role"].initial = Role.CONTRIBUTOR.value


class InvitationCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Invitation code"),
        max_length=100,
        # The characters of a code (URL-safe base64); anything else cannot open an invitation.
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", _("This invitation code is not valid."))],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class JoinForm(forms.Form):
    """A new account, created through an invitation."""

    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)


# --- audit ------------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label=_("Who"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search…")}),
    )

    def __init__(self, *args, facets: dict[str, list[str]], action_labels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        anyone = [("", _("Anyone"))]
        self.fields["actor"].choices = anyone + [(v, v) for v in facets["actor_label"]]
        self.fields["action"].choices = [("", _("Any action"))] + [
            (v, action_labels.get(v, v)) for v in facets["action"]
        ]
        self.fields["target_type"].choices = [("", _("Any target"))] + [(v, v) for v in facets["target_type"]]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def as_filter(self) -> AuditFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilter(
            actor=data.get("actor", ""),
            action=data.get("action", ""),
            target_type=data.get("target_type", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            text=(data.get("q") or "").strip(),
        )


# --- API tokens -------------------------------------------------------------------------------


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, help_text=_("Name it after what uses it, e.g. “Blog comments”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A token can do at most what you can do."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. The token stops working at the end of this day."),
    )

    def __init__(self, *args, scopes: list[Perm], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(p.value, f"{PERM_LABELS[p]} ({p.value})") for p in scopes]

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))
