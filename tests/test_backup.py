"""`palabre backup`, `palabre restore` and `palabre migrate --check`, run as the command, each
installation with its own data folder and SQLite database (the PostgreSQL runs are marked)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.db import connection

# Their own SQLite databases: once per suite is enough (the PostgreSQL run takes the marked test).
sqlite_run = pytest.mark.skipif(connection.vendor != "sqlite", reason="runs on its own SQLite databases")

SECRET = "the-secret-key-of-maison-lumiere-" + "s" * 30

# Built with Palabre's own services, in the source installation.
SEED = r"""
import django
django.setup()
from datetime import UTC, datetime, timedelta
from pathlib import Path
from django.conf import settings
from django.contrib.auth import get_user_model
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.moderation.services import review_item
from palabre.orgs.services import Actor, create_channel, create_organisation

texts = [
    "Bonjour, ma commande n'est toujours pas arrivée.",
    "Super produit, merci à toute l'équipe !",
    "Achetez des montres pas chères sur http://spam.example/ promo promo promo",
    "Where is my parcel? Still waiting after two weeks.",
]
start = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
for n, name in enumerate(["Maison Lumière", "Café Noir"]):
    owner = get_user_model().objects.create_user(username=f"owner{n}", password="a-long-password-1")
    org = create_organisation(name=name, owner=owner)
    actor = Actor.palabre(org)
    create_channel(
        actor=actor, platform="bluesky", handle=f"brand{n}.bsky.social", name="Bluesky",
        credentials={"identifier": f"brand{n}.bsky.social", "app_password": f"abcd-efg{n}"},
    )
    site = create_channel(actor=actor, platform="site", handle=f"blog{n}.example.fr", name="Blog")
    items = []
    for i, text in enumerate(texts):
        item, _ = ingest_item(channel=site, incoming=IncomingItem(
            external_id=f"c{i}", kind="comment", text=text, created_at=start + timedelta(minutes=i),
            author=IncomingAuthor(handle=f"reader{i}", display_name=f"Reader {i}"),
            parent_external_id="c0" if i == 3 else "",
        ))
        items.append(item)
    review_item(actor=Actor.for_user(owner, org), item_id=items[1].pk, action="approve", note="ok")
    review_item(actor=Actor.for_user(owner, org), item_id=items[2].pk, action="spam")
upload = Path(settings.MEDIA_ROOT) / "publishing" / "1" / "affiche été.png"
upload.parent.mkdir(parents=True, exist_ok=True)
upload.write_bytes(bytes(range(256)) * 4)
"""

# What is compared between the source and the restored installation, field by field.
SNAPSHOT = r"""
import django, json, hashlib
django.setup()
from pathlib import Path
from django.conf import settings
from palabre.backup import row_counts
from palabre.conversations.models import Item
from palabre.moderation.models import ModerationDecision
from palabre.orgs.models import AuditEvent, Channel, Organisation

def text(value):  # JSON the same whatever the database's key order (PostgreSQL's jsonb sorts)
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)

def rows(queryset, *fields):
    return [[text(value) for value in row] for row in queryset.order_by("pk").values_list("pk", *fields)]

