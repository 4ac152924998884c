"""Building import files for the tests: rows as dicts keyed by the template header, written as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import random
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from lingkaran.registry.domain.sample_rows import HEADER, make_nik, sample_rows

TODAY = date(2026, 1, 1)
FIRST = ["Siti", "Budi", "Dewi", "Agus", "Rina", "Joko", "Wati", "Eko", "Sri", "Hasan", "Ayu", "Imam"]
LAST = ["Aminah", "Santoso", "Lestari", "Hidayat", "Saputra", "Wijaya", "Rahayu", "Pratama", "Nugroho", "Lubis"]


def person(serial: int = 1, *, sex: str = "F", birth: date = date(1990, 1, 5), district: str = "64.09.01", **changes):
    """One valid row (template headers) for the test region tree; ``changes`` replace cells by header name."""
    row = {
        "nik": make_nik(district, birth, sex, serial),
        "nama_lengkap": f"{FIRST[serial % len(FIRST)]} {LAST[(serial // len(FIRST)) % len(LAST)]} {serial}",
        "tanggal_lahir": birth.isoformat(),
        "jenis_kelamin": "P" if sex == "F" else "L",
        "pekerjaan": "ojol",
        "penghasilan": "1500000",
        "no_hp": "",
        "alamat": "Jl. Mawar No. 1",
        "kode_desa": "64.09.01.2020" if district == "64.09.01" else "",
        "desil": "2",
        "disabilitas": "tidak",
        "lansia": "tidak",
        "kepala_keluarga_perempuan": "ya" if sex == "F" else "tidak",
        "miskin_ekstrem": "N",
        "mustahik": "Y",
    }
    row.update(changes)
    return row


def people(count: int, start: int = 1, **changes) -> list[dict]:
    return [person(serial, **changes) for serial in range(start, start + count)]


def csv_bytes(rows: list[dict] | list[list], header: list[str] | None = None, *, delimiter: str = ",", bom=False):
    header = header or HEADER
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list], header: list | None = None, *, before: list[list] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in before or []:
        sheet.append(line)
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "daftar.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def sample_csv(count: int, *, seed: int = 1, villages=("64.09.01.1001", "64.09.01.2020")) -> bytes:
    rows = sample_rows(
        random.Random(seed), count, districts=["64.09.01"], villages={"64.09.01": list(villages)}, today=TODAY
    )
    return csv_bytes(list(rows))
