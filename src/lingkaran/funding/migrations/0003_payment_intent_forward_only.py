"""Payment intents only move forward, on PostgreSQL and SQLite alike.

A trigger refuses: any state change that is not in ``ALLOWED`` (the same list as ``domain/intents.py``; a test keeps
them equal), a change of an intent's order id, gateway, amount or donation, money amounts that shrink, and deleting
an intent. It holds for every writer, the ORM or raw SQL.
"""

from django.db import migrations

ALLOWED = [
    ("created", "pending"),
    ("created", "settled"),
    ("created", "expired"),
    ("created", "cancelled"),
    ("created", "failed"),
    ("pending", "settled"),
    ("pending", "expired"),
    ("pending", "cancelled"),
    ("pending", "failed"),
    ("settled", "partially_refunded"),
    ("settled", "refunded"),
    ("partially_refunded", "refunded"),
]
_MOVES = ", ".join(f"'{a}>{b}'" for a, b in ALLOWED)

PG = f"""
CREATE OR REPLACE FUNCTION funding_intent_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payment intents are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.order_id <> OLD.order_id OR NEW.gateway <> OLD.gateway OR NEW.amount <> OLD.amount
       OR NEW.donation_id <> OLD.donation_id THEN
        RAISE EXCEPTION 'payment intent %: order id, gateway, amount and donation never change', OLD.order_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.settled_amount < OLD.settled_amount OR NEW.refunded_amount < OLD.refunded_amount THEN
        RAISE EXCEPTION 'payment intent %: settled and refunded amounts only grow', OLD.order_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state <> OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({_MOVES}) THEN
        RAISE EXCEPTION 'payment intent % cannot move from % to %', OLD.order_id, OLD.state, NEW.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS funding_intent_forward_only ON funding_paymentintent;
CREATE TRIGGER funding_intent_forward_only BEFORE UPDATE OR DELETE ON funding_paymentintent
    FOR EACH ROW EXECUTE FUNCTION funding_intent_forward_only();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS funding_intent_forward_only ON funding_paymentintent;
DROP FUNCTION IF EXISTS funding_intent_forward_only();
"""

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS funding_intent_forward_only BEFORE UPDATE ON funding_paymentintent
       WHEN NEW.state <> OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({_MOVES})
       BEGIN SELECT RAISE(ABORT, 'payment intent state may only move forward'); END;""",
    """CREATE TRIGGER IF NOT EXISTS funding_intent_fixed_fields BEFORE UPDATE ON funding_paymentintent
       WHEN NEW.order_id <> OLD.order_id OR NEW.gateway <> OLD.gateway OR NEW.amount <> OLD.amount
         OR NEW.donation_id <> OLD.donation_id
         OR NEW.settled_amount < OLD.settled_amount OR NEW.refunded_amount < OLD.refunded_amount
       BEGIN SELECT RAISE(ABORT, 'payment intent: order id, gateway, amount and donation never change'); END;""",
    """CREATE TRIGGER IF NOT EXISTS funding_intent_no_delete BEFORE DELETE ON funding_paymentintent
       BEGIN SELECT RAISE(ABORT, 'payment intents are never deleted'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS funding_intent_forward_only;",
    "DROP TRIGGER IF EXISTS funding_intent_fixed_fields;",
    "DROP TRIGGER IF EXISTS funding_intent_no_delete;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG, params=None)
    else:
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    else:
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("funding", "0002_money_in_trust")]

    operations = [migrations.RunPython(forwards, backwards)]