media = Path(settings.MEDIA_ROOT)
print(json.dumps({
    "counts": row_counts(),
    "organisations": rows(Organisation.objects, "name", "slug", "created_at"),
    "items": rows(Item._base_manager, "organisation_id", "channel_id", "external_id", "text", "created_at",
                  "parent_id", "author__handle", "contact_id"),
    "decisions": rows(ModerationDecision.objects, "item_id", "source", "action", "status_after", "scores",
                      "reasons", "decided_by__username", "note"),
    "audit": rows(AuditEvent.objects, "organisation_id", "actor__username", "action", "target_type",
                  "target_id", "before", "after", "created_at"),
    "credentials": {c.pk: c.read_credentials() for c in Channel._base_manager.exclude(credentials_ciphertext="")},
    "media": {p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in media.rglob("*") if p.is_file()},
}))
"""


def palabre(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "palabre", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python(script: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "palabre.settings", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def installation(folder: Path, *, database_url: str = "", secret: str | None = SECRET) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "PALABRE_DATA_DIR": str(folder),
        "PALABRE_DATABASE_URL": database_url or f"sqlite:///{folder / 'palabre.sqlite3'}",
        "PALABRE_TASKS_BACKEND": "immediate",
        "PALABRE_SECRET_KEY": secret or "",
    }
    return env


def snapshot(env: dict) -> dict:
    return json.loads(python(SNAPSHOT, env).stdout)


@pytest.fixture(scope="module")
def fresh_sqlite(tmp_path_factory, migrated_sqlite) -> Path:
    """A migrated, empty SQLite database, copied for each installation that needs one (`palabre
    migrate` on a fresh file: test_migrate_check_lists_what_is_pending_and_applies_nothing)."""
    return migrated_sqlite(tmp_path_factory.mktemp("template") / "palabre.sqlite3")


def empty_installation(folder: Path, fresh_sqlite: Path, **kwargs) -> dict:
    folder.mkdir(parents=True)
    shutil.copy(fresh_sqlite, folder / "palabre.sqlite3")
    return installation(folder, **kwargs)


@pytest.fixture(scope="module")
def source(tmp_path_factory, fresh_sqlite) -> dict:
    """An installation with two organisations, their channels (encrypted credentials), comments
    analysed and moderated, moderators' decisions, the audit log and an uploaded file."""
    env = empty_installation(tmp_path_factory.mktemp("source") / "data", fresh_sqlite)
    python(SEED, env)
    return env


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archives") / "palabre.tar.gz"
    made = palabre("backup", str(path), env=source)
    assert made.returncode == 0, made.stderr
    assert "without the secret key" in made.stdout
    return path


@sqlite_run
def test_backup_then_restore_into_an_empty_database_gives_the_same_installation(
    source, archive, fresh_sqlite, tmp_path
):
    before = snapshot(source)
    assert len(before["organisations"]) == 2 and len(before["items"]) == 8
    assert len(before["decisions"]) >= 8 + 4  # automatic decisions, then the moderators'
    assert any(row[3] == "spam" for row in before["decisions"])
    assert len(before["audit"]) >= 6 and len(before["credentials"]) == 2

    target = empty_installation(tmp_path / "target", fresh_sqlite)
    restored = palabre("restore", str(archive), env=target)

    assert restored.returncode == 0, restored.stderr
    assert "MISMATCH" not in restored.stdout
    assert "orgs.organisation: 2 restored, 2 in the backup" in restored.stdout
    assert "1 media file(s) restored." in restored.stdout
    assert "cannot be decrypted" not in restored.stderr
    after = snapshot(target)
    assert after == before
    assert sorted(c["app_password"] for c in after["credentials"].values()) == ["abcd-efg0", "abcd-efg1"]


@sqlite_run
def test_the_archive_holds_a_manifest_the_data_and_the_media_but_not_the_secret_key(source, archive):
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        manifest = json.loads(opened.extractfile("manifest.json").read())
    assert names[0] == "manifest.json"
    assert "database.jsonl" in names and "media/publishing/1/affiche été.png" in names
    assert "secret_key" not in names and manifest["secret_key_included"] is False
    assert manifest["format"] == "palabre-backup" and manifest["database_vendor"] == "sqlite"
    assert manifest["counts"] == snapshot(source)["counts"]
    assert "0001_initial" in manifest["migrations"]["orgs"]
    assert manifest["media_files"] == 1 and len(manifest["credentials_key_ids"]) == 1
    assert SECRET not in archive.read_bytes().decode("latin-1")


@sqlite_run
def test_restore_refuses_a_database_that_is_not_empty(source, archive):
    refused = palabre("restore", str(archive), env=source)
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "palabre restore: the database is not empty" in refused.stderr
    assert "orgs.organisation" in refused.stderr


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as made:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            made.addfile(info, io.BytesIO(data))
    return path


@sqlite_run
def test_a_damaged_or_foreign_archive_is_refused_in_one_line(archive, fresh_sqlite, tmp_path):
    target = empty_installation(tmp_path / "target", fresh_sqlite)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    noise = tmp_path / "noise.tar.gz"
    noise.write_bytes(os.urandom(4096))
    foreign = _tar_gz(tmp_path / "foreign.tar.gz", {"dump.sql": b"CREATE TABLE x (id int);"})
    other = _tar_gz(tmp_path / "other.tar.gz", {"manifest.json": b'{"format": "something-else"}'})
    cases = {
        noise: "is not a Palabre backup (not a readable tar.gz archive",
        foreign: "is not a Palabre backup (no readable manifest.json)",
        other: "is not a Palabre backup (its manifest.json is not Palabre's)",
        tmp_path / "missing.tar.gz": "no such file",
        truncated: "is damaged",
    }
    for path, expected in cases.items():
        refused = palabre("restore", str(path), env=target)
        assert refused.returncode == 1, path
        assert expected in refused.stderr, refused.stderr
        assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert snapshot(target)["organisations"] == []


