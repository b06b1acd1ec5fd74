"""Every route that names an object in its path, probed with another organisation's object.

The routes come from Django's resolver (pages and API alike), so a new route cannot forget the
check: a path parameter this file does not know fails the test until it is given a victim object
here (or a reason to be public, in PUBLIC_PARAMETERS).

For each route and method, the owner of organisation B (by session, and by an API token with every
scope) sends the ids of organisation A's objects. The answer must be the one a made-up id gets (same
status, same body for the API, same redirect and messages for a page: nothing confirms the object
exists), never a success, and none of A's rows may change. The same request on B's own object of
the same kind (rolled back) must be answered otherwise, so that each probe is known to reach the
lookup it tests (a form refused before the id is read would prove nothing), and never with a 5xx.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.django_db

MISSING_ID = 987_654_321

# Parameters that name no organisation's object, or objects public by design.
PUBLIC_PARAMETERS = {
    "public_id": "a site's widget and a channel's webhook answer the world: their id is their address",
    "code": "an invitation is reached by its secret code, by a person not yet a member",
    "commitment": "a contest's draw is published for anyone to verify",
    "rest": "the Perspective protocol's unknown paths",
    "fmt": "the report's format",
}

# Routes B's owner cannot use on B's own object either, so the probe shows nothing more there.
NOT_B_S_TO_REACH = {
    "programmes:ambassador_share": "only an ambassador shares a post",
    "member_report": "a removed member's report only (tests/ui/test_ui_access.py probes it)",
}

# Non-id parameters a route needs to reach its object (the action it asks of it).
ACTIONS = {
    "connectors:item_action": "hide",
    "programmes:contest_action": "close",
    "programmes:poll_action": "count",
    "programmes:idea_action": "status",
}

# Bodies the smallest schema example does not make valid.
API_BODIES = {
    ("POST", "api/moderation/items/<int:item_id>/review"): {"action": "approve"},
    ("POST", "api/publishing/posts/<int:post_id>/media"): "multipart",
}

PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(patterns=None, prefix="", namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def _methods(route: str, schema: dict) -> list[str]:
    """A page takes GET and POST; an API path, the methods its OpenAPI description lists."""
    if route.startswith("api/"):
        return sorted(method.upper() for method in schema["paths"]["/" + PARAMETER.sub(r"{\2}", route)])
    return ["GET", "POST"]


def _victim(organisation, owner) -> dict[str, int]:
    """One object of each kind a path names, in `organisation`, built through the services where
    they are cheap and as rows elsewhere."""
    from palabre.analytics.models import ReportRecipient
    from palabre.connectors.models import OutboundAction
    from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
    from palabre.inbox.models import Conversation, KnowledgeArticle, Reply, SavedReply, SavedView
    from palabre.listening.models import (
        AlertSubscription,
        CrisisAlert,
        CrisisMode,
        ListeningQuery,
        ListeningSource,
        Mention,
    )
    from palabre.moderation.models import ModerationRule, ModerationSite
    from palabre.moderation.services import review_item
    from palabre.orgs.models import Invitation
    from palabre.orgs.services import add_member, create_channel
    from palabre.programmes.models import Contest, ContestEntry, Idea, Poll
    from palabre.publishing.models import Campaign, Post, PostMedia, PostVariant

    palabre = Actor.palabre(organisation)
    now = timezone.now()
    channel = create_channel(
        actor=palabre, platform="site", handle=f"blog.{organisation.slug}.fr", name="Victim blog"
    )
    root, _created = ingest_item(
        channel=channel,
        incoming=IncomingItem(
            external_id="v-1",
            kind="comment",
            text="Victim's secret comment",
            created_at=now - timedelta(hours=2),
            author=IncomingAuthor(handle="victim-client", display_name="Victim Client"),
        ),
    )
    conversation, _made = Conversation.objects.get_or_create(
        organisation=organisation,
        root=root,
        defaults={"channel": channel, "last_activity_at": root.created_at},
    )
    member = add_member(actor=palabre, username=f"victim-cm-{organisation.pk}", role="moderator")
    query = ListeningQuery.objects.create(organisation=organisation, name="Victim query", query="victim")
    source = ListeningSource.objects.create(
        organisation=organisation,
        name="Victim source",
        kind="rss",
        config={"url": "https://victim.example/f"},
    )
    alert = CrisisAlert.objects.create(
        organisation=organisation,
        query=query,
        metric="volume",
        bucket_minutes=60,
        window_start=now - timedelta(hours=1),
        window_end=now,
        observed=40,
        expected=4,
        score=9,
    )
    post = Post.objects.create(organisation=organisation, title="Victim launch", created_by=owner)
    variant = PostVariant.objects.create(organisation=organisation, post=post, channel=channel, text="Soon")
    media = PostMedia.objects.create(
        organisation=organisation, post=post, variant=variant, mime_type="image/png"
    )
    media.file.save("victim.png", ContentFile(b"\x89PNG victim"), save=True)
    contest = Contest.objects.create(
        organisation=organisation,
        title="Victim contest",
        closes_at=now + timedelta(days=3),
        seed_ciphertext="x",
        commitment="0" * 64,
    )
    reply = Reply.objects.create(
        organisation=organisation,
        conversation=conversation,
        in_reply_to=root,
        text="Victim answer",
        idempotency_key=f"victim-{organisation.pk}",
    )
    return {
        "channel_id": channel.pk,
        "membership_id": member.pk,
        "invitation_id": Invitation.objects.create(
            organisation=organisation,
            email="new@victim.example",
            role="analyst",
            code_hash=f"victim-{organisation.pk}",
            expires_at=now + timedelta(days=7),
        ).pk,
        "token_id": create_api_token(
            actor=Actor.for_user(owner, organisation), name="Victim", scopes=["items.view"]
        )[0].pk,
        "item_id": root.pk,
        "thread_id": conversation.pk,
        "conversation_id": conversation.pk,
        "rule_id": ModerationRule.objects.create(
            organisation=organisation, kind="banned", pattern="victimword"
        ).pk,
        "site_id": ModerationSite.objects.create(
            organisation=organisation,
            channel=channel,
            name="Victim site",
            url="https://victim.example",
            api_key_hash=f"victim-{organisation.pk}",
            public_id=f"victim{organisation.pk}",
        ).pk,
        "action_id": OutboundAction.objects.create(
            organisation=organisation,
            channel=channel,
            kind="hide",
            idempotency_key=f"victim-{organisation.pk}",
        ).pk,
        "saved_id": SavedReply.objects.create(organisation=organisation, title="Victim saved", text="Hi").pk,
        "article_id": KnowledgeArticle.objects.create(
            organisation=organisation, title="Victim article", body="Body"
        ).pk,
        "view_id": SavedView.objects.create(organisation=organisation, owner=owner, name="Victim view").pk,
        "reply_id": reply.pk,
        "query_id": query.pk,
        "source_id": source.pk,
        "alert_id": alert.pk,
        "mention_id": Mention.objects.create(
            organisation=organisation, source=source, external_id="m-1", published_at=now, text="victim"
        ).pk,
        "subscription_id": AlertSubscription.objects.create(
            organisation=organisation, kind="email", target="crisis@victim.example"
        ).pk,
        "crisis_id": CrisisMode.objects.create(
            organisation=organisation, checklist=[{"text": "Victim step", "done": False}]
        ).pk,
        "index": 0,
        "post_id": post.pk,
        "variant_id": variant.pk,
        "media_id": media.pk,
        "recipient_id": ReportRecipient.objects.create(
            organisation=organisation, email="boss@victim.example", language="fr"
        ).pk,
        "contest_id": contest.pk,
        "entry_id": ContestEntry.objects.create(
            contest=contest, contact=root.contact, item=root, reference="victim-ref"
        ).pk,
        "poll_id": Poll.objects.create(
            organisation=organisation,
            post=root,
            question="Victim poll?",
            options=[{"label": "Oui"}, {"label": "Non"}],
            closes_at=now + timedelta(days=1),
        ).pk,
        "idea_id": Idea.objects.create(organisation=organisation, title="Victim idea").pk,
        # Named in bodies and query strings rather than paths:
        "contact_id": root.contact_id,
        "user_id": member.user_id,
        "campaign_id": Campaign.objects.create(
            organisation=organisation, name="Victim campaign", kind="promotion"
        ).pk,
        "decision_id": review_item(
            actor=Actor.for_user(owner, organisation), item_id=root.pk, action="reject"
        ).pk,
    }


def _organisation_rows(organisation) -> dict[str, list[dict]]:
    """Every row that belongs to the organisation, as plain values (to see that none changed)."""
    rows = {}
    for model in apps.get_models():
        if not model.__module__.startswith("palabre"):
            continue
        fields = {f.name for f in model._meta.concrete_fields}
        if "organisation" not in fields or model is AuditEvent:
            continue
        rows[model._meta.label] = sorted(
            (
                json.dumps(model_to_dict(row), default=str, sort_keys=True)
                for row in model.objects.filter(organisation=organisation)
            ),
        )
    return rows


@pytest.fixture
def attack(make_org, owner_of, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KEY_GUESS_LIMIT = 0
    victim_org = make_org("Alpha Victime", slug="alpha-victime")
    victim = _victim(victim_org, owner_of(victim_org))
    attacker_org = make_org("Bravo Attaque", slug="bravo-attaque")
    attacker = owner_of(attacker_org)
    own = _victim(attacker_org, attacker)  # B has objects of every kind too: its own ids work for it
    client.force_login(attacker)
    client.raise_request_exception = False
    _token, plaintext = create_api_token(
        actor=Actor.for_user(attacker, attacker_org), name="everything", scopes=[p.value for p in Perm]
    )
    return victim_org, victim, own, client, plaintext


def _url(route: str, name: str, values: dict[str, int]) -> str:
    def value(match):
        parameter = match.group(2)
        if parameter == "action":
            return ACTIONS[name]
        return str(values[parameter])

    return "/" + PARAMETER.sub(value, route)


def _example(schema: dict, components: dict):
    """The smallest valid value of an OpenAPI schema: its required fields, each a plain value."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _example(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        return {name: _example(schema["properties"][name], components) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return (timezone.now() + timedelta(days=2)).isoformat()
    if schema.get("format") == "email":
        return "someone@bravo.example"
    return "Bonjour, une réponse attentive."


