"""Rows of a worker import file: column mapping, cell parsing and row validation. Pure: no Django, no clock, no DB.

The files come from Pemda, BAZNAS and companies, typed by hand in Excel, so the rules are lenient on form and strict
on meaning:

* **Columns** are recognised by header synonyms in Indonesian and English (``NIK`` / ``No. KTP`` / ``Nomor Induk
  Kependudukan`` …); a mapping is a list aligned with the file's columns, each entry a field name or ``""`` (ignored).
* **Cells** arrive as text (CSV) or as typed values (openpyxl: ``int``, ``float``, ``datetime``, ``bool``). Dates are
  ``YYYY-MM-DD``, ``DD-MM-YYYY``, ``DD/MM/YYYY`` or a spreadsheet date; incomes may carry ``Rp`` and thousands dots.
* **Formulas.** A text cell starting with ``=`` or ``@``, or with ``+``/``-`` followed by anything but a number or a
  phone number, is refused (``formula_refused``): it could run when someone opens the file or a later export.
  ``+62 812-3456-7890`` is a phone number and ``-5000`` a (negative, hence refused) number, not formulas; a lone ``-``
  is the usual way of writing "nothing" and is read as empty.
* **Problems** are stable codes with parameters (rendered by ``registry.messages``), each tied to the file's column.

``RowValidator.validate`` is the hot path of a million-row import: the common, valid row takes a fast path whose
result equals ``check_nik`` / ``normalise_name`` (property-tested); anything unusual goes through those functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lingkaran.registry.domain.nik import FEMALE_DAY_OFFSET, check_nik, normalise_nik
from lingkaran.registry.domain.people import _TITLES as NAME_TITLES
from lingkaran.registry.domain.people import PhoneError, normalise_name, normalise_phone

# --- Fields and their header synonyms -------------------------------------------------------------------------------

FLAG_FIELDS = ("has_disability", "is_elderly", "is_female_head", "on_extreme_poverty_list", "zakat_eligible")
FIELDS = (
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "occupation",
    "declared_income",
    "phone",
    "address",
    "region_code",
    "dtsen_decile",
    *FLAG_FIELDS,
)
REQUIRED_FIELDS = ("nik", "full_name", "birth_date", "sex", "occupation", "declared_income")

# The header each field gets in the template file, and the name used in messages ("column nik is missing").
TEMPLATE_HEADERS = {
    "nik": "nik",
    "full_name": "nama_lengkap",
    "birth_date": "tanggal_lahir",
    "sex": "jenis_kelamin",
    "occupation": "pekerjaan",
    "declared_income": "penghasilan",
    "phone": "no_hp",
    "address": "alamat",
    "region_code": "kode_desa",
    "dtsen_decile": "desil",
    "has_disability": "disabilitas",
    "is_elderly": "lansia",
    "is_female_head": "kepala_keluarga_perempuan",
    "on_extreme_poverty_list": "miskin_ekstrem",
    "zakat_eligible": "mustahik",
}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "no_ktp", "nomor_ktp", "no_nik", "nomor_nik", "nik_ktp", "ktp", "nomor_induk_kependudukan"),
    "full_name": ("nama", "nama_lengkap", "full_name", "name", "nama_pekerja", "nama_peserta", "nama_sesuai_ktp"),
    "birth_date": ("tanggal_lahir", "tgl_lahir", "tgl_lhr", "birth_date", "date_of_birth", "dob", "tanggal_kelahiran"),
    "sex": ("jenis_kelamin", "jk", "sex", "gender", "kelamin", "l_p", "lp"),
    "occupation": ("pekerjaan", "occupation", "jenis_pekerjaan", "kode_pekerjaan", "occupation_code", "profesi"),
    "declared_income": (
        "penghasilan",
        "declared_income",
        "pendapatan",
        "income",
        "penghasilan_per_bulan",
        "penghasilan_bulanan",
        "pendapatan_per_bulan",
        "monthly_income",
    ),
    "phone": (
        "no_hp",
        "telepon",
        "phone",
        "nomor_hp",
        "no_telepon",
        "nomor_telepon",
        "no_telp",
        "telp",
        "hp",
        "handphone",
        "no_wa",
        "whatsapp",
        "phone_number",
    ),
    "address": ("alamat", "address", "alamat_lengkap", "alamat_domisili"),
    "region_code": ("kode_desa", "desa", "region_code", "kode_wilayah", "kode_kelurahan", "kode_desa_kelurahan"),
    "dtsen_decile": ("desil", "dtsen_decile", "desil_dtsen", "decile", "desil_kesejahteraan"),
    "has_disability": ("disabilitas", "disability", "penyandang_disabilitas", "has_disability"),
    "is_elderly": ("lansia", "elderly", "is_elderly", "lanjut_usia"),
    "is_female_head": (
        "kepala_keluarga_perempuan",
        "perempuan_kepala_keluarga",
        "female_head",
        "female_head_of_household",
        "is_female_head",
        "pekka",
        "kk_perempuan",
    ),
    "on_extreme_poverty_list": (
        "miskin_ekstrem",
        "kemiskinan_ekstrem",
        "extreme_poverty",
        "p3ke",
        "on_extreme_poverty_list",
    ),
    "zakat_eligible": ("mustahik", "zakat", "zakat_eligible", "mustahiq"),
}
_SYNONYM_FIELD = {synonym: name for name, synonyms in SYNONYMS.items() for synonym in synonyms}


def header_key(text) -> str:
    """``"No. KTP"`` -> ``no_ktp``; ``"Jenis Kelamin (L/P)"`` -> ``jenis_kelamin``: lower ASCII words joined by ``_``."""
    value = unicodedata.normalize("NFKD", str(text if text is not None else "")).encode("ascii", "ignore").decode()
    value = re.sub(r"\(.*?\)", " ", value.replace("\ufeff", ""))
    return "_".join(re.findall(r"[a-z0-9]+", value.lower()))


def field_for_header(text) -> str:
    key = header_key(text)
    if key in _SYNONYM_FIELD:
        return _SYNONYM_FIELD[key]
    # "L/P" loses its words to the bracket rule only when bracketed; "jenis_kelamin_l_p" still means sex.
    for synonym, name in _SYNONYM_FIELD.items():
        if len(synonym) >= 4 and key.startswith(synonym + "_"):
            return name
    return ""


def detect_mapping(header: Sequence) -> list[str]:
    """One field (or ``""``) per column; when two columns mean the same field, the first one wins."""
    mapping: list[str] = []
    taken: set[str] = set()
    for text in header:
        name = field_for_header(text)
        if name and name not in taken:
            taken.add(name)
            mapping.append(name)
        else:
            mapping.append("")
    return mapping


def find_header_row(rows: Sequence[Sequence], *, look_at: int = 10) -> int:
    """Index of the header among the first rows: the first with at least two known columns (files often start with
    a title such as "DAFTAR PEKERJA RENTAN KAB. PPU"). Falls back to the first non-empty row."""
    first_non_empty = None
    for index, row in enumerate(rows[:look_at]):
        texts = [cell for cell in row if cell not in (None, "")]
        if not texts:
            continue
        if first_non_empty is None:
            first_non_empty = index
        if sum(1 for name in detect_mapping(row) if name) >= 2:
            return index
    return first_non_empty if first_non_empty is not None else 0


@dataclass(frozen=True)
class MappingProblem:
    code: str
    params: dict


def mapping_problems(mapping: Sequence[str], header: Sequence) -> list[MappingProblem]:
    """Missing required fields and fields chosen for two columns. Empty when the mapping can be imported."""
    problems: list[MappingProblem] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(mapping):
        if not name:
            continue
        if name not in FIELDS:
            problems.append(MappingProblem("column_field_unknown", {"field": name}))
        elif name in seen:
            problems.append(
                MappingProblem(
                    "column_mapped_twice",
                    {"column": column_label(header, index), "field": TEMPLATE_HEADERS[name]},
                )
            )
        else:
            seen[name] = index
    for name in REQUIRED_FIELDS:
        if name not in seen:
            problems.append(MappingProblem("column_missing", {"column": TEMPLATE_HEADERS[name]}))
    return problems


def column_label(header: Sequence, index: int) -> str:
    text = str(header[index]).strip() if index < len(header) and header[index] is not None else ""
    return text or column_letter(index)


def column_letter(index: int) -> str:
    """0 -> ``A``, 26 -> ``AA`` (what a spreadsheet shows above the column)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Cells ----------------------------------------------------------------------------------------------------------

