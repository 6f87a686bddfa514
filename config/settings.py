"""Settings, read from the environment (12-factor).

With no environment at all the project runs on SQLite, an in-memory channel
layer, a local-memory cache and local file storage. `DATABASE_URL`,
`REDIS_URL` and the S3 variables switch on the production engines.
"""

import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent



class _Env(environ.Env):
    """environ.Env whose parse errors name the variable (`LOCKOUT_SECONDS: ...`)."""

    def get_value(self, var, *args, **kwargs):
        try:
            return super().get_value(var, *args, **kwargs)
        except (ValueError, TypeError) as exc:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"{var} is invalid: {exc}") from exc


env = _Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Embedded mode (no DATABASE_URL) is a developer's machine: DEBUG defaults on there.
# Anywhere with a real database it defaults off, and production settings apply.
EMBEDDED = not env.str("DATABASE_URL", default="")
DEBUG = env.bool("DEBUG", default=EMBEDDED)
TESTING = env.bool("TESTING", default="pytest" in sys.modules)

# A fixed key is only acceptable for local development and tests.
_DEV_SECRET = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if (DEBUG or TESTING) else "")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN
    "django_htmx",
    "template_partials",
    "channels",
    "auditlog",
    "django_prometheus",
    "csp",
    "django_object_actions",
    # ours
    "accounts",
    "customers",
    "policies",
    "claims",
    "documents",
    "compliance",
    "events",
    "demo",  # operations commands: seed_demo, preview
]

MIDDLEWARE = [
    # The web process runs this chain once per request in a worker thread
    # (config/http.py). For Django's own ASGI path every entry is async-capable too,
    # with in-memory hooks run inline (config/async_middleware.py); Security, CSRF and
    # X-Frame-Options stay Django's own classes, which `check --deploy` looks for by name.
    "config.async_middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestIDMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "core.proxy.TrustedProxyMiddleware",
    "config.middleware.ApiNoStoreMiddleware",
    "config.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.async_middleware.WhiteNoiseMiddleware",
    "config.async_middleware.SessionMiddleware",
    "config.async_middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.async_middleware.AuthenticationMiddleware",
    "config.async_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.async_middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "compliance.context.AuditContextMiddleware",
    "config.async_middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "csp.context_processors.nonce",
            ],
            # {{ amount|money }} and friends, in every template (portal and admin).
            "builtins": ["core.templatetags.formatting"],
        },
    },
]

# --- Database -----------------------------------------------------------------
try:
    DATABASES = {
        "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    }
except ValueError as exc:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DATABASE_URL is invalid: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # django-prometheus's backend (query metrics) with a cheaper pool check (core.db)
    DATABASES["default"]["ENGINE"] = "core.db.postgresql"
    if env.bool("DB_POOL", default=True):
        # psycopg 3's own pool; persistent connections must stay off with it.
        # Parameters travel beside the statement, not quoted into it in Python, and
        # psycopg prepares a statement a connection runs often (the hot lists').
        if env.bool("DB_SERVER_SIDE_BINDING", default=True):
            DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN", default=1),
            "max_size": env.int("DB_POOL_MAX", default=10),
            "timeout": env.float("DB_POOL_TIMEOUT", default=10),
        }
        # With the pool, health checks make it test a connection before handing it
        # out (ConnectionPool.check_connection): after a database restart no request
        # gets one of the dead connections, and the pool reconnects on its own.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = "postgresql" in DATABASES["default"]["ENGINE"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache, channel layer (Redis when configured) -------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis with hit/miss counters for /metrics
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ibo"),
            # Redis is not a single point of failure: when it is unreachable, reads
            # miss and writes are dropped (logged), and a dead server costs a refused
            # or timed-out connect of at most a quarter second, not a 500.
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
                "IGNORE_EXCEPTIONS": True,
                # after a failure, skip Redis for 2 s instead of waiting on it again
                "CONNECTION_POOL_CLASS": "core.cache.CircuitBreakerConnectionPool",
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # connecting to a dead Redis fails fast; publishing is bounded too
                # (core.live), and sockets outlive an outage (core.live.LocalGroups)
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": env.float(
                    "REDIS_CONNECT_TIMEOUT", default=0.25)}],
                "prefix": env.str("CHANNEL_PREFIX", default="ibo"),
                # one channel per server process receives every group message for its
                # sockets (core.live.LocalGroups): room for a burst
                "channel_capacity": {"live.*": 1000},
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "core.metrics.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "insurance.cache"

