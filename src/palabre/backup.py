"""`palabre backup` and `palabre restore`: the whole installation in one portable archive.

The archive is a tar.gz holding:
- `manifest.json`: the format, Palabre's version, when it was made, the database it came from, the
  migrations applied per app, the rows per model, the checksum of the data, the id of the key the
  channel credentials are encrypted with (an id, not the key) and whether the secret key is inside;
- `database.jsonl`: every row of every model in Django's JSON lines serialisation (natural keys for
  content types and permissions, which `palabre migrate` recreates; not the per-day comment counts
  the database derives from the items, `EXCLUDED`), so a backup made on SQLite restores on
  PostgreSQL and the other way round;
- `media/`: the uploaded files;
- `secret_key`, only with `--with-secret-key`: without it, the channel credentials in the backup
  can only be read by an installation that has the same secret key.

The rows are read in one transaction (REPEATABLE READ on PostgreSQL, a read snapshot on SQLite in
WAL mode), so the counts in the manifest and the data agree. A restore goes into an empty database
migrated by the same migrations, in one transaction (Django's `loaddata`, which also resets
PostgreSQL's sequences), then compares the rows per model with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder

FORMAT = "palabre-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.jsonl"
SECRET_KEY = "secret_key"
MEDIA = "media"

# Recreated by `palabre migrate` (content types, permissions) or only worth a sign-in (sessions).
# analytics.commentday: counts PostgreSQL's triggers keep from the items; loading the items counts
# them again, so restoring the backup's rows too would count every comment twice.
EXCLUDED = ("contenttypes", "auth.permission", "sessions", "analytics.commentday")


# The data's serialisation: Django's JSON lines, but with times to the microsecond (Django's JSON
# encoder cuts them to the millisecond, which would reorder rows created in the same millisecond).
SERIALIZATION = "palabrejsonl"


class _ExactEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, (datetime, time)):
            return o.isoformat()
        return super().default(o)


class Serializer(jsonl.Serializer):
    def _init_options(self):
        self.options.setdefault("cls", _ExactEncoder)
        super()._init_options()


Deserializer = jsonl.Deserializer


def _register_serialization() -> None:
    from django.core import serializers

    serializers.register_serializer(SERIALIZATION, __name__)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the person at the terminal."""


def palabre_version() -> str:
    try:
        return version("palabre")
    except PackageNotFoundError:
        return "unknown"


def backed_up_models() -> list:
    from django.apps import apps

    excluded_apps = {name for name in EXCLUDED if "." not in name}
    return [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in excluded_apps
        and model._meta.label_lower not in EXCLUDED
    ]


def row_counts() -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.count() for model in backed_up_models()}


