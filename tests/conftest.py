"""Shared fixtures. Test data is built with Palabre's own services, never by writing models directly.

The test environment must be in place before Django reads its settings. pytest-django loads the
settings as soon as it knows DJANGO_SETTINGS_MODULE, which happens before any conftest when the
module is named in pyproject.toml; so it is named here instead, after the environment is set, and
Django is set up right away so that the conftests of the test folders may import models.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import django
import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("PALABRE_TASKS_BACKEND", "immediate")
# Never the person's real data folder: the secret key and any file the tests write go here.
# Subprocesses (workers, CLI) inherit it, so they share the generated secret key.
_DATA_DIR = tempfile.mkdtemp(prefix="palabre-tests-")
os.environ["PALABRE_DATA_DIR"] = _DATA_DIR
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
# On Redis (scripts/test.sh's PostgreSQL pass), each test process gets a database of its own
# (0 to 7; tests/operations takes 8 to 15): a test empties its caches, and would empty another's.
if os.environ.get("PALABRE_REDIS_URL", "").startswith("redis") and os.environ.get("PYTEST_XDIST_WORKER"):
    _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw") or 0)
    os.environ["PALABRE_REDIS_URL"] = f"{os.environ['PALABRE_REDIS_URL'].rsplit('/', 1)[0]}/{_worker % 8}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")
django.setup()

from django.conf import settings  # noqa: E402  (only once Django is set up)

# The production hasher takes a good fraction of a second per password, by design; tests create
# hundreds of people.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _import_the_late_plugin_modules() -> None:
    """schemathesis's pytest plugin imports its report writers when the session finishes, and pytest
    rewrites a plugin's modules as they are imported (ast.parse; nothing is cached here, where
    PYTHONDONTWRITEBYTECODE is set). By then CPython 3.11's AST recursion-depth bookkeeping can be
    off in a process that ran threads and compilers for a while ("SystemError: AST constructor
    recursion depth mismatch" failed a whole clock pass in CI). Imported now, on a fresh interpreter,
    they are found in sys.modules at the end; the allure writer, which needs a package the tests do
    not use, is marked absent so that its import fails at once instead of being parsed again."""
    import importlib
    import sys

    for name in ("schemathesis.reporting.html.writer", "schemathesis.reporting.junitxml"):
        importlib.import_module(name)
    try:
        importlib.import_module("schemathesis.reporting.allure")
    except ImportError:
        sys.modules["schemathesis.reporting.allure"] = None  # a later import raises ImportError


_import_the_late_plugin_modules()

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "Palabre-tests-2024!"

# --- property tests ----------------------------------------------------------------------------
# Hypothesis (and schemathesis through it) draws the same examples on every run, derived from each
# test's code, so that no run fails on one day and passes the next. `HYPOTHESIS_PROFILE=explore`
# draws new ones each run to look for what the fixed ones miss; what it finds gets a test of its own.
hypothesis_settings.register_profile("fixed", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


# --- the clock ---------------------------------------------------------------------------------
# Tests never read the wall clock: each one starts at the same instant, which then runs at normal
# speed (servers, timeouts and sleeps still work). `--clock` (or PALABRE_TEST_NOW) moves that
# instant; scripts/test.sh runs the tests marked `clock` again at the instants that have broken
# date code before (a Sunday night, the nights the clocks change, New Year's Eve).
# Past instants only: processes the tests start (palabre serve, palabre worker) read the real
# clock, and must find due what the tests scheduled.
DEFAULT_TEST_NOW = "2026-06-17T10:15:00+02:00"  # a Wednesday morning in Paris, in business hours
CLOCK_INSTANTS = {
    "sunday-night": "2025-11-30T23:30:00+01:00",
    "spring-forward": "2026-03-29T01:45:00+01:00",
    "fall-back": "2025-10-26T02:30:00+01:00",
    "new-year-eve": "2025-12-31T23:59:00+01:00",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get("PALABRE_TEST_NOW", DEFAULT_TEST_NOW),
        help="the instant every test starts at: an ISO 8601 date-time with its offset, or one of "
        + ", ".join(CLOCK_INSTANTS)
        + "; several, separated by commas, run each test marked `clock` once at each instant "
        "(the others at the first)",
    )


def clock_instants(config: pytest.Config) -> dict[str, datetime]:
    """The instants of `--clock`, by the name a test's id shows (in the order given)."""
    instants = {}
    for value in filter(None, (part.strip() for part in config.getoption("--clock").split(","))):
        try:
            instant = datetime.fromisoformat(CLOCK_INSTANTS.get(value, value))
        except ValueError:
            raise pytest.UsageError(
                f"--clock {value}: not an instant nor one of {', '.join(CLOCK_INSTANTS)}"
            ) from None
        if instant.tzinfo is None:
            raise pytest.UsageError(f"--clock {value}: give the offset too (for example +01:00)")
        instants[value] = instant
    if not instants:
        raise pytest.UsageError("--clock: give at least one instant")
    return instants


def start_instant(config: pytest.Config) -> datetime:
    """The instant of the tests that run once (the first of `--clock`)."""
    return next(iter(clock_instants(config).values()))


# Python processes the tests start follow the same clock (see tests/clockshim/sitecustomize.py).
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(
        None,
        [os.path.join(os.path.dirname(os.path.abspath(__file__)), "clockshim"), os.environ.get("PYTHONPATH")],
    )
)


