"""Reading settings from the environment.

Every setting the platform reads is declared once in ``VARIABLES`` (name, default, meaning); ``docs/configuration.md``
lists the same table, and a test keeps the two in step. A bad value raises ``ConfigError`` with a one-line message that
names the variable; the ``lingkaran`` command prints it without a traceback.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or wrong. The message names the variable and says what to do."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("LINGKARAN_ENV", "development", "`development` or `production`; production refuses unsafe settings"),
    Variable(
        "LINGKARAN_VAR_DIR",
        "<checkout>/var",
        "Folder for the SQLite database, uploads and generated dev keys",
    ),
    Variable("DATABASE_URL", "sqlite:///<var>/lingkaran.sqlite3", "Database: `sqlite:///path` or `postgres://…`"),
    Variable("SECRET_KEY", "(generated into var/ in development)", "Django secret key", secret=True),
    Variable("DEBUG", "on in development, off in production", "Django debug pages; must be off in production"),
    Variable(
        "ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver (development)", "Comma-separated host names served"
    ),
    Variable("CSRF_TRUSTED_ORIGINS", "(empty)", "Comma-separated origins such as `https://lingkaran.example.id`"),
    Variable(
        "CELERY_BROKER_URL",
        "(empty: tasks run eagerly in-process)",
        "Celery broker, e.g. `redis://127.0.0.1:6379/0`",
    ),
    Variable("CELERY_RESULT_BACKEND", "(the broker URL when it is Redis)", "Where task results are kept"),
    Variable(
        "LINGKARAN_DATA_KEYS",
        "(generated into var/ in development)",
        "Personal-data encryption keys: `id:base64-32-bytes`, comma-separated, first is current (rotation)",
        secret=True,
    ),
    Variable(
        "LINGKARAN_BLIND_INDEX_KEY",
        "(generated into var/ in development)",
        "HMAC key for NIK lookups",
        secret=True,
    ),
    Variable(
        "LINGKARAN_BRIDGE_POOL",
        "liability:pool:bridge",
        "Ledger pool of the bridge fund that advances a worker's short co-payment (docs/subsystems/continuation.md)",
    ),
    Variable(
        "LINGKARAN_WORKER_CASH_ACCOUNT",
        "asset:clearing:worker-payments",
        "Asset account holding contributions workers hand over to agents until banked",
    ),
    Variable("LINGKARAN_GATEWAY", "sandbox", "Payment gateway: `sandbox`, `midtrans` or `xendit`"),
    Variable(
        "MIDTRANS_SERVER_KEY",
        "(empty)",
        "Midtrans server key; required when LINGKARAN_GATEWAY=midtrans",
        secret=True,
    ),
    Variable("MIDTRANS_IS_PRODUCTION", "false", "Use Midtrans production endpoints"),
    Variable(
        "XENDIT_SECRET_KEY",
        "(empty)",
        "Xendit secret API key; required when LINGKARAN_GATEWAY=xendit",
        secret=True,
    ),
    Variable(
        "XENDIT_CALLBACK_TOKEN",
        "(empty)",
        "Xendit callback verification token; required with xendit",
        secret=True,
    ),
    Variable(
        "LINGKARAN_SANDBOX_SERVER_KEY",
        "(derived from SECRET_KEY)",
        "Server key the sandbox gateway signs its notifications with",
        secret=True,
    ),
    Variable("LINGKARAN_SANDBOX_DUPLICATE_PERCENT", "10", "Chance (0–100) that the sandbox sends a notification twice"),
    Variable(
        "LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT",
        "5",
        "Chance (0–100) that the sandbox delivers a 'pending' notification after the final status",
    ),
    Variable("LINGKARAN_MIN_DONATION", "10000", "Smallest donation accepted, in rupiah"),
    Variable("LINGKARAN_POOL_BLOCK_MONTHS", "6", "Months in the block a campaign pool enrols a worker for (1–60)"),
    Variable(
        "LINGKARAN_REFUND_APPROVAL_THRESHOLD",
        "1000000",
        "Refunds above this many rupiah need a second approver",
    ),
    Variable(
        "LINGKARAN_STANDARD_TICKET",
        "16800",
        "Fallback monthly JKK+JKM ticket (rupiah) for a contribution month no tariff version covers",
    ),
    Variable("LINGKARAN_AGENCY", "simulator", "Agency adapter: `simulator` or `file`"),
    Variable("LINGKARAN_LOG_LEVEL", "INFO", "Log level of the `lingkaran` loggers"),
    Variable("LINGKARAN_LOGIN_FAILURE_LIMIT", "5", "Failed log-ins (per user name and address) before a lock-out"),
    Variable("LINGKARAN_LOGIN_COOLOFF_MINUTES", "15", "How long a lock-out lasts"),
    Variable(
        "LINGKARAN_PUBLIC_URL", "http://127.0.0.1:8000", "Public address used in links sent outside the site (receipts)"
    ),
    Variable(
        "LINGKARAN_PROXY_COUNT",
        "0",
        "Trusted reverse proxies in front (nginx = 1): the client address is then read from X-Forwarded-For",
    ),
    Variable("LINGKARAN_CACHE_URL", "(empty: per-process memory)", "Shared cache for rate limits, e.g. `redis://…/1`"),
    Variable(
        "LINGKARAN_IMPORT_PROCESSES",
        "1",
        "Forked worker processes that validate and encrypt rows of a worker import (1: in the importing process)",
    ),
    Variable("LINGKARAN_IMPORT_MAX_BYTES", "536870912", "Largest import file accepted, in bytes (512 MiB)"),
    Variable(
        "LINGKARAN_ADMIN_PASSWORD",
        "(empty: prompt)",
        "Password for `lingkaran createadmin` without a prompt",
        secret=True,
    ),
)

_KNOWN = {v.name for v in VARIABLES}


def get(name: str, default: str | None = None) -> str | None:
    assert name in _KNOWN, f"{name} is not declared in VARIABLES"
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def get_bool(name: str, default: bool) -> bool:
    raw = get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value; use true or false")


def get_int(name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def get_list(name: str, default: list[str]) -> list[str]:
    raw = get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def default_var_dir() -> Path:
    """``var/`` beside the checkout when running from a source tree (editable install), else ``./var``."""
    package_dir = Path(__file__).resolve().parents[1]
    checkout = package_dir.parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "lingkaran").is_dir():
        return checkout / "var"
    return Path.cwd() / "var"


def development_secrets(var_dir: Path) -> dict[str, str]:
    """Per-installation secrets for development, generated once into ``var/dev-secrets.json``.

    Nothing secret has a default in the code: a development checkout gets its own random keys, kept so that encrypted
    demo data stays readable across restarts. Production reads every key from the environment instead.
    """
    path = var_dir / "dev-secrets.json"
    if path.is_file():
        return json.loads(path.read_text())
    var_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LINGKARAN_DATA_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "LINGKARAN_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return values


def parse_data_keys(raw: str) -> dict[str, bytes]:
    """``id:base64,id:base64`` -> ordered {id: 32-byte key}; the first is the current key."""
    keys: dict[str, bytes] = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id.isalnum():
            raise ConfigError("LINGKARAN_DATA_KEYS must look like 'k2:BASE64,k1:BASE64' (key id, colon, key)")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ConfigError(f"LINGKARAN_DATA_KEYS key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ConfigError(f"LINGKARAN_DATA_KEYS key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
        if key_id in keys:
            raise ConfigError(f"LINGKARAN_DATA_KEYS names key {key_id!r} twice")
        keys[key_id] = key
    if not keys:
        raise ConfigError("LINGKARAN_DATA_KEYS is empty")
    return keys


def parse_blind_index_key(raw: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise ConfigError("LINGKARAN_BLIND_INDEX_KEY is not valid base64") from None
    if len(key) < 32:
        raise ConfigError("LINGKARAN_BLIND_INDEX_KEY must be at least 32 bytes")
    return key