# What a page's form may ask for: with these, the page reaches its object instead of refusing the
# form first (a probe that never looks the id up proves nothing).
FORM = {
    "action": "approve",
    "note": "Vu",
    "role": "analyst",
    "done": "1",
    "status": "closed",
    "text": "Bonjour, une réponse attentive.",
    "title": "Titre",
    "name": "Nom",
    "body": "Texte",
    "email": "someone@bravo.example",
    "language": "fr",
    "description": "Une image",
    "value": "positive",
    "field": "sentiment",
    "sentiment": "positive",
    "intent": "question",
    "kind": "banned",
    "pattern": "mot",
    "query": "marque",
    "reason": "Motif",
    "interval_minutes": "15",
}


def _send(client, method: str, url: str, api_body, credentials: dict):
    client.cookies.pop("messages", None)  # only what this request says
    send = getattr(client, method.lower())
    if api_body is None:
        return send(url, FORM) if method == "POST" else send(url)
    if method == "GET":
        return send(url, **credentials)
    if api_body == "multipart":
        upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n not quite", content_type="image/png")
        return send(url, {"file": upload}, **credentials)
    return send(url, json.dumps(api_body), content_type="application/json", **credentials)


def _answer(response) -> tuple:
    """What a caller learns from a response: its status, its JSON or the messages it leaves."""
    from django.contrib.messages import get_messages

    if response.get("Content-Type", "").startswith("application/json"):
        return response.status_code, response.json() if response.content else None
    said = [str(m) for m in get_messages(response.wsgi_request)] if hasattr(response, "wsgi_request") else []
    return response.status_code, response.get("Location", ""), said


