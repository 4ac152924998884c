"""The monthly cycle: Cycle, CycleChunk and ContributionLine (unique per worker-month)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agency", "0001_agency_batches_outcomes_simulator"),
        ("protection", "0002_sponsorships"),
        ("registry", "0002_occupations_and_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Cycle",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(unique=True, verbose_name="contribution month")),
                (
                    "state",
                    models.CharField(
                        choices=[("running", "Running"), ("submitted", "Waiting for the agency"), ("done", "Done")],
                        default="running",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("line_count", models.PositiveIntegerField(default=0)),
                ("total_amount", models.BigIntegerField(default=0)),
                ("confirmed_count", models.PositiveIntegerField(default=0)),
                ("confirmed_amount", models.BigIntegerField(default=0)),
                ("rejected_count", models.PositiveIntegerField(default=0)),
                ("rejected_amount", models.BigIntegerField(default=0)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="started")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                (
                    "finished_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-month"],
            },
        ),
        migrations.CreateModel(
            name="CycleChunk",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("province", models.CharField(max_length=2, verbose_name="province")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("billed", "Billed"),
                            ("submitted", "Sent to the agency"),
                            ("answered", "Answered by the agency"),
                            ("posted", "Posted to the ledger"),
                        ],
                        default="billed",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("line_count", models.PositiveIntegerField(default=0)),
                ("total_amount", models.BigIntegerField(default=0)),
                ("confirmed_amount", models.BigIntegerField(default=0)),
                ("rejected_amount", models.BigIntegerField(default=0)),
                ("posted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "batch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="agency.paymentbatch",
                    ),
                ),
                (
                    "cycle",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="chunks", to="protection.cycle"
                    ),
                ),
            ],
            options={
                "ordering": ["cycle_id", "province"],
            },
        ),
        migrations.CreateModel(
            name="ContributionLine",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("month", models.DateField(verbose_name="contribution month")),
                ("amount", models.BigIntegerField(verbose_name="amount (Rp)")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("sponsored", "Sponsored"),
                            ("co_paid", "Co-paid"),
                            ("bridged", "Bridged"),
                            ("self", "Self-paid"),
                        ],
                        default="sponsored",
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                (
                    "funding_source",
                    models.CharField(
                        choices=[
                            ("apbn", "State budget (APBN)"),
                            ("apbd", "Regional budget (APBD)"),
                            ("csr", "Company (CSR)"),
                            ("zakat", "Zakat"),
                            ("donation", "Donations (crowdfunding)"),
                            ("self", "The worker (self-paid)"),
                        ],
                        max_length=10,
                        verbose_name="funding source",
                    ),
                ),
                ("pool", models.CharField(max_length=120, verbose_name="pool account")),
                ("reservation_key", models.CharField(blank=True, max_length=200)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("due", "Due"),
                            ("submitted", "Sent to the agency"),
                            ("confirmed", "Confirmed by the agency"),
                            ("rejected", "Rejected by the agency"),
                        ],
                        default="due",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=40, verbose_name="reason")),
                ("reason_text", models.CharField(blank=True, max_length=200)),
                ("agency_reference", models.CharField(blank=True, max_length=60)),
                (
                    "sponsored_month",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="contribution_line",
                        to="protection.sponsoredmonth",
                    ),
                ),
                (
                    "sponsorship",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="protection.sponsorship",
                    ),
                ),
                (
                    "worker",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.worker",
                    ),
                ),
                (
                    "cycle",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="protection.cycle",
                    ),
                ),
                (
                    "chunk",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="lines", to="protection.cyclechunk"
                    ),
                ),
            ],
            options={
                "ordering": ["cycle_id", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="cyclechunk",
            constraint=models.UniqueConstraint(fields=("cycle", "province"), name="protection_chunk_once"),
        ),
        migrations.AddIndex(
            model_name="contributionline",
            index=models.Index(fields=["cycle", "state"], name="protection_line_cycle_state"),
        ),
        migrations.AddConstraint(
            model_name="contributionline",
            constraint=models.UniqueConstraint(
                fields=("worker", "month"), name="protection_line_once_per_worker_month", violation_error_code="billed"
            ),
        ),
        migrations.AddConstraint(
            model_name="contributionline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="protection_line_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="contributionline",
            constraint=models.CheckConstraint(
                condition=models.Q(("state", "rejected"), ("reason", ""), _connector="OR"),
                name="protection_line_reason_only_when_rejected",
            ),
        ),
    ]