EMPTY_MARKERS = frozenset({"-", "--", "–", "—"})
_NUMBER_OR_PHONE = re.compile(r"[+-][\d\s().\-/]*\d[\d\s().\-/]*")


def formula_start(value) -> str | None:
    """The character that makes a text cell a possible formula, or None. Numbers and phone numbers are not formulas."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text in EMPTY_MARKERS:
        return None
    first = text[0]
    if first in "=@":
        return first
    if first in "+-" and not _NUMBER_OR_PHONE.fullmatch(text):
        return first
    return None


def as_text(value) -> str:
    """A cell as the person typed it: numbers without ``.0``, dates as ``YYYY-MM-DD``, no surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        return "" if text in EMPTY_MARKERS else text
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DMY_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value) -> date | None:
    """A birth date from a cell, or None when it is not one. Day first (Indonesian habit) for ``05/01/1990``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # A spreadsheet date whose cell lost its date format: days since 1899-12-30.
        if 1 <= value < 2958466:
            return EXCEL_EPOCH + timedelta(days=int(value))
        return None
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DMY_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


SEX_WORDS = {
    "l": "M",
    "lk": "M",
    "laki": "M",
    "laki-laki": "M",
    "laki laki": "M",
    "lakilaki": "M",
    "lelaki": "M",
    "pria": "M",
    "m": "M",
    "male": "M",
    "p": "F",
    "pr": "F",
    "perempuan": "F",
    "wanita": "F",
    "f": "F",
    "female": "F",
}


def parse_sex(value) -> str | None:
    return SEX_WORDS.get(as_text(value).lower().rstrip("."))


TRUE_WORDS = frozenset({"y", "ya", "iya", "yes", "1", "true", "benar", "t", "v", "x", "✓", "√"})
FALSE_WORDS = frozenset({"", "n", "tidak", "tdk", "no", "0", "false", "salah", "bukan", "f"})


def parse_flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


_ID_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,0{1,2})?")
_EN_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.0{1,2})?")
_PLAIN_AMOUNT = re.compile(r"\d+(?:[.,]0{1,2})?")


def parse_rupiah(value) -> int | None:
    """Whole rupiah from ``1500000``, ``1.500.000``, ``Rp 1.500.000,00``, ``1,500,000`` or a number cell; None when the
    cell is not a whole, non-negative amount."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    text = as_text(value).replace(" ", "").replace("\u00a0", "")
    if text[:2].lower() == "rp":
        text = text[2:].lstrip(".")
    if _PLAIN_AMOUNT.fullmatch(text):
        return int(re.split(r"[.,]", text)[0])
    if _ID_THOUSANDS.fullmatch(text):
        return int(text.split(",")[0].replace(".", ""))
    if _EN_THOUSANDS.fullmatch(text):
        return int(text.split(".")[0].replace(",", ""))
    return None


