"""The `palabre` command. Each sub-command is documented in docs/commands.md (a test checks it)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from palabre.commandline import add_organisation_option, setup_django


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def run_pending_tasks() -> None:
    """Run every task waiting in the database, then return (used by `palabre demo` before serving)."""
    from django.core.management import call_command

    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0
    )


def failed_task_count() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="FAILED").count()


def allowed_hosts_hint(host: str) -> str:
    """What `palabre serve` says when it listens beyond this machine but answers only its local names."""
    if host in ("127.0.0.1", "localhost", "::1", "[::1]") or os.environ.get("PALABRE_ALLOWED_HOSTS"):
        return ""
    from django.conf import settings

    return (
        f"Note: only requests addressed to {', '.join(settings.ALLOWED_HOSTS)} are answered; "
        "from other machines every page is 400 Bad Request until PALABRE_ALLOWED_HOSTS names this server, "
        "e.g. PALABRE_ALLOWED_HOSTS=palabre.example.com,192.168.1.20"
    )


def cmd_serve(args: argparse.Namespace) -> None:
    setup_django()
    if not args.no_migrate:
        _migrate()
    _serve(args.host, args.port, processes=args.processes, workers=args.workers, threads=args.threads)


def default_processes() -> int:
    # One per CPU, up to 8: each thread of each process may hold a database connection.
    return min(max(1, os.cpu_count() or 1), 8)


def default_threads() -> int:
    # Enough for requests that wait on the database to overlap (and be scored in one batch),
    # not so many that they fight over the interpreter: twice the CPUs plus one, at most 8.
    return min(2 * (os.cpu_count() or 1) + 1, 8)


# The task workers `palabre serve` starts give way to the requests when the CPU is short: storing
# what an API call answered can wait a little, the caller cannot.
SERVE_WORKER_NICENESS = 10


def _serve(host: str, port: int, *, processes: int, workers: int, threads: int, banner: str = "") -> None:
    """granian: `processes` server processes, forked once the models are loaded (they share that
    memory), each running requests in `threads` threads; and `workers` task worker processes."""
    import gc

    from django.conf import settings
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    import palabre.wsgi  # noqa: F401  (set up once, before the fork)
    from palabre.nlp.classifiers import load_models

    load_models()
    connections.close_all()  # every process opens its own connections
    # What is loaded now lives as long as the processes: out of the collector's sight, it is neither
    # walked by every full collection nor copied into each forked process when the collector
    # touches it.
    gc.collect()
    gc.freeze()
    server = Granian(
        "palabre.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=max(1, processes),
        blocking_threads=max(1, threads),
        websockets=False,
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
        workers_kill_timeout=20,
    )
    from palabre.worker import WorkerSupervisor

    # Started again when they exit (killed, crashed): accepted comments are stored by them.
    supervisor = WorkerSupervisor(
        {
            f"serve-{os.getpid()}-{n}": [
                sys.executable,
                "-m",
                "palabre",
                "worker",
                "--worker-id",
                f"serve-{os.getpid()}-{n}",
                "--nice",
                str(SERVE_WORKER_NICENESS),
            ]
            for n in range(max(0, workers))
        }
    )
    supervisor.start()
    print(
        f"Palabre is served at http://{host}:{port}/ ({processes} server process(es) of {threads} threads, "
        f"{len(supervisor.slots)} task worker(s))",
        flush=True,
    )
    if settings.DEBUG:
        print("Warning: PALABRE_DEBUG is on; never use it in production.", file=sys.stderr)
    hint = allowed_hosts_hint(host)
    if hint:
        print(hint, file=sys.stderr, flush=True)
    if banner:
        # Last, so that what a person needs (the demo's logins) is on screen once the server is up.
        print(banner, flush=True)
    try:
        server.serve()
    finally:
        supervisor.stop(timeout=20)


def cmd_worker(args: argparse.Namespace) -> None:
    if args.nice:
        os.nice(args.nice)
    setup_django()
    from palabre.worker import TaskWorker

    # Waits out database errors, stores what a stopped worker left, sweeps unanalysed items.
    TaskWorker(
        worker_id=args.worker_id,
        queues=args.queues,
        interval=args.interval,
        batch=args.batch,
        max_tasks=args.max_tasks,
    ).run()


def cmd_migrate(args: argparse.Namespace) -> None:
    setup_django()
    if args.check:
        from palabre.backup import pending_migrations

        pending = pending_migrations()
        for name in pending:
            print(name)
        print(f"{len(pending)} migration(s) to apply." if pending else "No migrations to apply.")
        sys.exit(1 if pending else 0)
    _migrate(verbosity=1)


def cmd_backup(args: argparse.Namespace) -> None:
    setup_django()
    from palabre.backup import BackupError, backup

    if args.with_secret_key:
        print(
            "Warning: the archive holds the secret key: whoever has it can read the channel credentials "
            "and sign in as anyone. Keep it as safe as the server.",
            file=sys.stderr,
        )
    try:
        result = backup(args.file, with_secret_key=args.with_secret_key)
    except BackupError as error:
        sys.exit(f"palabre backup: {error}")
    for warning in result.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    print(
        f"Wrote {result.path}: {sum(result.counts.values())} row(s) of {len(result.counts)} model(s), "
        f"{result.media_files} media file(s), "
        + (
            "the secret key included."
            if result.with_secret_key
            else "without the secret key (keep it apart)."
        )
    )


def cmd_restore(args: argparse.Namespace) -> None:
    setup_django()
    from palabre.backup import BackupError, restore

    try:
        result = restore(args.file)
    except BackupError as error:
        sys.exit(f"palabre restore: {error}")
    for label, (expected, restored) in result.counts.items():
        if expected or restored:
            mark = "" if expected == restored else "  MISMATCH"
            print(f"{label}: {restored} restored, {expected} in the backup{mark}")
    print(f"{result.media_files} media file(s) restored.")
    for note in result.notes:
        print(f"Note: {note}")
    if result.unreadable_credentials:
        print(
            f"Warning: the credentials of {result.unreadable_credentials} channel(s) cannot be decrypted with "
            "this secret key: set PALABRE_SECRET_KEY (or the data folder's secret_key) to the key of the "
            "installation the backup came from.",
            file=sys.stderr,
        )
    if result.mismatches:
        sys.exit(f"palabre restore: {len(result.mismatches)} model(s) do not have the backup's row counts")


def cmd_createadmin(args: argparse.Namespace) -> None:
    """Create a person and, with --organisation, the organisation they own."""
    import getpass

    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from palabre.orgs.services import create_organisation

    password = args.password or os.environ.get("PALABRE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    user_model = get_user_model()
    if user_model.objects.filter(username=args.username).exists():
        sys.exit(f"A person named {args.username!r} already exists.")
    from django.contrib.auth.password_validation import validate_password

    try:
        # The install's password rules (AUTH_PASSWORD_VALIDATORS), as on every page that sets one.
        validate_password(password, user_model(username=args.username, email=args.email))
    except ValidationError as error:
        sys.exit("password: " + " ".join(error.messages))
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=args.username, email=args.email, password=password)
            user.is_staff = user.is_superuser = True
            user.save()
            organisation = (
                create_organisation(name=args.organisation, owner=user) if args.organisation else None
            )
    except ValidationError as error:
        sys.exit(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
        )
    if organisation is not None:
        print(f"Created {args.username}, owner of {organisation.name} ({organisation.slug}).")
    else:
        print(f"Created {args.username}.")


def cmd_unlock(args: argparse.Namespace) -> None:
    """Lift the sign-in lock of accounts or of an address, and an address's API key block."""
    if not args.usernames and not args.address:
        sys.exit("Name the accounts to unlock, or give --address.")
    setup_django()
    from palabre.orgs.throttle import unlock

    try:
        done = unlock(usernames=args.usernames, address=args.address)
    except ValueError:
        sys.exit(f"--address: {args.address!r} is not an IP address.")
    for line in done:
        print(line)


