"""Settings production cannot run without, checked when the settings are imported.

Every process (the web server, manage.py, workers) imports the settings first, so
a problem here stops it at start-up with one message naming each bad setting.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# 32 characters: a platform's generated 256-bit secret (44 base64 characters) passes.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5
MIN_JWT_KEY_LENGTH = 32
POSTGRES_ENGINES = ("django.db.backends.postgresql", "django_prometheus.db.backends.postgresql",
                    "core.db.postgresql")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def _secret_key_problem(value: str, *, dev_value: str, testing: bool) -> str | None:
    if not value:
        return "SECRET_KEY must be set when DEBUG is off."
    if value == dev_value and not testing:
        return "SECRET_KEY is the development key; set a random production value."
    if (len(value) < MIN_SECRET_KEY_LENGTH
            or len(set(value)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
            or value.startswith("django-insecure-")):
        return (f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random "
                "characters (python -c 'import secrets; print(secrets.token_urlsafe(50))').")
    return None


def _database_problem(raw: str, database: dict) -> str | None:
    if not raw:
        return "DATABASE_URL must be set when DEBUG is off (postgres://user:pass@host:5432/db)."
    if database.get("ENGINE") not in POSTGRES_ENGINES or not database.get("NAME"):
        return ("DATABASE_URL is not a PostgreSQL URL with a database name "
                "(postgres://user:pass@host:5432/db).")
    return None


def _redis_problem(raw: str) -> str | None:
    if raw and urlsplit(raw).scheme not in REDIS_SCHEMES:
        return "REDIS_URL must be a redis://, rediss:// or unix:// URL (or unset)."
    return None


def check_production_settings(values: dict, *, environ, testing: bool) -> None:
    """Raise ImproperlyConfigured naming every required setting that is missing or unusable."""
    problems = [
        _secret_key_problem(values["SECRET_KEY"], dev_value=values["_DEV_SECRET"],
                            testing=testing),
        _database_problem(environ.str("DATABASE_URL", default=""), values["DATABASES"]["default"]),
        _redis_problem(values["REDIS_URL"]),
    ]
    if not values["FIELD_ENCRYPTION_KEYS"]:
        problems.append("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off: comma-separated "
                        "Fernet keys (or random secrets of at least 32 characters).")
    elif values["_DEV_FIELD_KEY"] in values["FIELD_ENCRYPTION_KEYS"] and not testing:
        problems.append("FIELD_ENCRYPTION_KEYS holds the development key; set your own.")
    jwt_key = environ.str("JWT_SIGNING_KEY", default="")
    if jwt_key and len(jwt_key) < MIN_JWT_KEY_LENGTH:
        problems.append(f"JWT_SIGNING_KEY is too short: use at least {MIN_JWT_KEY_LENGTH} "
                        "random characters (or leave it unset to use SECRET_KEY).")
    if not values["ALLOWED_HOSTS"]:
        problems.append("ALLOWED_HOSTS must name the host(s) this service answers.")
    problems = [p for p in problems if p]
    if problems:
        raise ImproperlyConfigured("Refusing to start: " + " ".join(problems))
