"""The database seam: SQL that differs between PostgreSQL and SQLite.

``AppendOnly`` is a migration operation that installs triggers refusing UPDATE and DELETE on a table, on both
backends; a model whose table carries it says so with the class attribute ``append_only = True``. The ledger and the audit log use it; ``append_only_sql`` is also used by the test suite, which must drop and
re-create the SQLite triggers around Django's test flush (SQLite has no TRUNCATE, so the flush DELETEs).
"""

from __future__ import annotations

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