def test_no_route_reaches_another_organisations_objects(attack):
    from palabre.api import api

    victim_org, victim, own, client, token = attack
    missing = {name: MISSING_ID for name in victim} | {"index": 0}
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    unknown, probed, not_found, vacuous, seen, probed_where = [], 0, 0, [], set(), []
    before_rows = _organisation_rows(victim_org)
    before_audit = AuditEvent.objects.filter(organisation=victim_org).count()
    for route, name, _entry in _routes():
        parameters = {m.group(2) for m in PARAMETER.finditer(route)} - set(PUBLIC_PARAMETERS) - {"action"}
        if not parameters or route in seen:  # ninja lists a path once per view of its methods
            continue
        seen.add(route)
        if parameters - set(victim):
            unknown.append((route, sorted(parameters - set(victim))))
            continue
        api_route = route.startswith("api/")
        for method in _methods(route, schema):
            body = None
            if api_route:
                operation = schema["paths"]["/" + PARAMETER.sub(r"{\2}", route)][method.lower()]
                content = operation.get("requestBody", {}).get("content", {})
                body = API_BODIES.get((method, route)) or (
                    _example(content["application/json"]["schema"], components)
                    if "application/json" in content
                    else {}
                )
            for credentials in ({}, {"HTTP_AUTHORIZATION": f"Bearer {token}"}) if api_route else ({},):
                where = f"{method} {_url(route, name, victim)} ({'token' if credentials else 'session'})"
                answer = _answer(_send(client, method, _url(route, name, victim), body, credentials))
                baseline = _answer(_send(client, method, _url(route, name, missing), body, credentials))
                probed += 1
                probed_where.append(where)
                assert answer == baseline, (where, answer, baseline)
                assert answer[0] >= 300, where
                not_found += answer[0] == 404
                # The same request on B's own object, undone afterwards: it must be answered
                # otherwise, or the probe never looked the id up and proves nothing.
                with transaction.atomic():
                    mine = _answer(_send(client, method, _url(route, name, own), body, credentials))
                    transaction.set_rollback(True)
                assert mine[0] < 500, (where, "on B's own object", mine)
                if mine == baseline and mine[0] != 405 and name not in NOT_B_S_TO_REACH:
                    vacuous.append((where, mine))
    assert unknown == [], "routes naming objects this test does not know (add a victim object)"
    assert _organisation_rows(victim_org) == before_rows
    assert AuditEvent.objects.filter(organisation=victim_org).count() == before_audit
    assert vacuous == [], "probes that never reached B's own object either:\n" + "\n".join(
        str(v)[:200] for v in vacuous
    )
    api_probes = sum(1 for where in probed_where if where.split()[1].startswith("/api/"))
    assert probed > 250 and api_probes > 100 and not_found > 200, (probed, api_probes, not_found)


