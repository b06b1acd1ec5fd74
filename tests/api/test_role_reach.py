"""What the read-only and outside roles can change through the API, listed exactly.

Every API operation that is not a GET is sent by an analyst (read-only: analytics, channels, items)
and by an agency guest (an outside agency: answers and drafts), with the smallest valid body, on
their own organisation's objects, each request rolled back. The operations they get a 2xx from
must be exactly the ones listed here: a new operation that forgets its permission check shows up
as an extra, and a change of the permission matrix must be written here on purpose.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from test_cross_org_routes import API_BODIES, PARAMETER, _example, _routes, _victim

from palabre.orgs.permissions import Role

pytestmark = pytest.mark.django_db

# Read-only checks (nothing stored) and what the matrix gives these roles on purpose.
CHECKS = {
    ("POST", "api/moderation/check"),
    ("POST", "api/moderation/items/<int:item_id>/report"),
    ("POST", "api/inbox/threads/<int:thread_id>/check"),
    ("POST", "api/listening/queries/preview"),
}
REACH = {
    # analytics.view: the report e-mails' recipients (docs/analytics.md)
    Role.ANALYST: CHECKS | {("DELETE", "api/analytics/report-recipients/<int:recipient_id>")},
    # inbox.reply and posts.draft: answering (taking threads for itself), drafts' comments; the
    # replies library is inbox.manage's (a guest uses it, the team manages it)
    Role.AGENCY_GUEST: CHECKS
    | {
        ("POST", "api/publishing/check"),
        ("POST", "api/publishing/posts/<int:post_id>/comments"),
        ("POST", "api/connectors/items/<int:item_id>/reply"),
        ("POST", "api/inbox/threads/<int:thread_id>/assign"),
        ("POST", "api/inbox/threads/<int:thread_id>/status"),
        ("POST", "api/inbox/threads/<int:thread_id>/notes"),
    },
}


# The schema's smallest example of an assignee is the user id 1, a member or nobody depending on
# which tests ran before in the process: the role assigns the thread to itself instead.
BODIES = {**API_BODIES, ("POST", "api/inbox/threads/<int:thread_id>/assign"): {"assignee": "me"}}


@pytest.mark.parametrize("role", list(REACH), ids=str)
def test_the_role_changes_only_what_is_listed(make_org, owner_of, make_member, client, settings, role):
    from palabre.api import api

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organisation = make_org("Maison Rôles", slug="maison-roles")
    ids = _victim(organisation, owner_of(organisation))
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    client.force_login(make_member(organisation, role).user)
    client.raise_request_exception = False
    reached, seen = set(), set()
    for route, _name, _entry in _routes():
        described = "/" + PARAMETER.sub(r"{\2}", route)
        if route in seen or described not in schema["paths"]:
            continue
        seen.add(route)
        path = "/" + PARAMETER.sub(lambda m: str(ids[m.group(2)]), route)
        for method, operation in schema["paths"][described].items():
            if method == "get":
                continue
            content = operation.get("requestBody", {}).get("content", {})
            body = BODIES.get((method.upper(), route)) or (
                _example(content["application/json"]["schema"], components)
                if "application/json" in content
                else {}
            )
            with transaction.atomic():
                if body == "multipart":
                    answer = client.post(path, {})
                else:
                    answer = client.generic(
                        method.upper(), path, json.dumps(body), content_type="application/json"
                    )
                transaction.set_rollback(True)
            assert answer.status_code < 500, (method, path, answer.status_code)
            if answer.status_code < 300:
                reached.add((method.upper(), route))
    assert reached == REACH[role]
