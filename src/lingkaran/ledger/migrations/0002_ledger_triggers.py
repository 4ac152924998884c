"""Database guarantees of the ledger, on PostgreSQL and SQLite alike where the engine allows.

- journal entries and legs are append-only (UPDATE and DELETE refused);
- a reservation that left ``pending`` never changes again;
- PostgreSQL only: every entry balances and has at least two legs, checked by DEFERRABLE INITIALLY DEFERRED
  constraint triggers at COMMIT (SQLite has no deferred triggers; there the Python check and ``ledger verify`` hold).
"""

from django.db import migrations

from lingkaran.core.db import AppendOnly

PG_BALANCED = """
CREATE OR REPLACE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target_entry bigint;
    debits bigint;
    credits bigint;
    legs integer;
    expected bigint;
BEGIN
    IF TG_TABLE_NAME = 'ledger_leg' THEN
        target_entry := NEW.entry_id;
    ELSE
        target_entry := NEW.id;
    END IF;
    SELECT COALESCE(SUM(CASE WHEN side = 'D' THEN amount ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN side = 'C' THEN amount ELSE 0 END), 0),
           COUNT(*)
      INTO debits, credits, legs
      FROM ledger_leg WHERE ledger_leg.entry_id = target_entry;
    SELECT total INTO expected FROM ledger_journalentry WHERE id = target_entry;
    IF legs < 2 OR debits <> credits OR debits <> expected THEN
        RAISE EXCEPTION 'journal entry % does not balance: % legs, debits %, credits %, total %',
            target_entry, legs, debits, credits, expected USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ledger_leg_balanced AFTER INSERT ON ledger_leg
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();
CREATE CONSTRAINT TRIGGER ledger_entry_has_legs AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();
"""

PG_BALANCED_REVERSE = """
DROP TRIGGER IF EXISTS ledger_leg_balanced ON ledger_leg;
DROP TRIGGER IF EXISTS ledger_entry_has_legs ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_check_entry_balanced();
"""

PG_RESERVATION = """
CREATE OR REPLACE FUNCTION ledger_reservation_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'reservations are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.state <> 'pending' THEN
        RAISE EXCEPTION 'reservation % is % and cannot change', OLD.key, OLD.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.amount <> OLD.amount OR NEW.pool_id <> OLD.pool_id OR NEW.held_in_id <> OLD.held_in_id
       OR NEW.reserve_entry_id <> OLD.reserve_entry_id THEN
        RAISE EXCEPTION 'reservation % may only change its state', OLD.key USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_reservation_forward_only BEFORE UPDATE OR DELETE ON ledger_reservation
    FOR EACH ROW EXECUTE FUNCTION ledger_reservation_forward_only();
"""

PG_RESERVATION_REVERSE = """
DROP TRIGGER IF EXISTS ledger_reservation_forward_only ON ledger_reservation;
DROP FUNCTION IF EXISTS ledger_reservation_forward_only();
"""

SQLITE_RESERVATION = [
    """CREATE TRIGGER IF NOT EXISTS ledger_reservation_settled_is_final BEFORE UPDATE ON ledger_reservation
       WHEN OLD.state <> 'pending'
       BEGIN SELECT RAISE(ABORT, 'reservation is settled and cannot change'); END;""",
    """CREATE TRIGGER IF NOT EXISTS ledger_reservation_only_state BEFORE UPDATE ON ledger_reservation
       WHEN NEW.amount <> OLD.amount OR NEW.pool_id <> OLD.pool_id OR NEW.held_in_id <> OLD.held_in_id
         OR NEW.reserve_entry_id <> OLD.reserve_entry_id
       BEGIN SELECT RAISE(ABORT, 'a reservation may only change its state'); END;""",
    """CREATE TRIGGER IF NOT EXISTS ledger_reservation_no_delete BEFORE DELETE ON ledger_reservation
       BEGIN SELECT RAISE(ABORT, 'reservations are never deleted'); END;""",
]
SQLITE_RESERVATION_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_reservation_settled_is_final;",
    "DROP TRIGGER IF EXISTS ledger_reservation_only_state;",
    "DROP TRIGGER IF EXISTS ledger_reservation_no_delete;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BALANCED, params=None)
        schema_editor.execute(PG_RESERVATION, params=None)
    else:
        for statement in SQLITE_RESERVATION:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BALANCED_REVERSE, params=None)
        schema_editor.execute(PG_RESERVATION_REVERSE, params=None)
    else:
        for statement in SQLITE_RESERVATION_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        AppendOnly("ledger_journalentry"),
        AppendOnly("ledger_leg"),
        migrations.RunPython(forwards, backwards),
    ]
