"""The bracket-table file: pure parsing and checking of its rows (no Django, no file I/O).

Format (UTF-8 CSV, comma or semicolon, one header row; docs/subsystems/protection-tariffs.md)::

    valid_from,income_from,income_to,nominal,regulation[,source_url]
    2015-07,0,1000000,1000000,PP 44/2015 Lampiran II

One row is one bracket. Rows with the same ``valid_from`` (a contribution month, ``YYYY-MM``) form one version of the
table; a file may hold several versions. ``income_to`` may be empty on a version's top bracket only (no upper end).
Amounts are whole rupiah written with digits only. Every row of a version names the same regulation.

``check_rows`` returns the versions and a list of problems, each with its line number, column, a stable code and the
values its message needs; ``protection.messages`` turns codes into sentences. A file with any problem loads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from lingkaran.protection.domain.tariffs import Bracket, parse_month

REQUIRED_COLUMNS = ("valid_from", "income_from", "income_to", "nominal", "regulation")
OPTIONAL_COLUMNS = ("source_url",)
MAX_ROWS = 5_000
MAX_REGULATION = 200
MAX_URL = 300
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    line: int  # 1 is the header; 0 is the file as a whole
    column: str
    code: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class FileVersion:
    """The rows of one ``valid_from``: a version of the table as the file gives it."""

    valid_from: date
    regulation: str
    source_url: str
    brackets: tuple[Bracket, ...]
    first_line: int


def check_header(header: Iterable[str]) -> tuple[list[str], list[Problem]]:
    names = [(name or "").strip().lower().lstrip("\ufeff") for name in header]
    problems = []
    for column in REQUIRED_COLUMNS:
        if column not in names:
            problems.append(Problem(1, column, "column_missing", {"column": column}))
    for name in names:
        if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            problems.append(Problem(1, name, "column_unknown", {"column": name or "(empty)"}))
    seen = set()
    for name in names:
        if name in seen:
            problems.append(Problem(1, name, "column_repeated", {"column": name}))
        seen.add(name)
    return names, problems


def _amount(text: str) -> int | None:
    raw = (text or "").strip()
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def check_rows(rows: Iterable[tuple[int, Mapping[str, str]]]) -> tuple[list[FileVersion], list[Problem]]:
    """Check ``(line, {column: text})`` rows; return the versions (sorted by month) and every problem found."""
    problems: list[Problem] = []
    grouped: dict[date, list[tuple[int, Bracket, str, str]]] = {}
    count = 0
    for line, row in rows:
        count += 1
        if count > MAX_ROWS:
            problems.append(Problem(0, "", "too_many_rows", {"limit": MAX_ROWS}))
            break
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cells.values()):
            continue  # a blank line
        row_problems = []
        for column, text in cells.items():
            if text.startswith(FORMULA_STARTS):
                row_problems.append(Problem(line, column, "formula_refused", {"char": text[0]}))
        if row_problems:
            problems.extend(row_problems)
            continue
        month = parse_month(cells.get("valid_from", ""))
        if month is None:
            row_problems.append(Problem(line, "valid_from", "month_invalid", {"value": cells.get("valid_from", "")}))
        income_from = _amount(cells.get("income_from", ""))
        if income_from is None:
            row_problems.append(Problem(line, "income_from", "amount_invalid", {"value": cells.get("income_from", "")}))
        income_to = None
        if cells.get("income_to"):
            income_to = _amount(cells["income_to"])
            if income_to is None:
                row_problems.append(Problem(line, "income_to", "amount_invalid", {"value": cells["income_to"]}))
            elif income_from is not None and income_to < income_from:
                row_problems.append(Problem(line, "income_to", "range_reversed", {}))
        nominal = _amount(cells.get("nominal", ""))
        if nominal is None or nominal == 0:
            row_problems.append(Problem(line, "nominal", "nominal_invalid", {"value": cells.get("nominal", "")}))
        regulation = cells.get("regulation", "")
        if not regulation:
            row_problems.append(Problem(line, "regulation", "regulation_missing", {}))
        elif len(regulation) > MAX_REGULATION:
            row_problems.append(Problem(line, "regulation", "too_long", {"limit": MAX_REGULATION}))
        source_url = cells.get("source_url", "")
        if source_url and (len(source_url) > MAX_URL or not source_url.startswith(("https://", "http://"))):
            row_problems.append(Problem(line, "source_url", "url_invalid", {}))
        if row_problems:
            problems.extend(row_problems)
            continue
        grouped.setdefault(month, []).append((line, Bracket(income_from, income_to, nominal), regulation, source_url))
    if count == 0:
        problems.append(Problem(0, "", "file_empty", {}))

    versions = []
    for month in sorted(grouped):
        entries = sorted(grouped[month], key=lambda e: (e[1].income_from, e[0]))
        first_line = min(e[0] for e in entries)
        regulation, source_url = entries[0][2], entries[0][3]
        version_problems = []
        for line, _bracket, other_regulation, other_url in entries:
            if (other_regulation, other_url) != (regulation, source_url):
                version_problems.append(
                    Problem(line, "regulation", "regulation_differs", {"month": f"{month:%Y-%m}", "line": first_line})
                )
        for (line_a, lower, *_a), (line_b, upper, *_b) in pairwise(entries):
            if upper.income_from == lower.income_from:
                version_problems.append(
                    Problem(line_b, "income_from", "bracket_repeated", {"line": line_a, "income": upper.income_from})
                )
            elif lower.income_to is None:
                version_problems.append(Problem(line_a, "income_to", "open_bracket_not_last", {}))
            elif upper.income_from <= lower.income_to:
                version_problems.append(Problem(line_b, "income_from", "bracket_overlap", {"line": line_a}))
            if upper.nominal < lower.nominal:
                version_problems.append(Problem(line_b, "nominal", "nominal_falls", {"line": line_a}))
        problems.extend(version_problems)
        if not version_problems:
            versions.append(
                FileVersion(
                    valid_from=month,
                    regulation=regulation,
                    source_url=source_url,
                    brackets=tuple(e[1] for e in entries),
                    first_line=first_line,
                )
            )
    order = {name: index for index, name in enumerate(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}
    problems.sort(key=lambda p: (p.line, order.get(p.column, -1)))
    return versions, problems


def gap_warnings(version: FileVersion) -> list[tuple[int, int]]:
    """Income ranges between two brackets of ``version`` that no bracket holds (allowed, but worth a look)."""
    return [
        (lower.income_to + 1, upper.income_from - 1)
        for lower, upper in pairwise(version.brackets)
        if lower.income_to is not None and upper.income_from > lower.income_to + 1
    ]