# Ids of A's objects written in a body or a query string: (method, path with B's own ids, the body
# or query with the ids tried). The answer must be the one a made-up id gets.
BODY_IDS = [
    ("GET", lambda b: "/api/items", lambda v: {"channel": v["channel_id"]}),
    ("GET", lambda b: "/api/items", lambda v: {"contact": v["contact_id"]}),
    ("GET", lambda b: "/api/items", lambda v: {"thread": v["item_id"]}),
    ("GET", lambda b: "/api/moderation/queue", lambda v: {"channel": v["channel_id"]}),
    ("GET", lambda b: "/api/listening/mentions", lambda v: {"query": v["query_id"]}),
    ("GET", lambda b: "/api/listening/mentions", lambda v: {"source": v["source_id"]}),
    ("GET", lambda b: "/api/connectors/outbox", lambda v: {"channel": v["channel_id"]}),
    (
        "POST",
        lambda b: "/api/items/ingest",
        lambda v: {
            "channel_id": v["channel_id"],
            "items": [
                {
                    "external_id": "x-1",
                    "kind": "comment",
                    "text": "Injected",
                    "created_at": "2024-05-06T10:00:00Z",
                }
            ],
        },
    ),
    (
        "POST",
        lambda b: "/api/contacts/merge",
        lambda v: {"target": v["contact_id"], "sources": [v["contact_id"]]},
    ),
    (
        "POST",
        lambda b: "/api/contacts/merge",
        lambda v: {"target": v["own_contact"], "sources": [v["contact_id"]]},
    ),
    (
        "POST",
        lambda b: "/api/publishing/posts",
        lambda v: {"title": "Mine", "variants": [{"channel": v["channel_id"], "text": "Hello"}]},
    ),
    (
        "POST",
        lambda b: "/api/publishing/posts",
        lambda v: {
            "title": "Mine",
            "campaign": v["campaign_id"],
            "variants": [{"channel": v["own_channel"]}],
        },
    ),
    ("POST", lambda b: "/api/publishing/check", lambda v: {"text": "Bonjour", "channel": v["channel_id"]}),
    ("POST", lambda b: "/api/inbox/threads/bulk", lambda v: {"action": "close", "ids": [v["thread_id"]]}),
    (
        "POST",
        lambda b: "/api/inbox/threads/bulk",
        lambda v: {"action": "assign", "ids": [v["own_thread"]], "value": v["user_id"]},
    ),
    (
        "POST",
        lambda b: "/api/inbox/threads/bulk/restore",
        lambda v: {"field": "status", "values": {str(v["thread_id"]): "closed"}},
    ),
    ("POST", lambda b: f"/api/inbox/threads/{b['thread_id']}/assign", lambda v: {"assignee": v["user_id"]}),
    (
        "POST",
        lambda b: f"/api/inbox/threads/{b['thread_id']}/replies",
        lambda v: {"text": "Bonjour Victime, voici la réponse précise.", "saved_reply_id": v["saved_id"]},
    ),
    (
        "POST",
        lambda b: "/api/analytics/report-recipients",
        lambda v: {"member": v["user_id"], "language": "fr"},
    ),
    ("POST", lambda b: "/api/listening/crisis", lambda v: {"on": True, "alert_id": v["alert_id"]}),
    (
        "POST",
        lambda b: f"/api/moderation/items/{b['item_id']}/undo",
        lambda v: {"decision_id": v["decision_id"]},
    ),
    ("DELETE", lambda b: f"/api/members/{b['membership_id']}", lambda v: {"successor": v["membership_id"]}),
]


