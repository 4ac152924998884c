"""Settings from the environment. Production refuses to start with a default secret, DEBUG on, a missing key or a bad
database address, and says so in one line that names the variable (no traceback).

Each case runs the real ``lingkaran`` command in a fresh process with a clean environment and its own var/ folder.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from lingkaran.config.env import VARIABLES

REPO = Path(__file__).resolve().parents[2]
LINGKARAN = Path(sys.executable).with_name("lingkaran")


def clean_environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {v.name for v in VARIABLES}}
    for name in ("DJANGO_SETTINGS_MODULE", "LINGKARAN_ADMIN_PASSWORD", "PYTHONWARNINGS"):
        env.pop(name, None)
    env.update(values)
    return env


def production_environment(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    values = {
        "LINGKARAN_ENV": "production",
        "LINGKARAN_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "p8Zq-3vN_w2Lr9xKc7TtYb4Hs1Jd6Fg0Me5Ua2Qo8Wi3Rn7Vy",
        "ALLOWED_HOSTS": "lingkaran.example.id",
        "LINGKARAN_DATA_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
        "LINGKARAN_BLIND_INDEX_KEY": base64.b64encode(bytes(range(32, 64))).decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "LINGKARAN_GATEWAY": "midtrans",
        "MIDTRANS_SERVER_KEY": "SB-Mid-server-test-only",
        "LINGKARAN_AGENCY": "file",
    }
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return clean_environment(**values)


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINGKARAN), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, variable: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lingkaran: error: ")
    assert re.search(rf"\b{variable}\b", lines[0]), lines[0]
    return lines[0]


def test_a_complete_production_environment_starts(tmp_path):
    result = run(["check"], production_environment(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert not (REPO / "var" / "prod.sqlite3").exists()


UNSAFE = [
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "too-short-0123456789"}, "SECRET_KEY"),
    ({"SECRET_KEY": "django-insecure-" + "x" * 50}, "SECRET_KEY"),
    ({"DEBUG": "true"}, "DEBUG"),
    ({"DEBUG": "kadang"}, "DEBUG"),
    ({"LINGKARAN_DATA_KEYS": None}, "LINGKARAN_DATA_KEYS"),
    ({"LINGKARAN_DATA_KEYS": "k1:not-base64!"}, "LINGKARAN_DATA_KEYS"),
    ({"LINGKARAN_BLIND_INDEX_KEY": None}, "LINGKARAN_BLIND_INDEX_KEY"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432"}, "DATABASE_URL"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    ({"LINGKARAN_GATEWAY": "sandbox"}, "LINGKARAN_GATEWAY"),
    ({"LINGKARAN_AGENCY": "simulator"}, "LINGKARAN_AGENCY"),
    ({"LINGKARAN_ENV": "staging"}, "LINGKARAN_ENV"),
]


@pytest.fixture(scope="module")
def unsafe_results(tmp_path_factory) -> list[tuple[Path, subprocess.CompletedProcess]]:
    """Every unsafe case started at once (each in its own process and folder), so that they cost one start-up."""
    started = []
    for index, (changes, _variable) in enumerate(UNSAFE):
        folder = tmp_path_factory.mktemp(f"unsafe{index}")
        process = subprocess.Popen(
            [str(LINGKARAN), "check"],
            env=production_environment(folder, **changes),
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append((folder, process))
    results = []
    for folder, process in started:
        stdout, stderr = process.communicate(timeout=60)
        results.append((folder, subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)))
    return results


@pytest.mark.parametrize("case", range(len(UNSAFE)), ids=[f"{v}-{i}" for i, (_c, v) in enumerate(UNSAFE)])
def test_production_refuses_unsafe_settings_in_one_line(case, unsafe_results):
    folder, result = unsafe_results[case]
    line = assert_one_line_error(result, UNSAFE[case][1])
    for secret in ("p8Zq-3vN_w2Lr9xKc7TtYb4Hs1Jd6Fg0Me5Ua2Qo8Wi3Rn7Vy", "SB-Mid-server-test-only"):
        assert secret not in line
    assert list(folder.glob("*.sqlite3")) == []
    assert not (folder / "dev-secrets.json").exists()  # production never generates secrets


def test_development_generates_its_own_secrets_into_var_once(tmp_path):
    env = clean_environment(LINGKARAN_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    assert run(["check"], env, tmp_path).returncode == 0
    secrets_file = tmp_path / "dev-secrets.json"
    first = secrets_file.read_text()
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    assert run(["check"], env, tmp_path).returncode == 0
    assert secrets_file.read_text() == first


def test_unreachable_postgresql_is_one_line_naming_database_url(tmp_path):
    env = clean_environment(LINGKARAN_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://postgres:geheim@127.0.0.1:1/x")
    result = run(["migrate"], env, tmp_path)
    line = assert_one_line_error(result, "DATABASE_URL")
    assert "127.0.0.1:1" in line
    assert "geheim" not in line  # the password is redacted


def test_the_documented_variables_match_the_code():
    text = (REPO / "docs" / "configuration.md").read_text()
    table = text.split("## Variables", 1)[1]
    documented = re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)
    assert documented == [v.name for v in VARIABLES]


def test_security_settings_in_the_running_configuration():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.LANGUAGE_CODE == "id"
    assert [code for code, _ in settings.LANGUAGES] == ["id", "en"]
    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


def test_production_turns_on_secure_cookies_and_https(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.DEBUG)"
    )
    result = run(["shell", "--no-imports", "-c", script], production_environment(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000", "False"]