# Sessions live in the database only. A cache in front (cached_db) would bring a
# signed-out session back to life when a Redis that missed the delete returns.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.PasswordPolicyValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:  # hashing cost is not what the tests measure
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:login"

# Lockout: 5 failures for one email, or 50 from one address, lock for 15 minutes.
LOCKOUT_EMAIL_LIMIT = env.int("LOCKOUT_EMAIL_LIMIT", default=5)
LOCKOUT_IP_LIMIT = env.int("LOCKOUT_IP_LIMIT", default=50)
LOCKOUT_SECONDS = env.int("LOCKOUT_SECONDS", default=15 * 60)
# Number of trusted reverse proxies in front of the app: X-Forwarded-For and
# X-Forwarded-Proto are believed only that far (core.proxy); 0 ignores them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.StrictFilterBackend",
        "core.filters.BoundedSearchFilter",
        "core.filters.StableOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="300/minute"),
        "user": env.str("THROTTLE_USER", default="3000/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    # JSON everywhere, bounded (core.parsers); the document upload takes multipart
    # (documents/api.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Insurance back-office API",
    "DESCRIPTION": "Customers, policies, claims, documents and compliance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PolicyStatusEnum": "policies.models.PolicyStatus",
        "ClaimStatusEnum": "claims.models.ClaimStatus",
        "WebhookStatusEnum": "events.models.WebhookEndpoint.Status",
        "DeliveryStatusEnum": "events.models.WebhookDelivery.Status",
        "EventTypeEnum": "events.models.EventType",
    },
}

# --- Business rules -------------------------------------------------------------
_default_min = env.str("MIN_PREMIUM", default="100.00")
MIN_PREMIUM = {
    kind: Decimal(env.str(f"MIN_PREMIUM_{kind.upper()}", default=_default_min))
    for kind in ("auto", "home", "life", "health")
}

# --- How amounts and phone numbers are written ----------------------------------
# ISO 4217 code of the currency every amount is in (shown as £1,998.48 for GBP).
CURRENCY = env.str("CURRENCY", default="GBP").upper()
# Region assumed for a phone number typed without its country code (07700 900123).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="GB").upper()

# Claims handling: what a staff user may approve or pay alone, and how long a claim
# may sit in each open status (wall-clock hours, not business hours).
DEFAULT_AUTHORITY_LIMIT = Decimal(env.str("DEFAULT_AUTHORITY_LIMIT", default="10000.00"))
CLAIM_SLA_HOURS = {
    "pending": env.int("CLAIM_SLA_HOURS_PENDING", default=48),
    "processing": env.int("CLAIM_SLA_HOURS_PROCESSING", default=240),
    "approved": env.int("CLAIM_SLA_HOURS_APPROVED", default=120),
}

# --- Encryption of personal data at rest ---------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt. Not SECRET_KEY.
_DEV_FIELD_KEY = "q3bZ1mH0k7m2iY2C3bM0Q5n3lY6rFZ8R2iYx5Vt9w1E="
# A value that is not a Fernet key (a platform-generated secret) is turned into one
# with HKDF: see config/keys.py.
from core.keys import fernet_key

FIELD_ENCRYPTION_KEYS = [
    fernet_key(key)
    for key in env.list(
        "FIELD_ENCRYPTION_KEYS", default=[_DEV_FIELD_KEY] if (DEBUG or TESTING) else []
    )
]

# --- Files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "documents")
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
_document_storage = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
}
if AWS_STORAGE_BUCKET_NAME:
    _document_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _document_storage,
    "documents": _document_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- i18n -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["core.formats"]  # dates as "29 Nov 2026" in the admin too
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# /metrics with DEBUG off: direct requests from private addresses, or this bearer token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Whether a request is secure is decided by core.proxy.TrustedProxyMiddleware, which
# writes the trusted proxies' X-Forwarded-Proto (only with TRUSTED_PROXY_COUNT > 0)
# under a META key no client header can produce.
from core.proxy import SCHEME_KEY

SECURE_PROXY_SSL_HEADER = (SCHEME_KEY, "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not TESTING)
    # Probes from the platform come over plain HTTP on an internal host name.
    SECURE_REDIRECT_EXEMPT = [r"^health(/.*)?$", r"^metrics/?$"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not TESTING)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not TESTING)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Audit ----------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
