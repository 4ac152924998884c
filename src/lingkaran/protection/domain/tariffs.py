"""Tariffs: what one contribution month of BPJS Ketenagakerjaan protection costs a BPU worker, as pure rules.

Everything here is integer rupiah, ``date`` and frozen dataclasses; no Django, no database, no clock.

The rules are versioned data (domain.md 2.2). Each version names the first and the last contribution month it
covers (``valid_to`` None: still open) and the regulation it comes from:

- ``ProgrammeRate``: JKK as a rate of the declared-income bracket's nominal value (1 %), JKM as a flat amount
  (Rp 6.800), JHT as a rate of the same nominal (2 %). Rates are in basis points (1/100 of a percent), so that a rate
  such as 0,54 % stays an integer.
- ``BracketTable``: the declared-income brackets (Lampiran II of PP 44/2015): income range -> nominal value.
- ``DiscountRule``: a discount on JKK and/or JKM for a window of contribution months, one policy sector (or all),
  with funding sources that do not get it (PP 50/2025: 50 %, not for contributions paid from APBN or APBD).

``amount_due`` is the one function that prices a worker-month: (rules, month, declared income, sector, package,
funding source) -> ``AmountDue`` (JKK, JKM, JHT, total, the bracket, the full price, the discounts applied).

Rounding (decided here, because the agency's own rounding of a discounted odd amount is UNVERIFIED, domain.md 2.3):
each programme is computed exactly as a fraction and rounded **up to the next whole rupiah once, after its
discount**; the total is the sum of the rounded programmes. Why up: an amount one rupiah short leaves a month unpaid,
which can end a worker's cover, while one rupiah too much is credited to a later month (domain.md 2.3). Why once
and per programme: the agency bills and credits JKK, JKM and JHT separately, and rounding twice (before and after
the discount) could add a rupiah the single exact computation does not. With the verified tariffs no rounding ever
happens (Rp 10.000 and Rp 6.800 halve to whole rupiah).

Brackets: the income goes to the bracket whose range holds it. An income below the lowest bracket uses the lowest;
an income above a bracket's upper end that no other bracket holds (a gap in a partial table, or above the top
bracket) uses the nearest bracket below it. So the function is total over every income of zero or more, and the
result says whether the income lay inside its bracket's own range (``income_in_bracket``).

JHT is never discounted: a discount rule can only name JKK and JKM (``DISCOUNTABLE``). JHT is the worker's own
old-age savings, and PP 50/2025 leaves it at full rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import pairwise

BASIS_POINTS = 10_000  # 100 %
ALL_SECTORS = "all"


class Programme(StrEnum):
    JKK = "jkk"
    JKM = "jkm"
    JHT = "jht"


class Package(StrEnum):
    """The packages a funder pays for (the same values as ``funding.models.Package``)."""

    JKK_JKM = "jkk_jkm"
    JKK_JKM_JHT = "jkk_jkm_jht"


class Sector(StrEnum):
    """An occupation's policy sector (``registry.OccupationGroup.sector``): it decides the PP 50/2025 window."""

    TRANSPORT = "transport"
    OTHER = "other"


class FundingSource(StrEnum):
    """Who pays a contribution: the state or a regional budget, a company, zakat, public donations, the worker."""

    APBN = "apbn"
    APBD = "apbd"
    CSR = "csr"
    ZAKAT = "zakat"
    DONATION = "donation"
    SELF = "self"


PACKAGE_PROGRAMMES: dict[Package, tuple[Programme, ...]] = {
    Package.JKK_JKM: (Programme.JKK, Programme.JKM),
    Package.JKK_JKM_JHT: (Programme.JKK, Programme.JKM, Programme.JHT),
}
DISCOUNTABLE = frozenset({Programme.JKK, Programme.JKM})
RULE_SECTORS = frozenset({ALL_SECTORS, *Sector})


class TariffNotInForce(LookupError):
    """No version of a needed tariff covers the month (``missing`` names what: ``jkk``, ``jkm``, ``jht``,
    ``brackets``)."""

    def __init__(self, month: date, missing: Iterable[str]):
        self.month = month
        self.missing = tuple(missing)
        super().__init__(f"no tariff in force for {month:%Y-%m}: {', '.join(self.missing)}")