def test_ids_in_bodies_and_queries_reach_nothing_of_another_organisation(attack):
    victim_org, victim, own, client, token = attack
    missing = dict.fromkeys(victim, MISSING_ID)
    mine = {
        "own_contact": own["contact_id"],
        "own_channel": own["channel_id"],
        "own_thread": own["thread_id"],
    }
    before_rows = _organisation_rows(victim_org)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    vacuous = []
    for method, path, data in BODY_IDS:
        answers = []
        for ids in (victim | mine, missing | mine, own | mine):
            with transaction.atomic():
                if method == "GET":
                    response = client.get(path(own), data(ids), **bearer)
                elif method == "DELETE":
                    response = client.delete(f"{path(own)}?successor={data(ids)['successor']}", **bearer)
                else:
                    body = json.dumps(data(ids))
                    response = client.generic(
                        method, path(own), body, content_type="application/json", **bearer
                    )
                answers.append((response.status_code, response.json()))
                transaction.set_rollback(True)
        foreign, made_up, on_own = answers
        where = (method, path(own), data(victim | mine))
        assert foreign == made_up, (where, foreign, made_up)
        assert foreign[0] >= 400 or method == "GET", (where, foreign)
        if method == "GET":
            listed = foreign[1]["items"] if isinstance(foreign[1], dict) else foreign[1]
            assert foreign[0] == 200 and listed == [], (where, foreign)
        elif on_own == made_up:
            vacuous.append((where, on_own))
    assert _organisation_rows(victim_org) == before_rows
    assert vacuous == [], "cases that never reached B's own objects either"


def test_no_list_shows_another_organisations_objects(attack):
    """Every page and API path without an id (lists, dashboards, exports), read by B's owner,
    names none of A's objects."""
    from palabre.api import api

    victim_org, _victim_ids, _own, client, token = attack
    schema = api.get_openapi_schema()
    marks = ("alpha-victime", "Alpha Victime", f"victim-cm-{victim_org.pk}", f"victim{victim_org.pk}")
    read, leaks = 0, []
    for route, _name, _entry in _routes():
        if "<" in route or route.startswith(("logout", "1.", "v1alpha1", "$", "^v1", "i18n")):
            continue
        if route.startswith("api/"):
            if "get" not in schema["paths"].get("/" + route, {}):
                continue
            answer = client.get("/" + route, HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            answer = client.get("/" + route.replace("^", "").replace("$", "").replace("\\.", "."))
        read += 1
        content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        text = content.decode(errors="replace")
        leaks += [(route, mark) for mark in marks if mark in text]
    for fmt in ("csv", "html"):
        text = client.get(f"/analytics/report.{fmt}").content.decode(errors="replace")
        leaks += [(f"report.{fmt}", mark) for mark in marks if mark in text]
    assert leaks == []
    assert read > 60
