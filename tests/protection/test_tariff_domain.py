"""The pure tariff rules: the amount due for (contribution month, declared income, sector, package, funding source),
table-tested across every edge of the PP 50/2025 windows and of the brackets, plus properties (Hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran.protection.domain import tariffs as t
from tests.protection.tariff_helpers import EXCLUDED, SINCE, seed_rates, seed_rules, seed_table

RULES = seed_rules()


def due(month, income=1_000_000, sector="other", package="jkk_jkm", source="csr", rules=RULES):
    return t.amount_due(rules, month=month, declared_income=income, sector=sector, package=package, source=source)


# --- The verified amounts (domain.md 2.1) ----------------------------------------------------------------------------


def test_the_standard_ticket_outside_any_window():
    result = due(date(2025, 6, 1))
    assert (result.jkk, result.jkm, result.jht, result.total) == (10_000, 6_800, 0, 16_800)
    assert result.nominal == 1_000_000
    assert result.discounted is False
    assert result.discounts == ()
    assert (result.full_total, result.saving) == (16_800, 0)


def test_the_three_programme_package_at_one_and_two_million():
    one = due(date(2025, 6, 1), package="jkk_jkm_jht")
    two = due(date(2025, 6, 1), income=2_000_000, package="jkk_jkm_jht")
    assert (one.jkk, one.jkm, one.jht, one.total) == (10_000, 6_800, 20_000, 36_800)
    assert (two.jkk, two.jkm, two.jht, two.total) == (20_000, 6_800, 40_000, 66_800)
    assert due(date(2025, 6, 1), income=2_000_000).total == 26_800


def test_thirty_workers_on_three_programmes_make_the_perisai_table_figure():
    assert 30 * due(date(2025, 6, 1), package="jkk_jkm_jht").total == 1_104_000


# --- PP 50/2025: every window edge -------------------------------------------------------------------------------------

# (month, sector, source, package, income) -> (jkk, jkm, jht, total, discounted)
WINDOW_EDGES = [
    # transport: January 2026 – March 2027
    ((2025, 12), "transport", "csr", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2026, 1), "transport", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2026, 3), "transport", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2027, 3), "transport", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2027, 4), "transport", "csr", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    # other sectors: April – December 2026
    ((2026, 3), "other", "csr", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2026, 4), "other", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2026, 12), "other", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2027, 1), "other", "csr", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2027, 1), "transport", "csr", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    # not for contributions paid from APBN or APBD; every other source gets it
    ((2026, 6), "other", "apbd", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2026, 6), "other", "apbn", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2026, 2), "transport", "apbd", "jkk_jkm", 1_000_000, (10_000, 6_800, 0, 16_800, False)),
    ((2026, 6), "other", "zakat", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2026, 6), "other", "donation", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    ((2026, 6), "other", "self", "jkk_jkm", 1_000_000, (5_000, 3_400, 0, 8_400, True)),
    # JHT is never discounted
    ((2026, 6), "other", "csr", "jkk_jkm_jht", 1_000_000, (5_000, 3_400, 20_000, 28_400, True)),
    ((2026, 6), "other", "apbd", "jkk_jkm_jht", 1_000_000, (10_000, 6_800, 20_000, 36_800, False)),
    ((2027, 3), "transport", "donation", "jkk_jkm_jht", 2_000_000, (10_000, 3_400, 40_000, 53_400, True)),
    ((2027, 4), "transport", "donation", "jkk_jkm_jht", 2_000_000, (20_000, 6_800, 40_000, 66_800, False)),
    # the second verified bracket in the window
    ((2026, 4), "other", "csr", "jkk_jkm", 2_000_000, (10_000, 3_400, 0, 13_400, True)),
]


@pytest.mark.parametrize(("ym", "sector", "source", "package", "income", "expected"), WINDOW_EDGES)
def test_amount_due_at_every_window_edge(ym, sector, source, package, income, expected):
    result = due(date(*ym, 1), income=income, sector=sector, package=package, source=source)
    assert (result.jkk, result.jkm, result.jht, result.total, result.discounted) == expected


def test_any_day_of_the_month_is_that_contribution_month():
    assert due(date(2026, 3, 31)).total == 16_800
    assert due(date(2026, 4, 30)).total == 8_400
    assert due(date(2026, 4, 30)).month == date(2026, 4, 1)


def test_the_result_names_the_discount_and_the_programmes_it_reduced():
    result = due(date(2026, 6, 1), package="jkk_jkm_jht")
    (applied,) = result.discounts
    assert applied.rule.sector == "other"
    assert applied.rule.regulation == "PP 50/2025"
    assert applied.programmes == (t.Programme.JKK, t.Programme.JKM)
    assert (result.full_jkk, result.full_jkm, result.full_jht, result.full_total) == (10_000, 6_800, 20_000, 36_800)
    assert result.saving == 8_400


def test_a_discount_on_jkk_only_leaves_jkm_at_full_price():
    only_jkk = t.DiscountRule(date(2026, 1, 1), None, frozenset({t.Programme.JKK}), 5_000, "all", frozenset(), "X")
    result = due(date(2026, 6, 1), rules=seed_rules(discounts=(only_jkk,)))
    assert (result.jkk, result.jkm, result.total) == (5_000, 6_800, 11_800)
    assert result.discounts[0].programmes == (t.Programme.JKK,)


# --- Brackets ----------------------------------------------------------------------------------------------------------

# income -> (nominal, income in its bracket's own range)
BRACKET_EDGES = [
    (0, 1_000_000, True),
    (1, 1_000_000, True),
    (999_999, 1_000_000, True),
    (1_000_000, 1_000_000, True),
    (1_000_001, 1_000_000, False),  # a gap of the partial seed table: the bracket below
    (1_999_999, 1_000_000, False),
    (2_000_000, 2_000_000, True),
    (2_000_001, 2_000_000, False),  # above the top bracket: the top bracket
    (50_000_000, 2_000_000, False),
]


@pytest.mark.parametrize(("income", "nominal", "inside"), BRACKET_EDGES)
def test_declared_income_maps_to_its_bracket(income, nominal, inside):
    result = due(date(2025, 1, 1), income=income)
    assert (result.nominal, result.income_in_bracket) == (nominal, inside)
    assert result.jkk == nominal // 100


def test_income_below_the_lowest_bracket_uses_the_lowest():
    table = t.BracketTable(
        SINCE, None, "X", (t.Bracket(500_000, 999_999, 1_000_000), t.Bracket(1_000_000, None, 1_500_000))
    )
    rules = seed_rules(tables=(table,))
    low = due(date(2025, 1, 1), income=100_000, rules=rules)
    assert (low.nominal, low.income_in_bracket) == (1_000_000, False)
    top = due(date(2025, 1, 1), income=900_000_000, rules=rules)
    assert (top.nominal, top.income_in_bracket) == (1_500_000, True)


def test_effective_ranges_cover_every_income_without_a_gap():
    ranges = seed_table().effective_ranges()
    assert [(a, b, br.nominal) for a, b, br in ranges] == [(0, 1_999_999, 1_000_000), (2_000_000, None, 2_000_000)]
    assert seed_table().gaps() == ((1_000_001, 1_999_999),)


# --- Rounding: up to a whole rupiah, once per programme, after its discount ----------------------------------------


def test_rounding_is_up_once_per_programme_after_the_discount():
    rates = (
        t.ProgrammeRate(t.Programme.JKK, SINCE, None, "X", rate_bp=100),
        t.ProgrammeRate(t.Programme.JKM, SINCE, None, "X", flat_amount=6_801),
        t.ProgrammeRate(t.Programme.JHT, SINCE, None, "X", rate_bp=200),
    )
    table = t.BracketTable(SINCE, None, "X", (t.Bracket(0, None, 1_250_050),))
    rules = seed_rules(rates=rates, tables=(table,))
    full = due(date(2025, 1, 1), package="jkk_jkm_jht", rules=rules)
    # 12.500,5 -> 12.501; 6.801; 25.001 exactly
    assert (full.jkk, full.jkm, full.jht, full.total) == (12_501, 6_801, 25_001, 44_303)
    half = due(date(2026, 6, 1), package="jkk_jkm_jht", rules=rules)
    # 6.250,25 -> 6.251; 3.400,5 -> 3.401; JHT unchanged
    assert (half.jkk, half.jkm, half.jht, half.total) == (6_251, 3_401, 25_001, 34_653)


def test_the_exact_fraction_is_rounded_once_not_the_rounded_full_price():
    # JKM Rp 11 with 10 % off: 9,9 -> 10 (rounding the full price first would not change it, but 1,1 with 10 % off
    # would: ceil(ceil(1,1) × 0,9) = 2, while ceil(1,1 × 0,9) = ceil(0,99) = 1).
    rates = (
        t.ProgrammeRate(t.Programme.JKK, SINCE, None, "X", rate_bp=11),  # 0,11 % of 1.000 = 1,1
        t.ProgrammeRate(t.Programme.JKM, SINCE, None, "X", flat_amount=11),
    )
    table = t.BracketTable(SINCE, None, "X", (t.Bracket(0, None, 1_000),))
    ten = t.DiscountRule(date(2026, 1, 1), None, frozenset(t.DISCOUNTABLE), 1_000, "all", frozenset(), "X")
    result = due(date(2026, 6, 1), rules=seed_rules(rates=rates, tables=(table,), discounts=(ten,)))
    assert (result.full_jkk, result.jkk, result.full_jkm, result.jkm) == (2, 1, 11, 10)


def test_a_rate_in_basis_points_is_exact():
    rates = (t.ProgrammeRate(t.Programme.JKK, SINCE, None, "X", rate_bp=54), *seed_rates()[1:])
    rules = seed_rules(rates=rates)
    assert due(date(2025, 1, 1), rules=rules).jkk == 5_400  # 0,54 % of 1.000.000


def test_a_discount_of_ninety_nine_percent_keeps_a_rupiah():
    # PP 49/2020 cut JKK and JKM to 1 % of normal (BPU JKM Rp 68)
    cut = t.DiscountRule(
        date(2020, 8, 1),
        date(2021, 1, 1),
        frozenset({t.Programme.JKK, t.Programme.JKM}),
        9_900,
        "all",
        frozenset(),
        "X",
    )
    result = due(date(2020, 9, 1), rules=seed_rules(discounts=(cut,)))
    assert (result.jkk, result.jkm) == (100, 68)


def test_percent_text():
    assert [t.percent_text(bp) for bp in (100, 200, 5_000, 54, 50, 10_000)] == [
        "1 %", "2 %", "50 %", "0,54 %", "0,5 %", "100 %",
    ]  # fmt: skip
    assert t.percent_text(54, ".") == "0.54 %"


# --- Missing tariffs and bad inputs ----------------------------------------------------------------------------------


def test_a_month_no_version_covers_names_what_is_missing():
    with pytest.raises(t.TariffNotInForce) as excinfo:
        due(date(2015, 6, 1), rules=seed_rules(first=date(2015, 1, 1)))
    assert excinfo.value.missing == ("jkk", "jkm", "brackets")
    assert excinfo.value.month == date(2015, 6, 1)
    no_jht = seed_rules(rates=seed_rates()[:2])
    assert due(date(2025, 1, 1), rules=no_jht).total == 16_800
    with pytest.raises(t.TariffNotInForce) as excinfo:
        due(date(2025, 1, 1), package="jkk_jkm_jht", rules=no_jht)
    assert excinfo.value.missing == ("jht",)


def test_a_month_outside_the_loaded_range_is_an_error_not_a_miss():
    rules = seed_rules(first=date(2026, 1, 1), last=date(2026, 12, 1))
    with pytest.raises(ValueError, match="outside"):
        due(date(2027, 1, 1), rules=rules)


@pytest.mark.parametrize(
    "bad",
    [
        {"income": -1},
        {"income": 1_000_000.0},
        {"income": True},
        {"income": "1000000"},
        {"sector": "all"},
        {"sector": "fishing"},
        {"package": "jht"},
        {"source": "apbdes"},
    ],
)
def test_inputs_outside_their_sets_are_refused(bad):
    with pytest.raises(ValueError, match=r"declared_income|is not a valid"):
        due(date(2026, 6, 1), **bad)


def test_overlapping_versions_are_refused_by_the_rules():
    with pytest.raises(ValueError, match="overlap"):
        seed_rules(rates=(*seed_rates(), t.ProgrammeRate(t.Programme.JKM, date(2020, 1, 1), None, "X", flat_amount=1)))
    with pytest.raises(ValueError, match="overlap"):
        seed_rules(tables=(seed_table(), t.BracketTable(date(2020, 1, 1), None, "X", (t.Bracket(0, None, 1),))))
    extra = t.DiscountRule(date(2026, 12, 1), None, frozenset({t.Programme.JKM}), 1_000, "all", frozenset(), "X")
    with pytest.raises(ValueError, match="overlap"):
        seed_rules(discounts=(*seed_rules().discounts, extra))


def test_a_discount_cannot_name_jht():
    with pytest.raises(ValueError, match="JHT"):
        t.DiscountRule(date(2026, 1, 1), None, frozenset({t.Programme.JHT}), 5_000, "all", frozenset(), "X")


def test_versions_start_and_end_on_a_month():
    with pytest.raises(ValueError, match="first day"):
        t.ProgrammeRate(t.Programme.JKM, date(2026, 1, 2), None, "X", flat_amount=1)
    with pytest.raises(ValueError, match="end before"):
        t.ProgrammeRate(t.Programme.JKM, date(2026, 2, 1), date(2026, 1, 1), "X", flat_amount=1)


def test_brackets_must_not_overlap_nor_fall():
    with pytest.raises(ValueError, match="overlap"):
        t.BracketTable(SINCE, None, "X", (t.Bracket(0, 10, 5), t.Bracket(10, None, 6)))
    with pytest.raises(ValueError, match="falls"):
        t.BracketTable(SINCE, None, "X", (t.Bracket(0, 10, 5), t.Bracket(11, None, 4)))


@pytest.mark.parametrize(
    ("text", "month"),
    [("2026-04", date(2026, 4, 1)), ("2026-04-01", date(2026, 4, 1)), (" 2027-12 ", date(2027, 12, 1)),
     ("2026-13", None), ("2026-4", None), ("26-04", None), ("2026-04-02", None), ("", None), ("abcd-ef", None)],
)  # fmt: skip
def test_parse_month(text, month):
    assert t.parse_month(text) == month


# --- The price table for set-based SQL -------------------------------------------------------------------------------


def test_the_price_table_has_every_combination_once():
    rows = t.amount_table(RULES, date(2026, 6, 1))
    assert len(rows) == 2 * 2 * 2 * 6  # brackets × sectors × packages × sources
    keys = {(r.income_from, r.sector, r.package, r.source) for r in rows}
    assert len(keys) == len(rows)
    row = next(r for r in rows if (r.income_from, r.sector, r.package, r.source) == (0, "other", "jkk_jkm", "csr"))
    assert (row.income_to, row.nominal, row.total, row.discounted) == (1_999_999, 1_000_000, 8_400, True)


def test_the_ticket_every_sector_shares():
    def ticket(month):
        return t.ticket_for_every_sector(RULES, month, source="donation")

    assert [ticket(date(*ym, 1)) for ym in ((2025, 12), (2026, 1), (2026, 3), (2026, 4), (2026, 12), (2027, 1))] == [
        16_800, 16_800, 16_800, 8_400, 8_400, 16_800,
    ]  # fmt: skip


# --- Properties ------------------------------------------------------------------------------------------------------

MONTHS = st.builds(lambda y, m: date(y, m, 1), st.integers(2024, 2028), st.integers(1, 12))
INCOMES = st.integers(0, 50_000_000)


@st.composite
def tariff_rules(draw):
    starts = sorted(draw(st.sets(st.integers(0, 30_000_000), min_size=1, max_size=8)))
    nominals = sorted(draw(st.lists(st.integers(1, 40_000_000), min_size=len(starts), max_size=len(starts))))
    brackets = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else None
        if end is not None and draw(st.booleans()) and end > start:
            end = draw(st.integers(start, end))  # sometimes a gap
        brackets.append(t.Bracket(start, end, nominals[index]))
    rates = (
        t.ProgrammeRate(t.Programme.JKK, SINCE, None, "X", rate_bp=draw(st.integers(1, 10_000))),
        t.ProgrammeRate(t.Programme.JKM, SINCE, None, "X", flat_amount=draw(st.integers(1, 1_000_000))),
        t.ProgrammeRate(t.Programme.JHT, SINCE, None, "X", rate_bp=draw(st.integers(1, 10_000))),
    )
    programmes = draw(st.sampled_from([{t.Programme.JKK}, {t.Programme.JKM}, {t.Programme.JKK, t.Programme.JKM}]))
    discount = t.DiscountRule(
        date(2025, 1, 1),
        date(2027, 12, 1),
        frozenset(programmes),
        draw(st.integers(1, 10_000)),
        draw(st.sampled_from(["all", "transport", "other"])),
        draw(st.sampled_from([EXCLUDED, frozenset()])),
        "X",
    )
    table = t.BracketTable(SINCE, None, "X", tuple(brackets))
    return t.TariffRules(date(2024, 1, 1), date(2028, 12, 1), rates, (table,), (discount,))


QUERIES = st.fixed_dictionaries(
    {
        "month": MONTHS,
        "sector": st.sampled_from(list(t.Sector)),
        "package": st.sampled_from(list(t.Package)),
        "source": st.sampled_from(list(t.FundingSource)),
    }
)


@settings(max_examples=300, deadline=None)
@given(rules=tariff_rules(), query=QUERIES, income=INCOMES)
def test_properties_of_one_amount(rules, query, income):
    result = t.amount_due(rules, declared_income=income, **query)
    assert result.total == result.jkk + result.jkm + result.jht
    assert result.full_total == result.full_jkk + result.full_jkm + result.full_jht
    assert result.jkk <= result.full_jkk
    assert result.jkm <= result.full_jkm
    assert result.total <= result.full_total
    assert result.jht == result.full_jht  # never discounted
    if query["package"] == t.Package.JKK_JKM:
        assert result.jht == 0
    assert all(isinstance(v, int) and v >= 0 for v in (result.jkk, result.jkm, result.jht, result.total))
    assert result.discounted == (result.discounts != ())
    if query["source"] in EXCLUDED and rules.discounts[0].excluded_sources:
        assert result.total == result.full_total


@settings(max_examples=300, deadline=None)
@given(rules=tariff_rules(), query=QUERIES, incomes=st.tuples(INCOMES, INCOMES))
def test_the_amount_never_falls_as_income_rises(rules, query, incomes):
    low, high = sorted(incomes)
    assert (
        t.amount_due(rules, declared_income=low, **query).total
        <= t.amount_due(rules, declared_income=high, **query).total
    )


@settings(max_examples=150, deadline=None)
@given(rules=tariff_rules(), month=MONTHS, income=INCOMES)
def test_the_price_table_gives_what_the_function_gives(rules, month, income):
    rows = t.amount_table(rules, month)
    for row in rows:
        if row.income_from <= income and (row.income_to is None or income <= row.income_to):
            expected = t.amount_due(
                rules, month=month, declared_income=income, sector=row.sector, package=row.package, source=row.source
            )
            assert row.total == expected.total
            assert (row.jkk, row.jkm, row.jht) == (expected.jkk, expected.jkm, expected.jht)
    matching = [r for r in rows if r.income_from <= income and (r.income_to is None or income <= r.income_to)]
    assert len(matching) == 2 * 2 * 6  # exactly one range holds the income
