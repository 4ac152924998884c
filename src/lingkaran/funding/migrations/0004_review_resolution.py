"""The review queue's resolutions, and the one sideways move a person may make on a payment intent.

Besides ``ReviewResolution`` and ``PaymentIntent.returned_amount``, the intent's trigger is replaced (on PostgreSQL
and SQLite; SQLite also re-creates its table here, which drops the old triggers). It still refuses every move not in
``ALLOWED``, a change of order id, gateway or donation, shrinking money, and deletion, and now allows, only while the
intent is held for review (``in_review``), what accepting a collected payment needs:

- the moves in ``ALLOWED_IN_REVIEW`` (expired, cancelled or failed → settled);
- a new amount, in the same update that settles the intent, equal to the settled amount (the amount the gateway
  actually collected becomes the donation's amount).

Tests keep ``ALLOWED`` and ``ALLOWED_IN_REVIEW`` equal to ``domain/intents.py``.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

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
ALLOWED_IN_REVIEW = [
    ("expired", "settled"),
    ("cancelled", "settled"),
    ("failed", "settled"),
]
_MOVES = ", ".join(f"'{a}>{b}'" for a, b in ALLOWED)
_REVIEW_MOVES = ", ".join(f"'{a}>{b}'" for a, b in ALLOWED_IN_REVIEW)
_UNPAID = "'created', 'pending', 'expired', 'cancelled', 'failed'"

PG = f"""
CREATE OR REPLACE FUNCTION funding_intent_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payment intents are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.order_id <> OLD.order_id OR NEW.gateway <> OLD.gateway OR NEW.donation_id <> OLD.donation_id THEN
        RAISE EXCEPTION 'payment intent %: order id, gateway, amount and donation never change', OLD.order_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.amount <> OLD.amount AND NOT (
        OLD.in_review AND OLD.settled_amount = 0 AND OLD.state IN ({_UNPAID})
        AND NEW.state = 'settled' AND NEW.settled_amount = NEW.amount
    ) THEN
        RAISE EXCEPTION 'payment intent %: order id, gateway, amount and donation never change', OLD.order_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.settled_amount < OLD.settled_amount OR NEW.refunded_amount < OLD.refunded_amount
       OR NEW.returned_amount < OLD.returned_amount THEN
        RAISE EXCEPTION 'payment intent %: settled, refunded and returned amounts only grow', OLD.order_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state <> OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({_MOVES})
       AND NOT (OLD.in_review AND (OLD.state || '>' || NEW.state) IN ({_REVIEW_MOVES})) THEN
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

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS funding_intent_forward_only;",
    "DROP TRIGGER IF EXISTS funding_intent_fixed_fields;",
    "DROP TRIGGER IF EXISTS funding_intent_amount_fixed;",
    "DROP TRIGGER IF EXISTS funding_intent_no_delete;",
]
SQLITE = [
    *SQLITE_DROP,
    f"""CREATE TRIGGER funding_intent_forward_only BEFORE UPDATE ON funding_paymentintent
       WHEN NEW.state <> OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({_MOVES})
         AND NOT (OLD.in_review AND (OLD.state || '>' || NEW.state) IN ({_REVIEW_MOVES}))
       BEGIN SELECT RAISE(ABORT, 'payment intent state may only move forward'); END;""",
    """CREATE TRIGGER funding_intent_fixed_fields BEFORE UPDATE ON funding_paymentintent
       WHEN NEW.order_id <> OLD.order_id OR NEW.gateway <> OLD.gateway OR NEW.donation_id <> OLD.donation_id
         OR NEW.settled_amount < OLD.settled_amount OR NEW.refunded_amount < OLD.refunded_amount
         OR NEW.returned_amount < OLD.returned_amount
       BEGIN SELECT RAISE(ABORT, 'payment intent: order id, gateway, amount and donation never change'); END;""",
    f"""CREATE TRIGGER funding_intent_amount_fixed BEFORE UPDATE ON funding_paymentintent
       WHEN NEW.amount <> OLD.amount AND NOT (
         OLD.in_review AND OLD.settled_amount = 0 AND OLD.state IN ({_UNPAID})
         AND NEW.state = 'settled' AND NEW.settled_amount = NEW.amount)
       BEGIN SELECT RAISE(ABORT, 'payment intent: order id, gateway, amount and donation never change'); END;""",
    """CREATE TRIGGER funding_intent_no_delete BEFORE DELETE ON funding_paymentintent
       BEGIN SELECT RAISE(ABORT, 'payment intents are never deleted'); END;""",
]


