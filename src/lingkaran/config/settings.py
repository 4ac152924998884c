"""Django settings, read from the environment (see ``env.VARIABLES`` and docs/configuration.md).

Development (the default) runs on SQLite in ``var/`` with eager Celery, the sandbox gateway and the agency simulator,
and generates its own secrets into ``var/``. Production (``LINGKARAN_ENV=production``) refuses to start with a
default or missing secret, with DEBUG on, or without the keys it needs, and names the variable.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from lingkaran.config import env
from lingkaran.config.env import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parents[1]

LINGKARAN_ENV = env.get("LINGKARAN_ENV", "development")
if LINGKARAN_ENV not in {"development", "production"}:
    raise ConfigError(f"LINGKARAN_ENV={LINGKARAN_ENV!r} must be 'development' or 'production'")
PRODUCTION = LINGKARAN_ENV == "production"
TESTING = False

VAR_DIR = Path(env.get("LINGKARAN_VAR_DIR") or env.default_var_dir()).resolve()


def _secret(name: str) -> str:
    value = env.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ConfigError(f"{name} is not set; production needs it (see docs/configuration.md)")
    return env.development_secrets(VAR_DIR)[name]


SECRET_KEY = _secret("SECRET_KEY")
if PRODUCTION and (len(SECRET_KEY) < 40 or SECRET_KEY.startswith("django-insecure") or "change" in SECRET_KEY):
    raise ConfigError("SECRET_KEY looks like a default or is shorter than 40 characters; set a random one")

DEBUG = env.get_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ConfigError("DEBUG is on; production refuses to start with DEBUG=true")

ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError("ALLOWED_HOSTS is not set; production needs the host names it serves")
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])

# --- Personal data keys (AES-GCM field encryption and the HMAC blind index) -------------------------------------
DATA_KEYS = env.parse_data_keys(_secret("LINGKARAN_DATA_KEYS"))
BLIND_INDEX_KEY = env.parse_blind_index_key(_secret("LINGKARAN_BLIND_INDEX_KEY"))

# --- Database -------------------------------------------------------------------------------------------------------
_default_db_url = f"sqlite:///{VAR_DIR / 'lingkaran.sqlite3'}"
DATABASE_URL = env.get("DATABASE_URL", _default_db_url)


def database_from_url(url: str) -> dict:
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL scheme {scheme or '(none)'!r} is not supported; use sqlite:///PATH or postgres://USER@HOST/DB"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=0 if scheme == "sqlite" else 60)
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid database address: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = config.get("NAME") or ""
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN so that two
            # writers queue instead of failing half-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        if not config.get("NAME"):
            raise ConfigError("DATABASE_URL names no database (postgres://USER@HOST:PORT/DATABASE)")
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", 5)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications ---------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "ninja",  # serves the API docs page's Swagger UI from local static files (no CDN)
    "lingkaran.core",
    "lingkaran.registry",
    "lingkaran.funding",
    "lingkaran.ledger",
    "lingkaran.protection",
    "lingkaran.protection.agency",
    "lingkaran.continuation",
    "lingkaran.web",
    "lingkaran.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lingkaran.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "lingkaran.web.middleware.DomainErrorMiddleware",
    "lingkaran.api.middleware.ApiProblemFallbackMiddleware",
]

ROOT_URLCONF = "lingkaran.config.urls"
WSGI_APPLICATION = "lingkaran.config.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lingkaran.web.context_processors.navigation",
            ],
        },
    }
]

# --- Authentication and sessions ------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.get_int("LINGKARAN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env.get_int("LINGKARAN_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# --- Language, time and formats -------------------------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "lingkaran_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["lingkaran.formats"]

# --- Static files ---------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Celery ---------------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.get("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env.get(
    "CELERY_RESULT_BACKEND",
    CELERY_BROKER_URL if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("redis") else None,
)
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
# The periodic work (config/celery.py: BEAT_SCHEDULE) runs on Jakarta time; beat keeps its last runs in var/.
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Adapters -------------------------------------------------------------------------------------------------------
# Continuation (docs/subsystems/continuation.md): the bridge fund that advances a worker's short part on billing day,
# and the asset account where contributions handed over by workers are held until banked.
CONTINUATION_BRIDGE_POOL = env.get("LINGKARAN_BRIDGE_POOL", "liability:pool:bridge")
CONTINUATION_CASH_ACCOUNT = env.get("LINGKARAN_WORKER_CASH_ACCOUNT", "asset:clearing:worker-payments")

LINGKARAN_GATEWAY = env.get("LINGKARAN_GATEWAY", "sandbox")
if LINGKARAN_GATEWAY not in {"sandbox", "midtrans", "xendit"}:
    raise ConfigError(f"LINGKARAN_GATEWAY={LINGKARAN_GATEWAY!r} must be sandbox, midtrans or xendit")
MIDTRANS_SERVER_KEY = env.get("MIDTRANS_SERVER_KEY", "")
MIDTRANS_IS_PRODUCTION = env.get_bool("MIDTRANS_IS_PRODUCTION", False)
XENDIT_SECRET_KEY = env.get("XENDIT_SECRET_KEY", "")
XENDIT_CALLBACK_TOKEN = env.get("XENDIT_CALLBACK_TOKEN", "")
if LINGKARAN_GATEWAY == "midtrans" and not MIDTRANS_SERVER_KEY:
    raise ConfigError("MIDTRANS_SERVER_KEY is not set; LINGKARAN_GATEWAY=midtrans needs it")
if LINGKARAN_GATEWAY == "xendit" and not (XENDIT_SECRET_KEY and XENDIT_CALLBACK_TOKEN):
    raise ConfigError("XENDIT_SECRET_KEY and XENDIT_CALLBACK_TOKEN must both be set for LINGKARAN_GATEWAY=xendit")
if PRODUCTION and LINGKARAN_GATEWAY == "sandbox":
    raise ConfigError("LINGKARAN_GATEWAY=sandbox takes no real money; production needs midtrans or xendit")


def _percent(name: str, default: int) -> int:
    value = env.get_int(name, default)
    if not 0 <= value <= 100:
        raise ConfigError(f"{name}={value} must be a percentage from 0 to 100")
    return value


def _rupiah(name: str, default: int) -> int:
    value = env.get_int(name, default)
    if value <= 0:
        raise ConfigError(f"{name}={value} must be a positive number of rupiah")
    return value


# The sandbox gateway's server key: its own secret, or one derived from SECRET_KEY (never a default in the code).
LINGKARAN_SANDBOX_SERVER_KEY = env.get("LINGKARAN_SANDBOX_SERVER_KEY") or (
    "SB-Lingkaran-server-" + hmac.new(SECRET_KEY.encode(), b"lingkaran sandbox gateway", hashlib.sha256).hexdigest()
)
LINGKARAN_SANDBOX_DUPLICATE_PERCENT = _percent("LINGKARAN_SANDBOX_DUPLICATE_PERCENT", 10)
LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = _percent("LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT", 5)
LINGKARAN_SANDBOX_MAX_ATTEMPTS = 8  # deliveries of one notification before the sandbox gives up (backoff 2**n s)
LINGKARAN_MIN_DONATION = _rupiah("LINGKARAN_MIN_DONATION", 10_000)
LINGKARAN_REFUND_APPROVAL_THRESHOLD = _rupiah("LINGKARAN_REFUND_APPROVAL_THRESHOLD", 1_000_000)
LINGKARAN_STANDARD_TICKET = _rupiah("LINGKARAN_STANDARD_TICKET", 16_800)
LINGKARAN_POOL_BLOCK_MONTHS = env.get_int("LINGKARAN_POOL_BLOCK_MONTHS", 6)
if not 1 <= LINGKARAN_POOL_BLOCK_MONTHS <= 60:
    raise ConfigError("LINGKARAN_POOL_BLOCK_MONTHS must be between 1 and 60 months")
LINGKARAN_WEBHOOK_MAX_BYTES = 64 * 1024
LINGKARAN_AGENCY = env.get("LINGKARAN_AGENCY", "simulator")
if LINGKARAN_AGENCY not in {"simulator", "file"}:
    raise ConfigError(f"LINGKARAN_AGENCY={LINGKARAN_AGENCY!r} must be simulator or file")
if PRODUCTION and LINGKARAN_AGENCY == "simulator":
    raise ConfigError("LINGKARAN_AGENCY=simulator pays no real contributions; production needs LINGKARAN_AGENCY=file")
PUBLIC_URL = env.get("LINGKARAN_PUBLIC_URL", "http://127.0.0.1:8000")

# --- Logging --------------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "lingkaran": {
            "handlers": ["console"],
            "level": env.get("LINGKARAN_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# --- Proxies and cache ----------------------------------------------------------------------------------------------
PROXY_COUNT = env.get_int("LINGKARAN_PROXY_COUNT", 0)
if PROXY_COUNT < 0:
    raise ConfigError("LINGKARAN_PROXY_COUNT must be 0 or more")
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if PROXY_COUNT else ("REMOTE_ADDR",)
NINJA_NUM_PROXIES = PROXY_COUNT or None
_cache_url = env.get("LINGKARAN_CACHE_URL")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://")):
    raise ConfigError("LINGKARAN_CACHE_URL must be a redis:// address")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- API ------------------------------------------------------------------------------------------------------------
NINJA_PAGINATION_MAX_LIMIT = 500
API_PAGE_SIZE = 50
