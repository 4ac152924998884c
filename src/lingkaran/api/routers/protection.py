"""Protection endpoints. Tariffs: what is in force for a contribution month, and a quote (the amount due for one
worker-month, with its parts).

Both read through ``protection.selectors`` (``tariffs_in_force``, ``tariff_quote``), which require
``Capability.VIEW_TARIFFS`` (operators, finance officers, auditors), as the tariffs page does. Months are written
``YYYY-MM``; amounts are whole rupiah; rates and discounts are basis points (100 = 1 %).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from lingkaran.protection import selectors
from lingkaran.protection.domain import tariffs as rules

router = Router(tags=["protection"])

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Sector = Literal["transport", "other"]
PackageName = Literal["jkk_jkm", "jkk_jkm_jht"]
Source = Literal["apbn", "apbd", "csr", "zakat", "donation", "self"]


def _month(value: date | None) -> str | None:
    return None if value is None else f"{value:%Y-%m}"


class RateOut(Schema):
    programme: Literal["jkk", "jkm", "jht"]
    rate_bp: int | None = Field(..., description="Basis points of the bracket's nominal value (100 = 1 %).")
    flat_amount: int | None = Field(..., description="A flat amount in rupiah a month (JKM).")
    valid_from: str = Field(..., description="First contribution month, YYYY-MM.")
    valid_to: str | None = Field(..., description="Last contribution month, YYYY-MM; null while open.")
    regulation: str


class BracketOut(Schema):
    income_from: int
    income_to: int | None = Field(..., description="Inclusive; null for the top bracket with no upper end.")
    nominal: int = Field(..., description="The nominal value JKK and JHT are computed on, in rupiah.")


class BracketTableOut(Schema):
    valid_from: str
    valid_to: str | None
    regulation: str
    provisional: bool = Field(..., description="True for a table known to be incomplete (the seed of verified points).")
    brackets: list[BracketOut]


class DiscountOut(Schema):
    valid_from: str
    valid_to: str | None
    programmes: list[Literal["jkk", "jkm"]]
    discount_bp: int = Field(..., description="Basis points off the programme's price (5000 = 50 %).")
    sector: Literal["all", "transport", "other"]
    excluded_sources: list[Source] = Field(..., description="Funding sources that do not get the discount.")
    regulation: str


class TariffsOut(Schema):
    month: str
    rates: list[RateOut]
    brackets: BracketTableOut | None
    discounts: list[DiscountOut]


class TariffsQuery(Schema):
    month: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM; default: the current month.")


def _discount(rule: rules.DiscountRule) -> dict:
    return {
        "valid_from": _month(rule.valid_from),
        "valid_to": _month(rule.valid_to),
        "programmes": [p.value for p in rules.Programme if p in rule.programmes],
        "discount_bp": rule.discount_bp,
        "sector": rule.sector,
        "excluded_sources": [s.value for s in rules.FundingSource if s in rule.excluded_sources],
        "regulation": rule.regulation,
    }


def _bracket(bracket: rules.Bracket) -> dict:
    return {"income_from": bracket.income_from, "income_to": bracket.income_to, "nominal": bracket.nominal}


@router.get(
    "/tariffs",
    response=TariffsOut,
    summary="The tariffs in force for a contribution month: programme rates, the bracket table, discount windows",
)
def tariffs_in_force(request, query: Query[TariffsQuery]):
    month = rules.parse_month(query.month) if query.month else rules.month_start(timezone.localdate())
    tariff = selectors.tariffs_in_force(request.user, month=month)
    table = tariff.table
    return {
        "month": _month(tariff.month),
        "rates": [
            {
                "programme": rate.programme.value,
                "rate_bp": rate.rate_bp,
                "flat_amount": rate.flat_amount,
                "valid_from": _month(rate.valid_from),
                "valid_to": _month(rate.valid_to),
                "regulation": rate.regulation,
            }
            for rate in tariff.rates
        ],
        "brackets": None
        if table is None
        else {
            "valid_from": _month(table.valid_from),
            "valid_to": _month(table.valid_to),
            "regulation": table.regulation,
            "provisional": table.provisional,
            "brackets": [_bracket(b) for b in table.brackets],
        },
        "discounts": [_discount(rule) for rule in tariff.discounts],
    }


class QuoteIn(Schema):
    month: str = Field(..., pattern=MONTH_PATTERN, description="Contribution month, YYYY-MM.", examples=["2026-04"])
    declared_income: int = Field(..., ge=0, le=1_000_000_000_000, description="Declared monthly income in rupiah.")
    sector: Sector = Field(..., description="The occupation's policy sector.")
    package: PackageName
    source: Source = Field(..., description="Who pays: apbn, apbd, csr, zakat, donation (crowdfunding), self.")


class PartsOut(Schema):
    jkk: int
    jkm: int
    jht: int
    total: int


class AppliedDiscountOut(DiscountOut):
    applied_to: list[Literal["jkk", "jkm"]] = Field(..., description="The programmes of this quote it reduced.")


class QuoteOut(Schema):
    month: str
    declared_income: int
    sector: Sector
    package: PackageName
    source: Source
    bracket: BracketOut
    income_in_bracket: bool = Field(
        ..., description="False when the income lies in no bracket's range and the nearest bracket below was used."
    )
    jkk: int
    jkm: int
    jht: int = Field(..., description="0 for the JKK + JKM package.")
    total: int = Field(..., description="JKK + JKM + JHT, each rounded up to a whole rupiah once after its discount.")
    full: PartsOut = Field(..., description="The same without any discount.")
    discounted: bool
    discounts: list[AppliedDiscountOut]


def _quote(request, data: QuoteIn) -> dict:
    due = selectors.tariff_quote(
        request.user,
        month=rules.parse_month(data.month),
        declared_income=data.declared_income,
        sector=data.sector,
        package=data.package,
        source=data.source,
    )
    return {
        "month": _month(due.month),
        "declared_income": due.declared_income,
        "sector": due.sector.value,
        "package": due.package.value,
        "source": due.source.value,
        "bracket": _bracket(due.bracket),
        "income_in_bracket": due.income_in_bracket,
        "jkk": due.jkk,
        "jkm": due.jkm,
        "jht": due.jht,
        "total": due.total,
        "full": {"jkk": due.full_jkk, "jkm": due.full_jkm, "jht": due.full_jht, "total": due.full_total},
        "discounted": due.discounted,
        "discounts": [
            {**_discount(applied.rule), "applied_to": [p.value for p in applied.programmes]}
            for applied in due.discounts
        ],
    }


@router.get("/tariffs/quote", response=QuoteOut, summary="The amount due for one worker-month (query parameters)")
def tariff_quote_get(request, query: Query[QuoteIn]):
    return _quote(request, query)


@router.post("/tariffs/quote", response=QuoteOut, summary="The amount due for one worker-month (JSON body)")
def tariff_quote_post(request, payload: QuoteIn):
    return _quote(request, payload)
