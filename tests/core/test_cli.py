"""The ``lingkaran`` command on a throw-away SQLite database: migrate, demo (twice), createadmin, doctor.

Each run is a real process with a clean environment, ``DATABASE_URL`` pointing into the test's own folder and
``LINGKARAN_VAR_DIR`` there too, so nothing touches the checkout's var/.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from lingkaran import demo
from tests.core.test_settings import LINGKARAN, REPO, clean_environment

ADMIN_PASSWORD = "Kunci-Lingkaran-2026!"


def lingkaran(args: list[str], folder: Path, *, cwd: Path | None = None, **extra: str):
    env = clean_environment(LINGKARAN_VAR_DIR=str(folder), DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", **extra)
    return subprocess.run(
        [str(LINGKARAN), *args],
        env=env,
        cwd=cwd or folder,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("migrated")
    result = lingkaran(["migrate"], folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def database(migrated, tmp_path) -> Path:
    """A fresh copy of the migrated database (and the keys generated with it) in this test's folder."""
    for path in migrated.iterdir():
        if path.is_file():
            shutil.copy2(path, tmp_path / path.name)
    return tmp_path


def row_counts(folder: Path) -> dict[str, int]:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def query(folder: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(folder / "db.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def one_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_migrate_again_changes_nothing(database):
    before = row_counts(database)
    result = lingkaran(["migrate"], database)
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply." in result.stdout
    assert row_counts(database) == before
    assert not (REPO / "var" / "db.sqlite3").exists()


def test_demo_twice_creates_the_same_world(database, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("another-directory")
    first = lingkaran(["demo"], database, cwd=elsewhere)
    assert first.returncode == 0, first.stderr
    after_first = row_counts(database)
    second = lingkaran(["demo"], database)
    assert second.returncode == 0, second.stderr
    assert row_counts(database) == after_first

    assert after_first["core_user"] == len(demo.DEMO_USERS)
    assert after_first["funding_funder"] == len(demo.DEMO_FUNDERS)
    assert after_first["funding_fundermembership"] == sum(len(m) for *_rest, m in demo.DEMO_FUNDERS)
    assert after_first["core_regionassignment"] == sum(len(c) for c in demo.DEMO_REGION_ASSIGNMENTS.values())
    assert after_first["registry_region"] >= len(
        {code for codes in demo.DEMO_REGION_ASSIGNMENTS.values() for code in codes}
    )
    roles = dict(query(database, "SELECT username, role FROM core_user"))
    assert roles == {username: role for username, role, _ in demo.DEMO_USERS}
    assert set(roles.values()) == {
        "operator",
        "finance",
        "verifier",
        "funder",
        "field_agent",
        "worker",
        "auditor",
    }
    hashes = [h for (h,) in query(database, "SELECT password FROM core_user")]
    assert all(h.startswith("argon2$") for h in hashes)
    creations = query(database, "SELECT channel FROM core_auditevent WHERE action = 'user.create'")
    assert creations == [("command",)] * len(demo.DEMO_USERS)


def test_createadmin_creates_an_operator(database):
    result = lingkaran(
        ["createadmin", "--username", "kepala", "--full-name", "Kepala Program", "--email", "kepala@contoh.id"],
        database,
        LINGKARAN_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    assert "kepala" in result.stdout
    rows = query(
        database, "SELECT username, full_name, email, role, is_superuser, is_staff, is_active, password FROM core_user"
    )
    assert len(rows) == 1
    username, full_name, email, role, is_superuser, is_staff, is_active, password = rows[0]
    assert (username, full_name, email, role, is_superuser, is_staff, is_active) == (
        "kepala",
        "Kepala Program",
        "kepala@contoh.id",
        "operator",
        1,
        1,
        1,
    )
    assert password.startswith("argon2$argon2id$")
    assert ADMIN_PASSWORD not in password
    assert query(database, "SELECT action, channel, object_label FROM core_auditevent") == [
        ("user.create", "command", "Kepala Program")
    ]

    again = lingkaran(["createadmin", "--username", "KEPALA"], database, LINGKARAN_ADMIN_PASSWORD=ADMIN_PASSWORD)
    assert again.returncode != 0
    assert "username" in one_line(again)
    assert len(query(database, "SELECT id FROM core_user")) == 1


def test_createadmin_with_a_weak_password_is_a_one_line_error(database):
    before = row_counts(database)
    result = lingkaran(["createadmin", "--username", "lemah"], database, LINGKARAN_ADMIN_PASSWORD="12345")
    assert result.returncode != 0
    line = one_line(result)
    assert "password" in line
    assert "12345" not in line
    assert row_counts(database) == before


def test_createadmin_without_a_password_and_no_terminal_refuses(database):
    before = row_counts(database)
    result = lingkaran(["createadmin", "--username", "tanpa"], database)
    assert result.returncode != 0
    assert "LINGKARAN_ADMIN_PASSWORD" in one_line(result)
    assert row_counts(database) == before


def test_doctor_reports_a_ready_installation(database):
    result = lingkaran(["doctor"], database)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("database   ok  sqlite")
    assert lines[1] == "migrations ok"
    assert lines[2].startswith("celery     eager")


def test_doctor_with_an_unreachable_broker_is_one_line_naming_it(database):
    result = lingkaran(
        ["doctor", "--worker-timeout", "2"], database, CELERY_BROKER_URL="redis://:rahasia@127.0.0.1:1/0"
    )
    assert result.returncode != 0
    line = one_line(result)
    assert line.startswith("lingkaran: error: ")
    assert "CELERY_BROKER_URL" in line
    assert "rahasia" not in line


def test_an_unmigrated_database_is_reported_by_doctor(tmp_path):
    result = lingkaran(["doctor"], tmp_path)
    assert result.returncode != 0
    assert "lingkaran migrate" in one_line(result)


def test_no_arguments_prints_help(tmp_path):
    result = lingkaran([], tmp_path)
    assert result.returncode == 0
    for command in ("createadmin", "demo", "doctor", "serve", "up", "migrate"):
        assert command in result.stdout
