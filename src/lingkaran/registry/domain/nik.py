"""NIK (Nomor Induk Kependudukan) rules: pure functions, no Django, no clock (``today`` is passed in).

``PP KK CC DD MM YY SSSS``: province, kabupaten/kota and kecamatan of first issuance; day of birth (+40 for women);
month; two-digit year; serial. Only Dukcapil can confirm a NIK exists; these rules catch what can be caught offline.

Errors make a NIK invalid; warnings do not (a region prefix missing from the loaded code list may be a code from
before a region split). Each problem is a stable ``code`` with parameters; the caller renders it in the user's
language (``registry.messages``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

FEMALE_DAY_OFFSET = 40


@dataclass(frozen=True)
class Problem:
    code: str
    field: str = "nik"
    params: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class NikCheck:
    nik: str
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    province_code: str = ""
    regency_code: str = ""
    district_code: str = ""
    birth_date: date | None = None
    sex: str = ""  # "M" or "F"
    serial: str = ""

    @property
    def is_valid(self) -> bool:
        return not self.errors


def normalise_nik(raw: str) -> str:
    """Drop the white space, dots and dashes people type or spreadsheets add; keep everything else for checking."""
    return "".join(ch for ch in str(raw) if not ch.isspace() and ch not in ".-")


def _century_year(two_digits: int, today: date) -> int:
    year = 2000 + two_digits
    return year if year <= today.year else 1900 + two_digits


def check_nik(
    raw: str,
    *,
    today: date,
    declared_birth_date: date | None = None,
    declared_sex: str | None = None,
    known_district_codes: frozenset[str] | set[str] | None = None,
) -> NikCheck:
    nik = normalise_nik(raw)
    if not nik:
        return NikCheck(nik, errors=(Problem("nik_missing"),))
    if not (nik.isascii() and nik.isdigit()):  # str.isdigit() also accepts ٣ and ³, which int() would then read
        return NikCheck(nik, errors=(Problem("nik_not_digits"),))
    if len(nik) != 16:
        return NikCheck(nik, errors=(Problem("nik_length", params={"length": len(nik)}),))

    errors: list[Problem] = []
    warnings: list[Problem] = []
    province, regency, district = nik[0:2], nik[0:2] + "." + nik[2:4], f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
    raw_day, month, yy, serial = int(nik[6:8]), int(nik[8:10]), int(nik[10:12]), nik[12:16]

    if province == "00" or nik[2:4] == "00" or nik[4:6] == "00":
        errors.append(Problem("nik_region_zero"))
    sex = "F" if raw_day > FEMALE_DAY_OFFSET else "M"
    day = raw_day - FEMALE_DAY_OFFSET if sex == "F" else raw_day
    if serial == "0000":
        errors.append(Problem("nik_serial_zero"))

    birth: date | None = None
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        errors.append(Problem("nik_birth_date_invalid", params={"day": raw_day, "month": month}))
    else:
        year = _century_year(yy, today)
        if declared_birth_date is not None and declared_birth_date.year % 100 == yy:
            year = declared_birth_date.year
        try:
            birth = date(year, month, day)
        except ValueError:
            # 29 February in a year that is not a leap year in either century, 31 April, ...
            alternative = None
            if month == 2 and day == 29:
                for candidate in (2000 + yy, 1900 + yy):
                    try:
                        alternative = date(candidate, 2, 29)
                    except ValueError:
                        continue
                    if alternative <= today:
                        break
                    alternative = None
            if alternative is None:
                errors.append(Problem("nik_birth_date_invalid", params={"day": raw_day, "month": month}))
            birth = alternative
        if birth is not None and birth > today:
            errors.append(Problem("nik_birth_date_future", params={"date": birth.isoformat()}))

    if declared_sex and declared_sex in {"M", "F"} and not errors and declared_sex != sex:
        errors.append(Problem("nik_sex_mismatch", field="sex", params={"nik_sex": sex, "declared": declared_sex}))
    if (
        declared_birth_date is not None
        and birth is not None
        and not any(e.code.startswith("nik_birth") for e in errors)
    ) and (declared_birth_date.day, declared_birth_date.month, declared_birth_date.year % 100) != (
        birth.day,
        birth.month,
        birth.year % 100,
    ):
        errors.append(
            Problem(
                "nik_birth_date_mismatch",
                field="birth_date",
                params={"nik_date": birth.strftime("%d-%m-%y"), "declared": declared_birth_date.isoformat()},
            )
        )

    if known_district_codes is not None and not errors and district not in known_district_codes:
        warnings.append(Problem("nik_region_unknown", params={"district": district}))

    return NikCheck(
        nik=nik,
        errors=tuple(errors),
        warnings=tuple(warnings),
        province_code=province,
        regency_code=regency,
        district_code=district,
        birth_date=birth,
        sex=sex,
        serial=serial,
    )


def mask_nik(nik: str) -> str:
    """``3201••••••••0001``: the province/regency prefix and the serial stay visible."""
    if len(nik) != 16:
        return "•" * len(nik)
    return nik[:4] + "•" * 8 + nik[12:]
