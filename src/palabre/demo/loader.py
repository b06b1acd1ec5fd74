"""Build the demo organisations from the JSON files of this package, through the real services.

The texts are dated relative to the moment of loading, so the demo always looks fresh:
an item says either `"ago": "2h15m"` (today's items) or `"at": "3 20:15"` (3 days ago at 20:15,
in the organisation's time zone, so that evenings, nights and business hours look like them).
Loading is deterministic: the same files give the same organisations, people, channels and items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from palabre import hooks
from palabre.conversations.models import ContactHandle
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item, merge_contacts
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.permissions import ROLE_LABELS, Role
from palabre.orgs.services import (
    Actor,
    add_member,
    approve_spokesperson_channel,
    create_channel,
    create_organisation,
)

DEMO_PASSWORD = "palabre-demo"
DATA_DIR = Path(__file__).resolve().parent
BRAND_AUTHOR = "@brand"

_AGO = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_AT = re.compile(r"^(\d+) (\d{1,2}):(\d{2})$")


# Capabilities add their part of the demo (saved replies, listening queries, drafts...) through the
# `demo_extensions` hook: `extension(organisation, people, channels, now)` runs after the
# organisation's conversations are loaded, in the same transaction, in this order (an extension
# this table does not name runs after them, by its own order).
DemoExtension = Callable[[Organisation, dict[str, Any], dict[str, Channel], datetime], None]
ORDER: dict[str, int] = {"inbox": 10, "listening": 20, "publishing": 30}


def demo_extensions() -> list[DemoExtension]:
    return [contribution.value for contribution in hooks.ordered(hooks.hook.demo_extensions())]


class DemoError(RuntimeError):
    """The demo cannot be loaded here (already loaded, or a data file is inconsistent)."""


@cache
def read_data(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def demo_spec() -> dict[str, Any]:
    return read_data("organisations.json")


# --- dates ------------------------------------------------------------------------------------


def when(spec: dict[str, Any], *, now: datetime, zone: ZoneInfo) -> datetime:
    """The creation time an item's `ago` or `at` field stands for, relative to `now`."""
    if "ago" in spec:
        match = _AGO.match(spec["ago"])
        if not match or not any(match.groups()):
            raise DemoError(f"{spec['id']}: cannot read ago={spec['ago']!r}")
        days, hours, minutes = (int(g or 0) for g in match.groups())
        return now - timedelta(days=days, hours=hours, minutes=minutes)
    match = _AT.match(spec.get("at", ""))
    if not match:
        raise DemoError(f"{spec['id']}: needs `ago` or `at` ('<days ago> HH:MM')")
    days, hour, minute = (int(g) for g in match.groups())
    if days < 1:
        raise DemoError(f"{spec['id']}: `at` is for earlier days; use `ago` for today")
    day = now.astimezone(zone).date() - timedelta(days=days)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


# --- people, organisations, channels ----------------------------------------------------------


def _create_person(spec: dict[str, Any]) -> AbstractBaseUser:
    # Django's own account creation: the membership itself goes through add_member (Palabre's set-up).
    return get_user_model().objects.create_user(
        username=spec["username"],
        email=spec["email"],
        password=DEMO_PASSWORD,
        first_name=spec["first_name"],
        last_name=spec["last_name"],
    )


@dataclass
class _Loaded:
    organisation: Organisation
    channels: dict[str, Channel]
    items: int


def _connect_channels(
    org_spec: dict[str, Any], organisation: Organisation, people: dict[str, AbstractBaseUser]
) -> dict[str, Channel]:
    owner_actor = Actor.for_user(people[org_spec["owner"]], organisation)
    channels = {}
    for spec in org_spec["channels"]:
        actor = Actor.for_user(people[spec["connected_by"]], organisation)
        channel = create_channel(
            actor=actor,
            platform=spec["platform"],
            handle=spec["handle"],
            name=spec["name"],
            credentials=spec.get("credentials"),
            spokesperson=spec.get("spokesperson", False),
        )
        if spec.get("spokesperson"):
            channel = approve_spokesperson_channel(actor=owner_actor, channel=channel)
        channels[spec["key"]] = channel
    return channels


def _incoming(
    spec: dict[str, Any], channel: Channel, channel_spec: dict[str, Any], authors: dict, created_at: datetime
) -> IncomingItem:
    handle = spec["by"]
    if handle == BRAND_AUTHOR:
        author = IncomingAuthor(handle=channel.handle, display_name=channel.name)
    else:
        name, followers = (authors.get(handle, []) + [None, None])[:2]
        profile = channel_spec.get("profile_url", "")
        author = IncomingAuthor(
            handle=handle,
            display_name=name or handle,
            profile_url=profile.format(handle=handle.lstrip("@")) if profile else "",
            followers=followers,
        )
    url = spec.get("url")
    if url is None:
        template = channel_spec.get("item_url", "")
        url = template.format(id=spec["id"]) if template else ""
    return IncomingItem(
        external_id=spec["id"],
        kind=spec.get("kind", ""),
        text=spec["text"],
        created_at=created_at,
        author=author,
        url=url,
        parent_external_id=spec.get("re", ""),
        metrics=spec.get("m", {}),
        # What the demo's author meant: kept beside the item, so analysers can be checked against it.
        raw={"demo": {"topic": spec.get("topic", ""), "lang": spec.get("lang", "fr")}},
    )


