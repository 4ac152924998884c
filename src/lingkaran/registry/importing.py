"""Bulk import of workers from the CSV and XLSX files that Pemda, BAZNAS and companies send.

The life of an import (an ``ImportBatch``):

1. ``import_create`` stores the file under ``imports/<sha256>.<format>`` (default storage), after checking what it
   *is* by its content, not its name: an XLSX must be a real workbook, a CSV must be UTF-8 text (a BOM is fine);
   images, PDFs, old ``.xls`` files, UTF-16 or cp1252 text, empty files and header-only files are **refused** with
   a message that names the problem (and the byte and line of a bad character). It finds the header row, maps the
   columns (``domain/import_rows.py``) and counts the rows. Nothing is imported yet.
2. ``import_preview`` shows the mapped header and the first rows with their problems; ``import_set_mapping`` changes
   the mapping; ``import_start`` queues the run (the Celery task ``registry.import_run``).
3. ``import_run`` validates, drops NIKs that already exist (``existing_count``) or appear earlier in the file
   (``duplicate_in_file_count``), encrypts and inserts through ``core.db.copy_rows`` (``COPY`` on PostgreSQL), in
   chunks of ``CHUNK_ROWS``. Each chunk commits its workers, its problem rows and the progress counters together, so a
   run that stops resumes where it stopped and a second run of a finished batch does nothing. The database side of
   the run (existence checks, ``COPY``, commits) runs in a thread of its own (``import_writer.DatabaseThread``) while
   this thread reads, validates and encrypts the next chunk; chunk commits do not wait for the disk
   (``_relaxed_commit``), the run's last commit does.

   * ``accept_valid``: valid rows go in, the others are reported row by row (``ImportProblem``, Indonesian and
     English).
   * ``all_or_nothing``: a first pass validates the whole file and writes no worker; one bad row refuses the file.
     Otherwise a second pass inserts every row in one transaction.

Idempotency: the NIK blind index is unique, so the same file twice creates nothing new the second time; uploading a
file whose SHA-256 was already imported says so. Workers are nominated by the uploader, with the source the uploader
chose. Only ``Capability.IMPORT_WORKERS`` may import, and a row in a region outside the user's scope is refused.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import logging
import multiprocessing
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from lingkaran.config import env
from lingkaran.core.access import assigned_region_codes, can, require
from lingkaran.core.audit import audit_record
from lingkaran.core.db import COPY_ESCAPES, copy_lines, copy_rows, is_postgresql, values_in
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from lingkaran.registry import messages
from lingkaran.registry.domain import import_rows as rules
from lingkaran.registry.domain.nik import mask_nik
from lingkaran.registry.domain.people import PhoneError, mask_phone, normalise_phone
from lingkaran.registry.import_writer import DatabaseThread
from lingkaran.registry.models import (
    ImportBatch,
    ImportProblem,
    NominationSource,
    Occupation,
    Region,
    Worker,
    WorkerStatus,
)
from lingkaran.registry.selectors import PURPOSE_NIK
from lingkaran.registry.services import PURPOSE_ADDRESS, PURPOSE_PHONE, duplicates_find

logger = logging.getLogger("lingkaran.registry.import")

IMPORT_DIR = "imports"
CHUNK_ROWS = 20_000  # rows per chunk (and per commit in accept-valid mode); measured in bench/import_workers.py


def _positive_setting(name: str, default: int) -> int:
    """A whole-number import setting: Django's settings when they define it, else the environment (``env.py``)."""
    value = getattr(settings, name, None)
    if value is None:
        value = env.get_int(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise env.ConfigError(f"{name}={value!r} must be a whole number of at least 1")
    return value


MAX_BYTES = _positive_setting("LINGKARAN_IMPORT_MAX_BYTES", 512 * 1024 * 1024)
MAX_XLSX_UNPACKED = 2 * 1024 * 1024 * 1024  # a workbook that unpacks to more is a zip bomb, not a list of workers
SOURCES = (NominationSource.PEMDA_LIST, NominationSource.ZAKAT_LIST, NominationSource.FUNDER, NominationSource.IMPORT)
PREVIEW_ROWS = 20

# Translatable labels of the fields a column can be mapped to (the preview's selects).
FIELD_LABELS = {
    "nik": _("NIK"),
    "full_name": _("Full name"),
    "birth_date": _("Birth date"),
    "sex": _("Sex (L/P)"),
    "occupation": _("Occupation"),
    "declared_income": _("Declared monthly income (Rp)"),
    "phone": _("Phone"),
    "address": _("Address"),
    "region_code": _("Desa/kelurahan code"),
    "dtsen_decile": _("DTSEN decile"),
    "has_disability": _("Disability (Y/N)"),
    "is_elderly": _("Elderly (Y/N)"),
    "is_female_head": _("Female head of household (Y/N)"),
    "on_extreme_poverty_list": _("Extreme-poverty list (Y/N)"),
    "zakat_eligible": _("Zakat eligible / mustahik (Y/N)"),
}

WORKER_COLUMNS = (
    "nik_encrypted",
    "nik_index",
    "nik_masked",
    "full_name",
    "name_key",
    "birth_date",
    "sex",
    "phone_encrypted",
    "phone_index",
    "phone_masked",
    "address_encrypted",
    "region_id",
    "region_code",
    "occupation_id",
    "declared_income",
    "dtsen_decile",
    "dtsen_as_of",
    "has_disability",
    "is_elderly",
    "is_female_head",
    "on_extreme_poverty_list",
    "zakat_eligible",
    "kpj_number",
    "status",
    "rejection_reason",
    "source",
    "nominated_by_id",
    "import_batch_id",
    "merged_into_id",
    "created_at",
    "updated_at",
)
PROBLEM_COLUMNS = ("batch_id", "row", "column", "code", "message_id", "message_en", "is_error")


class ImportRefused(Exception):
    """A file-level problem: the batch is refused and nothing is imported."""

    def __init__(self, code: str, problems: list[rules.MappingProblem] | None = None, **params):
        self.code = code
        self.params = params
        self.problems = problems or [rules.MappingProblem(code, params)]
        super().__init__(code)


# --- Reading files --------------------------------------------------------------------------------------------------

MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "GZIP"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7Z"),
    (b"MZ", "EXE"),
    (b"\x7fELF", "ELF"),
]
SPREADSHEET_EXTENSIONS = {"xlsx": "xlsx", "xlsm": "xlsx", "csv": "csv", "txt": "csv", "tsv": "csv"}


