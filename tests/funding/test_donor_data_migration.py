"""The donors' personal data migration: names and e-mail addresses stored in clear before it are sealed, indexed and
their clear columns dropped; the sandbox's copies are masked; run backwards, the clear values come back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lingkaran.core import crypto
from lingkaran.funding.models import Donation, RecurringDonation, email_index_of, name_index_of

BEFORE = [("funding", "0004_review_resolution")]
AFTER = [("funding", "0007_donor_clear_columns_removed")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


# Migrations run outside a test transaction; the data other tests rely on (loaded by migrations) is put back after.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    migrate(latest())


def test_existing_donors_are_sealed_indexed_and_their_clear_columns_dropped(old_schema):
    user_model = old_schema.get_model("core", "User")
    donor = user_model.objects.create(username="lama", role="worker", password="!")
    donation_model = old_schema.get_model("funding", "Donation")
    pledge_model = old_schema.get_model("funding", "RecurringDonation")
    sandbox_model = old_schema.get_model("funding", "SandboxPayment")
    pledge = pledge_model.objects.create(
        donor=donor,
        target="general",
        amount=50_400,
        day_of_month=5,
        donor_name="Siti Aminah",
        donor_email="Siti@Contoh.id",
        next_due_on=timezone.localdate(),
    )
    donation_model.objects.create(
        target="general", donor=donor, donor_name="Siti  Aminah", donor_email="siti@contoh.id", amount=50_400,
        recurring=pledge, period=timezone.localdate().replace(day=1),
    )  # fmt: skip
    donation_model.objects.create(target="general", donor_name="Tanpa Surel", amount=20_000)
    sandbox_model.objects.create(
        order_id="LK-261122-0A1B2C3D4E", token="t", transaction_id="x", amount=1, customer_name="Siti Aminah",
        customer_email="siti@contoh.id",
    )  # fmt: skip

    migrate(AFTER)
    columns = {c.name for c in connection.introspection.get_table_description(connection.cursor(), "funding_donation")}
    assert "donor_name" not in columns
    assert "donor_email" not in columns
    with connection.cursor() as cursor:
        cursor.execute("SELECT donor_name_encrypted, donor_email_encrypted FROM funding_donation ORDER BY id")
        stored = cursor.fetchall()
    assert all("Siti" not in name and "siti" not in email for name, email in stored)
    assert crypto.key_id_of(stored[0][0]) == crypto.current_key_id()

    migrate(latest())
    first, second = Donation.objects.order_by("pk")
    assert (first.donor_name, first.donor_email) == ("Siti  Aminah", "siti@contoh.id")
    assert (second.donor_name, second.donor_email, second.donor_email_index) == ("Tanpa Surel", "", "")
    assert first.donor_email_index == email_index_of("SITI@contoh.id ")
    assert first.donor_name_index == name_index_of("siti aminah")
    pledge = RecurringDonation.objects.get()
    assert (pledge.donor_name, pledge.donor_email) == ("Siti Aminah", "Siti@Contoh.id")
    assert pledge.donor_email_index == first.donor_email_index  # one index for both: the same donor
    from lingkaran.funding.models import SandboxPayment

    copy = SandboxPayment.objects.get()
    assert (copy.customer_name, copy.customer_email) == ("S*** A*****", "s***@contoh.id")


def test_backwards_the_clear_values_come_back(old_schema):
    donation_model = old_schema.get_model("funding", "Donation")
    donation_model.objects.create(target="general", donor_name="Budi Santoso", donor_email="budi@contoh.id", amount=1)
    migrate(AFTER)
    apps = migrate(BEFORE)
    restored = apps.get_model("funding", "Donation").objects.get()
    assert (restored.donor_name, restored.donor_email) == ("Budi Santoso", "budi@contoh.id")


def test_the_review_trigger_migration_reverses_cleanly():
    """Back to 0003 (its trigger, without the review moves or the returned amount) and forward again."""
    from django.db import DatabaseError, IntegrityError

    try:
        migrate([("funding", "0003_payment_intent_forward_only")])
        columns = {
            c.name for c in connection.introspection.get_table_description(connection.cursor(), "funding_paymentintent")
        }
        assert "returned_amount" not in columns
    finally:
        migrate(latest())
    from tests.factories import UserFactory
    from tests.funding.conftest import make_campaign, start

    intent = start(make_campaign(UserFactory(role="operator")))
    with pytest.raises((IntegrityError, DatabaseError)), connection.cursor() as cursor:
        cursor.execute("UPDATE funding_paymentintent SET amount = 1 WHERE id = %s", [intent.pk])
