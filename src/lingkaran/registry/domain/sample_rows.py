"""Synthetic rows of an import file, as a Pemda would send them: the demo, the benchmark and the tests use them.

Pure (no Django). Every valid row has a valid NIK for one of the given kecamatan codes, consistent with the birth date
and sex; NIKs are unique by construction (the serial walks with the row number). Some rows are made invalid in the
usual ways (a NIK one digit short, a birth date that disagrees with the NIK, a formula, an unknown occupation …) and
some repeat an earlier row's NIK, at fixed positions so that the expected counts are exact.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lingkaran.registry.domain.import_rows import FIELDS, TEMPLATE_HEADERS
from lingkaran.registry.domain.nik import FEMALE_DAY_OFFSET

HEADER = [TEMPLATE_HEADERS[name] for name in FIELDS]

FIRST_NAMES_MALE = ["Budi", "Agus", "Slamet", "Joko", "Andi", "Rudi", "Hendra", "Yusuf", "Ahmad", "Dedi", "Bambang",
                    "Eko", "Rahmat", "Hasan", "Wahyu", "Arif", "Imam", "Darmawan", "Sutrisno", "Fajar"]  # fmt: skip
FIRST_NAMES_FEMALE = ["Siti", "Sri", "Dewi", "Rina", "Nur", "Wati", "Ani", "Yuli", "Maria", "Fitri", "Ratna",
                      "Indah", "Lestari", "Endang", "Aminah", "Rahma", "Wulan", "Sari", "Kartini", "Ayu"]  # fmt: skip
FAMILY_NAMES = ["Santoso", "Wijaya", "Hidayat", "Saputra", "Rahayu", "Kurniawan", "Setiawan", "Pratama", "Susanti",
                "Hartono", "Nugroho", "Lubis", "Siregar", "Nasution", "Daeng", "Pakpahan", "Mahmud", "Syahputra",
                "Utami", "Wahyuni", "Gunawan", "Purnomo", "Sembiring", "Tanjung", "Hakim"]  # fmt: skip
STREETS = ["Jl. Provinsi", "Jl. Sultan Aji", "Jl. Nelayan", "Jl. Pasar Baru", "Gg. Mawar", "Jl. Kebun Sayur"]
OCCUPATIONS = ["ojol", "Pedagang kaki lima", "nelayan", "Petani", "buruh_bangunan", "Pemulung", "Domestic worker",
               "ojek_pangkalan", "Buruh tani", "pedagang_pasar", "Kurir", "juru_parkir"]  # fmt: skip
INVALID_EVERY = 50  # 2 %
INVALID_AT = 7
DUPLICATE_EVERY = 100  # 1 %
DUPLICATE_AT = 33
DUPLICATE_OF = 17  # a duplicate repeats the row this many rows earlier (always a valid, unique row)


def make_nik(district_code: str, birth: date, sex: str, serial: int) -> str:
    """A NIK that passes every offline rule: ``PPKKCC`` + ``DDMMYY`` (day + 40 for women) + 4-digit serial."""
    day = birth.day + (FEMALE_DAY_OFFSET if sex == "F" else 0)
    return f"{district_code.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


@dataclass(frozen=True)
class SampleShape:
    total: int
    invalid: int
    duplicates: int

    @property
    def valid_unique(self) -> int:
        return self.total - self.invalid - self.duplicates


def shape(count: int) -> SampleShape:
    invalid = sum(1 for i in range(count) if _kind(i) == "invalid")
    duplicates = sum(1 for i in range(count) if _kind(i) == "duplicate")
    return SampleShape(count, invalid, duplicates)


def _kind(i: int) -> str:
    if i % INVALID_EVERY == INVALID_AT:
        return "invalid"
    if i % DUPLICATE_EVERY == DUPLICATE_AT:
        return "duplicate"
    return "valid"


def sample_rows(
    rng: random.Random,
    count: int,
    *,
    districts: Sequence[str],
    villages: dict[str, Sequence[str]] | None = None,
    today: date,
    serial_offset: int = 0,
) -> Iterator[list[str]]:
    """``count`` rows in ``HEADER`` order, as text cells. ``villages`` maps a kecamatan to its desa codes (the desa
    column is left empty where none is known). ``serial_offset`` shifts the NIK serials so that two sample files do
    not share NIKs."""
    villages = villages or {}
    recent: deque[list[str]] = deque(maxlen=DUPLICATE_OF)  # the last rows; recent[0] is DUPLICATE_OF rows back
    n_districts = len(districts)
    oldest = today.replace(year=today.year - 64)
    span = (today.replace(year=today.year - 18) - oldest).days
    for i in range(count):
        kind = _kind(i)
        if kind == "duplicate":
            row = list(recent[0])
            recent.append(row)
            yield row
            continue
        district = districts[i % n_districts]
        serial = 1 + (serial_offset + i // n_districts) % 9999
        sex = "F" if rng.random() < 0.5 else "M"
        birth = oldest + timedelta(days=rng.randrange(span))
        first = rng.choice(FIRST_NAMES_FEMALE if sex == "F" else FIRST_NAMES_MALE)
        name = f"{first} {rng.choice(FAMILY_NAMES)}"
        birth_text = rng.choice(
            [birth.isoformat(), birth.strftime("%d-%m-%Y"), birth.strftime("%d/%m/%Y"), birth.isoformat()]
        )
        phone = rng.choice(
            [f"08{rng.randrange(11, 99)}{rng.randrange(10**7, 10**8)}", f"+62 8{rng.randrange(11, 99)}-"
             f"{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}", ""]
        )  # fmt: skip
        near = villages.get(district) or []
        row = [
            make_nik(district, birth, sex, serial),
            name,
            birth_text,
            rng.choice(["P", "Perempuan"] if sex == "F" else ["L", "Laki-laki"]),
            rng.choice(OCCUPATIONS),
            str(rng.randrange(5, 40) * 100_000),
            phone,
            f"{rng.choice(STREETS)} No. {rng.randrange(1, 200)} RT {rng.randrange(1, 20):02d}",
            rng.choice(near) if near else "",
            str(rng.randrange(1, 6)) if rng.random() < 0.7 else "",
            rng.choice(["tidak", "tidak", "tidak", "ya"]),
            "ya" if birth.year <= today.year - 60 else "tidak",
            "ya" if sex == "F" and rng.random() < 0.2 else "tidak",
            rng.choice(["Y", "N", "N", "N"]),
            rng.choice(["ya", "tidak"]),
        ]
        if kind == "invalid":
            _spoil(row, i // INVALID_EVERY, birth)
        recent.append(row)
        yield row


def _spoil(row: list[str], which: int, birth: date) -> None:
    """The mistakes real lists contain, in turn."""
    mistake = which % 8
    if mistake == 0:
        row[0] = row[0][:15]  # a digit lost
    elif mistake == 1:
        other = birth + timedelta(days=400)
        row[2] = other.isoformat()  # birth date disagrees with the NIK
    elif mistake == 2:
        row[1] = '=HYPERLINK("http://contoh.invalid","klik")'  # a formula
    elif mistake == 3:
        row[4] = "astronot"  # not an occupation
    elif mistake == 4:
        row[3] = "X"
    elif mistake == 5:
        row[5] = "-5000"  # negative income
    elif mistake == 6:
        row[6] = "12345"  # not a phone number
    else:
        row[2] = "31-02-1990"  # not a date