def sniff_format(head: bytes, file_name: str = "") -> str:
    """``"csv"`` or ``"xlsx"`` from the first bytes of a file; ImportRefused for anything else, or when the name
    claims the other format."""
    if not head:
        raise ImportRefused("file_empty")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ImportRefused("file_xls_old")
    for magic, kind in MAGIC:
        if head.startswith(magic):
            raise ImportRefused("file_not_spreadsheet", kind=kind)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused("file_utf16")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        detected = "xlsx"
    elif b"\x00" in head:
        raise ImportRefused("file_binary")
    else:
        detected = "csv"
    extension = Path(file_name).suffix.lower().lstrip(".")
    claimed = SPREADSHEET_EXTENSIONS.get(extension)
    if claimed and claimed != detected:
        raise ImportRefused("file_extension_mismatch", extension=extension, kind=detected.upper())
    return detected


def check_xlsx(fileobj) -> None:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportRefused("file_xlsx_invalid") from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ImportRefused("file_xlsx_invalid")
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportRefused("file_too_large", limit=MAX_BYTES // (1024 * 1024))


def check_utf8(fileobj, block: int = 1 << 20) -> None:
    """Refuse text that is not UTF-8, naming the first bad byte (1-based) and its line."""
    offset = 0  # absolute offset of ``buffer[0]``
    lines = 1  # line number at ``buffer[0]``
    carry = b""
    while True:
        data = fileobj.read(block)
        buffer = carry + data
        if not buffer:
            return
        try:
            buffer.decode("utf-8")
            good = len(buffer)
        except UnicodeDecodeError as exc:
            # A character cut by the block edge is completed by the next block; anything else is a bad byte.
            if data and exc.reason == "unexpected end of data" and len(buffer) - exc.start < 4:
                good = exc.start
            else:
                raise ImportRefused(
                    "file_encoding", byte=offset + exc.start + 1, line=lines + buffer[: exc.start].count(b"\n")
                ) from None
        lines += buffer[:good].count(b"\n")
        offset += good
        carry = buffer[good:]


def guess_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:10] if line.strip()]
    best, best_count = ",", 0
    for candidate in (",", ";", "\t", "|"):
        count = sum(line.count(candidate) for line in lines)
        if count > best_count:
            best, best_count = candidate, count
    return best


