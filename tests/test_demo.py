"""``lingkaran demo`` through the real command, twice, on a throw-away SQLite database: the second run adds nothing,
and the synthetic workers are well-formed (valid NIKs from their own kecamatan, maker-checker respected)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date

import pytest

from lingkaran.core import crypto
from lingkaran.registry.domain.nik import check_nik
from lingkaran.registry.services import PURPOSE_NIK
from tests.registry.helpers import cli, migrated_sqlite

# The synthetic registry (the demo's sample import file adds workers of its own, through an import batch).
SYNTHETIC = "import_batch_id IS NULL"

TABLES = [
    "core_user",
    "registry_region",
    "funding_funder",
    "registry_worker",
    "registry_heir",
    "registry_consent",
    "registry_verificationdecision",
    "registry_duplicatecandidate",
]


def table_counts(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = migrated_sqlite(tmp_path_factory, tmp_path_factory.mktemp("demo"))
    first = cli(db, "demo", timeout=300)
    assert first.returncode == 0, first.stderr
    counts = table_counts(db)
    second = cli(db, "demo", timeout=300)
    assert second.returncode == 0, second.stderr
    return db, first.stdout, second.stdout, counts


def test_running_the_demo_twice_adds_nothing(demo_db):
    db, first, second, counts = demo_db
    assert table_counts(db) == counts
    with sqlite3.connect(db) as conn:
        synthetic = conn.execute(f"SELECT COUNT(*) FROM registry_worker WHERE {SYNTHETIC}").fetchone()[0]
    assert synthetic > 2_900
    assert f"workers: {synthetic} (" in first
    assert f"workers: the demo workers exist ({synthetic})" in second


def test_demo_workers_have_valid_niks_from_their_own_kecamatan(demo_db):
    db = demo_db[0]
    today = date.today()
    with sqlite3.connect(db) as conn:
        districts = {code for (code,) in conn.execute("SELECT code FROM registry_region WHERE level = 3")}
        rows = conn.execute(
            "SELECT nik_encrypted, nik_index, nik_masked, birth_date, sex, region_code FROM registry_worker"
        ).fetchall()
    niks = set()
    for encrypted, index, masked, birth, sex, region_code in rows:
        nik = crypto.decrypt(encrypted, purpose=PURPOSE_NIK)
        check = check_nik(
            nik,
            today=today,
            declared_birth_date=date.fromisoformat(birth),
            declared_sex=sex,
            known_district_codes=districts,
        )
        assert check.is_valid, (nik, check.errors)
        assert check.warnings == ()
        assert check.district_code == region_code[:8]
        assert int(check.serial) >= 1
        assert index == crypto.blind_index(nik, purpose=PURPOSE_NIK)
        assert masked == nik[:4] + "•" * 8 + nik[12:]
        niks.add(nik)
    assert len(niks) == len(rows)


def test_demo_workers_follow_maker_checker_and_carry_a_few_planted_duplicates(demo_db):
    db = demo_db[0]
    with sqlite3.connect(db) as conn:
        statuses = Counter(s for (s,) in conn.execute(f"SELECT status FROM registry_worker WHERE {SYNTHETIC}"))
        verifier = conn.execute("SELECT id FROM core_user WHERE username = 'verifikator'").fetchone()[0]
        decided = conn.execute(
            "SELECT w.status, w.nominated_by_id, d.decision, d.decided_by_id, w.rejection_reason "
            f"FROM registry_worker w JOIN registry_verificationdecision d ON d.worker_id = w.id WHERE w.{SYNTHETIC}"
        ).fetchall()
        regions = {code for (code,) in conn.execute(f"SELECT region_code FROM registry_worker WHERE {SYNTHETIC}")}
        occupations = Counter(
            o for (o,) in conn.execute(f"SELECT occupation_id FROM registry_worker WHERE {SYNTHETIC}")
        )
        deciles = Counter(d for (d,) in conn.execute(f"SELECT dtsen_decile FROM registry_worker WHERE {SYNTHETIC}"))
        candidates = conn.execute(
            "SELECT c.score, c.state FROM registry_duplicatecandidate c "
            "JOIN registry_worker a ON a.id = c.first_id JOIN registry_worker b ON b.id = c.second_id "
            f"WHERE a.{SYNTHETIC} AND b.{SYNTHETIC}"
        ).fetchall()
        without_consent = conn.execute(
            f"SELECT COUNT(*) FROM registry_worker w WHERE w.{SYNTHETIC} AND NOT EXISTS (SELECT 1 FROM registry_consent c "
            "WHERE c.worker_id = w.id AND c.purpose = 'registration')"
        ).fetchone()[0]
    total = sum(statuses.values())
    assert statuses["verified"] > 0.8 * total
    assert 0.05 * total < statuses["nominated"] < 0.2 * total
    assert 0 < statuses["rejected"] < 0.05 * total
    assert len(decided) == statuses["verified"] + statuses["rejected"]
    for status, nominated_by, decision, decided_by, reason in decided:
        assert status == decision
        assert decided_by == verifier != nominated_by
        assert bool(reason) is (status == "rejected")
    assert all(code.count(".") == 3 for code in regions)
    assert len(regions) >= 20
    assert occupations.most_common(1)[0][0] == "ojol"
    assert sum(n for d, n in deciles.items() if d is not None and d <= 5) > 0.7 * total
    assert 5 <= len(candidates) <= 15
    assert {state for _, state in candidates} == {"open"}
    assert without_consent == 0
