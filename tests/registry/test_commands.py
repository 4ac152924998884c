"""Registry commands: ``lingkaran nik check`` and ``lingkaran regions load`` through the real ``lingkaran`` script
(a subprocess on a throw-away SQLite database), and ``keys rotate`` / ``keys reindex`` through ``call_command``."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from lingkaran.core import crypto
from lingkaran.core.models import AuditEvent
from lingkaran.registry.models import Heir, Worker
from lingkaran.registry.selectors import worker_by_nik
from lingkaran.registry.services import PURPOSE_ADDRESS, PURPOSE_HEIR, PURPOSE_NIK, PURPOSE_PHONE
from tests.registry.helpers import cli, migrated_sqlite, nik_for, register

REGIONS_CSV = "kode,nama\n64,Kalimantan Timur\n64.09,Kabupaten Penajam Paser Utara\n64.09.01,Penajam\n"


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory):
    """A migrated SQLite database with three regions loaded through ``lingkaran regions load``."""
    directory = tmp_path_factory.mktemp("cli")
    db = migrated_sqlite(tmp_path_factory, directory)
    regions = directory / "regions.csv"
    regions.write_text(REGIONS_CSV, encoding="utf-8")
    done = cli(db, "regions", "load", str(regions))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 regions in the file: 3 added, 0 renamed, 0 deleted, 0 kept as no longer current")
    return db


def test_nik_check_valid_prints_the_decoded_fields_and_exits_0(cli_db):
    done = cli(cli_db, "nik", "check", "6409 0145 0890 0001", "--birth-date", "1990-08-05", "--sex", "F")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:8] == [
        "NIK          6409014508900001",
        "province     64        Kalimantan Timur",
        "regency      64.09     Kabupaten Penajam Paser Utara",
        "district     64.09.01  Penajam",
        "birth date   1990-08-05",
        lines[5],
        "serial       0001",
        "valid",
    ]
    assert lines[5].startswith("sex          F (")
    assert done.stderr == ""


def test_nik_check_invalid_exits_1_without_a_traceback(cli_db):
    done = cli(cli_db, "nik", "check", "6409010508900000", "--language", "en")
    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [
        "error [nik_serial_zero] nik: NIK serial (last 4 digits) cannot be 0000.",
        "invalid",
    ]
    assert done.stderr == ""


def test_nik_check_usage_errors_exit_2(cli_db):
    done = cli(cli_db, "nik", "check", "6409010508900001", "--birth-date", "05-08-1990")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--birth-date" in done.stderr


def run_nik_check(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("nik_check", *args, "--language", "en", stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["6409010508900000"], "error [nik_serial_zero] nik: NIK serial (last 4 digits) cannot be 0000."),
        (["640901050890001"], "error [nik_length] nik: NIK must have 16 digits, this one has 15."),
        (["64090105089O0001"], "error [nik_not_digits] nik: NIK must contain digits only."),
        (["6409013104900001"], "error [nik_birth_date_invalid] nik: NIK digits 7–10 are not a real date (day 31, month 4)."),
        (["6409010508900001", "--sex", "F"], "error [nik_sex_mismatch] sex: Sex does not match the NIK: the NIK says male, the form says female."),
        (["6409010508900001", "--sex", "P"], "error [nik_sex_mismatch] sex:"),
        (["6409010508900001", "--birth-date", "1990-08-06"], "error [nik_birth_date_mismatch] birth_date: Birth date does not match the NIK: the NIK says 05-08-90, the form says 1990-08-06."),
    ],
)  # fmt: skip
def test_nik_check_invalid_says_why_in_words(region_tree, args, expected):
    status, out = run_nik_check(*args)
    assert status == 1
    assert [line for line in out.splitlines() if line.startswith(expected)], out
    assert out.splitlines()[-1] == "invalid"


@pytest.mark.django_db
def test_nik_check_names_the_regions_and_warns_on_an_unknown_kecamatan(region_tree):
    status, out = run_nik_check(nik_for("64.09.01"), "--sex", "L")
    assert status == 0
    assert "district     64.09.01  Penajam" in out.splitlines()
    status, out = run_nik_check(nik_for("64.99.01"))
    assert status == 0
    assert "district     64.99.01  ?" in out.splitlines()
    assert (
        "warning [nik_region_unknown] nik: Kecamatan 64.99.01 from the NIK is not in the loaded region list "
        "(it may predate a region split)." in out.splitlines()
    )
    assert out.splitlines()[-1] == "valid"


def test_regions_load_refuses_a_bad_file_in_one_line_with_exit_1(cli_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("kode,nama\n64,Kalimantan Timur\nxx,Nowhere\n", encoding="utf-8")
    done = cli(cli_db, "regions", "load", str(bad))
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "'xx'" in done.stderr  # names the bad code (the sentence is in the default language, Indonesian)
    assert "Traceback" not in done.stderr
    with sqlite3.connect(cli_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM registry_region").fetchone() == (3,)


@pytest.mark.django_db
def test_regions_load_of_a_missing_file_is_a_command_error_with_status_1(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("regions_load", str(tmp_path / "missing.csv"), stdout=StringIO())
    assert refused.value.returncode == 1
    assert "missing.csv" in str(refused.value)


def test_regions_load_again_reports_no_change(cli_db, tmp_path):
    same = tmp_path / "same.csv"
    same.write_text(REGIONS_CSV, encoding="utf-8")
    done = cli(cli_db, "regions", "load", str(same), "--code-list", "Kepmendagri 300.2.2-2138/2025")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 regions in the file: 0 added, 0 renamed, 0 deleted, 0 kept as no longer current")


# --- Keys ------------------------------------------------------------------------------------------------------------

ENCRYPTED = {"nik_encrypted": PURPOSE_NIK, "phone_encrypted": PURPOSE_PHONE, "address_encrypted": PURPOSE_ADDRESS}


def plaintexts() -> dict:
    workers = {
        w.pk: {column: crypto.decrypt(getattr(w, column), purpose=purpose) for column, purpose in ENCRYPTED.items()}
        for w in Worker.objects.order_by("pk")
    }
    heirs = {h.pk: crypto.decrypt(h.details_encrypted, purpose=PURPOSE_HEIR) for h in Heir.objects.order_by("pk")}
    return {"workers": workers, "heirs": heirs}


def ciphertexts() -> list[str]:
    values = [v for row in Worker.objects.values_list(*ENCRYPTED) for v in row]
    return [v for v in values + list(Heir.objects.values_list("details_encrypted", flat=True)) if v]


@pytest.mark.django_db
def test_keys_rotate_reseals_everything_into_the_current_key(region_tree, make_user):
    keys = settings.DATA_KEYS
    assert list(keys) == ["t2", "t1"]
    operator = make_user("operator")
    with override_settings(DATA_KEYS={"t1": keys["t1"], "t2": keys["t2"]}):  # t1 current while these are written
        for serial in range(1, 6):
            register(operator, serial=serial, phone="" if serial == 3 else f"0812-0000-000{serial}")
    register(operator, serial=6)  # sealed with t2 already
    assert {v.split("$")[0] for v in ciphertexts()} == {"t1", "t2"}
    before = plaintexts()
    updated = dict(Worker.objects.values_list("pk", "updated_at"))

    out = StringIO()
    call_command("keys_rotate", "--chunk-size", "2", stdout=out)
    assert {v.split("$")[0] for v in ciphertexts()} == {"t2"}
    assert plaintexts() == before
    assert dict(Worker.objects.values_list("pk", "updated_at")) == updated  # re-sealing is not an edit
    text = out.getvalue()
    assert "registry.worker: 5 rows re-sealed (14 values) of 5 sealed with an older key" in text
    assert "registry.heir: 5 rows re-sealed (5 values) of 5 sealed with an older key" in text
    assert "registry.worker: 4/5 rows re-sealed" in text  # progress per chunk
    event = AuditEvent.objects.get(action="keys.rotate", object_type="core.data_key")
    assert event.details == {
        "key_id": "t2",
        "rows": {"registry.worker": 5, "registry.heir": 5},
        "values": {"registry.worker": 14, "registry.heir": 5},
    }

    # idempotent: nothing left to re-seal
    again = StringIO()
    call_command("keys_rotate", stdout=again)
    assert "registry.worker: 0 rows re-sealed (0 values) of 0 sealed with an older key" in again.getvalue()
    assert plaintexts() == before

    # the old key can now go: everything still decrypts with t2 alone
    with override_settings(DATA_KEYS={"t2": keys["t2"]}):
        assert plaintexts() == before


@pytest.mark.django_db
def test_keys_rotate_stops_on_a_value_no_key_opens(region_tree, make_user):
    register(make_user("operator"))
    Worker.objects.update(address_encrypted="t9$AAAA")
    with pytest.raises(CommandError) as refused:
        call_command("keys_rotate", stdout=StringIO())
    assert "no key 't9'" in str(refused.value)


@pytest.mark.django_db
def test_keys_reindex_recomputes_the_blind_indexes_with_the_current_key(region_tree, make_user):
    operator = make_user("operator")
    niks = [nik_for(serial=serial) for serial in range(1, 4)]
    for serial in range(1, 4):
        register(operator, serial=serial, phone="" if serial == 2 else f"0812-0000-000{serial}")
    new_key = bytes(range(32))
    with override_settings(BLIND_INDEX_KEY=new_key):
        assert worker_by_nik(operator, niks[0]) is None  # the old indexes do not match the new key
        out = StringIO()
        call_command("keys_reindex", "--chunk-size", "2", stdout=out)
        assert "3 of 3 workers re-indexed with the current key." in out.getvalue()
        for nik in niks:
            expected = hmac.new(new_key, f"{PURPOSE_NIK}:{nik}".encode(), hashlib.sha256).hexdigest()
            assert Worker.objects.filter(nik_index=expected).count() == 1
            assert worker_by_nik(operator, nik) is not None
        assert sorted(Worker.objects.values_list("phone_index", flat=True))[0] == ""  # no phone, no index
        again = StringIO()
        call_command("keys_reindex", stdout=again)
        assert "0 of 3 workers re-indexed" in again.getvalue()
    events = AuditEvent.objects.filter(action="keys.reindex", object_type="core.blind_index_key").order_by("pk")
    assert [e.details for e in events] == [
        {"rows_examined": 3, "rows_changed": 3},
        {"rows_examined": 3, "rows_changed": 0},
    ]
    assert json.dumps([e.details for e in events]).count(niks[0]) == 0
