"""Test fixtures shared by the whole suite.

The suite runs on SQLite (default, in memory) and on PostgreSQL (``DATABASE_URL=postgres://…``). Tests marked
``postgres`` need PostgreSQL and are skipped on SQLite; tests marked ``services`` need the local Redis; ``browser``
tests need the system Chromium. In CI (``LINGKARAN_REQUIRE_SERVICES=1``) a missing service fails instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from django.apps import apps
from django.db import connection

from lingkaran.core import db as core_db
from lingkaran.demo import DEMO_PASSWORD
from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("LINGKARAN_REQUIRE_SERVICES") == "1"


def _append_only_tables() -> list[str]:
    return [m._meta.db_table for m in apps.get_models() if getattr(m, "append_only", False)]


@pytest.fixture(autouse=True, scope="session")
def _sqlite_flush_respects_append_only_triggers():
    """SQLite has no TRUNCATE: Django's test flush DELETEs, which the append-only triggers refuse. Around that flush
    only, drop the triggers and create them again (PostgreSQL's flush TRUNCATEs and needs nothing)."""
    from django.core.management import sql as management_sql

    original = management_sql.sql_flush

    def sql_flush(style, conn, *args, **kwargs):
        statements = original(style, conn, *args, **kwargs)
        if conn.vendor != "sqlite" or not statements:
            return statements
        tables = _append_only_tables()
        before = [s for t in tables for s in core_db.drop_append_only_sql("sqlite", t)]
        after = [s for t in tables for s in core_db.append_only_sql("sqlite", t)]
        return before + statements + after

    management_sql.sql_flush = sql_flush
    from django.core.management.commands import flush

    flush.sql_flush = sql_flush
    yield
    management_sql.sql_flush = original
    flush.sql_flush = original


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://…)"))


@pytest.fixture
def password():
    return DEMO_PASSWORD


@pytest.fixture
def make_user(db):
    def make(role: str = "operator", **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def login(client):
    """Log ``user`` in through the real log-in page and return the client."""

    def do(user, language: str | None = None):
        if language:
            client.cookies["lingkaran_language"] = language
        response = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return client

    return do


@pytest.fixture
def api_client(client):
    return client
