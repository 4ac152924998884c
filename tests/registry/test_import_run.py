"""Running an import: both modes, counts, idempotency, progress, resuming, a second run taking over, the NIK race,
encryption at rest, duplicate candidates, audit, and the counting invariant as a Hypothesis property."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from lingkaran.core import crypto
from lingkaran.core.domain import roles
from lingkaran.core.models import AuditEvent
from lingkaran.registry import importing, messages
from lingkaran.registry.domain.sample_rows import shape
from lingkaran.registry.models import DuplicateCandidate, ImportBatch, NominationSource, Worker, WorkerStatus
from lingkaran.registry.selectors import PURPOSE_NIK
from lingkaran.registry.services import PURPOSE_ADDRESS, PURPOSE_PHONE
from tests.factories import RegionFactory, UserFactory
from tests.registry.import_helpers import csv_bytes, people, person, sample_csv, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(make_user, region_tree):
    return make_user("verifier", username="verifikator")


def create(user, content: bytes, **kwargs) -> ImportBatch:
    return importing.import_create(actor=user, uploaded_file=upload(content), **kwargs)


def run(user, content: bytes, **kwargs) -> ImportBatch:
    batch = create(user, content, **{k: v for k, v in kwargs.items() if k in {"mode", "source"}})
    return importing.import_run(batch_id=batch.pk, **{k: v for k, v in kwargs.items() if k not in {"mode", "source"}})


def counts(batch: ImportBatch) -> tuple:
    return (batch.created_count, batch.existing_count, batch.invalid_count, batch.duplicate_in_file_count)


# --- Accept valid rows ----------------------------------------------------------------------------------------------


def test_accept_valid_imports_the_valid_rows_and_reports_the_others(importer):
    expected = shape(300)
    batch = run(importer, sample_csv(300), source="pemda_list")
    assert batch.state == ImportBatch.State.DONE
    assert counts(batch) == (expected.valid_unique, 0, expected.invalid, expected.duplicates) == (291, 0, 6, 3)
    assert (batch.processed_rows, batch.total_rows, batch.percent) == (300, 300, 100)
    assert Worker.objects.count() == 291
    assert set(Worker.objects.values_list("status", "source", "nominated_by", "import_batch")) == {
        (WorkerStatus.NOMINATED, NominationSource.PEMDA_LIST, importer.pk, batch.pk)
    }
    errors = list(batch.problems.filter(is_error=True).values_list("row", "column", "code"))
    assert errors == [
        (9, "nik", "nik_length"),
        (35, "nik", "nik_duplicate_in_file"),
        (59, "tanggal_lahir", "nik_birth_date_mismatch"),
        (109, "nama_lengkap", "formula_refused"),
        (135, "nik", "nik_duplicate_in_file"),
        (159, "pekerjaan", "occupation_unknown"),
        (209, "jenis_kelamin", "sex_invalid"),
        (235, "nik", "nik_duplicate_in_file"),
        (259, "penghasilan", "income_invalid"),
    ]
    repeated = batch.problems.get(row=35)
    assert repeated.message_en == messages.render("nik_duplicate_in_file", {"first_row": 18}, language="en")
    assert repeated.message_id == messages.render("nik_duplicate_in_file", {"first_row": 18}, language="id")


def test_personal_data_is_encrypted_indexed_and_masked(importer):
    row = person(7, no_hp="+62 812-3456-7890", alamat="Jl. Kenari RT 03 / RW 02")
    run(importer, csv_bytes([row]))
    worker = Worker.objects.get()
    assert row["nik"] not in worker.nik_encrypted
    assert crypto.decrypt(worker.nik_encrypted, purpose=PURPOSE_NIK) == row["nik"]
    assert crypto.decrypt(worker.phone_encrypted, purpose=PURPOSE_PHONE) == "+6281234567890"
    assert crypto.decrypt(worker.address_encrypted, purpose=PURPOSE_ADDRESS) == "Jl. Kenari RT 03 / RW 02"
    assert worker.nik_index == crypto.blind_index(row["nik"], purpose=PURPOSE_NIK)
    assert worker.phone_index == crypto.blind_index("+6281234567890", purpose=PURPOSE_PHONE)
    assert (worker.nik_masked, worker.phone_masked) == ("6409••••••••0007", "+62812•••••890")
    assert crypto.key_id_of(worker.nik_encrypted) == crypto.current_key_id()
    assert (worker.region_id, worker.region_code, worker.occupation_id, worker.declared_income) == (
        "64.09.01.2020",
        "64.09.01.2020",
        "ojol",
        1_500_000,
    )
    assert (worker.is_female_head, worker.zakat_eligible, worker.has_disability, worker.dtsen_decile) == (
        True,
        True,
        False,
        2,
    )


def test_names_with_backslashes_and_odd_spacing_are_stored_exactly(importer):
    rows = [person(1, nama_lengkap="Budi\\Santoso  \t Jr", alamat="Gg. \\ Kenari\t3"), person(2, desil="")]
    run(importer, csv_bytes(rows))
    first, second = Worker.objects.order_by("nik_masked")
    assert first.full_name == "Budi\\Santoso Jr"
    assert crypto.decrypt(first.address_encrypted, purpose=PURPOSE_ADDRESS) == "Gg. \\ Kenari 3"
    assert (second.dtsen_decile, second.phone_encrypted, second.phone_index, second.kpj_number) == (None, "", "", "")
    assert second.created_at == second.updated_at


def test_the_fast_crypto_helpers_equal_core_crypto(settings):
    indexer = importing.PaddedBlindIndexer()
    sealer = importing.FieldSealer()
    for value in ["6409014501900001", "+6281234567890", "", "é", "x" * 500]:
        assert indexer(value, purpose=PURPOSE_NIK) == crypto.blind_index(value, purpose=PURPOSE_NIK)
        token = sealer(value, PURPOSE_ADDRESS.encode())
        assert crypto.decrypt(token, purpose=PURPOSE_ADDRESS) == value
    long_key = importing.PaddedBlindIndexer(b"k" * 100)
    assert long_key("a", purpose="p") == crypto.BlindIndexer(b"k" * 100)("a", purpose="p")


def test_existing_niks_are_skipped_and_reported_as_information(importer):
    run(importer, csv_bytes(people(3)))
    batch = run(importer, csv_bytes(people(5)))
    assert counts(batch) == (2, 3, 0, 0)
    assert Worker.objects.count() == 5
    info = list(batch.problems.values_list("row", "code", "is_error"))
    assert info == [(2, "nik_exists", False), (3, "nik_exists", False), (4, "nik_exists", False)]


def test_a_nik_repeated_after_an_invalid_first_row_is_still_a_repeat(importer):
    first = person(1, tanggal_lahir="kemarin")
    again = person(1)
    batch = run(importer, csv_bytes([first, again]))
    assert counts(batch) == (0, 0, 1, 1)
    assert batch.problems.get(row=3).code == "nik_duplicate_in_file"


# --- All or nothing -------------------------------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(importer):
    before = Worker.objects.count()
    rows = [*people(20), person(21, pekerjaan="astronot"), *people(5, start=22)]
    batch = run(importer, csv_bytes(rows), mode="all_or_nothing")
    assert batch.state == ImportBatch.State.REFUSED
    assert Worker.objects.count() == before == 0
    assert counts(batch) == (0, 0, 1, 0)
    assert batch.processed_rows == 26
    assert list(batch.problems.values_list("row", "code")) == [(22, "occupation_unknown")]
    assert importing.batch_notice(batch) == messages.render("import_refused_errors", {"count": 1})


def test_all_or_nothing_counts_repeats_as_errors(importer):
    batch = run(importer, csv_bytes([*people(3), person(2)]), mode="all_or_nothing")
    assert batch.state == ImportBatch.State.REFUSED
    assert counts(batch) == (0, 0, 0, 1)
    assert not Worker.objects.exists()


def test_all_or_nothing_imports_everything_when_every_row_is_good(importer):
    run(importer, csv_bytes(people(2)))
    batch = run(importer, csv_bytes(people(6)), mode="all_or_nothing", chunk_rows=2)
    assert batch.state == ImportBatch.State.DONE
    assert counts(batch) == (4, 2, 0, 0)
    assert Worker.objects.count() == 6
    assert list(batch.problems.values_list("row", "code")) == [(2, "nik_exists"), (3, "nik_exists")]


def test_all_or_nothing_that_fails_writes_nothing_and_says_so(importer, monkeypatch):
    real = importing._Run.write_workers
    calls = []

    def failing(self, prepared):
        calls.append(len(prepared))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, prepared)

    batch = create(importer, csv_bytes(people(6)), mode="all_or_nothing")
    monkeypatch.setattr(importing._Run, "write_workers", failing)
    with pytest.raises(RuntimeError):
        importing.import_run(batch_id=batch.pk, chunk_rows=2)
    assert calls == [2, 2]  # the first chunk was written, then rolled back with the rest
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.FAILED
    assert importing.batch_notice(batch) == messages.render("import_failed")
    assert not Worker.objects.exists()


# --- Idempotency, progress, resuming --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["accept_valid", "all_or_nothing"])
def test_the_same_file_twice_creates_nothing_the_second_time(importer, mode):
    content = csv_bytes(people(8))
    first = run(importer, content, mode=mode)
    assert counts(first) == (8, 0, 0, 0)
    second = run(importer, content, mode=mode)
    assert second.state == ImportBatch.State.DONE
    assert counts(second) == (0, 8, 0, 0)
    assert Worker.objects.count() == 8
    assert second.file_sha256 == first.file_sha256


def test_running_a_finished_batch_again_changes_nothing(importer):
    batch = run(importer, csv_bytes(people(3)))
    again = importing.import_run(batch_id=batch.pk)
    assert (again.state, counts(again), again.finished_at) == (batch.state, counts(batch), batch.finished_at)
    assert Worker.objects.count() == 3
    assert AuditEvent.objects.filter(action="registry.import_run").count() == 1


def test_progress_is_reported_per_chunk(importer):
    seen = []
    batch = create(importer, csv_bytes(people(35)))
    importing.import_run(batch_id=batch.pk, chunk_rows=10, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(10, 35), (20, 35), (30, 35), (35, 35)]


def test_an_interrupted_run_resumes_after_its_last_committed_chunk(importer, monkeypatch):
    rows = [*people(12), person(3), person(99, nik="1")]  # a repeat of row 4 and a bad row, both after the break
    batch = create(importer, csv_bytes(rows))
    real = importing._write_chunk
    calls = []

    def breaking(run_state, classified, *, rows):
        calls.append(rows)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return real(run_state, classified, rows=rows)

    monkeypatch.setattr(importing, "_write_chunk", breaking)
    with pytest.raises(ConnectionError):
        importing.import_run(batch_id=batch.pk, chunk_rows=5)
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.RUNNING
    assert (batch.processed_rows, batch.created_count) == (5, 5)
    assert importing.batch_notice(batch) == messages.render("import_interrupted", {"row": 5})
    monkeypatch.setattr(importing, "_write_chunk", real)
    batch = importing.import_run(batch_id=batch.pk, chunk_rows=5)
    assert batch.state == ImportBatch.State.DONE
    assert counts(batch) == (12, 0, 1, 1)
    assert batch.message == ""
    assert Worker.objects.count() == 12
    assert batch.problems.get(code="nik_duplicate_in_file").message_en.endswith("(row 4).")


def test_a_second_run_takes_over_and_no_row_is_written_twice(importer):
    """A task delivered twice: the second run claims the batch; the first stops before its next chunk."""
    batch = create(importer, csv_bytes(people(30)))
    second = []

    def start_a_second_run(done, total):
        if done == 10 and not second:
            second.append(importing.import_run(batch_id=batch.pk, chunk_rows=10))

    first = importing.import_run(batch_id=batch.pk, chunk_rows=10, progress=start_a_second_run)
    assert second[0].state == ImportBatch.State.DONE
    assert first.state == ImportBatch.State.DONE
    assert counts(first) == (30, 0, 0, 0)
    assert first.processed_rows == 30
    assert Worker.objects.count() == 30


def test_a_nik_the_check_missed_is_stopped_by_the_unique_index_and_counted_as_existing(importer, monkeypatch):
    """The unique blind index is the last word: when a NIK appears between the check and the insert (another import
    committing at that moment), the insert fails, the chunk is checked again, and the NIK counts as existing."""
    rows = people(4)
    run(importer, csv_bytes([rows[2]]))  # registered by someone else; the first check below will not see it
    batch = create(importer, csv_bytes(rows))
    real = importing._existing
    checks = []

    def late(indexes):
        checks.append(len(indexes))
        return set() if len(checks) == 1 else real(indexes)

    monkeypatch.setattr(importing, "_existing", late)
    batch = importing.import_run(batch_id=batch.pk)
    assert checks == [4, 4]
    assert counts(batch) == (3, 1, 0, 0)
    assert Worker.objects.count() == 4


# --- Around the import ----------------------------------------------------------------------------------------------


def test_likely_duplicates_become_candidates(importer):
    twin = person(1)
    other = person(2, nik=twin["nik"][:12] + "0777", nama_lengkap=twin["nama_lengkap"])
    run(importer, csv_bytes([twin, other]))
    candidate = DuplicateCandidate.objects.get()
    assert candidate.score >= 90
    assert {e["rule"] for e in candidate.evidence} >= {"same_name_birth_date"}


def test_the_run_is_audited_with_its_counts(importer):
    batch = run(importer, csv_bytes([*people(3), person(4, nik="x")]))
    event = AuditEvent.objects.get(action="registry.import_run")
    assert (event.actor, event.object_id) == (importer, str(batch.pk))
    assert {k: event.details[k] for k in ("state", "created", "existing", "invalid", "duplicate_in_file")} == {
        "state": "done",
        "created": 3,
        "existing": 0,
        "invalid": 1,
        "duplicate_in_file": 0,
    }


def test_a_field_agent_allowed_to_import_is_held_to_its_regions(make_user, region_tree, monkeypatch):
    """No role outside the staff imports today; should field agents be given the capability, each row outside the
    agent's regions is refused (the same rule as the registration form)."""
    monkeypatch.setitem(
        roles.CAPABILITIES,
        roles.Capability.IMPORT_WORKERS,
        roles.CAPABILITIES[roles.Capability.IMPORT_WORKERS] | {roles.RoleName.FIELD_AGENT},
    )
    RegionFactory(code="33.74.01.1001", name="Miroto")
    agent = make_user("field_agent", regions=["64.09.01"])
    semarang = person(2, district="33.74.01")
    rows = [person(1), person(3, kode_desa="33.74.01.1001"), semarang]
    batch = run(agent, csv_bytes(rows))
    assert counts(batch) == (1, 0, 2, 0)
    assert list(batch.problems.values_list("row", "column", "code")) == [
        (3, "kode_desa", "region_outside_scope"),
        (4, "nik", "region_outside_scope"),
    ]
    assert importing.import_batches_visible_to(agent).count() == 1
    other = make_user("field_agent", regions=["64.09.01"])
    assert importing.import_batches_visible_to(other).count() == 0


