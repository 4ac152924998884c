"""The few SQL fragments that differ between PostgreSQL and SQLite, for the agency's set-based statements.

Everything else the agency runs is plain SQL both databases accept: CTEs, window functions (``ROW_NUMBER``, ``LAG``),
``UPDATE … FROM`` (SQLite 3.33 or later) and ``INSERT … ON CONFLICT … DO UPDATE``. Statements here are run with
parameters, so a literal ``%`` is written ``%%``.
"""

from __future__ import annotations

import contextlib

from django.db import connection


def month_index(column: str) -> str:
    """``year * 12 + month - 1`` of a date column, as an integer (``domain.months.month_index``)."""
    if connection.vendor == "postgresql":
        return (
            f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1)"
        )
    return f"(CAST(strftime('%%Y', {column}) AS INTEGER) * 12 + CAST(strftime('%%m', {column}) AS INTEGER) - 1)"


def not_first_of_month(column: str) -> str:
    """True when a date column is not the first day of its month."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(DAY FROM {column}) <> 1)"
    return f"(strftime('%%d', {column}) <> '01')"


def run(statement: str, params: dict | list | tuple | None = None) -> int:
    """Execute one statement in the caller's transaction; the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(statement: str, params: dict | list | tuple | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def not_kpj_shaped(column: str) -> str:
    """True when a non-empty text column is not exactly 11 ASCII digits."""
    if connection.vendor == "postgresql":
        return f"({column} <> '' AND {column} !~ '^[0-9]{{11}}$')"
    return f"({column} <> '' AND (length({column}) <> 11 OR {column} GLOB '*[^0-9]*'))"


@contextlib.contextmanager
def roomy_sorts(megabytes: int = 256):
    """PostgreSQL: more memory for the sorts and hashes of one big set-based statement (``SET LOCAL work_mem``),
    then the caller's value back. A batch of a million lines sorts in memory instead of spilling to disk. Nothing
    on SQLite, nor outside a transaction."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('work_mem', %s, true)", [f"{int(megabytes)}MB"])
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])
