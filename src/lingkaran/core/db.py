"""The database seam: SQL that differs between PostgreSQL and SQLite.

``AppendOnly`` is a migration operation that installs triggers refusing UPDATE and DELETE on a table, on both
backends; a model whose table carries it says so with the class attribute ``append_only = True``. The ledger and the audit log use it; ``append_only_sql`` is also used by the test suite, which must drop and
re-create the SQLite triggers around Django's test flush (SQLite has no TRUNCATE, so the flush DELETEs).

``copy_rows`` is the bulk-insert seam: ``COPY`` on PostgreSQL, ``executemany`` on SQLite (imports use it);
``copy_lines`` streams rows already formatted as COPY text (PostgreSQL), and ``values_in`` asks which of many values
an indexed column holds.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connections
from django.db import connection as default_connection
from django.db.migrations.operations.base import Operation

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION lingkaran_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def append_only_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            PG_FUNCTION,
            f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";',
            f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION lingkaran_refuse_change();",
        ]
    if vendor == "sqlite":
        return [
            f'CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: UPDATE refused'); END;",
            f'CREATE TRIGGER IF NOT EXISTS "{table}_no_delete" BEFORE DELETE ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: DELETE refused'); END;",
        ]
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def drop_append_only_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";']
    return [f'DROP TRIGGER IF EXISTS "{table}_no_update";', f'DROP TRIGGER IF EXISTS "{table}_no_delete";']


class AppendOnly(Operation):
    """Migration operation: make ``table`` append-only on the current backend (reversible)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        # params=None: the PL/pgSQL body contains '%' placeholders of RAISE, which must not be read as query params.
        for statement in append_only_sql(schema_editor.connection.vendor, self.table):
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in drop_append_only_sql(schema_editor.connection.vendor, self.table):
            schema_editor.execute(statement, params=None)

    def describe(self):
        return f"Make {self.table} append-only"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.table], {})


def is_postgresql(connection=None) -> bool:
    return (connection or default_connection).vendor == "postgresql"


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """Insert ``rows`` (tuples of Python values, in ``columns`` order) into ``table``; return how many.

    PostgreSQL: one ``COPY … FROM STDIN`` through psycopg 3, the fastest way in (no per-row statements, no ORM).
    SQLite: ``executemany`` of one INSERT, values adapted as Django would store them. Runs in the caller's
    transaction; callers validate first (a COPY that hits a constraint fails as a whole).
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The raw psycopg cursor: its errors are wrapped here into Django's (IntegrityError …), as execute() does.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {quote(table)} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[list] = []
        for row in rows:
            batch.append([_sqlite_value(connection, value) for value in row])
            if len(batch) >= 2000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _sqlite_value(connection, value):
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


# COPY's text format: one line per row, tab-separated, ``\N`` for NULL, backslash escapes (PostgreSQL docs, COPY).
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text_value(value) -> str:
    """One value in COPY text format (a caller that knows its values are plain may skip this)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).translate(COPY_ESCAPES)


def copy_text_line(values: Sequence) -> str:
    return "\t".join(copy_text_value(v) for v in values) + "\n"


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str], *, using: str = DEFAULT_DB_ALIAS) -> int:
    """PostgreSQL only: ``COPY`` of rows already formatted as COPY text lines (``copy_text_line``), for callers that
    format in worker processes so that the database connection only streams bytes. Returns the number of lines."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise NotImplementedError("copy_lines needs PostgreSQL; use copy_rows")
    lines = list(lines)
    if not lines:
        return 0
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(c) for c in columns)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy,
    ):
        copy.write("".join(lines))
    return len(lines)


def values_in(table: str, column: str, values: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """Which of ``values`` are in ``table.column`` (an indexed column): one ``= ANY(array)`` parameter on
    PostgreSQL instead of thousands of placeholders; chunks of ``IN`` lists on SQLite."""
    connection = connections[using]
    quote = connection.ops.quote_name
    found: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} = ANY(%s)", [list(values)]
            )
            found.update(row[0] for row in cursor.fetchall())
            return found
        for start in range(0, len(values), 900):
            part = list(values[start : start + 900])
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IN ({marks})", part)
            found.update(row[0] for row in cursor.fetchall())
    return found
