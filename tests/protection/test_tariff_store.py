"""Tariffs in the database: the seed of verified facts, the services that add and close versions (who may, the lock,
the audit row, closing the previous version), the triggers that refuse overlapping versions when the ORM is bypassed,
and the selector that loads the rules once."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lingkaran.core import context
from lingkaran.core.errors import Forbidden, InvalidInput, NotAuthenticated
from lingkaran.core.models import AuditEvent
from lingkaran.protection import selectors, services
from lingkaran.protection.errors import TariffOverlap
from lingkaran.protection.models import BracketTable, DiscountRule, IncomeBracket, ProgrammeRate

pytestmark = pytest.mark.django_db


def quote(month, income=1_000_000, sector="other", package="jkk_jkm", source="csr"):
    rules = selectors.tariff_rules(first_month=month)
    return rules.amount_due(month=month, declared_income=income, sector=sector, package=package, source=source)


def state() -> list:
    return [
        list(ProgrammeRate.objects.order_by("pk").values_list("programme", "valid_from", "valid_to", "rate_bp", "flat_amount")),
        list(BracketTable.objects.order_by("pk").values_list("valid_from", "valid_to", "provisional")),
        list(IncomeBracket.objects.order_by("pk").values_list("table_id", "income_from", "income_to", "nominal")),
        list(DiscountRule.objects.order_by("pk").values_list("valid_from", "valid_to", "sector", "discount_bp")),
    ]  # fmt: skip


# --- The seed --------------------------------------------------------------------------------------------------------


def test_the_seed_holds_the_verified_facts_with_their_sources():
    rates = {r.programme: r for r in ProgrammeRate.objects.all()}
    assert (rates["jkk"].rate_bp, rates["jkk"].flat_amount) == (100, None)
    assert (rates["jkm"].rate_bp, rates["jkm"].flat_amount) == (None, 6_800)
    assert (rates["jht"].rate_bp, rates["jht"].flat_amount) == (200, None)
    assert {r.valid_from for r in rates.values()} == {date(2015, 7, 1)}
    assert all(r.valid_to is None and r.regulation and r.source_url.startswith("https://") for r in rates.values())
    assert "PP 44/2015" in rates["jkk"].regulation
    (table,) = BracketTable.objects.all()
    assert table.provisional is True
    assert "Lampiran II" in table.regulation
    assert list(table.brackets.values_list("income_from", "income_to", "nominal")) == [
        (0, 1_000_000, 1_000_000),
        (2_000_000, 2_000_000, 2_000_000),
    ]
    windows = {d.sector: d for d in DiscountRule.objects.all()}
    assert set(windows) == {"transport", "other"}
    assert (windows["transport"].valid_from, windows["transport"].valid_to) == (date(2026, 1, 1), date(2027, 3, 1))
    assert (windows["other"].valid_from, windows["other"].valid_to) == (date(2026, 4, 1), date(2026, 12, 1))
    for rule in windows.values():
        assert (rule.discount_bp, rule.applies_to_jkk, rule.applies_to_jkm) == (5_000, True, True)
        assert sorted(rule.excluded_sources) == ["apbd", "apbn"]
        assert "PP 50/2025" in rule.regulation
        assert rule.source_url.startswith("https://peraturan.bpk.go.id/")


@pytest.mark.parametrize(
    ("month", "sector", "source", "package", "total"),
    [
        (date(2026, 3, 1), "other", "csr", "jkk_jkm", 16_800),
        (date(2026, 3, 1), "transport", "csr", "jkk_jkm", 8_400),
        (date(2026, 4, 1), "other", "csr", "jkk_jkm", 8_400),
        (date(2026, 12, 1), "other", "zakat", "jkk_jkm", 8_400),
        (date(2027, 1, 1), "other", "csr", "jkk_jkm", 16_800),
        (date(2027, 3, 1), "transport", "self", "jkk_jkm", 8_400),
        (date(2027, 4, 1), "transport", "self", "jkk_jkm", 16_800),
        (date(2026, 6, 1), "other", "apbd", "jkk_jkm", 16_800),
        (date(2026, 6, 1), "other", "csr", "jkk_jkm_jht", 28_400),
    ],
)
def test_the_seeded_tariffs_price_the_documented_amounts(month, sector, source, package, total):
    assert quote(month, sector=sector, source=source, package=package).total == total


def test_the_rules_for_a_range_of_months_take_four_queries(django_assert_num_queries):
    with django_assert_num_queries(4):
        rules = selectors.tariff_rules(first_month=date(2025, 1, 1), last_month=date(2027, 12, 1))
    # … and price any number of worker-months without another query
    with django_assert_num_queries(0):
        totals = {
            rules.amount_due(
                month=date(2026, index % 12 + 1, 1),
                declared_income=1_000_000 - index,
                sector="transport",
                package="jkk_jkm",
                source="csr",
            ).total
            for index in range(1_000)
        }
    assert totals == {8_400}


# --- Adding and closing versions -------------------------------------------------------------------------------------


def test_a_new_rate_closes_the_one_in_force_and_is_audited(make_user):
    finance = make_user("finance")
    rate = services.programme_rate_add(
        actor=finance,
        programme="jkm",
        valid_from=date(2027, 1, 1),
        flat_amount=7_000,
        regulation="PP 99/2026",
        source_url="https://peraturan.bpk.go.id/example",
    )
    old = ProgrammeRate.objects.get(programme="jkm", valid_from=date(2015, 7, 1))
    assert old.valid_to == date(2026, 12, 1)
    assert (rate.valid_to, rate.created_by) == (None, finance)
    assert quote(date(2026, 12, 1), source="apbd").jkm == 6_800
    assert quote(date(2027, 1, 1), source="apbd").jkm == 7_000
    event = AuditEvent.objects.get(action="tariff.rate_add")
    assert (event.actor, event.object_id) == (finance, str(rate.pk))
    assert event.details["closed"] == [{"type": "protection.programmerate", "id": old.pk, "valid_to": "2026-12"}]


def test_a_rate_added_before_the_first_one_ends_where_the_next_begins(make_user):
    rate = services.programme_rate_add(
        actor=make_user("operator"), programme="jkk", valid_from=date(2010, 1, 1), rate_bp=50, regulation="Old"
    )
    assert rate.valid_to == date(2015, 6, 1)
    assert ProgrammeRate.objects.get(programme="jkk", valid_from=date(2015, 7, 1)).valid_to is None


def test_a_temporary_rate_that_would_end_the_one_in_force_for_good_is_refused(make_user):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        services.programme_rate_add(
            actor=make_user("operator"),
            programme="jkm",
            valid_from=date(2027, 1, 1),
            valid_to=date(2027, 6, 1),
            flat_amount=68,
            regulation="X",
        )
    assert "valid_to" in refused.value.details["fields"]
    assert state() == before


def test_a_second_version_starting_in_the_same_month_is_a_conflict(make_user):
    before = state()
    with pytest.raises(TariffOverlap) as refused:
        services.programme_rate_add(
            actor=make_user("finance"), programme="jkk", valid_from=date(2015, 7, 1), rate_bp=120, regulation="X"
        )
    assert refused.value.code == "tariff_overlap"
    assert refused.value.http_status == 409
    assert state() == before
    assert not AuditEvent.objects.filter(action__startswith="tariff.").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"programme": "jp"}, "programme"),
        ({"valid_from": date(2027, 1, 15)}, "valid_from"),
        ({"rate_bp": 0}, "rate_bp"),
        ({"rate_bp": 10_001}, "rate_bp"),
        ({"rate_bp": 1.5}, "rate_bp"),
        ({"rate_bp": 100, "flat_amount": 6_800}, "rate_bp"),
        ({"rate_bp": None, "flat_amount": -1}, "flat_amount"),
        ({"regulation": "  "}, "regulation"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
    ],
)
def test_a_rate_with_a_bad_field_is_refused(make_user, changes, field):
    arguments = {"programme": "jkk", "valid_from": date(2027, 1, 1), "rate_bp": 100, "regulation": "X", **changes}
    before = state()
    with pytest.raises(InvalidInput) as refused:
        services.programme_rate_add(actor=make_user("operator"), **arguments)
    assert field in refused.value.details["fields"]
    assert state() == before


@pytest.mark.parametrize("role", ["verifier", "auditor", "funder", "field_agent", "worker"])
def test_only_operators_and_finance_change_tariffs(make_user, role):
    user = make_user(role)
    before = state()
    with pytest.raises(Forbidden):
        services.programme_rate_add(actor=user, programme="jkk", valid_from=date(2027, 1, 1), rate_bp=1, regulation="X")
    with pytest.raises(Forbidden):
        services.tariff_version_close(actor=user, kind="discount", version_id=DiscountRule.objects.first().pk,
                                      last_month=date(2026, 5, 1))  # fmt: skip
    assert state() == before


def test_without_an_actor_only_the_command_line_may_write():
    with context.acting("web"), pytest.raises(NotAuthenticated):
        services.programme_rate_add(actor=None, programme="jkk", valid_from=date(2027, 1, 1), rate_bp=1, regulation="X")
    with context.acting("command"):
        services.programme_rate_add(actor=None, programme="jkk", valid_from=date(2027, 1, 1), rate_bp=1, regulation="X")
    assert AuditEvent.objects.get(action="tariff.rate_add").channel == "command"


def test_an_overlapping_discount_is_refused_and_a_later_one_is_added(make_user):
    operator = make_user("operator")
    arguments = {
        "actor": operator,
        "valid_to": None,
        "discount_bp": 2_500,
        "programmes": ["jkm"],
        "excluded_sources": ["apbd"],
        "regulation": "PP 1/2027",
    }
    before = state()
    with pytest.raises(TariffOverlap):  # "all" meets the transport window in March 2027
        services.discount_rule_add(valid_from=date(2027, 3, 1), sector="all", **arguments)
    assert state() == before
    rule = services.discount_rule_add(valid_from=date(2027, 4, 1), sector="all", **arguments)
    assert (rule.applies_to_jkk, rule.applies_to_jkm, rule.excluded_sources) == (False, True, ["apbd"])
    result = quote(date(2027, 4, 1), sector="transport")
    assert (result.jkk, result.jkm, result.total) == (10_000, 5_100, 15_100)
    assert AuditEvent.objects.filter(action="tariff.discount_add").count() == 1


def test_a_discount_cannot_name_jht(make_user):
    with pytest.raises(InvalidInput) as refused:
        services.discount_rule_add(
            actor=make_user("operator"), valid_from=date(2028, 1, 1), valid_to=None, discount_bp=5_000, sector="all",
            programmes=["jht"], excluded_sources=[], regulation="X",
        )  # fmt: skip
    assert "programmes" in refused.value.details["fields"]


def test_closing_a_discount_window_early(make_user):
    rule = DiscountRule.objects.get(sector="transport")
    services.tariff_version_close(
        actor=make_user("finance"), kind="discount", version_id=rule.pk, last_month=date(2026, 12, 1)
    )
    assert quote(date(2026, 12, 1), sector="transport").total == 8_400
    assert quote(date(2027, 1, 1), sector="transport").total == 16_800
    event = AuditEvent.objects.get(action="tariff.close")
    assert event.details["valid_to"] == ["2027-03", "2026-12"]


def test_a_close_that_would_overlap_the_next_version_is_refused(make_user):
    operator = make_user("operator")
    services.programme_rate_add(
        actor=operator, programme="jkm", valid_from=date(2027, 1, 1), flat_amount=7_000, regulation="X"
    )
    old = ProgrammeRate.objects.get(programme="jkm", valid_from=date(2015, 7, 1))
    with pytest.raises(TariffOverlap):
        services.tariff_version_close(actor=operator, kind="rate", version_id=old.pk, last_month=date(2027, 6, 1))
    with pytest.raises(InvalidInput):
        services.tariff_version_close(actor=operator, kind="rate", version_id=old.pk, last_month=date(2015, 1, 1))
    rule = DiscountRule.objects.get(sector="other")
    with pytest.raises(TariffOverlap):  # all sectors would meet the transport window in January 2027
        services.discount_rule_add(
            actor=operator, valid_from=date(2027, 1, 1), valid_to=date(2027, 2, 1), discount_bp=1_000, sector="all",
            programmes=["jkk"], excluded_sources=[], regulation="X",
        )  # fmt: skip
    services.tariff_version_close(actor=operator, kind="discount", version_id=rule.pk, last_month=date(2027, 12, 1))
    # extending the other sectors' window is fine: it never competes with the transport one
    assert DiscountRule.objects.get(pk=rule.pk).valid_to == date(2027, 12, 1)


# --- The database refuses overlaps itself (the ORM bypassed) ---------------------------------------------------------


def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_rate(programme, valid_from, valid_to=None, flat_amount=1):
    raw(
        "INSERT INTO protection_programmerate (programme, valid_from, valid_to, flat_amount, regulation, source_url, "
        "created_at) VALUES (%s, %s, %s, %s, 'raw', '', %s)",
        [programme, valid_from, valid_to, flat_amount, timezone.now()],
    )


def insert_discount(sector, valid_from, valid_to, jkk=True, jkm=True):
    raw(
        "INSERT INTO protection_discountrule (valid_from, valid_to, discount_bp, sector, applies_to_jkk, applies_to_jkm, "
        "excluded_sources, regulation, source_url, created_at) VALUES (%s, %s, 100, %s, %s, %s, '[]', 'raw', '', %s)",
        [valid_from, valid_to, sector, jkk, jkm, timezone.now()],
    )


def test_the_database_refuses_overlapping_rates():
    with pytest.raises(IntegrityError, match="overlap"):
        insert_rate("jkm", date(2020, 1, 1))
    with pytest.raises(IntegrityError, match="overlap"):
        insert_rate("jkk", date(2010, 1, 1), date(2015, 7, 1))
    insert_rate("jkm", date(2010, 1, 1), date(2015, 6, 1))  # ends the month before: fine
    with pytest.raises(IntegrityError, match="overlap"):
        raw("UPDATE protection_programmerate SET valid_to = %s WHERE regulation = 'raw'", [date(2016, 1, 1)])
    assert ProgrammeRate.objects.filter(programme="jkm").count() == 2


def test_the_database_refuses_a_month_that_is_not_a_first_day():
    with pytest.raises(IntegrityError, match="first day"):
        insert_rate("jkm", date(2010, 1, 2), date(2010, 2, 1))
    with pytest.raises(IntegrityError, match="first day"):
        insert_rate("jkm", date(2010, 1, 1), date(2010, 2, 28))


def test_the_database_refuses_overlapping_bracket_tables_and_brackets():
    with pytest.raises(IntegrityError, match="overlap"):
        raw(
            "INSERT INTO protection_brackettable (valid_from, valid_to, regulation, source_url, provisional, created_at) "
            "VALUES (%s, NULL, 'raw', '', %s, %s)",
            [date(2030, 1, 1), False, timezone.now()],
        )
    table = BracketTable.objects.get()
    with pytest.raises(IntegrityError, match="overlap"):
        raw(
            "INSERT INTO protection_incomebracket (table_id, income_from, income_to, nominal) VALUES (%s, %s, %s, %s)",
            [table.pk, 1_500_000, 2_500_000, 2_000_000],
        )
    raw(
        "INSERT INTO protection_incomebracket (table_id, income_from, income_to, nominal) VALUES (%s, %s, %s, %s)",
        [table.pk, 1_500_000, 1_999_999, 1_500_000],
    )
    assert table.brackets.count() == 3


def test_the_database_refuses_competing_discount_rules():
    with pytest.raises(IntegrityError, match="overlap"):
        insert_discount("all", date(2027, 3, 1), None)  # meets transport in March 2027
    with pytest.raises(IntegrityError, match="overlap"):
        insert_discount("other", date(2026, 12, 1), date(2027, 1, 1), jkk=False)
    insert_discount("other", date(2027, 1, 1), date(2027, 6, 1))  # other after its window: fine
    insert_discount("transport", date(2027, 4, 1), None, jkk=False)
    with pytest.raises(IntegrityError, match="overlap"):
        insert_discount("all", date(2030, 1, 1), None, jkk=False)  # the open transport JKM rule
    assert DiscountRule.objects.count() == 4


# --- The month's price table, joined by set-based SQL ------------------------------------------------------------------

WORKERS = [
    # income, sector, package, source
    (0, "other", "jkk_jkm", "csr"),
    (750_000, "transport", "jkk_jkm", "apbd"),
    (1_000_000, "other", "jkk_jkm_jht", "zakat"),
    (1_500_000, "transport", "jkk_jkm_jht", "donation"),
    (2_000_000, "other", "jkk_jkm", "self"),
    (9_000_000, "transport", "jkk_jkm_jht", "apbn"),
]


@pytest.mark.parametrize("month", [date(2026, 3, 1), date(2026, 6, 1), date(2027, 2, 1), date(2027, 4, 1)])
def test_workers_joined_against_the_price_table_get_what_the_function_gives(month):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE tariff_probe (id INTEGER PRIMARY KEY, income BIGINT, sector VARCHAR(10), "
            "package VARCHAR(12), source VARCHAR(10))"
        )
        for index, row in enumerate(WORKERS):
            cursor.execute("INSERT INTO tariff_probe VALUES (%s, %s, %s, %s, %s)", [index, *row])
        cursor.execute(
            f"WITH {selectors.amount_table_cte(month)} "
            "SELECT w.id, t.total, t.jkk, t.jkm, t.jht, t.discounted FROM tariff_probe w JOIN tariff t "
            "ON w.income >= t.income_from AND (t.income_to IS NULL OR w.income <= t.income_to) "
            "AND w.sector = t.sector AND w.package = t.package AND w.source = t.source ORDER BY w.id"
        )
        joined = cursor.fetchall()
        cursor.execute("DROP TABLE tariff_probe")
    expected = []
    for index, (income, sector, package, source) in enumerate(WORKERS):
        due = quote(month, income=income, sector=sector, package=package, source=source)
        expected.append((index, due.total, due.jkk, due.jkm, due.jht, int(due.discounted)))
    assert [tuple(int(v) for v in row) for row in joined] == expected


def test_a_one_bracket_table_joins_too():
    services.bracket_table_load(
        actor=None, content=b"valid_from,income_from,income_to,nominal,regulation\n2028-01,0,,1500000,X\n"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {selectors.amount_table_cte(date(2028, 1, 1), name='price')} SELECT p.income_to, p.total FROM price p "
            "WHERE p.sector = 'other' AND p.package = 'jkk_jkm' AND p.source = 'csr' AND 7000000000 >= p.income_from "
            "AND (p.income_to IS NULL OR 7000000000 <= p.income_to)"
        )
        assert cursor.fetchall() == [(None, 15_000 + 6_800)]
    with pytest.raises(ValueError, match="identifier"):
        selectors.amount_table_cte(date(2028, 1, 1), name="x; DROP TABLE y")


def test_the_price_table_is_one_row_per_range_sector_package_and_source():
    rows = selectors.amount_table(date(2026, 6, 1))
    assert len(rows) == 2 * 2 * 2 * 6


# --- The ticket donations are counted in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "ticket"),
    [
        (date(2025, 12, 31), 16_800),
        (date(2026, 1, 1), 16_800),  # transport is discounted, other sectors are not yet
        (date(2026, 3, 31), 16_800),
        (date(2026, 4, 1), 8_400),
        (date(2026, 11, 22), 8_400),
        (date(2026, 12, 31), 8_400),
        (date(2027, 1, 1), 16_800),
        (date(2027, 3, 1), 16_800),
    ],
)
def test_the_standard_ticket_is_the_tariff_in_force_every_sector_shares(on, ticket, settings):
    from lingkaran.funding.tickets import standard_ticket

    settings.LINGKARAN_STANDARD_TICKET = 99_999  # only the fallback
    assert standard_ticket(on) == ticket


def test_the_standard_ticket_follows_a_new_tariff_and_falls_back_without_one(make_user, settings):
    from lingkaran.funding import selectors as funding_selectors
    from lingkaran.funding.tickets import standard_ticket

    services.programme_rate_add(
        actor=make_user("finance"), programme="jkm", valid_from=date(2027, 1, 1), flat_amount=7_200, regulation="X"
    )
    assert standard_ticket(date(2027, 2, 1)) == 17_200
    assert funding_selectors.suggested_amounts(date(2027, 2, 1))[0] == (103_200, 6, 1)
    settings.LINGKARAN_STANDARD_TICKET = 16_800
    assert standard_ticket(date(2015, 6, 1)) == 16_800  # before the first version: the setting
    assert selectors.donation_ticket(date(2015, 6, 1)) is None