def applied_migrations(connection) -> dict[str, list[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def pending_migrations(connection=None) -> list[str]:
    """Migrations of this code not applied to the database, in the order `palabre migrate` would run them."""
    from django.db import connection as default_connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection or default_connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


class read_snapshot:
    """One read transaction: REPEATABLE READ on PostgreSQL; on SQLite a deferred transaction, which
    in WAL mode reads one snapshot without holding the write lock (writers go on meanwhile)."""

    def __init__(self, connection):
        from django.db import transaction

        self.connection = connection
        self.atomic = transaction.atomic(using=connection.alias)
        self.mode = None

    def __enter__(self):
        if self.connection.vendor == "sqlite":
            self.connection.ensure_connection()  # opening it sets the configured mode again
            self.mode = getattr(self.connection, "transaction_mode", None)
            self.connection.transaction_mode = "DEFERRED"
        self.atomic.__enter__()
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return self

    def __exit__(self, *exc):
        try:
            return self.atomic.__exit__(*exc)
        finally:
            if self.connection.vendor == "sqlite":
                self.connection.transaction_mode = self.mode


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


@dataclass
class BackupResult:
    path: Path
    counts: dict[str, int]
    media_files: int
    with_secret_key: bool
    warnings: list[str] = field(default_factory=list)


def backup(path: str | Path, *, with_secret_key: bool = False, now: datetime | None = None) -> BackupResult:
    """Write the archive to `path` (through a temporary file beside it, so a failed backup leaves no
    half archive under the name)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from palabre.orgs import crypto
    from palabre.orgs.models import Channel

    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a folder: name the archive to write, e.g. {path / 'palabre.tar.gz'}")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    created_at = now or datetime.now(UTC)
    media_root = Path(settings.MEDIA_ROOT)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="palabre-backup-") as work:
        dump = Path(work) / DATABASE
        _register_serialization()
        with read_snapshot(connection):
            counts = row_counts()
            migrations = applied_migrations(connection)
            key_ids = sorted(
                {
                    crypto.key_id_of(ciphertext)
                    for ciphertext in Channel._base_manager.exclude(credentials_ciphertext="").values_list(
                        "credentials_ciphertext", flat=True
                    )
                }
            )
            call_command(
                "dumpdata",
                exclude=list(EXCLUDED),
                format=SERIALIZATION,
                output=str(dump),
                use_natural_foreign_keys=True,
                use_base_manager=True,
                verbosity=0,
            )
        current = crypto.current_key().key_id
        if any(key_id != current for key_id in key_ids):
            warnings.append(
                "some channel credentials are still encrypted with an older secret key: "
                "run `palabre rotate-keys` so that the current key alone reads them"
            )
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "palabre_version": palabre_version(),
            "created_at": created_at.isoformat(),
            "database_vendor": connection.vendor,
            "migrations": migrations,
            "counts": counts,
            "database_sha256": _sha256(dump),
            "media_files": len(media),
            "credentials_key_ids": key_ids,
            "secret_key_included": with_secret_key,
        }
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
                archive.add(dump, arcname=DATABASE, recursive=False)
                for file in media:
                    archive.add(
                        file, arcname=f"{MEDIA}/{file.relative_to(media_root).as_posix()}", recursive=False
                    )
                if with_secret_key:
                    _add_bytes(archive, SECRET_KEY, settings.SECRET_KEY.encode() + b"\n")
            os.replace(partial, path)
        finally:
            if partial.exists():
                partial.unlink()
    return BackupResult(path, counts, len(media), with_secret_key, warnings)


def _open(path: Path) -> tuple[tarfile.TarFile, dict]:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        archive = tarfile.open(path, mode="r:gz")  # noqa: SIM115 (closed by the caller, or below)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise BackupError(
            f"{path} is not a Palabre backup (not a readable tar.gz archive: {error})"
        ) from None
    try:
        member = archive.next()  # the first member: read without walking a damaged archive to its end
        if member is None or member.name != MANIFEST:
            raise KeyError(MANIFEST)
        manifest = json.loads(archive.extractfile(member).read())
    except (KeyError, AttributeError, ValueError, tarfile.TarError, OSError, EOFError, zlib.error):
        archive.close()
        raise BackupError(f"{path} is not a Palabre backup (no readable {MANIFEST})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        archive.close()
        raise BackupError(f"{path} is not a Palabre backup (its {MANIFEST} is not Palabre's)")
    if manifest.get("format_version") != FORMAT_VERSION:
        archive.close()
        raise BackupError(
            f"{path} is a backup of format {manifest.get('format_version')}; this Palabre reads format "
            f"{FORMAT_VERSION}: restore it with Palabre {manifest.get('palabre_version')}"
        )
    return archive, manifest


def read_manifest(path: str | Path) -> dict:
    archive, manifest = _open(Path(path))
    archive.close()
    return manifest


def _check_migrations(manifest: dict, connection) -> None:
    pending = pending_migrations(connection)
    if pending:
        raise BackupError(
            f"the database is missing {len(pending)} migration(s) of this Palabre "
            f"({', '.join(pending[:3])}{', ...' if len(pending) > 3 else ''}): run `palabre migrate` first"
        )
    theirs = {(app, name) for app, names in manifest.get("migrations", {}).items() for name in names}
    ours = {(app, name) for app, names in applied_migrations(connection).items() for name in names}
    made_by = manifest.get("palabre_version", "unknown")
    unknown = sorted(theirs - ours)
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:3])
        raise BackupError(
            f"the backup was made by Palabre {made_by}, whose migrations this version lacks ({names}"
            f"{', ...' if len(unknown) > 3 else ''}): restore it with Palabre {made_by}"
        )
    missing = sorted(ours - theirs)
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in missing[:3])
        raise BackupError(
            f"the backup was made by Palabre {made_by}, before migrations of this version ({names}"
            f"{', ...' if len(missing) > 3 else ''}): restore it with Palabre {made_by}, "
            "then upgrade with `palabre migrate`"
        )


@dataclass
class RestoreResult:
    counts: dict[str, tuple[int, int]]  # model: (in the manifest, restored)
    media_files: int
    secret_key_installed: bool
    unreadable_credentials: int
    notes: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> dict[str, tuple[int, int]]:
        return {label: pair for label, pair in self.counts.items() if pair[0] != pair[1]}


def restore(path: str | Path) -> RestoreResult:
    """Load the archive into this installation's empty, migrated database, then its media files."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from palabre import config

    path = Path(path)
    archive, manifest = _open(path)
    with archive, tempfile.TemporaryDirectory(prefix="palabre-restore-") as work:
        _check_migrations(manifest, connection)
        present = {label: n for label, n in row_counts().items() if n}
        if present:
            # Organisations and people first: what tells a person which installation this is.
            first = ("orgs.organisation", "auth.user")
            ordered = sorted(
                present.items(),
                key=lambda pair: (
                    pair[0] not in first,
                    first.index(pair[0]) if pair[0] in first else 0,
                    pair[0],
                ),
            )
            listed = ", ".join(f"{n} {label}" for label, n in ordered[:3])
            raise BackupError(
                f"the database is not empty ({listed}{', ...' if len(present) > 3 else ''}): "
                "restore only into an empty, migrated database (a new PALABRE_DATABASE_URL or SQLite file)"
            )
        try:
            member = archive.getmember(DATABASE)
            dump = Path(work) / f"database.{SERIALIZATION}"  # loaddata reads the format from the suffix
            with archive.extractfile(member) as source, dump.open("wb") as target:
                while block := source.read(1 << 20):
                    target.write(block)
        except (KeyError, AttributeError, tarfile.TarError, OSError, EOFError, zlib.error) as error:
            raise BackupError(f"{path} is damaged: its {DATABASE} cannot be read ({error})") from None
        if _sha256(dump) != manifest.get("database_sha256"):
            raise BackupError(f"{path} is damaged: its {DATABASE} does not match the manifest's checksum")
        try:
            # One transaction; foreign keys checked at the end; PostgreSQL's sequences reset.
            _register_serialization()
            call_command("loaddata", str(dump), verbosity=0)
        except Exception as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise BackupError(f"the restore failed and nothing was loaded: {first_line}") from error

        media_root = Path(settings.MEDIA_ROOT)
        media = [m for m in archive.getmembers() if m.isfile() and m.name.startswith(MEDIA + "/")]
        for member in media:
            member.name = member.name[len(MEDIA) + 1 :]
            # "data" refuses absolute names, names leaving the folder, links and devices.
            archive.extract(member, media_root, filter="data")

        notes: list[str] = []
        installed = False
        secret_key = _read_secret_key(archive)
        if secret_key and secret_key != settings.SECRET_KEY:
            if config.SECRET_KEY.raw():
                notes.append(
                    "the backup holds the secret key of the installation it came from, and this one is "
                    "set by PALABRE_SECRET_KEY: set it to the archive's secret_key for the channel "
                    "credentials to be readable"
                )
            else:
                key_file = Path(settings.DATA_DIR) / "secret_key"
                if key_file.exists():
                    os.replace(key_file, key_file.with_name("secret_key.before-restore"))
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secret_key + "\n")
                settings.SECRET_KEY = secret_key
                installed = True
                notes.append(
                    f"installed the backup's secret key in {key_file} (the former one: secret_key.before-restore)"
                )

        restored = row_counts()
        counts = {
            label: (manifest.get("counts", {}).get(label, 0), restored.get(label, 0))
            for label in sorted(set(restored) | set(manifest.get("counts", {})))
        }
        return RestoreResult(counts, len(media), installed, unreadable_credentials(), notes)


def _read_secret_key(archive: tarfile.TarFile) -> str:
    try:
        member = archive.getmember(SECRET_KEY)
    except KeyError:
        return ""
    handle = archive.extractfile(member)
    return handle.read().decode().strip() if handle else ""


def unreadable_credentials() -> int:
    """Channels whose stored credentials no configured secret key decrypts."""
    from palabre.orgs import crypto
    from palabre.orgs.models import Channel

    unreadable = 0
    for ciphertext in Channel._base_manager.exclude(credentials_ciphertext="").values_list(
        "credentials_ciphertext", flat=True
    ):
        try:
            crypto.decrypt_json(ciphertext)
        except crypto.CredentialsUnreadable:
            unreadable += 1
    return unreadable
