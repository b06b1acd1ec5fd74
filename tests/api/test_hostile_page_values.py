"""Every page, sent hostile values in every field it may read, answers without a server error and
stores no NUL character (PostgreSQL refuses NUL in text: a server error there).

The pages come from Django's resolver, with the objects of tests/api/test_cross_org_routes.py; each
is asked POST with the values in its form (and GET with them in its query string when it lists and
filters), each request rolled back. This is how the `next` and 64-bit id findings were made; it keeps new pages honest.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from test_cross_org_routes import ACTIONS, FORM, PARAMETER, _organisation_rows, _routes, _victim

from palabre.storable import MAX_ROW_ID

pytestmark = pytest.mark.django_db

FIELDS = sorted(
    set(FORM)
    | set(
        [
            "q",
            "source",
            "channel",
            "channels",
            "campaign",
            "status",
            "assignee",
            "assign_to",
            "sentiment",
            "language",
            "cursor",
            "page",
            "from",
            "to",
            "sort",
            "tag",
            "tab",
            "member",
            "days",
            "limit",
            "priority",
            "period",
            "next",
            "ids",
            "items",
            "value",
            "url",
            "feed_url",
            "handle",
            "platform",
            "target",
            "when",
            "scheduled_at",
            "date",
            "time",
            "tags",
            "question",
            "closes_at",
            "winners_wanted",
            "posts",
            "post",
            "category",
            "successor",
            "frequency",
            "weekly",
            "monthly",
            "origin",
            "allowed_origins",
            "interval",
            "config",
            "since",
            "until",
            "contact",
            "thread",
            "organisation",
            "decision",
        ]
    )
)
# A word with a NUL in it (no number, no storable text) and a number beyond 64 bits.
VALUES = ["x\x00y", str(MAX_ROW_ID * 10)]
# Paths of the protocols (their own tests), of signing in and out, of the machines.
SKIPPED = (
    "api/",
    "1.",
    "v1alpha1",
    "$",
    "^v1",
    "widget/",
    "i18n/",
    "login/",
    "logout/",
    "healthz",
    "readyz",
    "metrics",
)


def test_no_page_fails_on_hostile_values(make_org, owner_of, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organisation = make_org("Alpha Hostile", slug="alpha-hostile")
    owner = owner_of(organisation)
    ids = _victim(organisation, owner)
    client.force_login(owner)
    client.raise_request_exception = False
    failures, pages = [], 0
    for route, name, _entry in _routes():
        if route.startswith(SKIPPED):
            continue
        pages += 1

        def value(match, name=name):
            if match.group(2) == "action":
                return ACTIONS.get(name, "x")
            if match.group(2) == "fmt":
                return "csv"
            return str(ids.get(match.group(2), 1))

        url = "/" + PARAMETER.sub(value, route.replace("^", "").replace("\\.", ".").replace("$", ""))
        url = re.sub(r"\(\?P<fmt>[^)]*\)", "csv", url)
        for hostile in VALUES:
            # Query strings are read by the pages that list and filter (no id in their path).
            for method in ("get", "post") if "<" not in route and hostile == VALUES[0] else ("post",):
                with transaction.atomic():
                    answer = getattr(client, method)(url, dict.fromkeys(FIELDS, hostile))
                    if answer.status_code >= 500:
                        failures.append((method, url, hostile, answer.status_code))
                    if "\x00" in hostile and method == "post":
                        stored = [
                            label
                            for label, rows in _organisation_rows(organisation).items()
                            if any("\\u0000" in row for row in rows)
                        ]
                        if stored:
                            failures.append((method, url, "NUL stored in", stored))
                    transaction.set_rollback(True)
    assert failures == [], "\n".join(map(str, failures))
    assert pages > 100