def cmd_rotate_keys(args: argparse.Namespace) -> None:
    setup_django()
    from palabre.orgs.services import rotate_credential_keys

    moved = rotate_credential_keys()
    print(f"Re-encrypted the credentials of {moved} channel(s) with the current secret key.")


def cmd_apikey(args: argparse.Namespace) -> None:
    """Register a site for the Akismet-compatible API; its key goes to stdout, shown this once."""
    setup_django()
    from urllib.parse import urlsplit

    from django.core.exceptions import ValidationError

    from palabre.moderation.services import create_moderation_site
    from palabre.orgs.models import Organisation
    from palabre.orgs.services import Actor

    organisation = Organisation.objects.filter(slug=args.organisation).first()
    if organisation is None:
        sys.exit(f"No organisation with the short name {args.organisation!r}.")
    name = args.name or urlsplit(args.site.strip()).hostname or args.site
    try:
        site, key = create_moderation_site(actor=Actor.palabre(organisation), name=name, url=args.site)
    except ValidationError as error:
        sys.exit(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
        )
    print(
        f"Site {site.name} ({site.url}) of {organisation.slug}, channel {site.channel.name}. "
        "Its Akismet API key, shown this once:",
        file=sys.stderr,
    )
    print(key)


def cmd_demo(args: argparse.Namespace) -> None:
    """A fresh SQLite database with the demo brand, analysed, then served."""
    demo_dir = (Path(args.data_dir).expanduser() if args.data_dir else demo_data_dir()).resolve()
    demo_dir.mkdir(parents=True, exist_ok=True)
    # The default database of that data folder: `PALABRE_DATA_DIR=<it>` is all another command needs.
    for stale in [*demo_dir.glob("palabre.sqlite3*"), *demo_dir.glob("demo.sqlite3*")]:
        stale.unlink()
    os.environ.update(demo_environment(demo_dir))
    # Alerts and digests to files, not the console: they would bury the logins.
    os.environ.setdefault("PALABRE_EMAIL_DIR", str(demo_dir / "mails"))
    setup_django()
    _migrate()
    from palabre.demo.loader import DEMO_PASSWORD, load_demo

    summary = load_demo()
    print(
        f"Demo brand {summary['organisation']}: {summary['items']} conversation items, analysing...",
        flush=True,
    )
    run_pending_tasks()
    failed = failed_task_count()
    if failed:
        print(f"Warning: {failed} analysis task(s) failed; see the log above.", file=sys.stderr)
    lines = [
        "",
        f"Log in at http://{args.host}:{args.port}/ with one of these (password: {DEMO_PASSWORD}):",
        *(f"  {username:12s} {role}" for username, role in summary["logins"]),
        "",
        "Other palabre commands work on this demo in a shell where you first run:",
        "  export "
        + " ".join(f"{name}={shlex.quote(value)}" for name, value in demo_environment(demo_dir).items()),
    ]
    if not os.environ.get("PALABRE_EMAIL_HOST"):
        lines.append(f"The mails the demo sends are written to {os.environ['PALABRE_EMAIL_DIR']}")
    banner = "\n".join([*lines, ""])
    if args.no_serve:
        print(banner, flush=True)
        return
    _serve(
        args.host,
        args.port,
        processes=min(2, default_processes()),
        workers=1,
        threads=default_threads(),
        banner=banner,
    )


