"""The platform's one settings module: every value comes from the environment.

With nothing set, the platform runs for development: DEBUG on, SQLite under var/, and Celery on
a filesystem transport under var/ so background work still runs in a real worker process.
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis. Every variable is listed, with its
meaning, in deploy/.env.example.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from error


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from error


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
PLATFORM_VERSION = "0.1.0"

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. DEBUG is off, so the platform refuses to start with a "
            "development key: set SECRET_KEY to a long random value (see deploy/.env.example)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "rlplatform.apps.RlplatformConfig",
    "environments",
    "labeling",
    "exports",
    "evaluations",
]

MIDDLEWARE = [
    "rlplatform.logs.RequestIdMiddleware",
    "rlplatform.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rlplatform.inputs.StorableInputMiddleware",
]

ROOT_URLCONF = "rlplatform.urls"
WSGI_APPLICATION = "rlplatform.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout waits out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so a test's Celery worker process sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Exports read through a second connection to the same database, inside one repeatable-read
# transaction: a consistent snapshot, while their progress is written through the first.
# SNAPSHOT_DATABASE_URL points them at a read replica instead, keeping the load off the primary.
if os.environ.get("SNAPSHOT_DATABASE_URL"):
    DATABASES["snapshot"] = dj_database_url.parse(
        os.environ["SNAPSHOT_DATABASE_URL"], conn_max_age=0, conn_health_checks=True
    )
    DATABASES["snapshot"]["TEST"] = {"MIRROR": "default"}
else:
    DATABASES["snapshot"] = {
        **DATABASES["default"],
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {})},
        "TEST": {"MIRROR": "default"},
    }
if DATABASES["snapshot"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["snapshot"]["OPTIONS"]["transaction_mode"] = "DEFERRED"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "rlplatform.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling: this many failures for one username (or from one address) within the
# window lock further attempts out for the window.
SIGNIN_MAX_FAILURES = env_int("SIGNIN_MAX_FAILURES", 5)
SIGNIN_LOCKOUT_SECONDS = env_int("SIGNIN_LOCKOUT_SECONDS", 900)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Exports and uploads go to an S3-compatible store (AWS, MinIO, Ceph, R2, ...) when a bucket is
# named; otherwise to MEDIA_ROOT on the local disk.
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", ""),
            "default_acl": None,
            "file_overwrite": True,
        },
    }
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Tokenizers an export may measure its rows with (the `tokenizer` filter names a folder here).
TOKENIZERS_DIR = Path(os.environ.get("TOKENIZERS_DIR", VAR_DIR / "tokenizers"))

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "rlp",
            # A Redis that is down or hung costs a cache call this long at most; the platform
            # then goes on without the cache (rlplatform/caching.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # A file cache is shared by every local process, so throttles hold across web and worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport under var/, so the
# embedded default still runs background work in a real worker process and keeps queued jobs on
# disk across restarts.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    # A message a worker took but never acknowledged (it died) goes back to the queue after
    # this many seconds. A job's message that comes back while the job runs is dropped (see
    # JOB_LEASE_SECONDS); other tasks are idempotent.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # Without these, kombu waits forever on a Redis that hangs, and so does a request that
        # starts a job. Longer than the 1 s a worker's BRPOP waits for a message.
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
# A send to an unreachable broker gives up after one quick retry (enough to replace a connection
# the broker dropped), not kombu's default three: the job stays queued for the redispatch.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ROUTES = {
    "environments.tasks.run_rollout_item": {"queue": "rollouts"},
    "exports.tasks.*": {"queue": "exports"},
}
# A queued job that no worker has started after this long is sent again (a lost message, or a
# broker that was down when it was started).
JOB_REDISPATCH_AFTER_SECONDS = env_int("JOB_REDISPATCH_AFTER_SECONDS", 300)
# A running job whose handler has not reported progress for this long counts as dead: a second
# message for it runs it again, and beat sends one. Until then a duplicate message is dropped;
# an attempt that was only quiet and lost its lease stops at its next progress report.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 1800)
# An agent's episode (agent API, gymnasium, OpenEnv) that no step has touched for this long is
# abandoned: its client died without closing it.
EPISODE_IDLE_TIMEOUT_SECONDS = env_int("EPISODE_IDLE_TIMEOUT_SECONDS", 6 * 3600)
CELERY_BEAT_SCHEDULE = {
    "redispatch-stale-jobs": {
        "task": "rlplatform.tasks.jobs_redispatch_stale",
        # Looked for every minute, or as often as a job counts as stale when that is sooner.
        "schedule": float(min(60, max(1, JOB_REDISPATCH_AFTER_SECONDS))),
    },
    "recover-rollout-items": {
        "task": "environments.tasks.rollouts_recover",
        "schedule": 30.0,
    },
    "abandon-idle-episodes": {
        "task": "environments.tasks.abandon_idle_episodes",
        "schedule": 300.0,
    },
    "labeling-expire-leases": {
        "task": "labeling.tasks.expire_leases",
        "schedule": 30.0,
    },
    "labeling-refresh-agreement": {
        "task": "labeling.tasks.refresh_agreement",
        # Only campaigns with judgments since their last report are computed again.
        "schedule": float(max(5, env_int("AGREEMENT_REFRESH_SECONDS", 60))),
    },
}
# A rollout item's worker renews its lease every step; another worker takes over an item
# whose lease has run out this long after its last step.
ROLLOUT_LEASE_SECONDS = env_int("ROLLOUT_LEASE_SECONDS", 60)
# /metrics answers only requests bearing this token (or, when it is empty, loopback callers).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# The platform's address as programs reach it, for links sent in webhooks.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
# The platform's own model server for chat-policy rollouts, and its key. The key is sent only to
# that server, and only when a rollout does not bring its own.
CHAT_POLICY_BASE_URL = os.environ.get("CHAT_POLICY_BASE_URL", "")
CHAT_POLICY_API_KEY = os.environ.get("CHAT_POLICY_API_KEY", "")
# The hosts a chat policy's base_url may name (comma-separated; "*.example.com" matches its
# subdomains, "*" any host). Whatever it lists, no call reaches a loopback, private or
# link-local address unless allowed below (rlplatform/outbound.py).
CHAT_POLICY_ALLOWED_HOSTS = env_list("CHAT_POLICY_ALLOWED_HOSTS", "*")
# Outbound calls to addresses users name (chat policies, evaluations, webhooks) reach public
# addresses only; these internal hosts too (the platform's own CHAT_POLICY_BASE_URL always).
OUTBOUND_ALLOWED_PRIVATE_HOSTS = env_list("OUTBOUND_ALLOWED_PRIVATE_HOSTS", "")
# Development and tests only: any address, loopback included (a model server on this machine).
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rlplatform.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rlplatform.parsers.TextSafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rlplatform.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rlplatform.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [
        "rlplatform.throttling.AnonymousRateThrottle",
        "rlplatform.throttling.PrincipalRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        "principal": os.environ.get("API_THROTTLE_PRINCIPAL", "120000/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "rlplatform API",
    "DESCRIPTION": (
        "Environments for agents, labeling for people, datasets for trainers. Programs "
        "authenticate with `Authorization: Bearer <key>`; keys are created by admins and scoped "
        "to `agent`, `export` or `admin`."
    ),
    "VERSION": PLATFORM_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "rlplatform.models.JobStatus",
        "EpisodeStatusEnum": "environments.models.EpisodeStatus",
        "ObservationModeEnum": "environments.observations.MODES",
        "RolloutItemStatusEnum": "environments.models.RolloutItemStatus",
        "PolicyKindEnum": "environments.policies.POLICY_KINDS",
        "ExportKindEnum": "exports.kinds.KIND_NAMES",
        "TextObservationModeEnum": "environments.observations.TEXT_MODES",
        "RewardModeEnum": "environments.engine.rewards.REWARD_MODES",
        "CriterionRoleEnum": "environments.openenv.rubrics.CRITERION_ROLES",
        "RoleEnum": "rlplatform.models.Role",
        "VariantEnum": "environments.engine.variants.VARIANTS",
    },
}

# Production hardening: on unless DEBUG. Behind a TLS-terminating proxy, set
# TRUST_X_FORWARDED_PROTO so Django knows the original request was HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs: JSON lines with request ids in production (LOG_FORMAT=json, the default when DEBUG is
# off), plain text for development.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "rlplatform.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "rlplatform.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
CSRF_FAILURE_VIEW = "rlplatform.errors.csrf_failure"

# Serving environments to trainers (environments/openenv/): OpenEnv sessions over WebSockets,
# through Channels on ASGI. Limits are per server process.
INSTALLED_APPS += ["channels", "environments.openenv.apps.OpenEnvConfig"]
ASGI_APPLICATION = "rlplatform.asgi.application"
# Open WebSocket sessions at most; one more is refused with CAPACITY_REACHED.
OPENENV_MAX_SESSIONS = env_int("OPENENV_MAX_SESSIONS", 512)
# A session with no message for this long is closed and its episode abandoned.
OPENENV_IDLE_TIMEOUT_SECONDS = env_int("OPENENV_IDLE_TIMEOUT_SECONDS", 600)
# A step not applied within this long is answered with an error (the session stays open).
OPENENV_STEP_TIMEOUT_SECONDS = env_int("OPENENV_STEP_TIMEOUT_SECONDS", 30)
# Threads applying step batches (each holds a database connection), threads for resets and
# state reads, and the most steps one batch (one transaction) applies. One step thread per
# process makes fewer, larger batches: on two cores it stepped 64 sessions 10-20% faster, with
# a third lower p99, than two threads, whose batches fought over the GIL and PostgreSQL.
OPENENV_STEP_THREADS = env_int("OPENENV_STEP_THREADS", 1)
OPENENV_IO_THREADS = env_int("OPENENV_IO_THREADS", 4)
OPENENV_MAX_BATCH = env_int("OPENENV_MAX_BATCH", 256)
# How often each server process checks again the keys and session URLs its open sessions were
# opened with: a session whose credential was revoked or expired meanwhile is closed.
OPENENV_CREDENTIAL_CHECK_SECONDS = env_float("OPENENV_CREDENTIAL_CHECK_SECONDS", 0.5)
# Session URLs: how long one works unless asked otherwise, and at most.
OPENENV_SESSION_URL_TTL_SECONDS = env_int("OPENENV_SESSION_URL_TTL_SECONDS", 3600)
OPENENV_SESSION_URL_MAX_TTL_SECONDS = env_int("OPENENV_SESSION_URL_MAX_TTL_SECONDS", 7 * 86400)
# Also serve this environment's OpenEnv endpoints at the root (/ws, /health, /reset, ...), for a
# deployment that is one environment, such as an OpenEnv Space. Empty: only under /openenv/.
OPENENV_ROOT_ENVIRONMENT = os.environ.get("OPENENV_ROOT_ENVIRONMENT", "")
