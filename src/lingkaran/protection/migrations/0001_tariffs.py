"""Tariffs: programme rates, declared-income bracket tables and discount rules, each a version with contribution
months and its regulation; triggers that keep versions of the same thing from overlapping in time; and the seed of
the verified facts (domain.md 2.1 and 2.3), each citing its source.
"""

from datetime import date

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# --- Guards: versions of the same thing never overlap in time; months are stored as their first day ---------------
#
# Each guarded table lists (name, how a row names "the same thing" as NEW). A BEFORE INSERT/UPDATE trigger refuses a
# row whose window overlaps another version of the same thing. On PostgreSQL the trigger first takes one
# transaction-level advisory lock shared by every tariff write (the services take it too), so two concurrent writers
# cannot both miss each other's uncommitted row: the second waits, then its check sees the first one's commit.

VERSIONED = [
    ("protection_programmerate", "o.programme = NEW.programme"),
    ("protection_brackettable", "1 = 1"),
    (
        "protection_discountrule",
        "(o.sector = NEW.sector OR o.sector = 'all' OR NEW.sector = 'all') "
        "AND ((o.applies_to_jkk AND NEW.applies_to_jkk) OR (o.applies_to_jkm AND NEW.applies_to_jkm))",
    ),
]
TARIFF_LOCK = "lingkaran.tariffs"


def _pg_sql(table: str, same_thing: str) -> list[str]:
    return [
        f"""
CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXTRACT(DAY FROM NEW.valid_from) <> 1 OR EXTRACT(DAY FROM COALESCE(NEW.valid_to, NEW.valid_from)) <> 1 THEN
        RAISE EXCEPTION '{table}: contribution months are stored as the first day of the month'
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('{TARIFF_LOCK}'));
    IF EXISTS (
        SELECT 1 FROM {table} o
        WHERE o.id IS DISTINCT FROM NEW.id AND {same_thing}
          AND o.valid_from <= COALESCE(NEW.valid_to, 'infinity'::date)
          AND NEW.valid_from <= COALESCE(o.valid_to, 'infinity'::date)
    ) THEN
        RAISE EXCEPTION '{table}: tariff versions overlap in time' USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END
$$;""",
        f'DROP TRIGGER IF EXISTS "{table}_guard" ON "{table}";',
        f'CREATE TRIGGER "{table}_guard" BEFORE INSERT OR UPDATE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION {table}_guard();",
    ]


def _sqlite_sql(table: str, same_thing: str) -> list[str]:
    statements = []
    for operation in ("INSERT", "UPDATE"):
        name = operation.lower()
        statements += [
            f'CREATE TRIGGER IF NOT EXISTS "{table}_month_{name}" BEFORE {operation} ON "{table}" '
            f"WHEN substr(NEW.valid_from, 9, 2) <> '01' OR substr(COALESCE(NEW.valid_to, NEW.valid_from), 9, 2) <> '01' "
            f"BEGIN SELECT RAISE(ABORT, '{table}: contribution months are stored as the first day of the month'); END;",
            f'CREATE TRIGGER IF NOT EXISTS "{table}_overlap_{name}" BEFORE {operation} ON "{table}" '
            f"WHEN EXISTS (SELECT 1 FROM {table} o WHERE o.id IS NOT NEW.id AND {same_thing} "
            f"AND o.valid_from <= COALESCE(NEW.valid_to, '9999-12-01') "
            f"AND NEW.valid_from <= COALESCE(o.valid_to, '9999-12-01')) "
            f"BEGIN SELECT RAISE(ABORT, '{table}: tariff versions overlap in time'); END;",
        ]
    return statements


BRACKETS = "protection_incomebracket"
BRACKETS_OVERLAP = (
    "o.table_id = NEW.table_id AND o.income_from <= COALESCE(NEW.income_to, 9223372036854775807) "
    "AND NEW.income_from <= COALESCE(o.income_to, 9223372036854775807)"
)