def demo_data_dir() -> Path:
    """Where `palabre demo` keeps its data folder (database, secret key, mails) by default."""
    from palabre import config

    return config.data_dir() / "demo"


def demo_environment(demo_dir: Path) -> dict[str, str]:
    """The environment that points a command at the demo's data folder and database."""
    return {
        "PALABRE_DATA_DIR": str(demo_dir),
        "PALABRE_DATABASE_URL": f"sqlite:///{demo_dir / 'palabre.sqlite3'}",
    }


def cmd_train(args: argparse.Namespace) -> None:
    import json

    from palabre.nlp.training import TRAIN_SETS, train

    datasets = Path(args.datasets)
    if not any((datasets / name / "train.csv").is_file() for name in TRAIN_SETS):
        sys.exit(
            f"palabre train: no labelled data sets in {datasets} (such as {datasets / TRAIN_SETS[0] / 'train.csv'}); "
            "give the folder with --datasets."
        )
    feedback = corrections = None
    if args.organisation and not args.include_feedback:
        sys.exit(
            "palabre train: --organisation chooses whose feedback to learn from; add --include-feedback."
        )
    if args.include_feedback:
        setup_django()
        from palabre.conversations.corrections import for_training
        from palabre.moderation.services import feedback_for_training
        from palabre.orgs.models import Organisation

        organisation = None
        if args.organisation:
            organisation = Organisation.objects.filter(slug=args.organisation).first()
            if organisation is None:
                sys.exit(f"No organisation with the short name {args.organisation!r}.")
        feedback = feedback_for_training(organisation=organisation)
        corrections = for_training(organisation=organisation)
        print(
            f"palabre train: {len(feedback)} moderation decisions, "
            f"{sum(r['field'] == 'sentiment' for r in corrections)} sentiment and "
            f"{sum(r['field'] == 'intent' for r in corrections)} intent corrections "
            f"({args.organisation or 'every organisation'}).",
            file=sys.stderr,
        )
    out_dir = Path(args.out) if args.out else Path(__file__).resolve().parent / "nlp" / "models"
    report = train(datasets, out_dir, feedback=feedback, corrections=corrections)
    print(json.dumps(report, indent=1, ensure_ascii=False))


