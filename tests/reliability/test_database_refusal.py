"""The database refuses to write (read-only, disk full): the APIs answer their documented errors.

SQLite's `query_only` pragma makes the very connection the request uses refuse every write with
"attempt to write a readonly database", as a read-only file or a full disk would; on PostgreSQL,
`transaction_read_only` does the same.
"""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from palabre.compat.models import CheckedComment
from palabre.conversations.models import Item
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_api_token

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's query_only pragma stands for a read-only database"
)

SITE_URL = "https://blog.maison-dupont.fr/"


@contextlib.contextmanager
def database_refusing_writes():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


@sqlite_only
def test_comment_check_answers_503_and_keeps_nothing_when_the_database_refuses(client, org):
    _site, key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url=SITE_URL)
    comment = {
        "api_key": key,
        "blog": SITE_URL,
        "user_ip": "203.0.113.7",
        "comment_type": "comment",
        "comment_author": "Camille",
        "comment_content": "Merci pour la recette de la tarte, elle était parfaite !",
    }
    client.post("/1.1/verify-key", {"key": key, "blog": SITE_URL})  # the key's site is now cached

    with database_refusing_writes():
        answer = client.post("/1.1/comment-check", comment)

    assert answer.status_code == 503
    assert answer["Content-Type"].startswith("text/plain")
    assert answer["Retry-After"] == "30"
    assert "try again later" in answer["X-akismet-debug-help"]
    assert answer.content.decode() not in {"true", "false"}  # no verdict for a comment not kept
    assert not CheckedComment.objects.exists() and not Item.objects.exists()

    # Once the database writes again, the same call is answered and kept.
    again = client.post("/1.1/comment-check", comment)
    assert again.status_code == 200 and again.content == b"false"
    assert Item.objects.filter(external_id=f"akismet-{again['X-akismet-guid']}").count() == 1


@sqlite_only
@pytest.mark.django_db(transaction=True)  # the refused write rolls back the request's transaction
def test_the_json_api_answers_503_in_json_when_the_database_refuses(client, org, owner_actor, make_channel):
    channel = make_channel(org, "discourse", handle="forum.maison-dupont.fr", name="Forum")
    _token, token = create_api_token(actor=owner_actor, name="import", scopes=["items.ingest"])
    payload = {
        "channel_id": channel.pk,
        "items": [
            {
                "external_id": "topic-1",
                "kind": "comment",
                "text": "Bonjour, où en est ma commande ?",
                "created_at": "2026-03-02T10:00:00+01:00",
            }
        ],
    }
    headers = {"Authorization": f"Bearer {token}"}

    with database_refusing_writes():
        answer = client.post("/api/items/ingest", payload, content_type="application/json", headers=headers)

    assert answer.status_code == 503, answer.content
    assert answer["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json()["error"] == "unavailable"
    assert answer["Retry-After"] == "30"
    assert not Item.objects.filter(channel=channel).exists()


@sqlite_only
@pytest.mark.django_db(transaction=True)  # the refused write rolls back the request's transaction
def test_perspective_answers_503_in_googles_shape_when_the_database_refuses(client, org):
    _site, key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url=SITE_URL)
    body = {
        "comment": {"text": "Merci pour la recette, elle était parfaite !"},
        "languages": ["fr"],
        "requestedAttributes": {"TOXICITY": {}},
    }
    analyze = f"/v1alpha1/comments:analyze?key={key}"
    assert client.post(analyze, body, content_type="application/json").status_code == 200  # site cached
    stored = Item.objects.count()

    with database_refusing_writes():
        answer = client.post(analyze, body, content_type="application/json")

    assert answer.status_code == 503, answer.content
    assert answer.json() == {
        "error": {
            "code": 503,
            "message": "The service cannot store the comment now; try again later.",
            "status": "UNAVAILABLE",
        }
    }
    assert answer["Retry-After"] == "30"
    assert Item.objects.count() == stored


@pytest.mark.postgres
def test_comment_check_answers_503_when_postgresql_is_read_only(client, org):
    from django.db import connection as pg

    _site, key = create_moderation_site(actor=Actor.palabre(org), name="Blog", url=SITE_URL)
    client.post("/1.1/verify-key", {"key": key, "blog": SITE_URL})
    with pg.cursor() as cursor:
        # As a standby promoted the wrong way round, or `default_transaction_read_only`: every
        # write fails with "cannot execute INSERT in a read-only transaction" (an InternalError).
        cursor.execute("SET transaction_read_only = on")
    answer = client.post(
        "/1.1/comment-check",
        {"api_key": key, "blog": SITE_URL, "user_ip": "203.0.113.7", "comment_content": "Merci !"},
    )
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30" and "try again later" in answer["X-akismet-debug-help"]