@contextlib.contextmanager
def open_rows(fileobj, file_format: str, delimiter: str = ",") -> Iterator[Iterator[list]]:
    """Every row of the file (the header too) as a list of cells: text for CSV, typed values for XLSX."""
    fileobj.seek(0)
    if file_format == "xlsx":
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for a broken file
            logger.info("unreadable workbook: %r", exc)
            raise ImportRefused("file_xlsx_invalid") from None
        try:
            sheet = workbook.worksheets[0]
            yield (list(row) for row in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
        return
    text = io.TextIOWrapper(fileobj, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text, delimiter=delimiter)
        yield _csv_rows(reader)
    finally:
        text.detach()


def _csv_rows(reader) -> Iterator[list]:
    try:
        yield from reader
    except csv.Error:
        raise ImportRefused("file_csv_invalid", line=reader.line_num) from None
    except UnicodeDecodeError:
        raise ImportRefused("file_encoding", byte="?", line=reader.line_num) from None


def is_blank(cells: Sequence) -> bool:
    for cell in cells:  # noqa: SIM110 - a loop that stops at the first cell beats all() over a generator
        if cell is not None and (cell.__class__ is not str or cell.strip()):
            return False
    return True


def data_rows(rows: Iterator[list], header_row: int) -> Iterator[tuple[int, list]]:
    """``(spreadsheet row number, cells)`` for the non-blank rows after the header (the header is row ``header_row``)."""
    for number, cells in enumerate(rows, start=1):
        if number <= header_row:
            continue
        # Most rows start with a filled text cell (the NIK): they are not blank, and is_blank is not needed.
        first = cells[0] if cells else None
        if (first.__class__ is str and first and not first.isspace()) or not is_blank(cells):
            yield number, cells


@dataclass
class FileScan:
    file_format: str
    delimiter: str
    header_row: int
    header: list[str]
    total_rows: int
    sheet: str = ""


def scan_file(fileobj, file_name: str) -> FileScan:
    """Check what the file is and read its shape: format, header, number of data rows. ImportRefused if unusable."""
    fileobj.seek(0)
    head = fileobj.read(8192)
    file_format = sniff_format(head, file_name)
    delimiter = ","
    fileobj.seek(0)
    if file_format == "xlsx":
        check_xlsx(fileobj)
    else:
        check_utf8(fileobj)
        delimiter = guess_delimiter(head.decode("utf-8-sig", errors="ignore"))
    with open_rows(fileobj, file_format, delimiter) as rows:
        first: list[list] = []
        for cells in rows:
            first.append(cells)
            if len(first) >= 10:
                break
        header_index = rules.find_header_row(first)
        header = [rules.as_text(c) for c in first[header_index]] if first else []
        while header and not header[-1]:
            header.pop()
        total = sum(1 for _ in data_rows(iter(first), header_index + 1)) + sum(1 for c in rows if not is_blank(c))
    if not any(header):
        raise ImportRefused("file_empty")
    if total == 0:
        raise ImportRefused("file_no_rows")
    return FileScan(file_format, delimiter, header_index + 1, header, total)


# --- Crypto for many rows -------------------------------------------------------------------------------------------

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class PaddedBlindIndexer:
    """``core.crypto.blind_index`` for many values: HMAC-SHA256 with both key pads hashed once, so each value costs
    two hash copies (about 4× faster than ``BlindIndexer``). Equal output, tested against ``blind_index``."""

    def __init__(self, key: bytes | None = None):
        self.key = key if key is not None else settings.BLIND_INDEX_KEY
        self._inner = None

    def __getstate__(self):
        return {"key": self.key, "_inner": None}

    def _pads(self):
        key = self.key if len(self.key) <= 64 else hashlib.sha256(self.key).digest()
        key = key.ljust(64, b"\0")
        self._inner, self._outer = hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))

    def __call__(self, value: str, *, purpose: str) -> str:
        if self._inner is None:
            self._pads()
        inner = self._inner.copy()
        inner.update(f"{purpose}:{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class FieldSealer:
    """``core.crypto.encrypt`` for many values: the current key's AES-GCM object is built once and nonces are drawn
    from the OS in one call per chunk. Same token format (``<key id>$base64(nonce‖ciphertext‖tag)``)."""

    def __init__(self, key_id: str | None = None, key: bytes | None = None):
        if key_id is None:
            key_id, key = next(iter(settings.DATA_KEYS.items()))
        self.key_id, self.key = key_id, key
        self._aead = None
        self._nonces = b""
        self._position = 0

    def __getstate__(self):
        return {"key_id": self.key_id, "key": self.key, "_aead": None, "_nonces": b"", "_position": 0}

    def reserve(self, count: int) -> None:
        self._nonces = os.urandom(12 * count)
        self._position = 0

    def __call__(self, value: str, purpose: bytes) -> str:
        if not value:
            return ""
        if self._aead is None:
            self._aead = AESGCM(self.key)
        start = self._position
        if start + 12 > len(self._nonces):
            self.reserve(256)
            start = 0
        nonce = self._nonces[start : start + 12]
        self._position = start + 12
        return f"{self.key_id}${base64.b64encode(nonce + self._aead.encrypt(nonce, value.encode(), purpose)).decode()}"


class RegionScope:
    """Picklable "may this user add a worker in region ``code``" (all regions, or inside the assigned ones)."""

    def __init__(self, all_regions: bool, assigned: Iterable[str] = ()):
        self.all_regions = all_regions
        self.prefixes = tuple(sorted(set(assigned)))

    def __call__(self, code: str) -> bool:
        if self.all_regions:
            return True
        return any(code == p or code.startswith(p + ".") for p in self.prefixes)


# --- Preparing rows (the hot path; may run in worker processes) ----------------------------------------------------

_NIK_PURPOSE = PURPOSE_NIK.encode()
_PHONE_PURPOSE = PURPOSE_PHONE.encode()
_ADDRESS_PURPOSE = PURPOSE_ADDRESS.encode()


class RowPreparer:
    """Turns raw rows into ``(row, nik, problems, nik_index, worker_values)``: validated, indexed and (when
    ``encrypt``) encrypted into the exact values of ``WORKER_COLUMNS``. Holds no database connection, so it can run in
    a forked worker process."""

    def __init__(self, validator: rules.RowValidator, *, source: str, user_id: int, batch_id: int, copy_text=False):
        self.validator = validator
        self.source = source
        self.user_id = user_id
        self.batch_id = batch_id
        self.indexer = PaddedBlindIndexer()
        self.sealer = FieldSealer()
        # On PostgreSQL the rows leave as COPY text lines, formatted here (in the worker processes when there are
        # some) so that the process holding the connection only streams bytes.
        self.copy_text = copy_text

    def __call__(self, rows: list[tuple[int, list]], *, encrypt: bool, now) -> list[tuple]:
        validate = self.validator.validate
        nik_column = self.validator.columns.get("nik")
        index = self.indexer
        seal = self.sealer
        if encrypt:
            seal.reserve(3 * len(rows))
        source, user_id, batch_id = self.source, self.user_id, self.batch_id
        nominated = WorkerStatus.NOMINATED.value
        now_text = now.isoformat()
        out = []
        append = out.append
        for number, cells in rows:
            clean, problems = validate(cells)
            problems = [(p.column, p.code, p.params, p.is_error) for p in problems]
            if clean is None:
                append((number, rules.nik_of(cells, nik_column), problems, "", None))
                continue
            nik = clean.nik
            nik_index = index(nik, purpose=PURPOSE_NIK)
            values = None
            if encrypt and self.copy_text:
                values = self._line(clean, nik_index, now_text)
            elif encrypt:
                phone = clean.phone
                values = (
                    seal(nik, _NIK_PURPOSE),
                    nik_index,
                    mask_nik(nik),
                    clean.full_name,
                    clean.name_key,
                    clean.birth_date,
                    clean.sex,
                    seal(phone, _PHONE_PURPOSE),
                    index(phone, purpose=PURPOSE_PHONE) if phone else "",
                    mask_phone(phone) if phone else "",
                    seal(clean.address, _ADDRESS_PURPOSE),
                    clean.village_code,
                    clean.region_code,
                    clean.occupation,
                    clean.declared_income,
                    clean.dtsen_decile,
                    None,
                    clean.has_disability,
                    clean.is_elderly,
                    clean.is_female_head,
                    clean.on_extreme_poverty_list,
                    clean.zakat_eligible,
                    "",
                    nominated,
                    "",
                    source,
                    user_id,
                    batch_id,
                    None,
                    now,
                    now,
                )
            append((number, nik, problems, nik_index, values))
        return out

    def _line(self, clean: rules.CleanRow, nik_index: str, now: str) -> str:
        """The row as one COPY text line in ``WORKER_COLUMNS`` order. Only the name and the address can hold a
        character COPY escapes (a backslash: their whitespace is already collapsed); everything else is digits,
        codes, hex or base64."""
        seal = self.sealer
        phone = clean.phone
        name = clean.full_name if "\\" not in clean.full_name else clean.full_name.translate(COPY_ESCAPES)
        address = seal(clean.address, _ADDRESS_PURPOSE)
        if phone:
            phone_part = (
                f"{seal(phone, _PHONE_PURPOSE)}\t{self.indexer(phone, purpose=PURPOSE_PHONE)}\t{mask_phone(phone)}"
            )
        else:
            phone_part = "\t\t"
        decile = "\\N" if clean.dtsen_decile is None else str(clean.dtsen_decile)
        village = clean.village_code or "\\N"
        flags = "\t".join(
            "t" if flag else "f"
            for flag in (
                clean.has_disability,
                clean.is_elderly,
                clean.is_female_head,
                clean.on_extreme_poverty_list,
                clean.zakat_eligible,
            )
        )
        return (
            f"{seal(clean.nik, _NIK_PURPOSE)}\t{nik_index}\t{mask_nik(clean.nik)}\t{name}\t{clean.name_key}\t"
            f"{clean.birth_date.isoformat()}\t{clean.sex}\t{phone_part}\t{address}\t{village}\t"
            f"{clean.region_code}\t{clean.occupation}\t{clean.declared_income}\t{decile}\t\\N\t{flags}\t\t"
            f"{WorkerStatus.NOMINATED.value}\t\t{self.source}\t{self.user_id}\t{self.batch_id}\t\\N\t{now}\t{now}\n"
        )


_WORKER_PREPARER: RowPreparer | None = None


def _worker_init(preparer: RowPreparer) -> None:
    global _WORKER_PREPARER
    _WORKER_PREPARER = preparer


def _worker_prepare(rows, encrypt, now):
    return _WORKER_PREPARER(rows, encrypt=encrypt, now=now)


def _chunks(rows: Iterator[tuple[int, list]], size: int) -> Iterator[list[tuple[int, list]]]:
    chunk: list[tuple[int, list]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepared_chunks(
    preparer: RowPreparer, chunks: Iterable[list], *, encrypt: bool, processes: int
) -> Iterator[tuple[list, list]]:
    """``(raw chunk, prepared chunk)`` in file order; with ``processes`` > 1 the preparing runs in forked workers,
    at most two chunks ahead per worker (memory stays flat however long the file)."""
    if processes <= 1:
        for chunk in chunks:
            yield chunk, preparer(chunk, encrypt=encrypt, now=timezone.now())
        return
    from collections import deque

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_init, initargs=(preparer,)) as pool:
        window: deque = deque()
        for chunk in chunks:
            window.append((chunk, pool.submit(_worker_prepare, chunk, encrypt, timezone.now())))
            if len(window) > 2 * processes:
                raw, future = window.popleft()
                yield raw, future.result()
        while window:
            raw, future = window.popleft()
            yield raw, future.result()


def default_processes() -> int:
    """Worker processes for the hot path: ``LINGKARAN_IMPORT_PROCESSES`` (default 1, in process). A Celery prefork
    worker is a daemon process, which may not fork children, so it always prepares in process."""
    wanted = _positive_setting("LINGKARAN_IMPORT_PROCESSES", 1)
    if multiprocessing.current_process().daemon or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return wanted


# --- Reads ----------------------------------------------------------------------------------------------------------


def import_batches_visible_to(user) -> QuerySet[ImportBatch]:
    """Importers see every import when they see every region, otherwise their own uploads."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    require(user, Capability.IMPORT_WORKERS)
    batches = ImportBatch.objects.select_related("uploaded_by")
    if can(user, Capability.VIEW_ALL_REGIONS):
        return batches
    return batches.filter(uploaded_by=user)


def import_batch_for(user, batch_id: int) -> ImportBatch:
    batch = import_batches_visible_to(user).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def import_problems(batch: ImportBatch, *, errors_only: bool = False) -> QuerySet[ImportProblem]:
    problems = batch.problems.order_by("row", "id")
    return problems.filter(is_error=True) if errors_only else problems


def problem_message(problem: ImportProblem, language: str | None = None) -> str:
    language = language or translation.get_language() or "id"
    return problem.message_en if language.startswith("en") else problem.message_id


def batch_notice(batch: ImportBatch) -> str:
    """The batch's message in the current language (stored as a code; ``message`` keeps the Indonesian text)."""
    notice = (batch.mapping or {}).get("notice")
    if notice:
        return messages.render(notice["code"], notice.get("params") or {})
    return batch.message


def mapping_of(batch: ImportBatch) -> tuple[list[str], list[str]]:
    mapping = batch.mapping or {}
    return list(mapping.get("header") or []), list(mapping.get("fields") or [])


def batch_mapping_problems(batch: ImportBatch) -> list[rules.MappingProblem]:
    header, fields = mapping_of(batch)
    if not header:
        return []
    return rules.mapping_problems(fields, header)


# --- Writes ---------------------------------------------------------------------------------------------------------


class _Renderer:
    """Problem codes rendered in both languages once per distinct (code, params)."""

    def __init__(self):
        self.cache: dict = {}

    def __call__(self, code: str, params: dict) -> tuple[str, str]:
        key = (code, tuple(sorted((k, str(v)) for k, v in params.items())))
        found = self.cache.get(key)
        if found is None:
            found = (
                messages.render(code, params, language="id")[:300],
                messages.render(code, params, language="en")[:300],
            )
            if len(self.cache) < 50_000:
                self.cache[key] = found
        return found


def _problem_row(batch_id: int, render: _Renderer, row: int, column: str, code: str, params: dict, is_error: bool):
    message_id, message_en = render(code, params)
    return (batch_id, row, column[:60], code[:40], message_id, message_en, is_error)


def _set_notice(batch: ImportBatch, code: str, params: dict | None = None) -> None:
    params = dict(params or {})
    batch.mapping = {**(batch.mapping or {}), "notice": {"code": code, "params": params}}
    batch.message = messages.render(code, params, language="id")[:500]


def _clear_notice(batch: ImportBatch) -> None:
    mapping = dict(batch.mapping or {})
    mapping.pop("notice", None)
    batch.mapping = mapping
    batch.message = ""


@contextlib.contextmanager
def _input_file(uploaded_file, path) -> Iterator[tuple]:
    if uploaded_file is not None:
        uploaded_file.seek(0)
        yield uploaded_file, Path(uploaded_file.name or "upload").name
        return
    with open(path, "rb") as handle:
        yield handle, Path(path).name


def _sha256(fileobj) -> tuple[str, int]:
    fileobj.seek(0)
    digest = hashlib.sha256()
    size = 0
    while True:
        block = fileobj.read(1 << 20)
        if not block:
            break
        digest.update(block)
        size += len(block)
    fileobj.seek(0)
    return digest.hexdigest(), size


def import_create(
    *,
    actor,
    uploaded_file=None,
    path: str | Path | None = None,
    source: str = NominationSource.IMPORT,
    mode: str = ImportBatch.Mode.ACCEPT_VALID,
    mapping: Sequence[str] | None = None,
) -> ImportBatch:
    """Store a file and read its shape; refuse it (state ``refused``, nothing imported) when it cannot be imported.

    Returns the batch in state ``uploaded`` (ready for the preview) or ``refused`` (with the reason as a row-0
    problem in both languages). A required column the header does not name is not a refusal as long as some column
    is left unmapped: the preview lets the person choose it.
    """
    require(actor, Capability.IMPORT_WORKERS)
    if (uploaded_file is None) == (path is None):
        raise InvalidInput(details={"fields": {"file": [str(_("Choose a CSV or XLSX file."))]}})
    errors = {}
    if source not in SOURCES:
        errors["source"] = [str(_("Choose where the list comes from."))]
    if mode not in ImportBatch.Mode.values:
        errors["mode"] = [str(_("Choose all-or-nothing or accept valid rows."))]
    if errors:
        raise InvalidInput(details={"fields": errors})
    with _input_file(uploaded_file, path) as (fileobj, file_name):
        sha256, size = _sha256(fileobj)
        batch = ImportBatch(
            file_name=file_name[:255],
            file_sha256=sha256,
            file_format="",
            source=source,
            mode=mode,
            uploaded_by=actor,
        )
        refusal: ImportRefused | None = None
        scan = None
        try:
            if size > MAX_BYTES:
                raise ImportRefused("file_too_large", limit=MAX_BYTES // (1024 * 1024))
            scan = scan_file(fileobj, file_name)
        except ImportRefused as exc:
            refusal = exc
        if scan is not None:
            batch.file_format = scan.file_format
            batch.total_rows = scan.total_rows
            fields = list(mapping) if mapping is not None else rules.detect_mapping(scan.header)
            if len(fields) != len(scan.header) or any(f and f not in rules.FIELDS for f in fields):
                raise InvalidInput(details={"fields": {"mapping": [str(_("The mapping does not fit the columns."))]}})
            batch.mapping = {
                "header": scan.header,
                "header_row": scan.header_row,
                "fields": fields,
                "delimiter": scan.delimiter,
            }
            problems = rules.mapping_problems(fields, scan.header)
            missing = [p for p in problems if p.code == "column_missing"]
            unmapped = sum(1 for name, text in zip(fields, scan.header, strict=True) if not name and text)
            if missing and unmapped < len(missing):
                refusal = ImportRefused("import_refused_mapping", problems=problems)
        with transaction.atomic():
            render = _Renderer()
            if refusal is not None:
                batch.state = ImportBatch.State.REFUSED
                batch.finished_at = timezone.now()
                _set_notice(batch, refusal.code, refusal.params)
                batch.save()
                copy_rows(
                    ImportProblem._meta.db_table,
                    PROBLEM_COLUMNS,
                    [_problem_row(batch.pk, render, 0, "", p.code, p.params, True) for p in refusal.problems],
                )
            else:
                name = f"{IMPORT_DIR}/{sha256}.{scan.file_format}"
                fileobj.seek(0)
                if not default_storage.exists(name):
                    name = default_storage.save(name, File(fileobj, name=name))
                batch.stored_path = name
                earlier = (
                    ImportBatch.objects.filter(file_sha256=sha256, state=ImportBatch.State.DONE)
                    .order_by("finished_at")
                    .first()
                )
                if earlier is not None:
                    when = formats.date_format(timezone.localtime(earlier.finished_at), "SHORT_DATE_FORMAT")
                    _set_notice(batch, "import_already_done", {"date": when, "batch": earlier.pk})
                batch.save()
            audit_record(
                actor=actor,
                action="registry.import_create",
                target=batch,
                details={
                    "file_name": batch.file_name,
                    "sha256": sha256,
                    "bytes": size,
                    "format": batch.file_format,
                    "state": batch.state,
                    "total_rows": batch.total_rows,
                    "source": source,
                    "mode": mode,
                    "refused": refusal.code if refusal else "",
                },
            )
    return batch


@transaction.atomic
def import_set_mapping(*, actor, batch_id: int, fields: Sequence[str]) -> ImportBatch:
    """Choose the field of each column (``""`` ignores it) before the run."""
    batch = import_batch_for(actor, batch_id)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != ImportBatch.State.UPLOADED:
        raise Conflict(_("This import has already started."), code="import_started")
    header, _old = mapping_of(batch)
    fields = [f or "" for f in fields]
    if len(fields) != len(header) or any(f and f not in rules.FIELDS for f in fields):
        raise InvalidInput(details={"fields": {"mapping": [str(_("The mapping does not fit the columns."))]}})
    twice = [p for p in rules.mapping_problems(fields, header) if p.code == "column_mapped_twice"]
    if twice:
        raise InvalidInput(details={"fields": {"mapping": [messages.render(p.code, p.params) for p in twice]}})
    batch.mapping = {**batch.mapping, "fields": fields}
    batch.save(update_fields=["mapping"])
    audit_record(actor=actor, action="registry.import_mapping", target=batch, details={"fields": fields})
    return batch


@dataclass
class PreviewRow:
    row: int
    cells: list[tuple[str, str]]  # (column label, masked text)
    problems: list[tuple[str, str, bool]]  # (column, message in the current language, is_error)


@dataclass
class ImportPreview:
    header: list[str]
    fields: list[str]
    header_row: int
    total_rows: int
    mapping_problems: list[str]
    rows: list[PreviewRow] = field(default_factory=list)


def _reference_data(user) -> dict:
    occupations = {}
    for code, name_id, name_en in Occupation.objects.values_list("code", "name_id", "name_en"):
        for text in (name_en, name_id, code):
            occupations[rules.occupation_key(text)] = code
    regions = dict(Region.objects.values_list("code", "level"))
    return {
        "occupations": occupations,
        "regions": regions,
        "known_districts": frozenset(c for c, level in regions.items() if level == Region.Level.DISTRICT),
        "in_scope": RegionScope(can(user, Capability.VIEW_ALL_REGIONS), assigned_region_codes(user)),
    }


def _validator(batch: ImportBatch, user, today: date) -> rules.RowValidator:
    header, fields = mapping_of(batch)
    return rules.RowValidator(header=header, mapping=fields, today=today, **_reference_data(user))


@contextlib.contextmanager
def _stored_rows(batch: ImportBatch) -> Iterator[Iterator[tuple[int, list]]]:
    with default_storage.open(batch.stored_path, "rb") as handle:
        mapping = batch.mapping or {}
        with open_rows(handle, batch.file_format, mapping.get("delimiter", ",")) as rows:
            yield data_rows(rows, int(mapping.get("header_row", 1)))


def _masked(field_name: str, text: str) -> str:
    if not text:
        return text
    if field_name == "nik":
        return mask_nik(text) if len(text) == 16 else "•" * len(text)
    if field_name == "phone":
        try:
            return mask_phone(normalise_phone(text))
        except PhoneError:
            return "•" * len(text)
    if field_name == "address":
        return text[:3] + "•" * max(0, min(len(text), 12) - 3)
    return text


def import_preview(batch: ImportBatch, limit: int = PREVIEW_ROWS) -> ImportPreview:
    """The mapped header and the first ``limit`` rows with their problems (personal data masked). Writes nothing."""
    header, fields = mapping_of(batch)
    preview = ImportPreview(
        header=header,
        fields=fields,
        header_row=int((batch.mapping or {}).get("header_row", 1)),
        total_rows=batch.total_rows,
        mapping_problems=[messages.render(p.code, p.params) for p in batch_mapping_problems(batch)],
    )
    if not batch.stored_path or batch.state == ImportBatch.State.REFUSED:
        return preview
    complete = not any(p.code == "column_missing" for p in batch_mapping_problems(batch))
    validator = _validator(batch, batch.uploaded_by, timezone.localdate()) if complete else None
    indexer = PaddedBlindIndexer()
    rows = []
    with _stored_rows(batch) as stored:
        for number, cells in stored:
            rows.append((number, cells))
            if len(rows) >= limit:
                break
    seen: dict[str, int] = {}
    checked = []
    for number, cells in rows:
        problems: list[tuple[str, str, dict, bool]] = []
        index = ""
        if validator is not None:
            clean, found = validator.validate(cells)
            problems = [(p.column, p.code, p.params, p.is_error) for p in found]
            nik = clean.nik if clean else rules.nik_of(cells, validator.columns.get("nik"))
            if nik and nik in seen:
                problems.append((validator.labels["nik"], "nik_duplicate_in_file", {"first_row": seen[nik]}, True))
            elif nik:
                seen[nik] = number
                if clean is not None:
                    index = indexer(nik, purpose=PURPOSE_NIK)
        checked.append((number, cells, problems, index))
    existing = set(
        Worker.objects.filter(nik_index__in=[i for *_rest, i in checked if i]).values_list("nik_index", flat=True)
    )
    for number, cells, problems, index in checked:
        if index and index in existing:
            problems.append((preview_label(header, fields, "nik"), "nik_exists", {}, False))
        shown = [
            (
                rules.column_label(header, i),
                _masked(fields[i] if i < len(fields) else "", rules.as_text(cells[i]) if i < len(cells) else ""),
            )
            for i in range(len(header))
        ]
        preview.rows.append(
            PreviewRow(number, shown, [(c, messages.render(code, params), err) for c, code, params, err in problems])
        )
    return preview


def preview_label(header: Sequence, fields: Sequence[str], name: str) -> str:
    return rules.column_label(header, list(fields).index(name)) if name in fields else ""


def _nik_label(batch: ImportBatch) -> str:
    header, fields = mapping_of(batch)
    return preview_label(header, fields, "nik")


def import_start(*, actor, batch_id: int) -> ImportBatch:
    """Queue the run of an uploaded batch (or continue an interrupted one). Refuses an incomplete mapping."""
    from lingkaran.registry.tasks import import_run_task

    with transaction.atomic():
        batch = import_batch_for(actor, batch_id)
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state not in (ImportBatch.State.UPLOADED, ImportBatch.State.RUNNING):
            raise Conflict(_("This import has already finished."), code="import_finished")
        if batch.state == ImportBatch.State.UPLOADED:
            if _refuse_incomplete_mapping(batch):
                audit_record(actor=actor, action="registry.import_start", target=batch, details={"state": batch.state})
                return batch
            batch.state = ImportBatch.State.RUNNING
            batch.save(update_fields=["state"])
        audit_record(actor=actor, action="registry.import_start", target=batch, details={"state": batch.state})
        transaction.on_commit(lambda: import_run_task.delay(batch.pk))
    batch.refresh_from_db()
    return batch


def _refuse_incomplete_mapping(batch: ImportBatch) -> bool:
    problems = [p for p in batch_mapping_problems(batch) if p.code in {"column_missing", "column_mapped_twice"}]
    if not problems:
        return False
    render = _Renderer()
    batch.state = ImportBatch.State.REFUSED
    batch.finished_at = timezone.now()
    _set_notice(batch, "import_refused_mapping")
    batch.save(update_fields=["state", "finished_at", "mapping", "message"])
    copy_rows(
        ImportProblem._meta.db_table,
        PROBLEM_COLUMNS,
        [_problem_row(batch.pk, render, 0, "", p.code, p.params, True) for p in problems],
    )
    return True


@dataclass
class _Tally:
    created: int = 0
    existing: int = 0
    invalid: int = 0
    duplicate: int = 0


@dataclass
class _Classified:
    new: list[tuple]  # prepared rows that are valid, first in the file (existence in the DB not yet checked)
    problems: list[tuple]  # (row, column, code, params, is_error)
    tally: _Tally


def _classify(prepared: list[tuple], seen: dict[str, int], nik_label: str) -> _Classified:
    """Sort prepared rows into invalid, duplicate-in-file and candidates, in file order (``seen`` carries the first
    row of every well-formed NIK across chunks)."""
    tally = _Tally()
    new = []
    problems = []
    for item in prepared:
        number, nik, found, _index, _values = item
        first = seen.get(nik) if nik else None
        if nik and first is None:
            seen[nik] = number
        for column, code, params, is_error in found:
            problems.append((number, column, code, params, is_error))
        if _index == "":
            tally.invalid += 1
        elif first is not None:
            tally.duplicate += 1
            problems.append((number, nik_label, "nik_duplicate_in_file", {"first_row": first}, True))
        else:
            new.append(item)
    return _Classified(new, problems, tally)


def _existing(indexes: list[str]) -> set[str]:
    """Which of these NIK blind indexes are registered already: one query through the unique index."""
    if not indexes:
        return set()
    if not is_postgresql():
        return values_in(Worker._meta.db_table, "nik_index", indexes)
    # One text parameter split by the database (hex digests hold no comma): psycopg adapts one string in
    # microseconds, a list of 20,000 strings in tens of milliseconds. As a set (IN (SELECT unnest …)) it is probed
    # through the unique index one value at a time; "= ANY(array)" with that many values was planned as a parallel
    # scan of the whole table (0.2 s per chunk on 1,000,000 workers, and growing with the table).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nik_index FROM {Worker._meta.db_table} "
            "WHERE nik_index IN (SELECT unnest(string_to_array(%s, ',')))",
            [",".join(indexes)],
        )
        return {row[0] for row in cursor.fetchall()}


def _relaxed_commit() -> None:
    """On PostgreSQL, let this transaction's commit return before its WAL is on disk (``SET LOCAL
    synchronous_commit = off``). Used for the chunks of a run only: a crash can then lose the last chunks committed,
    each whole with its counters (never half a chunk), and the resumed run writes them again. The run's last
    transaction (``_finish``) commits synchronously, and that flushes every earlier commit too."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class _Superseded(Exception):
    """Another run of the same batch took it over; this one stops (its uncommitted chunk is rolled back)."""


class _ReferenceChanged(Exception):
    """All-or-nothing: a row valid in the first pass is not in the second (regions or occupations changed)."""


def _lock_run(batch_id: int, token: str) -> ImportBatch:
    """Lock the batch row for this transaction and check that this run still owns it."""
    locked = ImportBatch.objects.select_for_update().get(pk=batch_id)
    if locked.state != ImportBatch.State.RUNNING or (locked.mapping or {}).get("run") != token:
        raise _Superseded()
    return locked


@dataclass
class _Run:
    batch: ImportBatch
    token: str
    preparer: RowPreparer
    nik_label: str
    processes: int
    chunk_rows: int
    progress: Callable[[int, int], None] | None
    render: _Renderer = field(default_factory=_Renderer)
    # Ask which NIKs are registered before inserting a chunk; until then the unique index is asked instead.
    ask_first: bool = False

    def prepared(self, rows, *, encrypt: bool):
        chunks = _chunks(rows, self.chunk_rows)
        return _prepared_chunks(self.preparer, chunks, encrypt=encrypt, processes=self.processes)

    def write_problems(self, problems: Iterable[tuple]) -> None:
        copy_rows(
            ImportProblem._meta.db_table,
            PROBLEM_COLUMNS,
            (_problem_row(self.batch.pk, self.render, *p) for p in sorted(problems, key=lambda p: p[0])),
        )

    def write_workers(self, prepared: list) -> None:
        """New workers: COPY text lines made by the preparer on PostgreSQL, value tuples elsewhere."""
        if self.preparer.copy_text:
            copy_lines(Worker._meta.db_table, WORKER_COLUMNS, prepared)
        else:
            copy_rows(Worker._meta.db_table, WORKER_COLUMNS, prepared)

    def existing_info(self, classified: _Classified, existing: set[str]) -> list[tuple]:
        return [(n, self.nik_label, "nik_exists", {}, False) for n, _nik, _p, i, _v in classified.new if i in existing]

    def insert_new(self, classified: _Classified) -> set[str]:
        """Insert the chunk's workers whose NIK is not registered yet; return the blind indexes that were.

        Most imports bring new people, and asking first costs the database an index probe per row. So as long as
        this run has met no registered NIK, the chunk goes in without asking, inside a savepoint: a registered NIK
        makes the unique index refuse the whole ``COPY``, the savepoint is rolled back, and from then on every chunk
        asks first (one wasted attempt per run at most)."""
        if not self.ask_first:
            try:
                with transaction.atomic():
                    self.write_workers([item[4] for item in classified.new])
                return set()
            except IntegrityError:
                self.ask_first = True
        existing = _existing([item[3] for item in classified.new])
        self.write_workers([item[4] for item in classified.new if item[3] not in existing])
        return existing


def import_run(
    *,
    batch_id: int,
    progress: Callable[[int, int], None] | None = None,
    find_duplicates: bool = True,
    processes: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportBatch:
    """Run an import to its end. Idempotent (a finished batch is returned as it is) and resumable (an interrupted
    accept-valid run continues after its last committed chunk). A second run of a batch that is running takes it
    over: the first stops at its next chunk, so no chunk is written twice. ``progress(processed, total)`` is called
    after each chunk."""
    import uuid

    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("uploaded_by").get(pk=batch_id)
        if batch.state == ImportBatch.State.UPLOADED and _refuse_incomplete_mapping(batch):
            _audit_run(batch)
            return batch
        if batch.state not in (ImportBatch.State.UPLOADED, ImportBatch.State.RUNNING):
            return batch
        token = uuid.uuid4().hex
        batch.state = ImportBatch.State.RUNNING
        batch.mapping = {**batch.mapping, "run": token}
        batch.save(update_fields=["state", "mapping"])
    processes = default_processes() if processes is None else processes
    user = batch.uploaded_by
    validator = _validator(batch, user, timezone.localdate())
    run = _Run(
        batch=batch,
        token=token,
        preparer=RowPreparer(
            validator, source=batch.source, user_id=user.pk, batch_id=batch.pk, copy_text=is_postgresql()
        ),
        nik_label=_nik_label(batch),
        processes=processes,
        chunk_rows=chunk_rows,
        progress=progress,
    )
    try:
        if batch.mode == ImportBatch.Mode.ALL_OR_NOTHING:
            _run_all_or_nothing(run)
        else:
            _run_accept_valid(run)
    except _Superseded:
        logger.info("import %s: another run took this batch over; this one stops", batch.pk)
    except ImportRefused as exc:
        _finish_refused(run, exc.code, exc.params, file_level=True)
    except Exception:
        _finish_failed(run)
        raise
    batch.refresh_from_db()
    if find_duplicates and batch.state == ImportBatch.State.DONE and batch.created_count:
        import_find_duplicates(batch)
    return batch


def _audit_run(batch: ImportBatch) -> None:
    audit_record(
        actor=batch.uploaded_by,
        action="registry.import_run",
        target=batch,
        details={
            "state": batch.state,
            "mode": batch.mode,
            "total_rows": batch.total_rows,
            "processed_rows": batch.processed_rows,
            "created": batch.created_count,
            "existing": batch.existing_count,
            "invalid": batch.invalid_count,
            "duplicate_in_file": batch.duplicate_in_file_count,
        },
    )


def _finish(run: _Run, state: str, code: str = "", params: dict | None = None) -> ImportBatch:
    """Close the run (inside the caller's transaction, with the row locked by ``_lock_run``)."""
    batch = _lock_run(run.batch.pk, run.token)
    batch.state = state
    batch.finished_at = timezone.now()
    if code:
        _set_notice(batch, code, params)
    else:
        _clear_notice(batch)
    batch.mapping.pop("run", None)
    batch.save(update_fields=["state", "finished_at", "mapping", "message"])
    _audit_run(batch)
    return batch


def _finish_refused(run: _Run, code: str, params: dict, *, file_level: bool = False) -> None:
    with transaction.atomic():
        _finish(run, ImportBatch.State.REFUSED, code, params)
        if file_level:
            run.write_problems([(0, "", code, params, True)])


def _finish_failed(run: _Run) -> None:
    """An unexpected error. All-or-nothing wrote nothing (its insert is one transaction); accept-valid keeps its
    committed chunks and stays ``running`` so that it can be resumed, and only fails when nothing was committed."""
    with transaction.atomic():
        try:
            batch = _lock_run(run.batch.pk, run.token)
        except _Superseded:
            return
        if batch.mode == ImportBatch.Mode.ACCEPT_VALID and batch.created_count + batch.existing_count:
            _set_notice(batch, "import_interrupted", {"row": batch.processed_rows})
            batch.save(update_fields=["mapping", "message"])
            _audit_run(batch)
        else:
            _finish(run, ImportBatch.State.FAILED, "import_failed")


def _run_accept_valid(run: _Run) -> None:
    """Chunk by chunk; each chunk commits its workers, its problem rows and the counters together. The database side
    runs in a ``DatabaseThread`` while this thread reads and prepares the next chunks."""
    batch = run.batch
    nik_column = run.preparer.validator.columns.get("nik")
    with transaction.atomic():
        done = _lock_run(batch.pk, run.token).processed_rows
    seen: dict[str, int] = {}

    def write(chunks: Iterator[tuple[_Classified, int]]) -> None:
        written = done
        for classified, rows in chunks:
            _write_chunk(run, classified, rows=rows)
            written += rows
            if run.progress:
                run.progress(written, batch.total_rows)

    with _stored_rows(batch) as rows:
        # Resuming: the rows already committed only rebuild the first row of each NIK.
        for _skipped in range(done):
            number, cells = next(rows)
            nik = rules.nik_of(cells, nik_column)
            if nik and nik not in seen:
                seen[nik] = number
        with DatabaseThread(write) as writer:
            for raw, prepared in run.prepared(rows, encrypt=True):
                writer.put((_classify(prepared, seen, run.nik_label), len(raw)))
    with transaction.atomic():
        _finish(run, ImportBatch.State.DONE)


def _write_chunk(run: _Run, classified: _Classified, *, rows: int) -> None:
    tally = classified.tally
    for attempt in range(3):
        try:
            with transaction.atomic():
                _relaxed_commit()
                _lock_run(run.batch.pk, run.token)
                existing = run.insert_new(classified)
                run.write_problems(classified.problems + run.existing_info(classified, existing))
                ImportBatch.objects.filter(pk=run.batch.pk).update(
                    processed_rows=F("processed_rows") + rows,
                    created_count=F("created_count") + len(classified.new) - len(existing),
                    existing_count=F("existing_count") + len(existing),
                    invalid_count=F("invalid_count") + tally.invalid,
                    duplicate_in_file_count=F("duplicate_in_file_count") + tally.duplicate,
                )
            return
        except IntegrityError:
            # A NIK inserted by another import between our check and the COPY: check again.
            if attempt == 2:
                raise
            run.ask_first = True
            logger.info("import %s: a NIK appeared concurrently; retrying the chunk", run.batch.pk)


def _run_all_or_nothing(run: _Run) -> None:
    """Pass 1 checks every row and writes only the report; pass 2 inserts everything in one transaction. In both,
    the database side runs in a ``DatabaseThread`` while this thread reads and prepares the next chunks."""
    batch = run.batch
    with transaction.atomic():
        _lock_run(batch.pk, run.token)
        # A pass 1 that was interrupted left only report rows; they are redone.
        batch.problems.all().delete()
        ImportBatch.objects.filter(pk=batch.pk).update(
            processed_rows=0, created_count=0, existing_count=0, invalid_count=0, duplicate_in_file_count=0
        )

    def check(chunks: Iterator[tuple[_Classified, int]]) -> int:
        """Pass 1, database side: report rows, progress; returns how many NIKs exist already."""
        done = existing_total = 0
        for classified, rows in chunks:
            existing = _existing([item[3] for item in classified.new])
            existing_total += len(existing)
            done += rows
            with transaction.atomic():
                _relaxed_commit()
                _lock_run(batch.pk, run.token)
                run.write_problems(classified.problems + run.existing_info(classified, existing))
                ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=done)
            if run.progress:
                run.progress(done, batch.total_rows)
        return existing_total

    seen: dict[str, int] = {}
    total = _Tally()
    with _stored_rows(batch) as rows, DatabaseThread(check) as checker:
        for raw, prepared in run.prepared(rows, encrypt=False):
            classified = _classify(prepared, seen, run.nik_label)
            total.invalid += classified.tally.invalid
            total.duplicate += classified.tally.duplicate
            checker.put((classified, len(raw)))
    if total.invalid or total.duplicate:
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(
                invalid_count=total.invalid, duplicate_in_file_count=total.duplicate, existing_count=checker.result
            )
            _finish(run, ImportBatch.State.REFUSED, "import_refused_errors", {"count": total.invalid + total.duplicate})
        return

    def insert(chunks: Iterator[_Classified]) -> None:
        """Pass 2, database side: every worker in one transaction, held to the end with the batch row locked (a
        second run waits, then finds the batch done)."""
        with transaction.atomic():
            _lock_run(batch.pk, run.token)
            created = existing_total = 0
            info: list[tuple] = []
            for classified in chunks:
                existing = run.insert_new(classified)
                created += len(classified.new) - len(existing)
                existing_total += len(existing)
                info += run.existing_info(classified, existing)
            batch.problems.filter(code="nik_exists").delete()
            run.write_problems(info)
            ImportBatch.objects.filter(pk=batch.pk).update(
                created_count=created, existing_count=existing_total, invalid_count=0, duplicate_in_file_count=0
            )
            _finish(run, ImportBatch.State.DONE)

    run.ask_first = checker.result > 0  # pass 1 found registered NIKs: ask before each chunk
    for attempt in range(3):
        try:
            seen = {}
            with _stored_rows(batch) as rows, DatabaseThread(insert) as inserter:
                for _raw, prepared in run.prepared(rows, encrypt=True):
                    classified = _classify(prepared, seen, run.nik_label)
                    if classified.tally.invalid or classified.tally.duplicate:
                        raise _ReferenceChanged()
                    inserter.put(classified)
            return
        except IntegrityError:
            if attempt == 2:
                raise
            run.ask_first = True
            logger.info("import %s: a NIK appeared concurrently; retrying the insert", batch.pk)
        except _ReferenceChanged:
            _finish_refused(run, "import_refused_errors", {"count": 1})
            return


def import_find_duplicates(batch: ImportBatch, *, chunk: int = 2000) -> int:
    """Likely-duplicate candidates (same name and birth date, same phone, similar name in the same desa) for the
    workers this batch created, in chunks. Safe to run again: known pairs are skipped."""
    ids = list(Worker.objects.filter(import_batch=batch).order_by("pk").values_list("pk", flat=True))
    found = 0
    for start in range(0, len(ids), chunk):
        found += duplicates_find(worker_ids=ids[start : start + chunk])
    return found


def template_csv() -> bytes:
    """A template file: the canonical header and one example row."""
    header = [rules.TEMPLATE_HEADERS[name] for name in rules.FIELDS]
    example = {
        "nik": "6409014501900001",
        "full_name": "Siti Aminah",
        "birth_date": "1990-01-05",
        "sex": "P",
        "occupation": "pedagang_kaki_lima",
        "declared_income": "1500000",
        "phone": "081234567890",
        "address": "Jl. Provinsi Km 5 RT 03",
        "region_code": "64.09.01.2020",
        "dtsen_decile": "2",
        "has_disability": "tidak",
        "is_elderly": "tidak",
        "is_female_head": "ya",
        "on_extreme_poverty_list": "tidak",
        "zakat_eligible": "ya",
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow([example[name] for name in rules.FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