# --- Contribution months ---------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The contribution month holding ``day``, as the first day of that month."""
    return date(day.year, day.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def is_month(value) -> bool:
    return isinstance(value, date) and value.day == 1


def covers(valid_from: date, valid_to: date | None, month: date) -> bool:
    """True when the window ``valid_from`` .. ``valid_to`` (inclusive; None: open) holds contribution ``month``."""
    return valid_from <= month and (valid_to is None or month <= valid_to)


def windows_overlap(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def parse_month(text: str) -> date | None:
    """``2026-04`` (or ``2026-04-01``) -> ``date(2026, 4, 1)``; None for anything else."""
    raw = (text or "").strip()
    if len(raw) == 10 and raw.endswith("-01"):
        raw = raw[:7]
    if len(raw) != 7 or raw[4] != "-" or not (raw[:4].isdigit() and raw[5:].isdigit()):
        return None
    year, month = int(raw[:4]), int(raw[5:])
    if not (1 <= month <= 12 and year >= 1900):
        return None
    return date(year, month, 1)


def ceil_div(numerator: int, denominator: int) -> int:
    """Exact integer ceiling of ``numerator / denominator`` (both non-negative, denominator positive)."""
    return -(-numerator // denominator)


def percent_text(basis_points: int, decimal_mark: str = ",") -> str:
    """``100`` -> ``1 %``, ``5000`` -> ``50 %``, ``54`` -> ``0,54 %`` (no trailing zeros)."""
    whole, rest = divmod(basis_points, 100)
    if not rest:
        return f"{whole} %"
    return f"{whole}{decimal_mark}{rest:02d}".rstrip("0") + " %"


def _whole(value, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return value


def _window(valid_from, valid_to) -> None:
    if not is_month(valid_from) or (valid_to is not None and not is_month(valid_to)):
        raise ValueError("contribution months are given as the first day of the month")
    if valid_to is not None and valid_to < valid_from:
        raise ValueError("a version cannot end before it starts")


# --- The rules -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeRate:
    """One version of one programme's price: a rate of the bracket nominal (``rate_bp``) or a flat amount."""

    programme: Programme
    valid_from: date
    valid_to: date | None
    regulation: str
    rate_bp: int | None = None
    flat_amount: int | None = None
    id: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "programme", Programme(self.programme))
        _window(self.valid_from, self.valid_to)
        if (self.rate_bp is None) == (self.flat_amount is None):
            raise ValueError("a programme rate is either a rate of the bracket nominal or a flat amount")
        if self.rate_bp is not None:
            _whole(self.rate_bp, "rate_bp", minimum=1)
            if self.rate_bp > BASIS_POINTS:
                raise ValueError("a rate is at most 100 %")
        if self.flat_amount is not None:
            _whole(self.flat_amount, "flat_amount", minimum=1)

    def covers(self, month: date) -> bool:
        return covers(self.valid_from, self.valid_to, month)

    def amount(self, nominal: int, discount_bp: int = 0) -> int:
        """The amount for one month at bracket ``nominal``, less ``discount_bp``, rounded up once (see the module)."""
        keep = BASIS_POINTS - discount_bp
        if self.rate_bp is not None:
            return ceil_div(nominal * self.rate_bp * keep, BASIS_POINTS * BASIS_POINTS)
        return ceil_div(self.flat_amount * keep, BASIS_POINTS)


@dataclass(frozen=True)
class Bracket:
    """Declared incomes ``income_from`` .. ``income_to`` (inclusive; None: no upper end) are billed at ``nominal``."""

    income_from: int
    income_to: int | None
    nominal: int

    def __post_init__(self):
        _whole(self.income_from, "income_from")
        if self.income_to is not None and _whole(self.income_to, "income_to") < self.income_from:
            raise ValueError("a bracket cannot end below where it starts")
        _whole(self.nominal, "nominal", minimum=1)

    def holds(self, income: int) -> bool:
        return self.income_from <= income and (self.income_to is None or income <= self.income_to)


@dataclass(frozen=True)
class BracketTable:
    """One version of the declared-income table. Brackets are sorted, never overlap, and their nominal values never
    fall as incomes rise (so the amount due never falls as income rises). Gaps are allowed (a partial table): an
    income in a gap uses the bracket below it. ``provisional`` marks a table known to be incomplete (the seed)."""

    valid_from: date
    valid_to: date | None
    regulation: str
    brackets: tuple[Bracket, ...]
    provisional: bool = False
    id: int | None = None

    def __post_init__(self):
        _window(self.valid_from, self.valid_to)
        brackets = tuple(sorted(self.brackets, key=lambda b: b.income_from))
        object.__setattr__(self, "brackets", brackets)
        if not brackets:
            raise ValueError("a bracket table has at least one bracket")
        for lower, upper in pairwise(brackets):
            if lower.income_to is None or upper.income_from <= lower.income_to:
                raise ValueError(f"brackets overlap at income {upper.income_from}")
            if upper.nominal < lower.nominal:
                raise ValueError(f"the nominal value falls at income {upper.income_from}")

    def covers(self, month: date) -> bool:
        return covers(self.valid_from, self.valid_to, month)

    def bracket_for(self, income: int) -> Bracket:
        """The bracket holding ``income``; below the lowest, the lowest; in a gap or above the top, the one below."""
        chosen = self.brackets[0]
        for bracket in self.brackets[1:]:
            if bracket.income_from > income:
                break
            chosen = bracket
        return chosen

    def effective_ranges(self) -> tuple[tuple[int, int | None, Bracket], ...]:
        """``(income_from, income_to, bracket)`` covering every income from 0 without a gap: what ``bracket_for``
        does, as ranges a SQL join can use. The lowest starts at 0, each ends where the next starts, the last is open.
        """
        ranges = []
        for index, bracket in enumerate(self.brackets):
            start = 0 if index == 0 else bracket.income_from
            end = self.brackets[index + 1].income_from - 1 if index + 1 < len(self.brackets) else None
            ranges.append((start, end, bracket))
        return tuple(ranges)

    def gaps(self) -> tuple[tuple[int, int], ...]:
        """Income ranges no bracket holds (between two brackets), each as ``(first, last)``."""
        return tuple(
            (lower.income_to + 1, upper.income_from - 1)
            for lower, upper in pairwise(self.brackets)
            if upper.income_from > lower.income_to + 1
        )


@dataclass(frozen=True)
class DiscountRule:
    """A discount of ``discount_bp`` on the named programmes (JKK and/or JKM) for contribution months
    ``valid_from`` .. ``valid_to``, for one policy sector or ``all``, except for the ``excluded_sources``."""

    valid_from: date
    valid_to: date | None
    programmes: frozenset[Programme]
    discount_bp: int
    sector: str
    excluded_sources: frozenset[FundingSource]
    regulation: str
    id: int | None = None

    def __post_init__(self):
        _window(self.valid_from, self.valid_to)
        programmes = frozenset(Programme(p) for p in self.programmes)
        if not programmes or not programmes <= DISCOUNTABLE:
            raise ValueError("a discount names JKK and/or JKM (JHT is never discounted)")
        object.__setattr__(self, "programmes", programmes)
        object.__setattr__(self, "excluded_sources", frozenset(FundingSource(s) for s in self.excluded_sources))
        _whole(self.discount_bp, "discount_bp", minimum=1)
        if self.discount_bp > BASIS_POINTS:
            raise ValueError("a discount is at most 100 %")
        if self.sector not in RULE_SECTORS:
            raise ValueError(f"unknown sector {self.sector!r}")

    def covers(self, month: date) -> bool:
        return covers(self.valid_from, self.valid_to, month)

    def applies(self, *, month: date, sector: Sector, source: FundingSource, programme: Programme) -> bool:
        return (
            self.covers(month)
            and programme in self.programmes
            and self.sector in (ALL_SECTORS, sector)
            and source not in self.excluded_sources
        )

    def competes_with(self, other: DiscountRule) -> bool:
        """Two rules are versions of the same thing when they could both discount one programme for one sector in
        one month; such versions must not overlap in time."""
        return (
            bool(self.programmes & other.programmes)
            and (ALL_SECTORS in (self.sector, other.sector) or self.sector == other.sector)
            and windows_overlap(self.valid_from, self.valid_to, other.valid_from, other.valid_to)
        )


# --- What is in force, and what is due -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TariffInForce:
    """The versions in force for one contribution month."""

    month: date
    rates: tuple[ProgrammeRate, ...]
    table: BracketTable | None
    discounts: tuple[DiscountRule, ...]

    def rate(self, programme: Programme) -> ProgrammeRate | None:
        return next((r for r in self.rates if r.programme == programme), None)


@dataclass(frozen=True)
class AppliedDiscount:
    rule: DiscountRule
    programmes: tuple[Programme, ...]  # the programmes of the package it reduced


@dataclass(frozen=True)
class AmountDue:
    """The price of one worker-month, per programme, with the full (undiscounted) price beside it."""

    month: date
    declared_income: int
    sector: Sector
    package: Package
    source: FundingSource
    bracket: Bracket
    income_in_bracket: bool
    jkk: int
    jkm: int
    jht: int
    total: int
    full_jkk: int
    full_jkm: int
    full_jht: int
    full_total: int
    discounts: tuple[AppliedDiscount, ...] = field(default=())

    @property
    def nominal(self) -> int:
        return self.bracket.nominal

    @property
    def discounted(self) -> bool:
        return bool(self.discounts)

    @property
    def saving(self) -> int:
        return self.full_total - self.total


@dataclass(frozen=True)
class AmountRow:
    """One row of the month's price table: workers whose declared income lies in ``income_from`` .. ``income_to``
    (None: no upper end), in ``sector``, paid for with ``package`` from ``source``, cost ``total``."""

    income_from: int
    income_to: int | None
    sector: Sector
    package: Package
    source: FundingSource
    nominal: int
    jkk: int
    jkm: int
    jht: int
    total: int
    discounted: bool


@dataclass(frozen=True)
class TariffRules:
    """Every version that touches contribution months ``first_month`` .. ``last_month``, checked for overlaps once,
    with ``amount_due`` bound to it. Asking about a month outside that range is an error, not a silent miss."""

    first_month: date
    last_month: date
    rates: tuple[ProgrammeRate, ...] = ()
    tables: tuple[BracketTable, ...] = ()
    discounts: tuple[DiscountRule, ...] = ()

    def __post_init__(self):
        if not (is_month(self.first_month) and is_month(self.last_month)) or self.last_month < self.first_month:
            raise ValueError("the range of months runs from a first month to a later or equal last month")
        for index, rate in enumerate(self.rates):
            for other in self.rates[index + 1 :]:
                if rate.programme == other.programme and windows_overlap(
                    rate.valid_from, rate.valid_to, other.valid_from, other.valid_to
                ):
                    raise ValueError(f"two {rate.programme} rates overlap from {other.valid_from:%Y-%m}")
        for index, table in enumerate(self.tables):
            for other in self.tables[index + 1 :]:
                if windows_overlap(table.valid_from, table.valid_to, other.valid_from, other.valid_to):
                    raise ValueError(f"two bracket tables overlap from {other.valid_from:%Y-%m}")
        for index, rule in enumerate(self.discounts):
            for other in self.discounts[index + 1 :]:
                if rule.competes_with(other):
                    raise ValueError(f"two discount rules overlap from {other.valid_from:%Y-%m}")

    def _check_month(self, month: date) -> date:
        if not isinstance(month, date):
            raise ValueError(f"a contribution month is a date, got {month!r}")
        month = month_start(month)
        if not self.first_month <= month <= self.last_month:
            raise ValueError(
                f"{month:%Y-%m} is outside the months these rules were loaded for "
                f"({self.first_month:%Y-%m} .. {self.last_month:%Y-%m})"
            )
        return month

    def in_force(self, month: date) -> TariffInForce:
        month = self._check_month(month)
        return TariffInForce(
            month=month,
            rates=tuple(
                sorted((r for r in self.rates if r.covers(month)), key=lambda r: list(Programme).index(r.programme))
            ),
            table=next((t for t in self.tables if t.covers(month)), None),
            discounts=tuple(d for d in self.discounts if d.covers(month)),
        )

    def amount_due(self, **query) -> AmountDue:
        return amount_due(self, **query)

    def amount_table(self, month: date) -> tuple[AmountRow, ...]:
        return amount_table(self, month)


def amount_due(
    rules: TariffRules,
    *,
    month: date,
    declared_income: int,
    sector: Sector | str,
    package: Package | str,
    source: FundingSource | str,
) -> AmountDue:
    """The amount due for one worker-month: contribution ``month`` (any day of it), the worker's ``declared_income``
    (whole rupiah, 0 or more), the occupation's policy ``sector``, the ``package`` and the funding ``source``.

    Raises ``ValueError`` for an input outside those sets and ``TariffNotInForce`` when no version of a programme of
    the package, or no bracket table, covers the month.
    """
    _whole(declared_income, "declared_income")
    sector, package, source = Sector(sector), Package(package), FundingSource(source)
    tariff = rules.in_force(month)
    programmes = PACKAGE_PROGRAMMES[package]
    rates = {p: tariff.rate(p) for p in programmes}
    missing = [p.value for p in programmes if rates[p] is None]
    if tariff.table is None:
        missing.append("brackets")
    if missing:
        raise TariffNotInForce(tariff.month, missing)

    bracket = tariff.table.bracket_for(declared_income)
    full: dict[Programme, int] = {}
    due: dict[Programme, int] = {}
    applied: dict[DiscountRule, list[Programme]] = {}
    for programme in programmes:
        rate = rates[programme]
        full[programme] = rate.amount(bracket.nominal)
        rule = next(
            (
                d
                for d in tariff.discounts
                if d.applies(month=tariff.month, sector=sector, source=source, programme=programme)
            ),
            None,
        )
        if rule is None:
            due[programme] = full[programme]
        else:
            due[programme] = rate.amount(bracket.nominal, rule.discount_bp)
            applied.setdefault(rule, []).append(programme)

    def part(amounts: dict[Programme, int], programme: Programme) -> int:
        return amounts.get(programme, 0)

    return AmountDue(
        month=tariff.month,
        declared_income=declared_income,
        sector=sector,
        package=package,
        source=source,
        bracket=bracket,
        income_in_bracket=bracket.holds(declared_income),
        jkk=part(due, Programme.JKK),
        jkm=part(due, Programme.JKM),
        jht=part(due, Programme.JHT),
        total=sum(due.values()),
        full_jkk=part(full, Programme.JKK),
        full_jkm=part(full, Programme.JKM),
        full_jht=part(full, Programme.JHT),
        full_total=sum(full.values()),
        discounts=tuple(AppliedDiscount(rule, tuple(ps)) for rule, ps in applied.items()),
    )


def amount_table(rules: TariffRules, month: date) -> tuple[AmountRow, ...]:
    """For one month, the price of every (income range, sector, package, source): a small table (brackets × 2 × 2 × 6
    rows) that set-based SQL joins workers against instead of pricing each one. Each row is ``amount_due`` at its
    range's lowest income, and the ranges cover every income from 0 without a gap (``effective_ranges``)."""
    tariff = rules.in_force(month)
    if tariff.table is None:
        raise TariffNotInForce(tariff.month, ["brackets"])
    rows = []
    for income_from, income_to, _bracket in tariff.table.effective_ranges():
        for sector in Sector:
            for package in Package:
                for source in FundingSource:
                    due = amount_due(
                        rules, month=tariff.month, declared_income=income_from, sector=sector, package=package,
                        source=source,
                    )  # fmt: skip
                    rows.append(
                        AmountRow(
                            income_from=income_from,
                            income_to=income_to,
                            sector=sector,
                            package=package,
                            source=source,
                            nominal=due.nominal,
                            jkk=due.jkk,
                            jkm=due.jkm,
                            jht=due.jht,
                            total=due.total,
                            discounted=due.discounted,
                        )
                    )
    return tuple(rows)


def ticket_for_every_sector(
    rules: TariffRules, month: date, *, package: Package | str = Package.JKK_JKM, source: FundingSource | str
) -> int:
    """The lowest bracket's price that covers a worker of any sector: the highest of the sectors' prices, so a
    discount counts only in the months every sector shares (for PP 50/2025: April to December 2026). Donation
    suggestions use it, because a donation does not know its worker's occupation yet."""
    tariff = rules.in_force(month)
    if tariff.table is None:
        raise TariffNotInForce(tariff.month, ["brackets"])
    lowest = tariff.table.brackets[0].income_from
    return max(
        amount_due(rules, month=tariff.month, declared_income=lowest, sector=s, package=package, source=source).total
        for s in Sector
    )
