"""Palabre's settings read from the environment: one typed declaration each, with its documentation.

`docs/configuration.md` must describe every setting declared here (a test checks it).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    def raw(self) -> str:
        return os.environ.get(self.name, self.default)


SETTINGS: dict[str, Setting] = {}


def declare(name: str, default: str, help: str) -> Setting:
    setting = Setting(name, default, help)
    SETTINGS[name] = setting
    return setting


DATA_DIR = declare(
    "PALABRE_DATA_DIR",
    "",
    "Folder for the SQLite database, the generated secret key and uploads. "
    "Default: ~/.local/share/palabre (or $XDG_DATA_HOME/palabre).",
)
DATABASE_URL = declare(
    "PALABRE_DATABASE_URL",
    "",
    "Database URL, e.g. postgres://user:password@host:5432/palabre. Default: SQLite in the data folder.",
)
SECRET_KEY = declare(
    "PALABRE_SECRET_KEY",
    "",
    "Secret key for sessions and for the key that encrypts channel credentials. "
    "Default: a random key generated once and kept in the data folder (secret_key).",
)
SECRET_KEY_FALLBACKS = declare(
    "PALABRE_SECRET_KEY_FALLBACKS",
    "",
    "Comma-separated former secret keys, still accepted to read old sessions and credentials "
    "until `palabre rotate-keys` has re-encrypted them.",
)
DEBUG = declare("PALABRE_DEBUG", "false", "Django debug mode (never in production).")
ALLOWED_HOSTS = declare(
    "PALABRE_ALLOWED_HOSTS",
    "127.0.0.1,localhost,[::1]",
    "Comma-separated host names the web server answers to.",
)
CSRF_TRUSTED_ORIGINS = declare(
    "PALABRE_CSRF_TRUSTED_ORIGINS",
    "",
    "Comma-separated origins (scheme and host) trusted for form posts behind a reverse proxy.",
)
LANGUAGE = declare("PALABRE_LANGUAGE", "fr", "Default interface language (fr or en) before a person chooses.")
TIME_ZONE = declare("PALABRE_TIME_ZONE", "Europe/Paris", "Default time zone for display and schedules.")
TASKS_BACKEND = declare(
    "PALABRE_TASKS_BACKEND",
    "database",
    "Background task backend: `database` (tasks stored in the database, run by workers), `rq` "
    "(tasks queued on the Redis of PALABRE_REDIS_URL, run by `palabre worker`; django-tasks-rq) or "
    "`immediate` (run inline, for tests and one-off scripts).",
)
ANALYSIS_SWEEP_SECONDS = declare(
    "PALABRE_ANALYSIS_SWEEP_SECONDS",
    "60",
    "How often the schedule's conversations.sweep looks for items stored and not analysed (a worker "
    "died between the two), and how old such an item must be to be analysed by this sweep.",
)
WORKER_HEARTBEAT_SECONDS = declare(
    "PALABRE_WORKER_HEARTBEAT_SECONDS",
    "5",
    "How often a task worker writes its heartbeat file (workers/<id>.json in the data folder); "
    "a heartbeat older than three times this says the worker is gone or stuck.",
)
READY_TASK_DELAY_SECONDS = declare(
    "PALABRE_READY_TASK_DELAY_SECONDS",
    "300",
    "`/readyz` answers 503 when a task has been due this long without a worker taking it "
    "(the queue is stalled).",
)
REDIS_URL = declare(
    "PALABRE_REDIS_URL",
    "",
    "Redis (or Valkey) URL, e.g. redis://redis:6379/0, for the state every process and machine "
    "must share: the key-guess counts and blocks, and Django's default cache. Default: none (the "
    "counts in files of the data folder, shared by the processes of one machine only).",
)
METRICS_TOKEN = declare(
    "PALABRE_METRICS_TOKEN",
    "",
    "Bearer token that `/metrics` (Prometheus) asks for. Default: none, meaning `/metrics` answers "
    "only connections from the loopback address.",
)
METRICS_DIR = declare(
    "PALABRE_METRICS_DIR",
    "",
    "Folder where every process of the machine writes its metrics (prometheus-client's "
    "multiprocess mode), so that `/metrics` adds them up. Default: `metrics` in the data folder.",
)
LOG_FORMAT = declare(
    "PALABRE_LOG_FORMAT",
    "plain",
    "`plain` (one readable line per event) or `json` (one JSON object per line, for log collectors).",
)
EMAIL_HOST = declare(
    "PALABRE_EMAIL_HOST",
    "",
    "SMTP server host for outgoing mail; empty writes mails to the console.",
)
EMAIL_PORT = declare("PALABRE_EMAIL_PORT", "25", "SMTP server port.")
EMAIL_FROM = declare("PALABRE_EMAIL_FROM", "palabre@localhost", "Sender address of Palabre's mails.")
EMAIL_DIR = declare(
    "PALABRE_EMAIL_DIR",
    "",
    "Without PALABRE_EMAIL_HOST: a folder where mails are written, one file each, instead of being "
    "printed on the console (`palabre demo` uses the mails folder of its data folder).",
)
MAX_BODY_BYTES = declare(
    "PALABRE_MAX_BODY_BYTES",
    "2621440",
    "Largest request body accepted, in bytes; larger ones are refused with 413.",
)
AKISMET_RATE_LIMIT = declare(
    "PALABRE_AKISMET_RATE_LIMIT",
    "600",
    "Requests per minute accepted from one site's keys, Akismet-compatible and Perspective-compatible "
    "APIs and the site's widget comments together (0: no limit); more are answered 429 with Retry-After.",
)

# --- accounts and security settings ---
LOGIN_FAILURE_LIMIT = declare(
    "PALABRE_LOGIN_FAILURE_LIMIT",
    "10",
    "Wrong passwords in a row, for one account or from one address, before sign-in is refused "
    "for that account or address until the cool-off ends (or `palabre unlock`).",
)
LOGIN_COOLOFF_MINUTES = declare(
    "PALABRE_LOGIN_COOLOFF_MINUTES",
    "15",
    "Minutes a locked account or address waits before it may sign in again.",
)
KEY_FAILURE_LIMIT = declare(
    "PALABRE_KEY_FAILURE_LIMIT",
    "20",
    "Unknown API tokens or keys (organisation API, Akismet, Perspective) sent from one address "
    "before its calls are refused (429) until the cool-off ends; 0: no limit.",
)
KEY_COOLOFF_MINUTES = declare(
    "PALABRE_KEY_COOLOFF_MINUTES",
    "15",
    "Minutes an address that sent too many unknown keys waits before its calls are answered again.",
)
PROXY_COUNT = declare(
    "PALABRE_PROXY_COUNT",
    "0",
    "Reverse proxies in front of Palabre that add the client's address to X-Forwarded-For "
    "(0: the connection's own address is the client's). Also makes X-Forwarded-Proto trusted.",
)
HTTPS = declare(
    "PALABRE_HTTPS",
    "false",
    "Served over HTTPS: secure cookies, HSTS, plain HTTP redirected to HTTPS.",
)
HSTS_SECONDS = declare(
    "PALABRE_HSTS_SECONDS",
    "31536000",
    "With PALABRE_HTTPS: how long browsers must use HTTPS only (Strict-Transport-Security max-age).",
)


# --- connectors settings ---
CONNECTORS_MIN_INTERVAL = declare(
    "PALABRE_CONNECTORS_MIN_INTERVAL",
    "1",
    "Seconds between two calls to a platform for one channel (the per-channel rate limit).",
)
CONNECTORS_PLATFORM_INTERVALS = declare(
    "PALABRE_CONNECTORS_PLATFORM_INTERVALS",
    "mastodon=1,bluesky=1,email=2,rss=5",
    "Per-platform overrides of the minimum interval, as platform=seconds pairs separated by commas.",
)
CONNECTORS_MAX_ATTEMPTS = declare(
    "PALABRE_CONNECTORS_MAX_ATTEMPTS",
    "8",
    "Automatic delivery attempts of a reply, publication, hide or delete before it is marked failed.",
)
CONNECTORS_RETRY_BASE_SECONDS = declare(
    "PALABRE_CONNECTORS_RETRY_BASE_SECONDS",
    "30",
    "First retry delay after a temporary failure; doubled at each attempt, with jitter.",
)
CONNECTORS_RETRY_MAX_SECONDS = declare(
    "PALABRE_CONNECTORS_RETRY_MAX_SECONDS",
    "3600",
    "Longest delay between two automatic delivery attempts.",
)
CONNECTORS_LEASE_SECONDS = declare(
    "PALABRE_CONNECTORS_LEASE_SECONDS",
    "300",
    "How long a worker may take to deliver one action before it is presumed dead and the "
    "delivery is checked (never blindly sent again).",
)
CONNECTORS_POLL_SECONDS = declare(
    "PALABRE_CONNECTORS_POLL_SECONDS",
    "60",
    "How often the schedule's connectors.tick runs: pulls due channels, retries due deliveries, "
    "checks alerts.",
)
CONNECTORS_TOKEN_ALERT_DAYS = declare(
    "PALABRE_CONNECTORS_TOKEN_ALERT_DAYS",
    "7",
    "Alert the organisation's owners and administrators this many days before a channel's token expires.",
)
CONNECTORS_FAILURE_ALERT_COUNT = declare(
    "PALABRE_CONNECTORS_FAILURE_ALERT_COUNT",
    "3",
    "Alert the owners and administrators when a channel fails this many times in a row.",
)
CONNECTORS_HTTP_TIMEOUT = declare(
    "PALABRE_CONNECTORS_HTTP_TIMEOUT",
    "20",
    "Seconds before a call to a platform (HTTP, IMAP, SMTP) is given up.",
)
OUTBOUND_ALLOWED_HOSTS = declare(
    "PALABRE_OUTBOUND_ALLOWED_HOSTS",
    "",
    "Comma-separated host names (`.example.org` for a domain), addresses or networks Palabre may "
    "connect to although they are loopback, private, link-local or reserved (an intranet feed, a "
    "test server). Default: none.",
)
CONNECTORS_WEBHOOK_MAX_BYTES = declare(
    "PALABRE_CONNECTORS_WEBHOOK_MAX_BYTES",
    "1048576",
    "Largest webhook body accepted, in bytes; larger ones are refused with 413.",
)
META_GRAPH_URL = declare(
    "PALABRE_META_GRAPH_URL",
    "https://graph.facebook.com",
    "Where the Facebook and Instagram connectors reach Meta's Graph API (a proxy, or a test server).",
)

# --- inbox settings ---

# --- listening settings ---
LISTENING_PUBLIC_URL = declare(
    "PALABRE_LISTENING_PUBLIC_URL",
    "",
    "Public address of this Palabre (e.g. https://palabre.example.com), used for the links in crisis "
    "alert mails and webhooks. Empty: alerts carry no link.",
)
LISTENING_ALERT_LANGUAGE = declare(
    "PALABRE_LISTENING_ALERT_LANGUAGE",
    "",
    "Language (fr or en) of crisis alert mails. Empty: PALABRE_LANGUAGE.",
)

# --- publishing settings ---
PUBLISHING_CHECK_SECONDS = declare(
    "PALABRE_PUBLISHING_CHECK_SECONDS",
    "60",
    "Seconds after a post's publication time when a follow-up task checks that it was handed to "
    "the channel and delivered (and picks the work up again when a worker died meanwhile).",
)
PUBLISHING_TICK_SECONDS = declare(
    "PALABRE_PUBLISHING_TICK_SECONDS",
    "60",
    "Seconds between two sweeps for scheduled posts whose time has come and that no task is "
    "publishing (a safety net behind the per-post tasks).",
)


def as_bool(setting: Setting) -> bool:
    return setting.raw().strip().lower() in {"1", "true", "yes", "on"}


def as_list(setting: Setting) -> list[str]:
    return [part.strip() for part in setting.raw().split(",") if part.strip()]


def data_dir() -> Path:
    configured = DATA_DIR.raw()
    if configured:
        path = Path(configured).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "palabre"
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key() -> str:
    """The configured key, or one generated on first run and kept (private) in the data folder."""
    configured = SECRET_KEY.raw()
    if configured:
        return configured
    key_file = data_dir() / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()
