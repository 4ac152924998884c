"""The worker table's indexes: exactly the ones the queries need (see the ``Worker`` docstring), no ``_like`` twins,
partial where a column is mostly empty, and usable for the lookups they are there for."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from lingkaran.registry.models import Worker

pytestmark = pytest.mark.django_db

INDEXES = {
    "registry_worker_nik_unique": (["nik_index"], True),
    "registry_worker_phone": (["phone_index"], False),
    "registry_worker_region_status": (["region_code", "status"], False),
    "registry_worker_verified": (["region_code"], False),
    "registry_worker_birth_date": (["birth_date"], False),
    "registry_worker_created": (["created_at", "id"], False),
    "registry_worker_import_batch": (["import_batch_id"], False),
    "registry_worker_region": (["region_id"], False),
    "registry_worker_merged_into": (["merged_into_id"], False),
    "registry_worker_kpj_number": (["kpj_number"], False),
}


def test_the_worker_table_has_exactly_the_indexes_its_queries_need():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Worker._meta.db_table)
    indexes = {
        name: (found["columns"], found["unique"])
        for name, found in constraints.items()
        if found["index"] and not found["primary_key"]
    }
    assert indexes == INDEXES
    foreign_keys = sorted(c for found in constraints.values() if found["foreign_key"] for c in found["columns"])
    assert foreign_keys == ["import_batch_id", "merged_into_id", "nominated_by_id", "occupation_id", "region_id"]


@pytest.mark.postgres
def test_postgresql_index_definitions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Worker._meta.db_table])
        definitions = dict(cursor.fetchall())
    assert set(definitions) == {*INDEXES, "registry_worker_pkey"}
    assert "(nik_index varchar_pattern_ops)" in definitions["registry_worker_nik_unique"]
    assert (
        "(region_code varchar_pattern_ops, status varchar_pattern_ops)" in definitions["registry_worker_region_status"]
    )
    assert definitions["registry_worker_phone"].endswith("WHERE (NOT ((phone_index)::text = ''::text))")
    assert definitions["registry_worker_kpj_number"].endswith("WHERE (NOT ((kpj_number)::text = ''::text))")
    assert definitions["registry_worker_merged_into"].endswith("WHERE (merged_into_id IS NOT NULL)")
    assert definitions["registry_worker_verified"].endswith("WHERE ((status)::text = 'verified'::text)")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("nik_index = 'ab12'", "registry_worker_nik_unique"),
        ("nik_index = ANY(string_to_array('ab12,cd34', ','))", "registry_worker_nik_unique"),
        ("region_code::text LIKE '64.09.%'", "registry_worker_region_status"),  # the region filter (no _like twin)
        ("region_code = '64.09.01' AND status = 'nominated'", "registry_worker_region_status"),
        ("status = 'verified'", "registry_worker_verified"),  # sponsorship candidates, gap points per region
        ("phone_index IN ('ab', 'cd') AND NOT (phone_index = '')", "registry_worker_phone"),  # duplicates_find
        ("kpj_number = '12345678901'", "registry_worker_kpj_number"),
        ("merged_into_id = 7", "registry_worker_merged_into"),
        ("region_id = '64.09.01.2020'", "registry_worker_region"),  # the check when a region is deleted
        ("import_batch_id = 3", "registry_worker_import_batch"),
        ("birth_date IN ('1990-08-05', '1984-03-17')", "registry_worker_birth_date"),
    ],
)
def test_each_lookup_can_use_its_index(where, index):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table would be read whole otherwise
        cursor.execute(f"EXPLAIN SELECT id FROM {Worker._meta.db_table} WHERE {where}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