def _previous():
    import importlib

    return importlib.import_module("lingkaran.funding.migrations.0003_payment_intent_forward_only")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG, params=None)
    else:
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def unguard(apps, schema_editor):
    """Reversing: the new triggers go first, so that the new column can be dropped (SQLite refuses to drop a column a
    trigger names); PostgreSQL gets 0003's function back at once."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_previous().PG, params=None)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    """Back to 0003's trigger (the intents accepted in review keep their state and amount)."""
    previous = _previous()
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(previous.PG, params=None)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)
        for statement in previous.SQLITE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0003_payment_intent_forward_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Reversed last: 0003's triggers come back after SQLite re-creates the table without the new column.
        migrations.RunPython(migrations.RunPython.noop, backwards),
        migrations.AddField(
            model_name="paymentintent",
            name="returned_amount",
            field=models.BigIntegerField(
                default=0,
                help_text="Collected by the gateway but never posted here, and returned to the payer from the review queue",
            ),
        ),
        migrations.AlterField(
            model_name="refund",
            name="gateway_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not started"),
                    ("pending", "Sent to the gateway"),
                    ("done", "Refunded by the gateway"),
                    ("accepted", "Accepted by the gateway, in progress"),
                    ("manual", "To be transferred by finance"),
                    ("failed", "Refused by the gateway"),
                ],
                default="",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="ReviewResolution",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("accept", "Accepted and posted"),
                            ("return", "Returned to the payer"),
                            ("record_refund", "Refund at the gateway recorded"),
                            ("close", "Closed with a note"),
                        ],
                        max_length=16,
                        verbose_name="action",
                    ),
                ),
                ("review_reason", models.CharField(blank=True, max_length=300)),
                ("note", models.CharField(max_length=300, verbose_name="note")),
                ("expected_amount", models.BigIntegerField(help_text="The intent's amount when it was held")),
                (
                    "amount",
                    models.BigIntegerField(
                        default=0, help_text="What was accepted, returned or recorded (0 when closed)"
                    ),
                ),
                ("ledger_entry_id", models.BigIntegerField(blank=True, help_text="ledger.JournalEntry id", null=True)),
                (
                    "gateway_state",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Not started"),
                            ("pending", "Sent to the gateway"),
                            ("done", "Refunded by the gateway"),
                            ("accepted", "Accepted by the gateway, in progress"),
                            ("manual", "To be transferred by finance"),
                            ("failed", "Refused by the gateway"),
                        ],
                        default="",
                        max_length=10,
                    ),
                ),
                ("gateway_reference", models.CharField(blank=True, max_length=100)),
                ("gateway_error", models.CharField(blank=True, max_length=300)),
                ("decided_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "intent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="review_resolutions",
                        to="funding.paymentintent",
                    ),
                ),
                (
                    "refund",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="funding.refund",
                    ),
                ),
            ],
            options={
                "ordering": ["-decided_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("amount__gte", 0),
                            models.Q(
                                models.Q(("action", "close"), ("amount", 0)),
                                models.Q(models.Q(("action", "close"), _negated=True), ("amount__gt", 0)),
                                _connector="OR",
                            ),
                        ),
                        name="funding_review_amount_fits_action",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("action__in", ["accept", "record_refund"]), _negated=True),
                            ("ledger_entry_id__isnull", False),
                            _connector="OR",
                        ),
                        name="funding_review_money_is_posted",
                    ),
                ],
            },
        ),
        migrations.RunPython(forwards, unguard),
    ]
