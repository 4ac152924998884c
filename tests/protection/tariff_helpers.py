"""Pure tariff rules that mirror the seed of migration 0001_tariffs (the verified facts), for the domain tests."""

from __future__ import annotations

from datetime import date

from lingkaran.protection.domain import tariffs as t

SINCE = date(2015, 7, 1)
PP50 = "PP 50/2025"
EXCLUDED = frozenset({t.FundingSource.APBN, t.FundingSource.APBD})


def seed_rates() -> tuple[t.ProgrammeRate, ...]:
    return (
        t.ProgrammeRate(t.Programme.JKK, SINCE, None, "PP 44/2015", rate_bp=100),
        t.ProgrammeRate(t.Programme.JKM, SINCE, None, "PP 44/2015", flat_amount=6_800),
        t.ProgrammeRate(t.Programme.JHT, SINCE, None, "PP 46/2015", rate_bp=200),
    )


def seed_table() -> t.BracketTable:
    return t.BracketTable(
        SINCE,
        None,
        "PP 44/2015 Lampiran II",
        (t.Bracket(0, 1_000_000, 1_000_000), t.Bracket(2_000_000, 2_000_000, 2_000_000)),
        provisional=True,
    )


def pp50_discounts() -> tuple[t.DiscountRule, ...]:
    both = frozenset({t.Programme.JKK, t.Programme.JKM})
    return (
        t.DiscountRule(date(2026, 1, 1), date(2027, 3, 1), both, 5_000, "transport", EXCLUDED, PP50),
        t.DiscountRule(date(2026, 4, 1), date(2026, 12, 1), both, 5_000, "other", EXCLUDED, PP50),
    )


def seed_rules(first: date = SINCE, last: date = date(2030, 12, 1), **overrides) -> t.TariffRules:
    parts = {"rates": seed_rates(), "tables": (seed_table(),), "discounts": pp50_discounts(), **overrides}
    return t.TariffRules(first_month=first, last_month=last, **parts)
