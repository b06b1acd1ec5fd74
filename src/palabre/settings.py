"""Django settings, computed from the typed environment settings in `palabre.config`."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from palabre import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_key()
SECRET_KEY_FALLBACKS = config.as_list(config.SECRET_KEY_FALLBACKS)
DEBUG = config.as_bool(config.DEBUG)
ALLOWED_HOSTS = config.as_list(config.ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = config.as_list(config.CSRF_TRUSTED_ORIGINS)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # intcomma: counts grouped the reader's way in templates ("15 400 abonnés").
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    # django-ninja's templates and static files: /api/docs serves Swagger UI from the package, not a CDN.
    "ninja",
    "palabre.orgs",
    "palabre.conversations",
    "palabre.moderation",
    # the drop-in protocols (Akismet, Perspective, the comment widget), above moderation
    "palabre.compat",
    "palabre.connectors",
    "palabre.inbox",
    "palabre.listening",
    "palabre.publishing",
    "palabre.metrics",
    "palabre.programmes",
    "palabre.analytics",
    # the installation's own commands (serve, worker, migrate, backup, demo...): `palabre` runs them
    "palabre.operations",
    # the schedule of periodic jobs, run by the workers
    "palabre.schedule",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one: every answer is counted, the other middlewares' refusals too (/metrics).
    "palabre.metrics.middleware.RequestMetricsMiddleware",
    # Outside every middleware that writes a page: bidirectional controls out of all of them.
    "palabre.bidi.BidiControlsMiddleware",
    # Outside the rest: whatever answers an error under /api/ (resolver, middleware, 500 page), JSON.
    "palabre.api_errors.JsonApiErrorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "palabre.orgs.middleware.ActiveOrganisationMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "palabre.urls"
WSGI_APPLICATION = "palabre.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "palabre.orgs.context_processors.organisation",
            ],
        },
    },
]


def _database() -> dict:
    url = config.DATABASE_URL.raw() or f"sqlite:///{DATA_DIR / 'palabre.sqlite3'}"
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and IMMEDIATE transactions let the web server and the task workers write side by
        # side without "database is locked" errors. Connections are kept, as on PostgreSQL:
        # opening one runs the pragmas and closing the last one checkpoints the log.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    if database["ENGINE"] == "django.db.backends.postgresql":
        # The ORM binds on the client and never prepares; the API's few hot statements
        # (`moderation.lookups.run`) ask to be prepared, which psycopg only does with a threshold.
        database.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
    return database


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "rq": "django_tasks_rq.RQBackend",
        }[config.TASKS_BACKEND.raw()],
        "QUEUES": ["default"],
    }
}
if config.TASKS_BACKEND.raw() == "rq":
    # Tasks on Redis (django-tasks-rq over django-rq), run by `palabre worker` (palabre.worker).
    if not config.REDIS_URL.raw().strip():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("PALABRE_TASKS_BACKEND=rq needs PALABRE_REDIS_URL (redis://host:6379/0)")
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {
        "default": {
            "URL": config.REDIS_URL.raw().strip(),
            # RQ stops a job after 180 s by default; the database backend never does (a video upload,
            # a backfill may take longer): an hour is the bound of a task stuck for good.
            "DEFAULT_TIMEOUT": 3600,
            # A task's result stays readable a day (RQ's default is 500 s), as in the database.
            "DEFAULT_RESULT_TTL": 86400,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The throttle first: it refuses a locked account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "palabre.orgs.throttle.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes): failures counted per account and, separately, per address,
# in the database (every web process sees them); `palabre unlock` lifts a lock.
AXES_FAILURE_LIMIT = int(config.LOGIN_FAILURE_LIMIT.raw())
AXES_COOLOFF_TIME = timedelta(minutes=float(config.LOGIN_COOLOFF_MINUTES.raw()))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "palabre.orgs.throttle.sign_in_locked"
AXES_CLIENT_IP_CALLABLE = "palabre.orgs.throttle.client_address"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Unknown keys on the machine APIs, counted per address (palabre.orgs.throttle), in a cache that
# every process shares (and `palabre unlock` can clear): on Redis (PALABRE_REDIS_URL) every machine
# too, else the files of this machine's data folder. The default cache holds nothing that must be
# shared (Palabre's own state is in the database): this process's memory unless Redis is there.
# `recent` keeps for a few seconds what the hot paths read (policies, sites, business hours, blocks:
# `palabre.recent`), shared with Redis so that a change applies everywhere at once. What stays in a
# process's memory on purpose (compiled rules and matchers keyed by their version) is harmless when
# stale.
REDIS_URL = config.REDIS_URL.raw().strip()
if REDIS_URL:
    # Django's backend, keeping its redis-py client (palabre.rediscache: building one per call cost
    # more CPU than the read itself).
    _redis = {"BACKEND": "palabre.rediscache.RedisCache", "LOCATION": REDIS_URL}
    CACHES = {
        "default": {**_redis, "KEY_PREFIX": "palabre"},
        "throttle": {**_redis, "KEY_PREFIX": "palabre-throttle"},
        "recent": {**_redis, "KEY_PREFIX": "palabre-recent"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": DATA_DIR / "cache" / "throttle",
            "OPTIONS": {"MAX_ENTRIES": 10000},
        },
        "recent": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "palabre-recent",
            "OPTIONS": {"MAX_ENTRIES": 10000},
        },
    }
KEY_GUESS_LIMIT = int(config.KEY_FAILURE_LIMIT.raw())
KEY_GUESS_COOLOFF_SECONDS = max(1, int(float(config.KEY_COOLOFF_MINUTES.raw()) * 60))
CLIENT_PROXY_COUNT = int(config.PROXY_COUNT.raw())

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = config.LANGUAGE.raw()
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "palabre_language"
TIME_ZONE = config.TIME_ZONE.raw()
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploaded files (pictures of posts) live in the data directory; served only through views that
# check the organisation, never as public URLs.
MEDIA_ROOT = DATA_DIR / "media"
# Serve static files straight from the package: no collectstatic step for a self-hosted install.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = int(config.MAX_BODY_BYTES.raw())
# Files are not counted in the above: a body carrying them is bounded by this handler, before it is read.
FILE_UPLOAD_HANDLERS = [
    "palabre.publishing.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Served over HTTPS (PALABRE_HTTPS): cookies only travel encrypted, browsers remember to use HTTPS,
# plain HTTP is redirected. Behind reverse proxies (PALABRE_PROXY_COUNT), their X-Forwarded-Proto
# says whether the client used HTTPS.
HTTPS = config.as_bool(config.HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(config.HSTS_SECONDS.raw()) if HTTPS else 0
if CLIENT_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy of the pages (django-csp): scripts and styles from Palabre's own static
# files only, no inline script; inline style attributes stay allowed (bar widths, thread depths).
# Pages that must be framed (the comment widget) set their own header, which is kept. /api/docs
# is covered too: Swagger UI comes from django-ninja's static files, started by a script file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "upgrade-insecure-requests": HTTPS,
    },
}

EMAIL_HOST = config.EMAIL_HOST.raw()
EMAIL_PORT = int(config.EMAIL_PORT.raw())
DEFAULT_FROM_EMAIL = config.EMAIL_FROM.raw()
# Every mail goes through palabre.bidi's backend (bidirectional controls out of names and texts),
# which sends with the backend chosen here.
EMAIL_BACKEND = "palabre.bidi.EmailBackend"
INNER_EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
    if config.EMAIL_DIR.raw()
    else "django.core.mail.backends.console.EmailBackend"
)
if config.EMAIL_DIR.raw():
    EMAIL_FILE_PATH = str(Path(config.EMAIL_DIR.raw()).expanduser())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # PALABRE_LOG_FORMAT=json: one object a line for log collectors (python-json-logger), the
        # record's extra fields and a traceback included.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if config.LOG_FORMAT.raw().strip().lower() == "json" else "plain",
        }
    },
    "loggers": {
        "palabre": {"handlers": ["console"], "level": "INFO"},
        # Django's own default prints only when DEBUG is on: a server error (logged by django.request
        # with its traceback) must reach the log in production too. Client errors (4xx) are not logged.
        "django": {"handlers": ["console"], "level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "django_tasks": {"handlers": ["console"], "level": "WARNING"},
        # Wrong passwords and locks (usernames and addresses masked).
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
        # RQ's worker and scheduler (PALABRE_TASKS_BACKEND=rq) in Palabre's format, without a line per job.
        "rq": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
