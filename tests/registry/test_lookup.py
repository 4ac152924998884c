"""Finding a worker by NIK: one light query through the unique blind index, held to the caller's scope."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lingkaran.registry.selectors import worker_by_nik
from tests.registry.helpers import nik_for, register

pytestmark = pytest.mark.django_db

NIK = nik_for()  # the NIK ``register`` uses when given none (helpers.worker_input)


@pytest.fixture
def people(region_tree, make_user):
    return {
        "agent": make_user("field_agent", regions=["64.09"]),
        "other_agent": make_user("field_agent", regions=["33.74"]),
        "operator": make_user("operator"),
        "funder": make_user("funder"),
    }


def test_worker_by_nik_is_one_query_without_joins_or_ordering(people):
    worker = register(people["agent"])
    with CaptureQueriesContext(connection) as queries:
        found = worker_by_nik(people["operator"], f" {NIK[:6]} {NIK[6:]} ")  # spaces are dropped
    assert found == worker
    [query] = queries.captured_queries
    sql = query["sql"].upper()
    assert "JOIN" not in sql
    assert "ORDER BY" not in sql
    assert "NIK_INDEX" in sql


def test_worker_by_nik_keeps_to_the_scope_of_the_user(people):
    worker = register(people["agent"])
    assert worker_by_nik(people["agent"], NIK) == worker
    assert worker_by_nik(people["other_agent"], NIK) is None  # another region: as if it did not exist
    assert worker_by_nik(people["funder"], NIK) is None  # not through the registry's lists
    assert worker_by_nik(people["operator"], nik_for(serial=2)) is None  # not registered