def cmd_eval(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from palabre.moderation.engine import ModerationContext, moderate_many
    from palabre.nlp.evaluation import evaluate, to_markdown, to_text
    from palabre.nlp.triage import triage_many

    def moderate(texts: list[str], lang: str) -> list[dict[str, float]]:
        contexts = [replace(ModerationContext(), lang=lang)] * len(texts)
        return [d.scores for d in moderate_many(texts, contexts)]

    def triage(texts: list[str], lang: str) -> list[tuple[str, str]]:
        return [(t.sentiment, t.intent.label) for t in triage_many(texts, [lang] * len(texts))]

    if not Path(args.datasets).is_dir():
        sys.exit(f"palabre eval: no data sets folder {args.datasets}; give it with --datasets.")
    only = set(args.only.split(",")) if args.only else None
    reports = evaluate(
        Path(args.datasets),
        moderate=moderate,
        triage=triage,
        split=args.split,
        resamples=args.resamples,
        only=only,
        progress=lambda name: print(f"scoring {name}...", file=sys.stderr, flush=True),
    )
    print(to_text(reports))
    if args.output:
        header = (
            "# Quality of Palabre's classifiers\n\n"
            f"Written by `palabre eval --split {args.split}`: every labelled set of the shared data sets, "
            "Palabre (`palabre check` / `palabre triage`) beside the plain baseline trained in the same run "
            "(TF-IDF word 1-2-grams + char_wb 2-5-grams, logistic regression C=4, balanced classes, fitted on "
            "the train split named in `palabre/nlp/evaluation.py`), with 95% bootstrap intervals "
            f"({args.resamples} resamples, paired). Toxic sets are scored by the highest of toxicity, "
            "insult, identity_attack and threat; spam at 0.5. `use: eval` sets are never fitted.\n"
        )
        Path(args.output).write_text(to_markdown(reports, header=header), encoding="utf-8")


def cmd_check(args: argparse.Namespace) -> None:
    from palabre.jsonlines import opened
    from palabre.moderation.cli import check_stream

    with opened(args.file, command="check") as source:
        check_stream(source, sys.stdout, org_slug=args.organisation)


def cmd_triage(args: argparse.Namespace) -> None:
    from palabre.inbox.priority import priority
    from palabre.jsonlines import answer_stream, opened
    from palabre.nlp.triage import triage_many

    def with_priority(data: dict, found) -> dict:
        answer = found.as_dict()
        followers = data.get("followers")
        waiting = data.get("waiting_minutes")
        score, reasons = priority(
            sentiment=found.sentiment,
            sentiment_scores=found.sentiment_scores,
            intent=found.intent.label,
            followers=int(followers) if isinstance(followers, int | float) else None,
            waiting_minutes=float(waiting) if isinstance(waiting, int | float) else 0.0,
        )
        answer["priority"] = {"score": score, "reasons": [r.as_dict() for r in reasons]}
        return answer

    def handle(batch: list[dict]):
        found = triage_many([d["text"] for d in batch], [d.get("lang") for d in batch])
        return (with_priority(data, one) for data, one in zip(batch, found, strict=True))

    with opened(args.file, command="triage") as source:
        answer_stream(source, sys.stdout, handle)


def cmd_bench(args: argparse.Namespace) -> None:
    import runpy

    if not Path(args.bench_dir).is_dir():
        sys.exit(
            f"palabre bench: no benchmarks folder {args.bench_dir}: run it from a clone of Palabre, "
            "or give the folder with --bench-dir."
        )
    script = Path(args.bench_dir) / f"{args.name}.py"
    if not script.exists():
        available = sorted(p.stem for p in Path(args.bench_dir).glob("*.py"))
        sys.exit(f"No benchmark named {args.name!r} in {args.bench_dir}; available: {', '.join(available)}")
    sys.argv = [str(script), *args.rest]
    runpy.run_path(str(script), run_name="__main__")


def cmd_manage(args: argparse.Namespace) -> None:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["palabre manage", *args.rest])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="palabre", description="Self-hosted community management.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", cmd_serve, "Serve the web UI and API (granian), with a task worker beside it.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--processes",
        type=int,
        default=default_processes(),
        help="web server processes (default: one per CPU, at most 8)",
    )
    serve.add_argument(
        "--threads", type=int, default=default_threads(), help="threads of each web server process"
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="task worker processes started beside (0: none)"
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    worker = add("worker", cmd_worker, "Run a task worker (run several, on several machines, on PostgreSQL).")
    worker.add_argument("--queues", default="*", help="comma-separated queues, * for all")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    worker.add_argument("--worker-id", default="", help="unique id (default: random)")
    worker.add_argument("--batch", action="store_true", help="run what is waiting, then exit")
    worker.add_argument(
        "--nice", type=int, default=0, help="lower the worker's CPU priority by this much (Unix nice)"
    )
    worker.add_argument("--max-tasks", type=int, default=0, help="exit after this many tasks")

    migrate = add("migrate", cmd_migrate, "Create or upgrade the database tables.")
    migrate.add_argument(
        "--check", action="store_true", help="list the migrations to apply and exit 1 if any; apply nothing"
    )

    backup = add("backup", cmd_backup, "Write the database, media files and manifest to one tar.gz archive.")
    backup.add_argument("file", help="the archive to write, e.g. palabre-2026-12-05.tar.gz")
    backup.add_argument(
        "--with-secret-key",
        action="store_true",
        help="also put the secret key in the archive (off by default)",
    )

    restore = add("restore", cmd_restore, "Load a backup archive into an empty, migrated database.")
    restore.add_argument("file", help="the archive written by palabre backup")

    admin = add("createadmin", cmd_createadmin, "Create an administrator (and their organisation).")
    admin.add_argument("username")
    admin.add_argument("--email", default="")
    admin.add_argument("--password", default="", help="default: $PALABRE_ADMIN_PASSWORD or prompt")
    add_organisation_option(admin, "create this organisation, owned by the admin", metavar="NAME")

    apikey = add("apikey", cmd_apikey, "Create a key of the Akismet-compatible API for a site.")
    apikey.add_argument("action", choices=["create"])
    add_organisation_option(apikey, "the organisation's short name (slug)", required=True)
    apikey.add_argument("--site", required=True, help="the site's address, e.g. https://blog.example.com/")
    apikey.add_argument("--name", default="", help="the site's name (default: its host name)")

    unlock = add("unlock", cmd_unlock, "Lift a sign-in lock (wrong passwords) or an address's API key block.")
    unlock.add_argument("usernames", nargs="*", metavar="USERNAME", help="accounts to unlock")
    unlock.add_argument("--address", default="", help="also unlock this IP address (sign-in and API keys)")

    add("rotate-keys", cmd_rotate_keys, "Re-encrypt channel credentials with the current secret key.")

    demo = add("demo", cmd_demo, "Start a fresh demo brand on SQLite and serve it.")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", default="", help="where the demo database goes")
    demo.add_argument("--no-serve", action="store_true", help="load the demo, then exit")

    train = add("train", cmd_train, "Train the classifiers from the labelled data sets.")
    train.add_argument("--datasets", default=str(Path("..") / "shared" / "datasets"))
    train.add_argument("--out", default="", help="artifact folder (default: the package's nlp/models)")
    train.add_argument(
        "--include-feedback",
        action="store_true",
        help="add moderators' decisions and people's corrections of sentiment and intent",
    )
    add_organisation_option(train, "learn only from this organisation's feedback (default: every one)")

    evaluation = add("eval", cmd_eval, "Score the classifiers on every labelled set beside a plain baseline.")
    evaluation.add_argument("--datasets", default=str(Path("..") / "shared" / "datasets"))
    evaluation.add_argument("--split", default="test", choices=["test", "dev"])
    evaluation.add_argument("--output", default="", help="also write the figures as Markdown to this file")
    evaluation.add_argument("--only", default="", help="comma-separated set names (default: every set)")
    evaluation.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")

    check = add("check", cmd_check, "Moderate JSON lines from a file or stdin; one JSON line out per input.")
    check.add_argument("file", nargs="?", default="")
    add_organisation_option(check, "apply this organisation's rules and thresholds (its short name)")

    triage = add(
        "triage", cmd_triage, "Language, sentiment and intent of JSON lines; one JSON line out per input."
    )
    triage.add_argument("file", nargs="?", default="")

    bench = add("bench", cmd_bench, "Run a benchmark from bench/ (prints JSON and a summary line).")
    bench.add_argument("name")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.add_argument("--bench-dir", default="bench")

    manage = add("manage", cmd_manage, "Run a Django management command (advanced).")
    manage.add_argument("rest", nargs=argparse.REMAINDER)

    for register_commands in _app_command_registrars():
        register_commands(add)
    return parser


# Capabilities add their own sub-commands: a `palabre.<package>.cli` module with
# `register_commands(add)`, where `add(name, handler, help)` returns the sub-parser.
_PACKAGES_WITH_COMMANDS = ("nlp", "connectors", "inbox", "listening", "publishing", "programmes", "analytics")


def _app_command_registrars():
    import importlib
    import importlib.util

    for package in _PACKAGES_WITH_COMMANDS:
        name = f"palabre.{package}.cli"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        yield module.register_commands


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except Exception as error:
        if not _is_missing_table(error):
            raise
        sys.exit(_missing_tables_message())


def _is_missing_table(error: Exception) -> bool:
    """SQLite's "no such table" or PostgreSQL's "relation ... does not exist": a database never migrated."""
    text = str(error)
    return type(error).__name__ in ("OperationalError", "ProgrammingError") and (
        "no such table" in text or ("relation" in text and "does not exist" in text)
    )


def _missing_tables_message() -> str:
    from django.db import connection

    name = connection.settings_dict.get("NAME")
    lines = [f"palabre: the database {name} has no Palabre tables: run `palabre migrate` to create them."]
    demo = demo_data_dir() / "palabre.sqlite3"
    if demo.exists() and str(demo) != str(name):
        lines.append(
            "To work on the demo's database instead, first run:\n  export "
            + " ".join(f"{k}={shlex.quote(v)}" for k, v in demo_environment(demo.parent).items())
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