@sqlite_run
def test_a_backup_of_other_migrations_says_which_version_restores_it(archive, fresh_sqlite, tmp_path):
    with tarfile.open(archive) as opened:
        members = {m.name: opened.extractfile(m).read() for m in opened.getmembers() if m.isfile()}
    manifest = json.loads(members["manifest.json"])
    manifest["palabre_version"] = "9.9.0"
    manifest["migrations"]["orgs"].append("0999_from_the_future")
    newer = _tar_gz(tmp_path / "newer.tar.gz", {**members, "manifest.json": json.dumps(manifest).encode()})
    manifest["migrations"]["orgs"] = manifest["migrations"]["orgs"][:1]
    manifest["palabre_version"] = "0.0.1"
    older = _tar_gz(tmp_path / "older.tar.gz", {**members, "manifest.json": json.dumps(manifest).encode()})
    target = empty_installation(tmp_path / "target", fresh_sqlite)

    refused = palabre("restore", str(newer), env=target)
    assert refused.returncode == 1
    assert "made by Palabre 9.9.0" in refused.stderr and "orgs.0999_from_the_future" in refused.stderr
    assert "restore it with Palabre 9.9.0" in refused.stderr
    refused = palabre("restore", str(older), env=target)
    assert refused.returncode == 1
    assert "restore it with Palabre 0.0.1, then upgrade with `palabre migrate`" in refused.stderr


@sqlite_run
def test_with_the_secret_key_the_credentials_follow_to_an_installation_with_another_key(
    source, fresh_sqlite, tmp_path
):
    # The source keeps its key in its data folder (no PALABRE_SECRET_KEY), as most installs do.
    keyed = empty_installation(tmp_path / "keyed", fresh_sqlite, secret=None)
    python(SEED, keyed)
    path = tmp_path / "with-key.tar.gz"
    made = palabre("backup", str(path), "--with-secret-key", env=keyed)
    assert made.returncode == 0, made.stderr
    assert "Warning: the archive holds the secret key" in made.stderr
    with tarfile.open(path) as opened:
        assert (
            opened.extractfile("secret_key").read().decode().strip()
            == (tmp_path / "keyed" / "secret_key").read_text().strip()
        )

    target = empty_installation(tmp_path / "target", fresh_sqlite, secret=None)
    (tmp_path / "target" / "secret_key").write_text("a-different-key-" + "d" * 40)
    restored = palabre("restore", str(path), env=target)

    assert restored.returncode == 0, restored.stderr
    assert "installed the backup's secret key" in restored.stdout
    assert "cannot be decrypted" not in restored.stderr
    assert (tmp_path / "target" / "secret_key.before-restore").exists()
    assert snapshot(target)["credentials"] == snapshot(keyed)["credentials"]


@sqlite_run
def test_without_the_secret_key_a_restore_with_another_key_says_the_credentials_are_unreadable(
    archive, fresh_sqlite, tmp_path
):
    target = empty_installation(tmp_path / "target", fresh_sqlite, secret="another-key-" + "a" * 40)
    restored = palabre("restore", str(archive), env=target)
    assert restored.returncode == 0, restored.stderr
    assert "the credentials of 2 channel(s) cannot be decrypted with this secret key" in restored.stderr


@sqlite_run
def test_migrate_check_lists_what_is_pending_and_applies_nothing(tmp_path):
    env = installation(tmp_path / "data")
    pending = palabre("migrate", "--check", env=env)
    assert pending.returncode == 1, pending.stderr
    assert "orgs.0001_initial" in pending.stdout
    assert "migration(s) to apply." in pending.stdout
    again = palabre("migrate", "--check", env=env)
    assert again.stdout == pending.stdout  # nothing was applied
    assert palabre("migrate", env=env).returncode == 0
    done = palabre("migrate", "--check", env=env)
    assert done.returncode == 0 and done.stdout.strip() == "No migrations to apply."


# --- PostgreSQL: run with a server started as scripts/test.sh does -----------------------------