def parse_small_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = as_text(value)
    return int(text) if text.isascii() and text.isdigit() else None


def occupation_key(text: str) -> str:
    return " ".join(header_key(text).split("_"))


# --- Rows -----------------------------------------------------------------------------------------------------------

MAX_NAME = 150
MAX_ADDRESS = 500
MAX_INCOME = 2_147_483_647  # PositiveIntegerField


@dataclass(frozen=True, slots=True)
class RowProblem:
    column: str
    code: str
    params: dict = field(default_factory=dict)
    is_error: bool = True


@dataclass(slots=True)
class CleanRow:
    nik: str
    full_name: str
    name_key: str
    birth_date: date
    sex: str
    occupation: str
    declared_income: int
    phone: str
    address: str
    region_code: str  # the desa, else the NIK's kecamatan
    village_code: str | None
    dtsen_decile: int | None
    has_disability: bool
    is_elderly: bool
    is_female_head: bool
    on_extreme_poverty_list: bool
    zakat_eligible: bool


def name_key_fast(name: str) -> str:
    """``normalise_name`` for the usual name of ASCII letters and spaces, without its regular expressions; anything
    else (a title, a dot, an apostrophe, an accent) goes through ``normalise_name`` itself. Equal results
    (property-tested)."""
    if name.isascii() and name.replace(" ", "").isalpha():
        words = name.upper().split()
        if NAME_TITLES.isdisjoint(words):
            return " ".join(words)
    return normalise_name(name)


def nik_fast(nik: str, birth: date | None, sex: str | None, today: date) -> bool:
    """True when ``check_nik(nik, declared_birth_date=birth, declared_sex=sex)`` has no errors, decided without it
    for a well-formed 16-digit NIK; False means "ask check_nik" (it may still be valid)."""
    if birth is None or sex is None or len(nik) != 16 or not (nik.isascii() and nik.isdigit()):
        return False
    if nik[0:2] == "00" or nik[2:4] == "00" or nik[4:6] == "00" or nik[12:16] == "0000" or birth > today:
        return False
    day = birth.day + FEMALE_DAY_OFFSET if sex == "F" else birth.day
    return nik[6:12] == f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"


