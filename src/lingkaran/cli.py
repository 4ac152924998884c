"""The ``lingkaran`` command: Django's management commands with friendlier entry points.

``lingkaran serve``, ``lingkaran up``, ``lingkaran demo``, ``lingkaran createadmin``, ``lingkaran migrate`` … and
two-word commands such as ``lingkaran regions load FILE`` (the management command ``regions_load``). It works from
any directory and reads ``DATABASE_URL``. Configuration and connection problems end in one line naming the cause.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def _redact(url: str | None) -> str:
    if not url:
        return "(not set)"
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _fail(message: str) -> int:
    print(f"lingkaran: error: {message}", file=sys.stderr)
    return 2


def resolve_command(argv: list[str], commands: set[str]) -> list[str]:
    """``['regions', 'load', 'f.csv']`` -> ``['regions_load', 'f.csv']`` when ``regions_load`` exists."""
    if len(argv) >= 2 and f"{argv[0]}_{argv[1]}" in commands:
        return [f"{argv[0]}_{argv[1]}", *argv[2:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lingkaran.config.settings")
    from lingkaran.config.env import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        return _fail(str(exc))

    from django.conf import settings
    from django.core.management import execute_from_command_line, get_commands
    from django.db.utils import OperationalError

    from lingkaran.core import context
    from lingkaran.core.errors import DomainError

    if not argv:
        argv = ["help"]
    argv = resolve_command(argv, set(get_commands()))
    try:
        with context.acting("command"):
            execute_from_command_line(["lingkaran", *argv])
    except ConfigError as exc:
        return _fail(str(exc))
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return _fail(f"cannot use the database at {_redact(settings.DATABASE_URL)} (DATABASE_URL): {first}")
    except DomainError as exc:
        fields = exc.details.get("fields") or {}
        extra = "; ".join(f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in fields.items())
        return _fail(f"{exc.message}{' ' + extra if extra else ''} [{exc.code}]")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from kombu.exceptions import OperationalError as BrokerError

        if isinstance(exc, BrokerError):
            return _fail(
                f"cannot reach the Celery broker at {_redact(settings.CELERY_BROKER_URL)} (CELERY_BROKER_URL): {exc}"
            )
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