# Entries live in compliance.AuditEntry: auditlog's entry plus its place in a hash chain.
AUDITLOG_LOGENTRY_MODEL = "compliance.AuditEntry"
# Audit entries are sealed into the hash chain right after their transaction commits
# (compliance.chain). The test suite's transactions never commit: there, seal at write.
AUDIT_SEAL_AT_WRITE = env.bool("AUDIT_SEAL_AT_WRITE", default=TESTING)
# An entry committed but not sealed for longer than this is an alert (/health/ready).
AUDIT_UNSEALED_ALERT_SECONDS = env.int("AUDIT_UNSEALED_ALERT_SECONDS", default=10)
# The sequencer (compliance.sequencer): its leader seals pending entries this often;
# the other processes try to take the lead this often, and seal themselves what has
# waited longer than the takeover time (a stalled leader).
AUDIT_SEAL_INTERVAL_MS = env.int("AUDIT_SEAL_INTERVAL_MS", default=50)
AUDIT_SEQUENCER_RETRY_SECONDS = env.float("AUDIT_SEQUENCER_RETRY_SECONDS", default=1.0)
AUDIT_SEAL_TAKEOVER_SECONDS = env.float("AUDIT_SEAL_TAKEOVER_SECONDS", default=2.0)
MIGRATION_MODULES = {"auditlog": None}  # its own entry table is not used
# Personal data is kept this many years after a customer's last policy ended.
GDPR_RETENTION_YEARS = env.int("GDPR_RETENTION_YEARS", default=7)

# --- Logging --------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIDFilter"}},
    "formatters": {"json": {"()": "core.logging.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Hostile uploads make the PDF parser warn at length; the refusal says enough.
        "pypdf": {"level": "ERROR"},
    },
}

# --- Events: outbox, webhooks, email (Celery on the Redis broker) -------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# celery: Redis broker and workers; thread: in this process (no broker, `make run`);
# sync: in the caller's thread (the test suite).
EVENTS_DELIVERY = env.str(
    "EVENTS_DELIVERY",
    default="sync" if TESTING else ("celery" if CELERY_BROKER_URL else "thread"),
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="events")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request never waits long for a missing broker: the sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2,
                                   "visibility_timeout": 3600, "max_retries": 0}
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_PREFETCH", default=4)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
EVENTS_SWEEP_SECONDS = env.float("EVENTS_SWEEP_SECONDS", default=30.0)
EVENTS_SWEEP_GRACE_SECONDS = env.float("EVENTS_SWEEP_GRACE_SECONDS", default=10.0)
EVENTS_COUNTDOWN_MAX_SECONDS = env.float("EVENTS_COUNTDOWN_MAX_SECONDS", default=600.0)
CELERY_BEAT_SCHEDULE = {
    "events-sweep": {"task": "events.sweep", "schedule": EVENTS_SWEEP_SECONDS},
}
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Waits after the 1st, 2nd, ... failed attempt (the last repeats) within the window.
WEBHOOK_RETRY_DELAYS = [float(x) for x in env.list(
    "WEBHOOK_RETRY_DELAYS", default=["5", "30", "120", "600", "1800", "3600", "7200",
                                     "14400", "21600"])]
WEBHOOK_RETRY_WINDOW_SECONDS = env.float("WEBHOOK_RETRY_WINDOW_SECONDS", default=86400.0)
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=86400.0)
# A worker's hold on a delivery; a killed worker's hold runs out and the sweep retries.
EVENTS_LEASE_SECONDS = env.float("EVENTS_LEASE_SECONDS",
                                 default=WEBHOOK_TIMEOUT_SECONDS + 20.0)
# Production: https only and no private targets; lifted for tests and private networks.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)

# Email (console by default): smtp+tls://user:password@host:587 and the like.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL",
                             default="Insurance back-office <no-reply@localhost>")
EMAIL_RETRY_DELAYS = [float(x) for x in env.list(
    "EMAIL_RETRY_DELAYS", default=["30", "120", "600", "1800", "3600"])]
# Links in emails point here.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")

APP_VERSION = env.str("APP_VERSION", default=__import__("config").__version__)


# --- Fail fast -------------------------------------------------------------------
# In production a missing or unusable setting stops the process at start-up (settings
# are imported before the web server binds), naming the setting, rather than
# answering 500 on first use.
if not DEBUG:
    from config.required import check_production_settings

    check_production_settings(globals(), environ=env, testing=TESTING)
