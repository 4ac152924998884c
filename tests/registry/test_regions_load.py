"""Loading the Kemendagri region list: the real file (91,599 regions), reloads, retirements and refused files.

The real file is ``../shared/data/wilayah/wilayah.csv`` beside the repository (reference data, not copied into it).
Without it these tests skip, unless LINGKARAN_REQUIRE_SERVICES=1 (CI), where a missing file fails.
"""

from __future__ import annotations

import csv
import os
from datetime import date

import pytest
from django.db.models import Count
from django.utils import translation

from lingkaran.core.models import AuditEvent
from lingkaran.registry.models import Region
from lingkaran.registry.services import CURRENT_CODE_LIST, RegionFileError, regions_load
from tests.registry.helpers import WILAYAH_CSV, nik_for, register

pytestmark = pytest.mark.django_db

REQUIRE = os.environ.get("LINGKARAN_REQUIRE_SERVICES") == "1"


@pytest.fixture
def wilayah():
    if not WILAYAH_CSV.exists():
        if REQUIRE:
            pytest.fail(f"{WILAYAH_CSV} is missing (LINGKARAN_REQUIRE_SERVICES=1)")
        pytest.skip(f"{WILAYAH_CSV} is missing")
    return WILAYAH_CSV


def snapshot() -> list[tuple]:
    return list(
        Region.objects.order_by("code").values_list("code", "name", "level", "parent_id", "code_list", "is_current")
    )


def write(path, rows, header=("kode", "nama")):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_real_file_then_reloads_renames_and_retirements(wilayah, tmp_path, make_user):
    result = regions_load(wilayah)
    assert (result.rows, result.added, result.renamed, result.deleted, result.retired) == (91_599, 91_599, 0, 0, 0)
    assert Region.objects.count() == 91_599
    per_level = dict(Region.objects.values_list("level").annotate(n=Count("code")).order_by("level"))
    assert per_level == {1: 38, 2: 514, 3: 7_285, 4: 83_762}
    assert Region.objects.filter(parent__isnull=True).count() == 38
    assert Region.objects.exclude(code_list=CURRENT_CODE_LIST).count() == 0
    giri_mukti = Region.objects.select_related("parent__parent__parent").get(code="64.09.01.2020")
    assert (giri_mukti.name, giri_mukti.parent.name, giri_mukti.parent.parent.parent.name) == (
        "Giri Mukti",
        "Penajam",
        "Kalimantan Timur",
    )
    assert Region.objects.get(code="11.01").name == "Kabupaten Aceh Selatan"  # Kemendagri, not BPS, codes

    # The same file again changes nothing.
    loaded = snapshot()
    again = regions_load(wilayah)
    assert (again.rows, again.added, again.renamed, again.deleted, again.retired) == (91_599, 0, 0, 0, 0)
    assert snapshot() == loaded

    # A new list: one unused desa gone, one used desa gone, one desa renamed.
    register(make_user("operator"), region_code="64.09.01.2021")  # Bukit Subur is used by a worker
    unused, used, renamed = "64.09.01.2020", "64.09.01.2021", "64.09.01.1001"
    with wilayah.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    changed = [(c, "Tanjung Tengah Baru" if c == renamed else n) for c, n in rows if c not in {unused, used}]
    result = regions_load(write(tmp_path / "wilayah-next.csv", changed))
    assert (result.rows, result.added, result.renamed, result.deleted, result.retired) == (91_597, 0, 1, 1, 1)
    assert result.kept_in_use == [used]
    assert not Region.objects.filter(code=unused).exists()
    kept = Region.objects.get(code=used)
    assert (kept.name, kept.is_current) == ("Bukit Subur", False)
    assert Region.objects.get(code=renamed).name == "Tanjung Tengah Baru"
    assert Region.objects.filter(is_current=True).count() == 91_597
    assert AuditEvent.objects.filter(action="regions.load").count() == 3

    # The retired desa comes back in a later list: current again.
    regions_load(wilayah)
    kept.refresh_from_db()
    assert kept.is_current is True
    assert Region.objects.count() == 91_599


@pytest.fixture
def small(tmp_path):
    rows = [
        ("64", "Kalimantan Timur"),
        ("64.09", "Kabupaten Penajam Paser Utara"),
        ("64.09.01", "Penajam"),
        ("64.09.01.2020", "Giri Mukti"),
        ("64.09.01.1001", "Tanjung Tengah"),
    ]
    regions_load(write(tmp_path / "small.csv", rows))
    return rows


def test_retiring_a_kecamatan_keeps_it_while_a_worker_carries_its_code(small, tmp_path, make_user):
    """A worker without a desa carries its NIK's kecamatan as region code: that is a use too."""
    register(make_user("operator"), region_code="", nik=nik_for("64.09.01", date(1990, 8, 5)))
    result = regions_load(write(tmp_path / "without-penajam.csv", small[:2]))
    assert sorted(result.kept_in_use) == ["64.09.01"]
    assert result.deleted == 2
    assert list(Region.objects.values_list("code", "is_current")) == [
        ("64", True),
        ("64.09", True),
        ("64.09.01", False),
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"kode,nama\n64,Kalimantan Timur\nxx,Nowhere\n", "not a region code"),
        (b"kode,nama\n64,Kalimantan Timur\n64.9,Nowhere\n", "not a region code"),
        (b"kode,nama\n64,Kalimantan Timur\n64,Kalimantan Timur Lagi\n", "code repeated"),
        (b"kode,nama\n64,Kalimantan Timur\n64.09,\n", "empty name"),
        (b"kode,nama\n64,Kalimantan Timur\n64.09\n", "kode,nama"),
        (b"code,name\n64,Kalimantan Timur\n", "header"),
        (b"", "header"),
        ("kode,nama\n64,Kalimantan Timur\n64.09,Penajam Paser Utara\n".encode("utf-16"), "UTF-8"),
        (b"kode,nama\n64,Kalimantan Timur\n64.09,Pen\xe0jam\n", "UTF-8"),
        (b"kode,nama\n64,Kalimantan Timur\n65.01.01,Orphan\n", "no parent"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_loaded(small, tmp_path, content, problem):
    before = snapshot()
    audits = AuditEvent.objects.count()
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(RegionFileError) as refused, translation.override("en"):
        regions_load(path)
    assert refused.value.code == "region_file_invalid"
    text = str(refused.value.message) + " ".join(refused.value.details.get("rows", []))
    assert problem in text
    assert snapshot() == before
    assert AuditEvent.objects.count() == audits


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(RegionFileError):
        regions_load(tmp_path / "nothing.csv")
    assert Region.objects.count() == 0


def test_names_with_commas_and_a_byte_order_mark_load(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeffkode,nama\n64,"Kalimantan Timur, Provinsi"\n64.09,Penajam\n'.encode())
    result = regions_load(path)
    assert (result.rows, result.added) == (2, 2)
    assert Region.objects.get(code="64").name == "Kalimantan Timur, Provinsi"