def demo_items(org_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of an organisation, file defaults applied, in file order (for loading and tests)."""
    items = []
    for name in org_spec["item_files"]:
        data = read_data(name)
        defaults = data.get("defaults", {})
        for spec in data["items"]:
            items.append({**defaults, **spec, "_authors": data.get("authors", {}), "_file": name})
    return items


def _ingest_items(
    org_spec: dict[str, Any], organisation: Organisation, channels: dict[str, Channel], now: datetime
) -> int:
    zone = ZoneInfo(organisation.time_zone)
    channel_specs = {c["key"]: c for c in org_spec["channels"]}
    planned: list[tuple[datetime, int, dict[str, Any]]] = []
    created_at_by_id: dict[tuple[str, str], datetime] = {}
    for index, spec in enumerate(demo_items(org_spec)):
        if spec.get("ch") not in channels:
            raise DemoError(f"{spec['_file']}: {spec['id']}: unknown channel {spec.get('ch')!r}")
        key = (spec["ch"], spec["id"])
        if key in created_at_by_id:
            raise DemoError(f"{spec['_file']}: {spec['id']}: duplicate id")
        created_at = when(spec, now=now, zone=zone)
        parent = spec.get("re")
        if parent:
            if (spec["ch"], parent) not in created_at_by_id:
                raise DemoError(f"{spec['_file']}: {spec['id']}: parent {parent!r} must come earlier")
            # An answer always follows what it answers, whatever the time of day the demo loads at.
            created_at = max(created_at, created_at_by_id[(spec["ch"], parent)] + timedelta(minutes=2))
        created_at = min(created_at, now)
        created_at_by_id[key] = created_at
        planned.append((created_at, index, spec))
    # Oldest first, as connectors would have delivered them.
    for created_at, _index, spec in sorted(planned, key=lambda p: (p[0], p[1])):
        channel = channels[spec["ch"]]
        incoming = _incoming(spec, channel, channel_specs[spec["ch"]], spec["_authors"], created_at)
        ingest_item(channel=channel, incoming=incoming)
    return len(planned)


def _merge_contacts(org_spec: dict[str, Any], organisation: Organisation, people: dict) -> None:
    """People the team already recognised as one person across channels."""
    for merge in org_spec.get("merges", []):
        actor = Actor.for_user(people[merge["by"]], organisation)
        contacts = []
        for platform, handle in merge["handles"]:
            found = ContactHandle.objects.select_related("contact").get(
                organisation=organisation, platform=platform, handle=handle
            )
            contacts.append(found.contact)
        merge_contacts(actor=actor, target=contacts[0], sources=contacts[1:])


def _load_organisation(org_spec: dict[str, Any], people: dict, now: datetime) -> _Loaded:
    owner = people[org_spec["owner"]]
    organisation = create_organisation(name=org_spec["name"], owner=owner, slug=org_spec["slug"])
    # Set-up by Palabre itself: in use, people join by accepting an invitation.
    palabre = Actor.palabre(organisation)
    for username, role in org_spec["members"].items():
        person = people[username]
        add_member(actor=palabre, username=username, role=role, email=person.email)
    channels = _connect_channels(org_spec, organisation, people)
    count = _ingest_items(org_spec, organisation, channels, now)
    _merge_contacts(org_spec, organisation, people)
    for extension in demo_extensions():
        extension(organisation, people, channels, now)
    return _Loaded(organisation=organisation, channels=channels, items=count)


def _logins(spec: dict[str, Any]) -> list[tuple[str, str]]:
    roles: dict[str, list[tuple[str, str]]] = {}
    for org_spec in spec["organisations"]:
        roles.setdefault(org_spec["owner"], []).append((org_spec["name"], Role.OWNER))
        for username, role in org_spec["members"].items():
            roles.setdefault(username, []).append((org_spec["name"], role))
    brand = spec["organisations"][0]["name"]
    logins = []
    for person in spec["people"]:
        held = roles.get(person["username"], [])
        main = [str(ROLE_LABELS[Role(role)]) for org, role in held if org == brand]
        others = [f"{ROLE_LABELS[Role(role)]} @ {org}" for org, role in held if org != brand]
        label = ", ".join(main + others)
        logins.append((person["username"], f"{label} ({person['first_name']} {person['last_name']})"))
    return logins


def load_demo(*, now: datetime | None = None) -> dict[str, Any]:
    """Create the demo people, organisations, channels and conversations in an empty database.

    Returns {"organisation": the brand's name, "items": its item count, "logins": [(username, label)],
    "organisations": {name: item count}}. Analysis tasks are enqueued as items are ingested.
    """
    spec = demo_spec()
    now = now or timezone.now()
    slugs = [o["slug"] for o in spec["organisations"]]
    usernames = [p["username"] for p in spec["people"]]
    if Organisation.objects.filter(slug__in=slugs).exists():
        raise DemoError("The demo is already loaded in this database; start from an empty one.")
    if get_user_model().objects.filter(username__in=usernames).exists():
        raise DemoError("Some demo user names are taken in this database; start from an empty one.")
    with transaction.atomic():
        people = {p["username"]: _create_person(p) for p in spec["people"]}
        loaded = [_load_organisation(org_spec, people, now) for org_spec in spec["organisations"]]
    brand = loaded[0]
    return {
        "organisation": brand.organisation.name,
        "items": brand.items,
        "logins": _logins(spec),
        "organisations": {entry.organisation.name: entry.items for entry in loaded},
    }