def install_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "postgresql":
        for table, same_thing in VERSIONED:
            statements += _pg_sql(table, same_thing)
        statements += [
            f"""
CREATE OR REPLACE FUNCTION {BRACKETS}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{TARIFF_LOCK}'));
    IF EXISTS (SELECT 1 FROM {BRACKETS} o WHERE o.id IS DISTINCT FROM NEW.id AND {BRACKETS_OVERLAP}) THEN
        RAISE EXCEPTION '{BRACKETS}: brackets of one table overlap' USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END
$$;""",
            f'DROP TRIGGER IF EXISTS "{BRACKETS}_guard" ON "{BRACKETS}";',
            f'CREATE TRIGGER "{BRACKETS}_guard" BEFORE INSERT OR UPDATE ON "{BRACKETS}" '
            f"FOR EACH ROW EXECUTE FUNCTION {BRACKETS}_guard();",
        ]
    elif vendor == "sqlite":
        for table, same_thing in VERSIONED:
            statements += _sqlite_sql(table, same_thing)
        for operation in ("INSERT", "UPDATE"):
            statements.append(
                f'CREATE TRIGGER IF NOT EXISTS "{BRACKETS}_overlap_{operation.lower()}" BEFORE {operation} '
                f'ON "{BRACKETS}" WHEN EXISTS (SELECT 1 FROM {BRACKETS} o WHERE o.id IS NOT NEW.id AND '
                f"{BRACKETS_OVERLAP}) BEGIN SELECT RAISE(ABORT, '{BRACKETS}: brackets of one table overlap'); END;"
            )
    else:
        raise NotImplementedError(f"tariff guards are not written for {vendor}")
    for statement in statements:
        schema_editor.execute(statement, params=None)


def remove_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    tables = [table for table, _same in VERSIONED] + [BRACKETS]
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_guard" ON "{table}";', params=None)
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_guard();", params=None)
        else:
            for name in ("month_insert", "month_update", "overlap_insert", "overlap_update"):
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_{name}";', params=None)


# --- Seed: the verified facts only (domain.md 2.1, 2.3), each with its source --------------------------------------
#
# Contribution months from July 2015, when PP 44/2015 (JKK, JKM) and PP 46/2015 (JHT) took effect. The bracket table
# beyond the two verified points is UNVERIFIED: the seed holds only Rp 1.000.000 (the lowest bracket, so every
# income up to it) and Rp 2.000.000, and is marked provisional; `lingkaran tariffs load FILE` with the official
# Lampiran II replaces it (domain.md 2.2). PP 50/2025 windows as promulgated on 22 December 2025.

PP44_LAMPIRAN_2 = "https://peraturan.bpk.go.id/Download/28929/PP%20Nomor%2044%20Tahun%202015%20-%20Lampiran%202.pdf"
PP50_2025 = "https://peraturan.bpk.go.id/Details/339151/pp-no-50-tahun-2025"
BPU_RATES_PRESS = (
    "https://star.grid.id/amp/453740395/terlengkap-cek-iuran-bpjs-ketenagakerjaan-bukan-penerima-upah-alias-mandiri-"
    "beda-pendapatan-beda-besarnya"
)
SINCE = date(2015, 7, 1)

RATES = [
    # programme, rate (basis points of the bracket nominal), flat amount, regulation, source
    (
        "jkk",
        100,
        None,
        "PP 44/2015 Lampiran II jo. PP 82/2019 dan PP 49/2023 (JKK BPU: 1% nilai nominal)",
        PP44_LAMPIRAN_2,
    ),
    ("jkm", None, 6_800, "PP 44/2015 jo. PP 82/2019 dan PP 49/2023 (JKM BPU: Rp6.800)", BPU_RATES_PRESS),
    ("jht", 200, None, "PP 46/2015; Permenaker 5/2021 (JHT BPU: 2%)", BPU_RATES_PRESS),
]
SEED_BRACKETS = [
    # income from, income to, nominal
    (0, 1_000_000, 1_000_000),
    (2_000_000, 2_000_000, 2_000_000),
]
SEED_BRACKETS_REGULATION = "PP 44/2015 Lampiran II (sebagian: hanya titik Rp1.000.000 dan Rp2.000.000 terverifikasi)"
DISCOUNTS = [
    # sector, first month, last month
    ("transport", date(2026, 1, 1), date(2027, 3, 1)),
    ("other", date(2026, 4, 1), date(2026, 12, 1)),
]
PP50_REGULATION = "PP 50/2025 (keringanan iuran JKK dan JKM peserta BPU; tidak untuk iuran dari APBN/APBD)"


