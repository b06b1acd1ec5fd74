"""Credentials typed by a person, checked against the connector's declared fields before they are
stored: an unknown or misspelled field, a missing one, a value of the wrong kind or an address
over plain HTTP is refused with the field named (`credentials.<field>`), never guessed around.

Plain `http://` is accepted only for a host the install lets Palabre reach although it is
internal (PALABRE_OUTBOUND_ALLOWED_HOSTS: an intranet server, a test server); everything else
must be `https://`, since the credentials travel with each request.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palabre.connectors import outbound
from palabre.connectors.base import Connector, CredentialField, FieldKind
from palabre.connectors.registry import connector_class_for


def key(name: str) -> str:
    """The error key of a credential field, as the API reports it."""
    return f"credentials.{name}"


def fields_for(platform: str) -> tuple[CredentialField, ...] | None:
    """The fields the platform's connector declares, or None where none are declared."""
    connector_class = connector_class_for(platform)
    return None if connector_class is None else connector_class.credential_fields


def plain_http_allowed(host: str) -> bool:
    allowance = outbound.allowance()
    if allowance.allows_name(host):
        return True
    try:
        return allowance.allows_address(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False


def _clean_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(_("Give the full address, starting with https:// (e.g. https://example.org)."))
    if parts.scheme == "http" and not plain_http_allowed(parts.hostname):
        raise ValidationError(
            _(
                "The address must start with https://: over plain http the credentials would travel unprotected."
            )
        )
    if parts.query or parts.fragment or parts.username:
        raise ValidationError(_("Give the server's address alone, without a query, fragment or login."))
    return value.rstrip("/")


def clean_value(field: CredentialField, value: Any) -> Any:
    """One typed value checked against its declared field (a credential or an option)."""
    if field.kind == FieldKind.INTEGER:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValidationError(_("Give a whole number.")) from None
        if not 1 <= number <= 65535:
            raise ValidationError(_("Give a number between 1 and 65535."))
        return number
    if not isinstance(value, str):
        raise ValidationError(_("Give a text value."))
    value = value.strip()
    if field.kind == FieldKind.URL:
        return _clean_url(value)
    if field.kind == FieldKind.CHOICE and value not in field.choices:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)})
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_for(connector_class: type[Connector], credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The credentials checked against the connector's fields and tidied (spaces stripped, numbers
    as numbers, addresses without a trailing slash); ValidationError naming each field otherwise."""
    if connector_class.credential_fields is None:
        return dict(credentials)
    fields = {field.name: field for field in connector_class.credential_fields}
    platform = connector_class.platform
    errors: dict[str, list[str]] = {}
    if not fields:
        if credentials:
            raise ValidationError(
                {"credentials": _("A %(platform)s channel takes no credentials.") % {"platform": platform}}
            )
        return {}
    expected = ", ".join(fields)
    cleaned: dict[str, Any] = {}
    for name, value in credentials.items():
        name = str(name)
        field = fields.get(name)
        if field is None:
            message = _("Unknown field “%(name)s” for %(platform)s (expected: %(expected)s).") % {
                "name": name,
                "platform": platform,
                "expected": expected,
            }
            close = difflib.get_close_matches(name, fields, n=1)
            if close:
                message += " " + _("Did you mean “%(close)s”?") % {"close": close[0]}
            errors.setdefault(key(name), []).append(message)
            continue
        if _blank(value):
            continue
        try:
            cleaned[name] = clean_value(field, value)
        except ValidationError as error:
            errors.setdefault(key(name), []).extend(f"{name}: {message}" for message in error.messages)
    for field in fields.values():
        if field.required and field.name not in cleaned and key(field.name) not in errors:
            message = _("The field “%(name)s” is required.") % {"name": field.name}
            if field.help:
                message += " " + str(field.help)
            errors.setdefault(key(field.name), []).append(message)
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean(platform: str, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """`clean_for` the platform's connector; credentials of a platform without one (or one that
    declares no fields) pass as they are."""
    connector_class = connector_class_for(platform)
    if connector_class is None:
        return dict(credentials)
    return clean_for(connector_class, credentials)


def schema(connector_class: type[Connector]) -> list[dict[str, Any]]:
    """The declared fields as plain data (for the API and the forms), in the active language."""
    return describe(connector_class.credential_fields or ())


def describe(fields: tuple[CredentialField, ...]) -> list[dict[str, Any]]:
    """Declared fields (credentials or options) as plain data, in the active language."""
    return [
        {
            "name": field.name,
            "label": str(field.label),
            "help": str(field.help),
            "kind": field.kind.value,
            "secret": field.secret,
            "required": field.required,
            "choices": list(field.choices),
        }
        for field in fields
    ]