def _tell_subprocesses_the_clock() -> None:
    from time_machine import escape_hatch

    os.environ["PALABRE_TEST_CLOCK_OFFSET"] = repr(time.time() - escape_hatch.time.time())


@pytest.fixture(scope="session")
def clock_instant(pytestconfig) -> datetime:
    """The instant the test starts at: the first of `--clock`, or, for a test marked `clock` when
    `--clock` names several, each of them in turn (pytest_generate_tests parametrizes it)."""
    return start_instant(pytestconfig)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run covers several instants (scripts/test.sh's date-sensitive pass): the tests marked
    `clock` run at each, as separate tests (`test_x[fall-back]`). The parameter is session-scoped so
    that pytest runs one instant's tests together and the session clock moves with it."""
    instants = clock_instants(metafunc.config)
    if len(instants) > 1 and metafunc.definition.get_closest_marker("clock"):
        metafunc.parametrize("clock_instant", list(instants.values()), ids=list(instants), scope="session")


@pytest.fixture(scope="session", autouse=True)
def _session_clock(clock_instant):
    """Session fixtures (the live server, the browser) start at the instant too."""
    import time_machine

    with time_machine.travel(clock_instant, tick=True):
        _tell_subprocesses_the_clock()
        yield


@pytest.fixture(autouse=True)
def clock(clock_instant, _session_clock):
    """The test's clock: at the instant when the test starts, then ticking. `clock.move_to(...)` or
    `clock.shift(...)` to travel (time-machine's traveller; processes started afterwards do not
    follow such a jump)."""
    import time_machine

    with time_machine.travel(clock_instant, tick=True) as traveller:
        _tell_subprocesses_the_clock()
        yield traveller


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs) -> None:
    """With `-n`, each worker process must get its own data folder (caches, media, secret key).

    A worker that inherits the settings module's name lets pytest-django load the settings before
    this file runs, in the parent's data folder; without it, the worker's own copy of this file
    sets the folder first, as a single process does."""
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.db import connection

    first, *others = clock_instants(config).values()
    if not others:
        lines = [f"clock: every test starts at {first.isoformat()}"]
    else:
        every = ", ".join(instant.isoformat() for instant in (first, *others))
        lines = [
            f"clock: the tests marked `clock` start at each of {every}; the others at {first.isoformat()}"
        ]
    if connection.vendor != "sqlite":
        lines.append(
            f"on {connection.vendor}: the tests that touch no database, and those marked own_sqlite, are "
            "deselected (they run in the SQLite pass)"
        )
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    on_postgres = bool(os.environ.get("PALABRE_TEST_POSTGRES_URL")) and connection.vendor == "postgresql"
    skip = pytest.mark.skip(reason="needs PostgreSQL: set PALABRE_TEST_POSTGRES_URL and PALABRE_DATABASE_URL")
    kept, once = [], []
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
        # On another database, what gives the same result on any (no database touched) or runs on its
        # own SQLite file is left out, not skipped: it ran in the SQLite pass, and a skipped test
        # still costs its report and its place in a worker's files (pytest_report_header says so).
        if connection.vendor != "sqlite" and (
            "own_sqlite" in item.keywords or not _may_touch_the_database(item)
        ):
            once.append(item)
        else:
            kept.append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept
    config.stash[_LEFT_TO_SQLITE] = len(once)
    if hasattr(config, "workeroutput"):  # an xdist worker: its controller prints the count
        config.workeroutput["left_to_sqlite"] = len(once)
        _processes_first(items)
    instants = {instant: name for name, instant in clock_instants(config).items()}
    if len(instants) > 1:
        # With several instants, `--dist loadgroup` sends a file's tests at one instant to a worker
        # together, as `--dist loadfile` sends a file: the instants of a file spread over the workers.
        for item in items:
            callspec = getattr(item, "callspec", None)
            instant = callspec.params.get("clock_instant") if callspec else None
            file = item.nodeid.split("::")[0]
            group = f"{file}:{instants[instant]}" if instant in instants else file
            item.add_marker(pytest.mark.xdist_group(group.replace("@", "_")))