def seed(apps, schema_editor):
    rate_model = apps.get_model("protection", "ProgrammeRate")
    table_model = apps.get_model("protection", "BracketTable")
    bracket_model = apps.get_model("protection", "IncomeBracket")
    discount_model = apps.get_model("protection", "DiscountRule")
    for programme, rate_bp, flat_amount, regulation, source_url in RATES:
        rate_model.objects.get_or_create(
            programme=programme,
            valid_from=SINCE,
            defaults={
                "rate_bp": rate_bp,
                "flat_amount": flat_amount,
                "regulation": regulation,
                "source_url": source_url,
            },
        )
    table, created = table_model.objects.get_or_create(
        valid_from=SINCE,
        defaults={"regulation": SEED_BRACKETS_REGULATION, "source_url": PP44_LAMPIRAN_2, "provisional": True},
    )
    if created:
        for income_from, income_to, nominal in SEED_BRACKETS:
            bracket_model.objects.create(table=table, income_from=income_from, income_to=income_to, nominal=nominal)
    for sector, first, last in DISCOUNTS:
        discount_model.objects.get_or_create(
            sector=sector,
            valid_from=first,
            defaults={
                "valid_to": last,
                "discount_bp": 5_000,
                "applies_to_jkk": True,
                "applies_to_jkm": True,
                "excluded_sources": ["apbn", "apbd"],
                "regulation": PP50_REGULATION,
                "source_url": PP50_2025,
            },
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BracketTable",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("valid_from", models.DateField(verbose_name="first contribution month")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="last contribution month")),
                ("regulation", models.CharField(max_length=200, verbose_name="regulation")),
                ("source_url", models.URLField(blank=True, max_length=300, verbose_name="source")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded")),
                ("provisional", models.BooleanField(default=False, verbose_name="provisional")),
                (
                    "created_by",
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
                "ordering": ["valid_from"],
            },
        ),
        migrations.CreateModel(
            name="DiscountRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("valid_from", models.DateField(verbose_name="first contribution month")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="last contribution month")),
                ("regulation", models.CharField(max_length=200, verbose_name="regulation")),
                ("source_url", models.URLField(blank=True, max_length=300, verbose_name="source")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded")),
                ("discount_bp", models.PositiveIntegerField(verbose_name="discount (basis points)")),
                (
                    "sector",
                    models.CharField(
                        choices=[("all", "All sectors"), ("transport", "Transport"), ("other", "Other")],
                        default="all",
                        max_length=10,
                        verbose_name="sector",
                    ),
                ),
                ("applies_to_jkk", models.BooleanField(default=True, verbose_name="JKK discounted")),
                ("applies_to_jkm", models.BooleanField(default=True, verbose_name="JKM discounted")),
                (
                    "excluded_sources",
                    models.JSONField(blank=True, default=list, verbose_name="funding sources excluded"),
                ),
                (
                    "created_by",
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
                "ordering": ["valid_from", "sector"],
            },
        ),
        migrations.CreateModel(
            name="IncomeBracket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("income_from", models.BigIntegerField(verbose_name="income from (Rp)")),
                ("income_to", models.BigIntegerField(blank=True, null=True, verbose_name="income to (Rp)")),
                ("nominal", models.BigIntegerField(verbose_name="nominal value (Rp)")),
                (
                    "table",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="brackets",
                        to="protection.brackettable",
                    ),
                ),
            ],
            options={
                "ordering": ["table", "income_from"],
            },
        ),
        migrations.CreateModel(
            name="ProgrammeRate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("valid_from", models.DateField(verbose_name="first contribution month")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="last contribution month")),
                ("regulation", models.CharField(max_length=200, verbose_name="regulation")),
                ("source_url", models.URLField(blank=True, max_length=300, verbose_name="source")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded")),
                (
                    "programme",
                    models.CharField(
                        choices=[
                            ("jkk", "JKK (work accident)"),
                            ("jkm", "JKM (death)"),
                            ("jht", "JHT (old-age savings)"),
                        ],
                        max_length=3,
                        verbose_name="programme",
                    ),
                ),
                (
                    "rate_bp",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="rate (basis points of the bracket nominal)"
                    ),
                ),
                ("flat_amount", models.BigIntegerField(blank=True, null=True, verbose_name="flat amount (Rp)")),
                (
                    "created_by",
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
                "ordering": ["programme", "valid_from"],
            },
        ),
        migrations.AddConstraint(
            model_name="brackettable",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("valid_to__isnull", True), ("valid_to__gte", models.F("valid_from")), _connector="OR"
                ),
                name="protection_brackettable_window",
                violation_error_code="tariff_window_reversed",
            ),
        ),
        migrations.AddConstraint(
            model_name="brackettable",
            constraint=models.UniqueConstraint(fields=("valid_from",), name="protection_brackettable_one_start"),
        ),
        migrations.AddConstraint(
            model_name="discountrule",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("valid_to__isnull", True), ("valid_to__gte", models.F("valid_from")), _connector="OR"
                ),
                name="protection_discount_window",
                violation_error_code="tariff_window_reversed",
            ),
        ),
        migrations.AddConstraint(
            model_name="discountrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("discount_bp__gte", 1), ("discount_bp__lte", 10000)),
                name="protection_discount_percent",
                violation_error_code="tariff_discount_invalid",
            ),
        ),
        migrations.AddConstraint(
            model_name="discountrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("applies_to_jkk", True), ("applies_to_jkm", True), _connector="OR"),
                name="protection_discount_programme",
            ),
        ),
        migrations.AddConstraint(
            model_name="discountrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("sector__in", ["all", "transport", "other"])),
                name="protection_discount_sector_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="incomebracket",
            constraint=models.CheckConstraint(
                condition=models.Q(("income_from__gte", 0)), name="protection_bracket_income_from_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="incomebracket",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("income_to__isnull", True), ("income_to__gte", models.F("income_from")), _connector="OR"
                ),
                name="protection_bracket_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="incomebracket",
            constraint=models.CheckConstraint(
                condition=models.Q(("nominal__gt", 0)), name="protection_bracket_nominal_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="incomebracket",
            constraint=models.UniqueConstraint(fields=("table", "income_from"), name="protection_bracket_one_start"),
        ),
        migrations.AddConstraint(
            model_name="programmerate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("valid_to__isnull", True), ("valid_to__gte", models.F("valid_from")), _connector="OR"
                ),
                name="protection_rate_window",
                violation_error_code="tariff_window_reversed",
            ),
        ),
        migrations.AddConstraint(
            model_name="programmerate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("flat_amount__isnull", True),
                        ("rate_bp__gte", 1),
                        ("rate_bp__isnull", False),
                        ("rate_bp__lte", 10000),
                    ),
                    models.Q(("flat_amount__gt", 0), ("flat_amount__isnull", False), ("rate_bp__isnull", True)),
                    _connector="OR",
                ),
                name="protection_rate_rate_or_flat",
                violation_error_code="tariff_rate_invalid",
            ),
        ),
        migrations.AddConstraint(
            model_name="programmerate",
            constraint=models.CheckConstraint(
                condition=models.Q(("programme__in", ["jkk", "jkm", "jht"])), name="protection_rate_programme_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="programmerate",
            constraint=models.UniqueConstraint(fields=("programme", "valid_from"), name="protection_rate_one_start"),
        ),
        migrations.RunPython(install_guards, remove_guards),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
