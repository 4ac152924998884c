"""Reads of the protection app. Tariffs: the rules in force, loaded once for a range of months.

``tariff_rules(first_month=…, last_month=…)`` reads every tariff version touching those months in four queries and
returns the pure ``TariffRules``, with ``amount_due`` bound to it: the monthly cycle prices a million workers without
a query per worker. For set-based SQL, ``amount_table_cte(month)`` gives the month's price table as a common table
expression to join workers against.

``tariff_rules`` and its helpers are internal (no user): the cycle and the funding tickets call them. Pages and the
API use ``tariff_overview`` and ``tariff_quote``, which check ``Capability.VIEW_TARIFFS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q

from lingkaran.core.access import require
from lingkaran.core.domain.roles import Capability
from lingkaran.protection import errors
from lingkaran.protection.domain import tariffs as rules
from lingkaran.protection.models import BracketTable, DiscountRule, IncomeBracket, ProgrammeRate

AMOUNT_TABLE_COLUMNS = (
    "income_from",
    "income_to",
    "sector",
    "package",
    "source",
    "nominal",
    "jkk",
    "jkm",
    "jht",
    "total",
    "discounted",
)


def _touching(first_month: date, last_month: date) -> Q:
    return Q(valid_from__lte=last_month) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first_month))


def tariff_rules(*, first_month: date, last_month: date | None = None) -> rules.TariffRules:
    """Every tariff version in force in any month from ``first_month`` to ``last_month`` (default: the same month),
    as pure rules: rates, bracket tables (with their brackets) and discount rules, four queries in all."""
    first = rules.month_start(first_month)
    last = rules.month_start(last_month or first_month)
    window = _touching(first, last)
    tables = BracketTable.objects.filter(window).prefetch_related(
        Prefetch("brackets", queryset=IncomeBracket.objects.order_by("income_from"))
    )
    return rules.TariffRules(
        first_month=first,
        last_month=last,
        rates=tuple(r.to_rule() for r in ProgrammeRate.objects.filter(window)),
        tables=tuple(t.to_rule() for t in tables),
        discounts=tuple(d.to_rule() for d in DiscountRule.objects.filter(window)),
    )


def amount_table(month: date) -> tuple[rules.AmountRow, ...]:
    """The month's price table (see ``domain.tariffs.amount_table``); ``TariffNotInForce`` when a tariff is missing."""
    try:
        return tariff_rules(first_month=month).amount_table(month)
    except rules.TariffNotInForce as exc:
        raise _not_in_force(exc) from None


def amount_table_cte(month: date, *, name: str = "tariff") -> str:
    """The month's price table as a common table expression, for ``WITH <this> SELECT …``::

        tariff(income_from, income_to, sector, package, source, nominal, jkk, jkm, jht, total, discounted)
            AS (VALUES (CAST(0 AS BIGINT), CAST(999999 AS BIGINT), 'transport', 'jkk_jkm', 'apbn', 1000000, 10000,
                        6800, 0, 16800, 0), …)

    Join a worker on ``w.income >= t.income_from AND (t.income_to IS NULL OR w.income <= t.income_to)`` and equal
    sector, package and source: exactly one row matches any income of zero or more. ``discounted`` is 1 or 0. The
    values are integers and the fixed enumeration values, written as literals (no parameters, so it fits in any
    statement on PostgreSQL and SQLite). ``name`` must be a plain identifier.
    """
    if not name.isidentifier():
        raise ValueError(f"not an identifier: {name!r}")

    def literal(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        text = str(value)  # an enumeration value: lower-case letters and underscores only
        if not text.replace("_", "").isalpha():
            raise ValueError(f"unexpected value in the price table: {text!r}")
        return f"'{text}'"

    def cell(row, column: str) -> str:
        value = literal(getattr(row, column))
        # Typed, so that PostgreSQL reads an income column whose every value is NULL as bigint, not text.
        return f"CAST({value} AS BIGINT)" if column in ("income_from", "income_to") else value

    rows = amount_table(month)
    values = ", ".join("(" + ", ".join(cell(row, column) for column in AMOUNT_TABLE_COLUMNS) + ")" for row in rows)
    return f"{name}({', '.join(AMOUNT_TABLE_COLUMNS)}) AS (VALUES {values})"


def donation_ticket(month: date) -> int | None:
    """What one worker-month costs a donation: JKK + JKM at the lowest bracket, paid from donations, at the price
    every sector shares (so the PP 50/2025 discount counts only from April to December 2026). None when no tariff
    is in force for the month."""
    month = rules.month_start(month)
    try:
        return rules.ticket_for_every_sector(
            tariff_rules(first_month=month), month, package=rules.Package.JKK_JKM, source=rules.FundingSource.DONATION
        )
    except rules.TariffNotInForce:
        return None


def _not_in_force(exc: rules.TariffNotInForce) -> errors.TariffNotInForce:
    return errors.TariffNotInForce(details={"month": f"{exc.month:%Y-%m}", "missing": list(exc.missing)})


# --- For pages and the API (checked) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TariffOverview:
    month: date
    in_force: rules.TariffInForce
    rates: list[ProgrammeRate]  # every version, newest first within each programme
    tables: list[BracketTable]  # every version with its brackets, newest first
    discounts: list[DiscountRule]  # every rule, newest first


def tariff_overview(user, *, month: date) -> TariffOverview:
    """What is in force in ``month`` and the whole history of every tariff (a few dozen rows at most)."""
    require(user, Capability.VIEW_TARIFFS)
    month = rules.month_start(month)
    return TariffOverview(
        month=month,
        in_force=tariff_rules(first_month=month).in_force(month),
        rates=list(ProgrammeRate.objects.select_related("created_by").order_by("programme", "-valid_from")),
        tables=list(
            BracketTable.objects.select_related("created_by")
            .prefetch_related(Prefetch("brackets", queryset=IncomeBracket.objects.order_by("income_from")))
            .order_by("-valid_from")
        ),
        discounts=list(DiscountRule.objects.select_related("created_by").order_by("-valid_from", "sector")),
    )


def tariffs_in_force(user, *, month: date) -> rules.TariffInForce:
    require(user, Capability.VIEW_TARIFFS)
    return tariff_rules(first_month=month).in_force(month)


def tariff_quote(user, *, month: date, declared_income: int, sector: str, package: str, source: str) -> rules.AmountDue:
    """``amount_due`` for one worker-month, for a person who may read tariffs."""
    require(user, Capability.VIEW_TARIFFS)
    try:
        return tariff_rules(first_month=month).amount_due(
            month=month, declared_income=declared_income, sector=sector, package=package, source=source
        )
    except rules.TariffNotInForce as exc:
        raise _not_in_force(exc) from None


def bracket_tables_csv_rows() -> list[list[str]]:
    """Every bracket table in the load format (``valid_from,income_from,income_to,nominal,regulation,source_url``):
    loading the result again changes nothing."""
    rows = []
    tables = BracketTable.objects.prefetch_related(
        Prefetch("brackets", queryset=IncomeBracket.objects.order_by("income_from"))
    ).order_by("valid_from")
    for table in tables:
        for bracket in table.brackets.all():
            rows.append(
                [
                    f"{table.valid_from:%Y-%m}",
                    str(bracket.income_from),
                    "" if bracket.income_to is None else str(bracket.income_to),
                    str(bracket.nominal),
                    table.regulation,
                    table.source_url,
                ]
            )
    return rows