def _processes_first(items: list[pytest.Item]) -> None:
    """xdist hands the files out in this order (pytest_configure turns its own order off): the files
    whose tests start processes (a few tests of tens of seconds each: servers, workers, migrations)
    first, then the others by number of tests, as xdist orders them. Sorted by number of tests alone,
    those slow files of two or three tests came last, and one worker ran them while the other waited.
    Every worker sorts the same collection the same way, as xdist requires."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def order(tests: list[pytest.Item]) -> tuple[bool, int]:
        return (not hasattr(getattr(tests[0], "module", None), "subprocess"), -len(tests))

    items[:] = [item for tests in sorted(files.values(), key=order) for item in tests]


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "dist", "no") in {"loadfile", "loadgroup"}:
        config.option.loadscopereorder = False  # the workers' order stands (_processes_first)


_LEFT_TO_SQLITE = pytest.StashKey[int]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """Every worker collects every test: any of them tells how many were left to the SQLite pass."""
    if "left_to_sqlite" in getattr(node, "workeroutput", {}):
        node.config.stash[_LEFT_TO_SQLITE] = node.workeroutput["left_to_sqlite"]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    from django.db import connection

    if count := config.stash.get(_LEFT_TO_SQLITE, 0):
        terminalreporter.write_line(
            f"{count} tests deselected on {connection.vendor}: they touch no database or run on their own "
            "SQLite file (they run in the SQLite pass)"
        )


_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "live_server"})


def _may_touch_the_database(item: pytest.Item) -> bool:
    """Whether a test could behave differently on another database: it asks for one, or its module
    starts processes (a `palabre` subprocess reads PALABRE_DATABASE_URL without any fixture)."""
    if _DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    module = getattr(item, "module", None)
    return module is None or hasattr(module, "subprocess")


# --- migrated test databases, built once per run ------------------------------------------------
# Migrating Palabre's test database costs about 5 s of CPU, and every pytest process did it: each
# xdist worker of each pass of scripts/test.sh (nine a run). Now the first process that needs one
# migrates it as Django always does and keeps a copy, the template; the others start from the
# template, then run Django's `migrate` all the same, which finds nothing to apply (0.35 s; a
# template that missed a migration would get it there). The templates live in a folder shared by
# the processes of a run (PALABRE_TEST_TEMPLATES: scripts/test.sh makes one for all its passes;
# otherwise the first pytest process makes one for itself and its workers, removed at its exit),
# named after the migrations they hold. Every run still migrates from nothing at least once, and
# `palabre migrate` on a fresh file is proven by the tests of the command itself (test_cli.py,
# test_backup.py). SQLite: the template is a file, copied into each process's in-memory database;
# PostgreSQL: a database that the others are created from (CREATE DATABASE ... TEMPLATE).

if not os.environ.get("PALABRE_TEST_TEMPLATES"):
    os.environ["PALABRE_TEST_TEMPLATES"] = tempfile.mkdtemp(prefix="palabre-test-templates-")
    _OWN_TEMPLATES = os.environ["PALABRE_TEST_TEMPLATES"]
    atexit.register(shutil.rmtree, _OWN_TEMPLATES, ignore_errors=True)
else:
    _OWN_TEMPLATES = ""

_TEMPLATE: dict[str, object] = {}


def _migrations_key() -> str:
    """A digest of every installed app's migration files and of Django's version: a template
    is only ever used by processes that would have migrated to the same schema."""
    import hashlib
    from pathlib import Path

    from django.apps import apps

    digest = hashlib.sha256(django.get_version().encode())
    for app in sorted(apps.get_app_configs(), key=lambda app: app.label):
        for file in sorted((Path(app.path) / "migrations").glob("*.py")):
            digest.update(f"{app.label}/{file.name}\0".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _template_path(vendor: str) -> str:
    """The SQLite template file, or the file naming the PostgreSQL template database."""
    return os.path.join(os.environ["PALABRE_TEST_TEMPLATES"], f"{vendor}-{_migrations_key()}")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, django_db_keepdb, django_db_use_migrations
):
    """Runs just before pytest-django creates the test database: starts it from the template when
    there is one; otherwise this process builds the template (others wait for it meanwhile)."""
    import fcntl
    import sqlite3

    from django.db import connection

    test_name = connection.settings_dict["TEST"].get("NAME")
    if django_db_keepdb or not django_db_use_migrations or connection.vendor not in {"sqlite", "postgresql"}:
        return
    if connection.vendor == "sqlite" and test_name not in (None, "", ":memory:"):
        return  # a test database in a file of its own: left as Django makes it
    path = _template_path(connection.vendor)
    if not os.path.exists(path):
        lock = open(path + ".lock", "w")  # noqa: SIM115  (held until the template is written)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            _TEMPLATE["building"] = (lock, path)  # django_db_setup writes it and lets the others in
            return
        lock.close()
    if connection.vendor == "sqlite":
        # The in-memory test database lives as long as one connection to it is open: this one, until
        # Django's connection has opened the same database and found the tables there.
        keeper = sqlite3.connect(connection.creation._get_test_db_name(), uri=True, check_same_thread=False)
        with contextlib.closing(sqlite3.connect(path)) as template:
            template.backup(keeper)
        _TEMPLATE["keeper"] = keeper
    else:
        with open(path) as named:
            connection.settings_dict["TEST"]["TEMPLATE"] = named.read().strip()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; when this process migrated it, saved at once as the template
    (no test has written to it yet)."""
    import sqlite3

    from django.db import connection

    if keeper := _TEMPLATE.pop("keeper", None):
        # Django's connection holds the in-memory database now (it never closes such a one): this
        # process's tests use that one connection only, as without a template.
        with django_db_blocker.unblock():
            connection.ensure_connection()
        keeper.close()
    if "building" not in _TEMPLATE:
        return
    lock, path = _TEMPLATE.pop("building")
    if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
        # No test collected uses the database (test_backup.py run alone: processes of their own):
        # pytest-django made none, and copying the settings' own file would leave an empty template.
        lock.close()
        return
    with lock:
        with django_db_blocker.unblock():
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                with contextlib.closing(sqlite3.connect(path + ".part")) as copy:
                    connection.connection.backup(copy)
            else:
                # A template database must have no session open on it while it is copied: this one is
                # copied while its only connection, this process's, is closed.
                name = f"{os.path.basename(os.environ['PALABRE_TEST_TEMPLATES'])}_{_migrations_key()}"
                name = re.sub(r"[^a-z0-9_]", "_", name.lower())
                connection.close()
                with connection._nodb_cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{connection.settings_dict["NAME"]}"')
                with open(path + ".part", "w") as named:
                    named.write(name)
        os.replace(path + ".part", path)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that made the templates' folder drops the PostgreSQL template it names (a
    throwaway server, as scripts/test.sh's, goes with its templates anyway)."""
    if not _OWN_TEMPLATES or hasattr(config, "workerinput"):
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    for file in os.listdir(_OWN_TEMPLATES):
        if file.startswith("postgresql-") and not file.endswith((".lock", ".part")):
            with open(os.path.join(_OWN_TEMPLATES, file)) as named:
                name = named.read().strip()
            # Not through Django's connection: pytest-django refuses it outside the tests' fixtures.
            params = {**connection.get_connection_params(), "dbname": "postgres"}
            with psycopg.connect(**params, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{name}"')


# --- a migrated SQLite file for the processes the tests start ----------------------------------
# Tests that run `palabre` processes on a SQLite file of their own start from a copy of one migrated
# file instead of migrating each (about 6 s of CPU each, over twenty tests): the SQLite template
# above. `palabre migrate` on a fresh file is still proven by the tests of the command itself
# (tests/test_cli.py, test_backup.py).


@pytest.fixture(scope="session")
def _migrated_sqlite_template(request):
    import fcntl

    from django.db import connection

    if connection.vendor == "sqlite":
        request.getfixturevalue("django_db_setup")
        if os.path.exists(_template_path("sqlite")):
            return _template_path("sqlite")
    # On another database the test database is no SQLite file to copy (nor on SQLite when no test
    # collected uses the database): the SQLite pass's template when it ran first with the same
    # folder (scripts/test.sh), else `palabre migrate` makes one.
    import subprocess
    import sys

    path = _template_path("sqlite")
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            folder = tempfile.mkdtemp(prefix="palabre-migrate-", dir=os.environ["PALABRE_TEST_TEMPLATES"])
            env = {
                **os.environ,
                "PALABRE_DATA_DIR": folder,
                "PALABRE_DATABASE_URL": f"sqlite:///{os.path.join(folder, 'palabre.sqlite3')}",
            }
            done = subprocess.run(
                [sys.executable, "-m", "palabre", "migrate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            os.replace(os.path.join(folder, "palabre.sqlite3"), path)
    return path


@pytest.fixture(scope="session")
def migrated_sqlite(_migrated_sqlite_template) -> Callable[[object], object]:
    """`migrated_sqlite(path)`: writes at `path` a SQLite database with every migration applied and
    no data yet, as `palabre migrate` leaves a fresh file, and returns `path` (a copy of one template)."""
    from pathlib import Path

    def copy(path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite_template, path)
        return path

    return copy


# --- people and organisations ------------------------------------------------------------------

_counter = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """A person with no organisation yet (for owners; members come through `make_member`)."""
    from django.contrib.auth import get_user_model

    def make(username: str = "", *, email: str = "", password: str = PASSWORD):
        return get_user_model().objects.create_user(
            username=username or _unique("person"), email=email, password=password
        )

    return make


@pytest.fixture
def make_org(db, make_user) -> Callable[..., object]:
    """An organisation created by `create_organisation`, with its owner (see `owner_of`)."""
    from palabre.orgs.services import create_organisation

    def make(name: str = "", *, owner=None, slug: str = ""):
        name = name or _unique("Maison ")
        owner = owner or make_user(_unique("owner"))
        return create_organisation(name=name, owner=owner, slug=slug)

    return make


@pytest.fixture
def org_factory(make_org):
    """Another name for `make_org`."""
    return make_org


@pytest.fixture
def owner_of() -> Callable[[object], object]:
    """The (first) owner of an organisation."""
    from palabre.orgs.models import Membership
    from palabre.orgs.permissions import Role

    def owner(organisation):
        return (
            Membership.objects.active()
            .filter(organisation=organisation, role=Role.OWNER)
            .select_related("user")
            .order_by("created_at", "pk")
            .first()
            .user
        )

    return owner


@pytest.fixture
def org(make_org):
    return make_org("Maison Dupont", slug="maison-dupont")


@pytest.fixture
def owner(org, owner_of):
    return owner_of(org)


@pytest.fixture
def actor_for(db) -> Callable[[object, object], object]:
    """`actor_for(user, organisation)`: the Actor a view would build for this person."""
    from palabre.orgs.services import Actor

    def actor(user, organisation):
        return Actor.for_user(user, organisation)

    return actor


@pytest.fixture
def owner_actor(owner, org, actor_for):
    return actor_for(owner, org)


@pytest.fixture
def make_member(db) -> Callable[..., object]:
    """`make_member(org, role)`: adds a new person with this role (via `add_member`); returns the Membership."""
    from palabre.orgs.services import Actor, add_member

    def make(organisation, role: str, *, username: str = "", email: str = "", password: str = PASSWORD):
        return add_member(
            actor=Actor.palabre(organisation),
            username=username or _unique(str(role).replace("_", "-")),
            role=str(role),
            email=email,
            password=password,
        )

    return make


@pytest.fixture
def make_channel(db) -> Callable[..., object]:
    """`make_channel(org, platform="site", ...)`: a brand channel created by `create_channel`.

    With `spokesperson=<user>`, that person connects their own account (awaiting approval).
    """
    from palabre.orgs.services import Actor, create_channel

    def make(
        organisation,
        platform: str = "site",
        *,
        handle: str = "",
        name: str = "",
        credentials: dict | None = None,
        spokesperson=None,
    ):
        actor = Actor.for_user(spokesperson, organisation) if spokesperson else Actor.palabre(organisation)
        handle = handle or _unique("brand-")
        return create_channel(
            actor=actor,
            platform=platform,
            handle=handle,
            name=name or f"Channel {handle}",
            credentials=credentials,
            spokesperson=spokesperson is not None,
        )

    return make


@pytest.fixture
def channel(org, make_channel):
    return make_channel(org, "site", handle="blog.maison-dupont.fr", name="Blog")


# --- conversations -----------------------------------------------------------------------------

BASE_TIME = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


@pytest.fixture
def incoming_item() -> Callable[..., object]:
    """`incoming_item("42", text=..., author="@camille", parent="41")`: an IncomingItem as a connector builds it."""
    from palabre.conversations.services import IncomingAuthor, IncomingItem

    def make(
        external_id: str = "",
        *,
        text: str = "Bonjour, ma commande n'est toujours pas arrivée.",
        kind: str = "comment",
        author: str | IncomingAuthor | None = "camille",
        parent: str = "",
        created_at: datetime | None = None,
        **extra,
    ):
        if isinstance(author, str):
            author = IncomingAuthor(handle=author, display_name=author.title())
        return IncomingItem(
            external_id=external_id or _unique("ext-"),
            kind=kind,
            text=text,
            created_at=created_at or BASE_TIME + timedelta(minutes=next(_counter)),
            author=author,
            parent_external_id=parent,
            **extra,
        )

    return make


@pytest.fixture
def ingest(db, incoming_item) -> Callable[..., object]:
    """`ingest(channel, "42", text=...)`: runs `ingest_item` and returns the stored Item."""
    from palabre.conversations.services import ingest_item

    def run(channel, external_id: str = "", **fields):
        item, _created = ingest_item(channel=channel, incoming=incoming_item(external_id, **fields))
        return item

    return run


def _clear_caches(*aliases: str) -> None:
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    for alias in aliases or settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, RedisCache):
            # RedisCache.clear() flushes the whole database: every other alias's keys with it.
            client = cache._cache.get_client(write=True)
            keys = list(client.scan_iter(match=f"{cache.key_prefix}:*"))
            if keys:
                client.delete(*keys)
        else:
            cache.clear()


@pytest.fixture
def clear_caches():
    """Empties Django's caches (all, or those named), as if their delay had passed: the `recent`
    reads of the hot paths (policies, sites, business hours, blocks), the key-guess counts..."""
    return _clear_caches


@pytest.fixture(autouse=True)
def _forget_cached_counts():
    """Django's caches (the key-guess counts per address, the `recent` reads of the hot paths) start
    empty in each test: ids are reused from one rolled-back test to the next."""
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture(autouse=True)
def _forget_recent_reads():
    """The Akismet-compatible API's request counts, kept in this process, start from nothing."""
    from palabre.compat.akismet import limits

    kept = [limits.request_counter]
    for reads in kept:
        reads.clear()
    yield
    for reads in kept:
        reads.clear()


@pytest.fixture
def allow_loopback(monkeypatch):
    """Palabre's address guard refuses loopback; the fake platforms of a test listen there. Only a
    test that asks for this fixture (or for a fixture that starts such a server) may reach them."""
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1,::1")
