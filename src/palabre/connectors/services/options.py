"""A channel's options: the settings its connector declares (`Connector.option_fields`) and keeps
in `channel.options`, changed by an organisation's admin on the channel's Options page. What is
typed is checked against the declared field (a choice among its choices, an address, a number)
and refused with the field named (`options.<name>`); an empty value goes back to the connector's
default. Options a connector keeps for itself (the moderation policy, an instance's length limit)
are left as they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palabre.connectors.base import CredentialField
from palabre.connectors.credentials import clean_value
from palabre.connectors.registry import connector_class_for
from palabre.connectors.services.pacing import _same_org
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record


def option_fields(channel: Channel) -> tuple[CredentialField, ...]:
    connector_class = connector_class_for(channel.platform)
    return connector_class.option_fields if connector_class is not None else ()


def key(name: str) -> str:
    """The error key of an option, as the page and the API report it."""
    return f"options.{name}"


def options_of(channel: Channel) -> dict[str, Any]:
    """The declared options' current values (those never set are left out)."""
    stored = channel.options or {}
    return {field.name: stored[field.name] for field in option_fields(channel) if field.name in stored}


@transaction.atomic
def update_channel_options(*, actor: Actor, channel: Channel, values: Mapping[str, Any]) -> Channel:
    """An admin sets the channel's options: each value checked against its declared field; an
    unknown name, a choice not offered or a malformed value is refused, naming the field."""
    actor.require(Perm.ORG_MANAGE)
    _same_org(actor, channel.organisation_id)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    fields = {field.name: field for field in option_fields(channel)}
    errors: dict[str, list[str]] = {}
    changed: dict[str, Any] = {}
    for name, value in values.items():
        field = fields.get(str(name))
        if field is None:
            errors.setdefault(key(str(name)), []).append(
                _("Unknown option “%(name)s” for this channel (it has: %(expected)s).")
                % {"name": name, "expected": ", ".join(fields) or "—"}
            )
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            changed[field.name] = None
            continue
        try:
            changed[field.name] = clean_value(field, value)
        except ValidationError as error:
            errors.setdefault(key(field.name), []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    before = options_of(channel)
    options = dict(channel.options or {})
    for name, value in changed.items():
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
    channel.options = options
    channel.save(update_fields=["options"])
    after = options_of(channel)
    if after != before:
        record(actor, "connectors.options_updated", channel, before=before, after=after)
    return channel