# Positions of the fields in FIELDS (the validator keeps a row's values in lists indexed by them).
_NIK, _NAME, _BIRTH, _SEX, _OCCUPATION, _INCOME, _PHONE, _ADDRESS, _REGION, _DECILE = (
    FIELDS.index(name)
    for name in (
        "nik",
        "full_name",
        "birth_date",
        "sex",
        "occupation",
        "declared_income",
        "phone",
        "address",
        "region_code",
        "dtsen_decile",
    )
)
_FLAGS = tuple(FIELDS.index(name) for name in FLAG_FIELDS)


@dataclass
class RowValidator:
    """Validates rows of one file against one mapping and the reference data of one moment.

    ``occupations`` maps an occupation key (``occupation_key`` of a code, Indonesian or English name) to its code;
    ``regions`` maps region codes to levels; ``in_scope(code)`` says whether the importing user may add workers
    there; ``known_districts`` (when given) turns an unknown NIK kecamatan into a warning.

    ``validate`` runs once per row of a million-row file, so it reads each cell once into position-indexed lists
    and keeps the common case free of function calls; unusual values go through the general parsers above.
    """

    header: Sequence
    mapping: Sequence[str]
    today: date
    occupations: Mapping[str, str]
    regions: Mapping[str, int]
    in_scope: Callable[[str], bool]
    known_districts: frozenset[str] | None = None

    def __post_init__(self):
        self.columns = {name: index for index, name in enumerate(self.mapping) if name}
        self.labels = {name: column_label(self.header, index) for name, index in self.columns.items()}
        self.width = len(self.header)
        self._mapped = tuple((FIELDS.index(name), index) for name, index in self.columns.items() if name in FIELDS)
        self._label = [self.labels.get(name, "") for name in FIELDS]
        self._flags = tuple(pos for pos in _FLAGS if FIELDS[pos] in self.columns)
        self._has_address = "address" in self.columns
        self._has_decile = "dtsen_decile" in self.columns
        # Codes and lower-case names answer most occupation cells without building a key.
        self._occupation_lookup = {**self.occupations, **{code: code for code in self.occupations.values()}}

    def validate(self, cells: Sequence) -> tuple[CleanRow | None, list[RowProblem]]:
        problems: list[RowProblem] = []
        label = self._label
        count = len(cells)
        values: list = [None] * len(FIELDS)
        texts = [""] * len(FIELDS)
        formulas: set[int] | tuple = ()
        for pos, index in self._mapped:
            if index >= count:
                continue
            value = cells[index]
            if value.__class__ is str:
                text = value.strip()
                if not text:
                    continue
                if text[0] in "=+-@":
                    char = formula_start(text)
                    if char:
                        formulas = {*formulas, pos}
                        problems.append(RowProblem(label[pos], "formula_refused", {"char": char}))
                        continue
                    if text in EMPTY_MARKERS:
                        continue
                texts[pos] = text
                values[pos] = text
            elif value is not None:
                texts[pos] = as_text(value)
                values[pos] = value
        if count > self.width and any(as_text(v) for v in cells[self.width :]):
            problems.append(RowProblem("", "row_extra_cells", is_error=False))

        # Name.
        name = texts[_NAME]
        name_key = ""
        if name:
            name = " ".join(name.split())
            if len(name) > MAX_NAME:
                problems.append(RowProblem(label[_NAME], "name_too_long"))
            else:
                name_key = name_key_fast(name)
                if not name_key:
                    problems.append(RowProblem(label[_NAME], "name_invalid"))
        elif _NAME not in formulas:
            problems.append(RowProblem(label[_NAME], "name_missing"))

        # Birth date and sex; the NIK is checked against both.
        birth = None
        if texts[_BIRTH]:
            birth = parse_date(values[_BIRTH])
            if birth is None:
                problems.append(RowProblem(label[_BIRTH], "birth_date_invalid"))
        elif _BIRTH not in formulas:
            problems.append(RowProblem(label[_BIRTH], "birth_date_missing"))
        sex = SEX_WORDS.get(texts[_SEX].lower().rstrip("."))
        if sex is None and _SEX not in formulas:
            problems.append(RowProblem(label[_SEX], "sex_invalid"))

        nik = ""
        district = ""
        text = texts[_NIK]
        if values[_NIK].__class__ in (int, float):
            # A spreadsheet keeps 15 significant digits: a 16-digit NIK typed as a number has lost its last digit
            # (3201010101010012 becomes 3201010101010010, another valid-looking NIK). Only text cells are trusted.
            problems.append(RowProblem(label[_NIK], "nik_stored_as_number"))
        elif _NIK in formulas:
            pass
        elif nik_fast(text, birth, sex, self.today):
            nik = text
            district = f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
            if self.known_districts is not None and district not in self.known_districts:
                problems.append(RowProblem(label[_NIK], "nik_region_unknown", {"district": district}, is_error=False))
        else:
            normalised = normalise_nik(text)
            if (normalised and not normalised.isascii()) or text[:1] in ("+", "-"):
                # check_nik drops dashes and would read "-3201…" or Arabic-Indic digits as a NIK.
                problems.append(RowProblem(label[_NIK], "nik_not_digits"))
            else:
                check = check_nik(
                    text,
                    today=self.today,
                    declared_birth_date=birth,
                    declared_sex=sex,
                    known_district_codes=self.known_districts,
                )
                columns = {"nik": label[_NIK], "birth_date": label[_BIRTH], "sex": label[_SEX]}
                for problem in check.errors:
                    column = columns.get(problem.field, label[_NIK])
                    problems.append(RowProblem(column, problem.code, dict(problem.params)))
                for problem in check.warnings:
                    problems.append(RowProblem(label[_NIK], problem.code, dict(problem.params), is_error=False))
                if check.is_valid:
                    nik = check.nik
                    district = check.district_code

        # Occupation and income.
        text = texts[_OCCUPATION]
        occupation = None
        if text:
            occupation = self._occupation_lookup.get(text.lower()) or self.occupations.get(occupation_key(text))
        if occupation is None and _OCCUPATION not in formulas:
            problems.append(RowProblem(label[_OCCUPATION], "occupation_unknown", {"value": text[:60]}))
        text = texts[_INCOME]
        income = int(text) if text.isdigit() and text.isascii() else parse_rupiah(values[_INCOME])
        if (income is None or income <= 0 or income > MAX_INCOME) and _INCOME not in formulas:
            problems.append(RowProblem(label[_INCOME], "income_invalid"))

        # Optional fields.
        phone = texts[_PHONE]
        if phone:
            if phone[0] == "-":
                problems.append(RowProblem(label[_PHONE], "phone_invalid"))
            else:
                try:
                    phone = normalise_phone(phone)
                except PhoneError as exc:
                    problems.append(RowProblem(label[_PHONE], str(exc)))
        address = ""
        if self._has_address and texts[_ADDRESS]:
            address = " ".join(texts[_ADDRESS].split())
            if len(address) > MAX_ADDRESS:
                problems.append(RowProblem(label[_ADDRESS], "value_too_long"))
        village = None
        text = texts[_REGION]
        if text:
            level = self.regions.get(text)
            if level is None:
                problems.append(RowProblem(label[_REGION], "region_unknown", {"code": text[:20]}))
            elif level != 4:
                problems.append(RowProblem(label[_REGION], "region_not_village", {"code": text}))
            elif not self.in_scope(text):
                problems.append(RowProblem(label[_REGION], "region_outside_scope", {"code": text}))
            else:
                village = text
        elif district and not self.in_scope(district):
            problems.append(RowProblem(label[_NIK], "region_outside_scope", {"code": district}))
        decile = None
        if self._has_decile and texts[_DECILE]:
            text = texts[_DECILE]
            decile = int(text) if text.isdigit() and text.isascii() else parse_small_int(values[_DECILE])
            if decile is None or not 1 <= decile <= 10:
                problems.append(RowProblem(label[_DECILE], "decile_invalid"))
                decile = None
        flags = [False] * len(FLAG_FIELDS)
        for pos in self._flags:
            text = texts[pos].lower()
            if text in TRUE_WORDS:
                flags[_FLAGS.index(pos)] = True
            elif text not in FALSE_WORDS:
                value = values[pos]
                if value.__class__ is bool:
                    flags[_FLAGS.index(pos)] = value
                elif pos not in formulas:
                    problems.append(RowProblem(label[pos], "flag_invalid", {"column": label[pos]}))

        if problems and any(p.is_error for p in problems):
            return None, problems
        return (
            CleanRow(
                nik,
                name,
                name_key,
                birth,
                sex,
                occupation,
                income,
                phone,
                address,
                village or district,
                village,
                decile,
                *flags,
            ),
            problems,
        )


def nik_of(cells: Sequence, nik_column: int | None) -> str:
    """The normalised NIK of a row (for in-file duplicate detection), or ``""`` when it is not 16 ASCII digits."""
    if nik_column is None or nik_column >= len(cells):
        return ""
    value = cells[nik_column]
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    text = value if isinstance(value, int) else value.strip()
    nik = str(text) if isinstance(text, int) else normalise_nik(text)
    return nik if len(nik) == 16 and nik.isascii() and nik.isdigit() else ""