def _postgres_database(url: str) -> str:
    """A new, empty database on the test server; its URL."""
    import psycopg

    name = f"palabre_backup_{uuid.uuid4().hex[:10]}"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


_MIGRATED_POSTGRES: dict[str, str] = {}


def _migrated_postgres_database(url: str, folder: Path) -> str:
    """A new database as `palabre migrate` leaves an empty one, its URL: the first is migrated by the
    command itself (its proof on PostgreSQL), the next ones are copies of it (CREATE DATABASE ...
    TEMPLATE: the two PostgreSQL tests took 7 s of CPU less, the server's share aside)."""
    import psycopg

    base = url.rsplit("/", 1)[0]
    name = f"palabre_backup_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        if "template" in _MIGRATED_POSTGRES:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_MIGRATED_POSTGRES["template"]}"')
            return f"{base}/{name}"
    migrated = _postgres_database(url)
    done = palabre("migrate", env=installation(folder, database_url=migrated))
    assert done.returncode == 0, done.stderr
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated.rsplit("/", 1)[1]}"')
    _MIGRATED_POSTGRES["template"] = name
    return migrated


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_postgresql_to_postgresql(source, archive, tmp_path):
    url = os.environ["PALABRE_TEST_POSTGRES_URL"]
    before = snapshot(source)

    first = installation(tmp_path / "pg1", database_url=_migrated_postgres_database(url, tmp_path / "pg1"))
    restored = palabre("restore", str(archive), env=first)
    assert restored.returncode == 0, restored.stderr
    assert "MISMATCH" not in restored.stdout
    assert snapshot(first) == before
    # The sequences follow the restored rows: a new organisation gets a new id.
    python(
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from palabre.orgs.services import create_organisation\n"
        "create_organisation(name='Après', owner=get_user_model().objects.create_user(username='later'))",
        first,
    )

    path = tmp_path / "from-postgres.tar.gz"
    made = palabre("backup", str(path), env=first)
    assert made.returncode == 0, made.stderr
    second = installation(tmp_path / "pg2", database_url=_migrated_postgres_database(url, tmp_path / "pg2"))
    restored = palabre("restore", str(path), env=second)
    assert restored.returncode == 0, restored.stderr
    assert snapshot(second) == snapshot(first)
    assert len(snapshot(second)["organisations"]) == 3
    # The per-day comment counts are not in the archive: the triggers count the loaded items again.
    assert _comment_days(second) == _comment_days(first) and _comment_days(first)["comments"] > 0


def _comment_days(env: dict) -> dict:
    counts = (
        "import django, json; django.setup()\n"
        "from django.db.models import Count, Sum\n"
        "from palabre.analytics.models import CommentDay\n"
        "print(json.dumps(CommentDay.objects.aggregate(rows=Count('pk'), comments=Sum('comments'), "
        "substantive=Sum('substantive'))))"
    )
    return json.loads(python(counts, env).stdout)


# One read transaction: what is written meanwhile (by a request, a worker) is not in the backup,
# and is not held up by it either.
CONSISTENT = r"""
import django, json, threading
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from palabre.backup import read_snapshot, row_counts

errors = []

def write():
    from django.db import connection as own
    try:
        get_user_model().objects.create_user(username="written-meanwhile")
    except Exception as error:
        errors.append(repr(error))
    finally:
        own.close()

with read_snapshot(connection):
    before = row_counts()["auth.user"]
    writer = threading.Thread(target=write)
    writer.start()
    writer.join(60)
    during = row_counts()["auth.user"]
print(json.dumps({"before": before, "during": during, "after": row_counts()["auth.user"], "errors": errors}))
"""


def _consistent(env: dict) -> None:
    seen = json.loads(python(CONSISTENT, env).stdout)
    assert seen["errors"] == []
    assert seen["during"] == seen["before"] and seen["after"] == seen["before"] + 1


@sqlite_run
def test_the_backup_reads_one_snapshot_while_others_write_on_sqlite(fresh_sqlite, tmp_path):
    _consistent(empty_installation(tmp_path / "data", fresh_sqlite))


@pytest.mark.postgres
def test_the_backup_reads_one_snapshot_while_others_write_on_postgresql(tmp_path):
    url = os.environ["PALABRE_TEST_POSTGRES_URL"]
    env = installation(tmp_path / "pg", database_url=_migrated_postgres_database(url, tmp_path / "pg"))
    _consistent(env)