# --- The counting invariant -----------------------------------------------------------------------------------------

ROW_KINDS = st.sampled_from(["valid", "valid", "valid", "invalid", "repeat", "existing"])


class ImportCountingProperty(TestCase):
    """For any mix of valid, invalid, repeated and already-registered rows: every row is counted exactly once
    (created + existing + invalid + repeated = total), nothing else is written, and no NIK exists twice."""

    @classmethod
    def setUpTestData(cls):
        for code, name in [("64", "Kaltim"), ("64.09", "PPU"), ("64.09.01", "Penajam"), ("64.09.01.2020", "Giri")]:
            RegionFactory(code=code, name=name)
        cls.user = UserFactory(role="operator")
        cls.registered = people(3, start=9001)
        importing.import_run(batch_id=create(cls.user, csv_bytes(cls.registered)).pk)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(kinds=st.lists(ROW_KINDS, min_size=1, max_size=30), mode=st.sampled_from(["accept_valid", "all_or_nothing"]))
    def test_every_row_is_counted_once(self, kinds, mode):
        before = Worker.objects.count()
        rows, serial = [], 1
        for kind in kinds:
            if kind == "valid":
                rows.append(person(serial))
                serial += 1
            elif kind == "invalid":
                rows.append(person(serial, penghasilan="-1"))
                serial += 1
            elif kind == "repeat" and rows:
                rows.append(dict(rows[-1]))
            else:
                rows.append(self.registered[len(rows) % 3])
        batch = importing.import_run(batch_id=create(self.user, csv_bytes(rows), mode=mode).pk, chunk_rows=7)
        total = counts(batch)
        created = Worker.objects.count() - before
        assert batch.total_rows == len(rows)
        assert batch.processed_rows == len(rows)
        assert created == batch.created_count
        if batch.state == ImportBatch.State.DONE:
            assert sum(total) == len(rows)
        else:
            assert mode == "all_or_nothing"
            assert created == 0
            assert batch.invalid_count + batch.duplicate_in_file_count > 0
        niks = list(Worker.objects.values_list("nik_index", flat=True))
        assert len(niks) == len(set(niks))
        Worker.objects.filter(import_batch=batch).delete()


def test_worker_processes_give_the_same_result(importer):
    """Validation and encryption in two forked worker processes: same counts, same problems, same workers."""
    content = sample_csv(250, seed=3)
    in_process = run(importer, content, processes=1, chunk_rows=40)
    problems = list(in_process.problems.values_list("row", "column", "code"))
    niks = set(Worker.objects.values_list("nik_index", flat=True))
    Worker.objects.all().delete()
    forked = run(importer, content, processes=2, chunk_rows=40)
    expected = shape(250)
    assert counts(forked) == counts(in_process) == (expected.valid_unique, 0, expected.invalid, expected.duplicates)
    assert list(forked.problems.values_list("row", "column", "code")) == problems
    assert set(Worker.objects.values_list("nik_index", flat=True)) == niks
    worker = Worker.objects.order_by("pk").first()
    assert crypto.blind_index(crypto.decrypt(worker.nik_encrypted, purpose=PURPOSE_NIK), purpose=PURPOSE_NIK) == (
        worker.nik_index
    )
