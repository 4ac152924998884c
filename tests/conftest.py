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

from lingkaran.demo import DEMO_PASSWORD
from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("LINGKARAN_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True, scope="session")
def _sqlite_flush_respects_guard_triggers():
    """SQLite has no TRUNCATE: Django's test flush DELETEs, which the guard triggers (append-only tables, settled
    reservations) refuse. Around that flush only, drop every trigger and create it again from its own SQL
    (PostgreSQL's flush TRUNCATEs, which row triggers do not see)."""
    from django.core.management import sql as management_sql

    original = management_sql.sql_flush

    def sql_flush(style, conn, *args, **kwargs):
        statements = original(style, conn, *args, **kwargs)
        if conn.vendor != "sqlite" or not statements:
            return statements
        with conn.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
        before = [f'DROP TRIGGER IF EXISTS "{name}";' for name, _sql in triggers]
        after = [sql + ";" for _name, sql in triggers]
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


# --- Added for the foundation tests (web, api, core) ----------------------------------------------------------------

# A small real region tree (Kemendagri codes): Kalimantan Timur > Penajam Paser Utara > Penajam > villages, and
# Jawa Tengah > Kota Semarang > Semarang Tengah.
REGION_TREE = [
    ("64", "Kalimantan Timur"),
    ("64.09", "Kabupaten Penajam Paser Utara"),
    ("64.09.01", "Penajam"),
    ("64.09.01.1001", "Tanjung Tengah"),
    ("64.09.01.2020", "Giri Mukti"),
    ("64.09.02", "Waru"),
    ("64.02", "Kabupaten Kutai Kartanegara"),
    ("33", "Jawa Tengah"),
    ("33.74", "Kota Semarang"),
    ("33.74.01", "Semarang Tengah"),
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The API's rate limits count in the cache; every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def region_tree(db):
    """``{code: Region}`` for ``REGION_TREE``."""
    from tests.factories import RegionFactory

    return {code: RegionFactory(code=code, name=name) for code, name in REGION_TREE}


@pytest.fixture
def bearer(db):
    """``bearer(user)`` -> ``(client, token_row, plain_token)``: a fresh client sending ``Authorization: Bearer``.

    The token is created by the real service, by an operator."""
    from django.test import Client

    from lingkaran.core.services import api_token_create

    def make(user, *, name: str = "Mitra", expires_at=None, created_by=None):
        creator = created_by or (user if user.role == "operator" else UserFactory(role="operator"))
        token, plain = api_token_create(user=user, name=name, created_by=creator, expires_at=expires_at)
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}"), token, plain

    return make


PROBLEM_KEYS = {"type", "title", "status", "code", "detail", "details", "instance", "request_id"}


@pytest.fixture
def assert_problem():
    """``assert_problem(response, status, code)`` checks an ``application/problem+json`` answer and returns its body."""
    import json

    def check(response, status: int, code: str) -> dict:
        assert response.status_code == status, response.content[:500]
        assert response["Content-Type"] == "application/problem+json"
        body = json.loads(response.content)
        assert set(body) == PROBLEM_KEYS
        assert body["status"] == status
        assert body["code"] == code
        assert body["type"].endswith("#" + code)
        assert body["instance"] == response.wsgi_request.path
        assert body["request_id"] == response["X-Request-ID"]
        assert isinstance(body["title"], str)
        assert body["title"]
        assert isinstance(body["detail"], str)
        assert body["detail"]
        assert isinstance(body["details"], dict)
        return body

    return check


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2():
    """Passwords are still hashed with Argon2 (the production hasher), with small cost parameters so that the suite
    stays fast; the parameters are written into each hash, so checking works the same way."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    saved = (Argon2PasswordHasher.time_cost, Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.parallelism)
    Argon2PasswordHasher.time_cost, Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.parallelism = 1, 1024, 1
    yield
    Argon2PasswordHasher.time_cost, Argon2PasswordHasher.memory_cost, Argon2PasswordHasher.parallelism = saved


@pytest.fixture
def db_places_holding(db):
    """``db_places_holding(text)`` -> every ``table.column`` of every model whose stored value contains ``text``."""

    def find(text: str) -> list[str]:
        places = []
        for model in apps.get_models(include_auto_created=True):
            fields = list(model._meta.concrete_fields)
            for row in model._base_manager.values_list(*[f.attname for f in fields]):
                for field, value in zip(fields, row, strict=True):
                    if value is not None and text in str(value):
                        places.append(f"{model._meta.db_table}.{field.column}")
        return places

    return find


# --- Added for the worker registry pages (tests/web/test_registry_*.py, tests/browser/test_registration_mobile.py) ---

# Valid NIKs issued in kecamatan Penajam (64.09.01): a man born 17 August 1990 and a woman born 5 March 1985.
NIK_MAN = "6409011708900001"
NIK_WOMAN = "6409014503850002"


@pytest.fixture
def register_worker(db):
    """``register_worker(actor, nik=…, **fields)`` registers a worker through the real service and returns it.

    Defaults: a man born 17-08-1990, ojek driver in desa Giri Mukti (64.09.01.2020), consent to registration."""
    import datetime

    from lingkaran.registry.domain.nik import check_nik
    from lingkaran.registry.services import WorkerInput, worker_register

    def register(actor, nik: str = NIK_MAN, *, source: str | None = None, **fields):
        decoded = check_nik(nik, today=datetime.date.today())
        data = {
            "nik": nik,
            "full_name": "Budi Hartono",
            "birth_date": decoded.birth_date,
            "sex": decoded.sex,
            "occupation": "ojek_pangkalan",
            "declared_income": 1_000_000,
            "phone": "0812-3456-7890",
            "address": "Jl. Provinsi Km 5 RT 03",
            "region_code": "64.09.01.2020",
            "consents": [("registration", "paper")],
            **fields,
        }
        kwargs = {"source": source} if source else {}
        return worker_register(actor=actor, data=WorkerInput(**data), **kwargs)

    return register
