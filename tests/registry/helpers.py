"""Plain helpers for registry tests (not fixtures): valid NIKs, registration inputs, the ``lingkaran`` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from lingkaran.registry.services import HeirInput, WorkerInput, worker_register

REPO_ROOT = Path(__file__).resolve().parents[2]
LINGKARAN = str(Path(sys.executable).with_name("lingkaran"))
WILAYAH_CSV = REPO_ROOT.parent / "shared" / "data" / "wilayah" / "wilayah.csv"


def nik_for(district: str = "64.09.01", birth: date = date(1990, 8, 5), sex: str = "M", serial: int = 1) -> str:
    """A valid NIK: kecamatan digits, birth day (+40 for women), month, two-digit year, serial."""
    day = birth.day + (40 if sex == "F" else 0)
    return f"{district.replace('.', '')}{day:02d}{birth:%m%y}{serial:04d}"


def worker_input(**overrides) -> WorkerInput:
    """A valid registration in Giri Mukti (64.09.01.2020); any field can be overridden."""
    birth = overrides.pop("birth_date", date(1990, 8, 5))
    sex = overrides.pop("sex", "M")
    serial = overrides.pop("serial", 1)
    region = overrides.pop("region_code", "64.09.01.2020")
    values = {
        "nik": nik_for(region[:8] if region else "64.09.01", birth, sex, serial),
        "full_name": "Slamet Riyadi",
        "birth_date": birth,
        "sex": sex,
        "occupation": "ojol",
        "declared_income": 1_000_000,
        "phone": "0812-3456-7890",
        "address": "Jl. Melati No. 5, RT 003/RW 002",
        "region_code": region,
        "dtsen_decile": 2,
        "consents": [("registration", "paper"), ("agency_sharing", "paper")],
        "consent_evidence": "Formulir F-0001",
        "heirs": [HeirInput(name="Siti Aminah", relationship="spouse", phone="081298765432")],
    }
    values.update(overrides)
    return WorkerInput(**values)


def register(actor, *, source: str = "field_agent", **overrides):
    return worker_register(actor=actor, data=worker_input(**overrides), source=source)


# --- The ``lingkaran`` command in a subprocess, on a throw-away SQLite database ------------------------------------


def cli_env(db_path: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DATABASE_URL=f"sqlite:///{db_path}", LINGKARAN_VAR_DIR=str(db_path.parent), **extra)
    return env


def cli(db_path: Path, *args: str, timeout: int = 120, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINGKARAN, *args], env=cli_env(db_path, **extra_env), capture_output=True, text=True, timeout=timeout
    )


def migrated_sqlite(tmp_path_factory, directory: Path) -> Path:
    """A migrated SQLite database in ``directory``: migrated once per test session, then copied."""
    template = tmp_path_factory.getbasetemp() / "lingkaran-template.sqlite3"
    if not template.exists():
        done = cli(template, "migrate", "--no-input", "-v", "0")
        assert done.returncode == 0, done.stderr
    target = directory / "lingkaran.sqlite3"
    shutil.copyfile(template, target)
    return target
