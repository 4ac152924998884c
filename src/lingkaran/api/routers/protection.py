"""Protection endpoints. Tariffs: what is in force for a contribution month, and a quote (the amount due for one
worker-month, with its parts). Sponsorships: the list, a directed block, criteria runs of the allocation engine
(see the section at the end).

Both read through ``protection.selectors`` (``tariffs_in_force``, ``tariff_quote``), which require
``Capability.VIEW_TARIFFS`` (operators, finance officers, auditors), as the tariffs page does. Months are written
``YYYY-MM``; amounts are whole rupiah; rates and discounts are basis points (100 = 1 %).
"""

import re
from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.core.access import require
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import InvalidInput
from lingkaran.funding import accounts as funding_accounts
from lingkaran.funding import selectors as funding_selectors
from lingkaran.ledger.selectors import balance_of
from lingkaran.protection import selectors, sponsorships
from lingkaran.protection import selectors_sponsorships as sponsorship_reads
from lingkaran.protection.domain import allocation as engine
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


# --- Sponsorships and allocation runs -------------------------------------------------------------------------------
#
# Reads go through ``protection.selectors_sponsorships``: operators and finance officers see every sponsorship, a
# funder user (or its token) only its own funder's, other roles get 403. Writes (``sponsor_directed``,
# ``allocation_run``) need ``manage_sponsorships`` (operators, finance). Workers are identified by id and masked NIK.

SponsorshipKindName = Literal["directed", "criteria", "pooled"]
SponsorshipStateName = Literal["active", "completed", "stopped"]
Indicator = Literal["disability", "elderly", "female_head", "extreme_poverty"]


class SponsoredMonthOut(Schema):
    month: str
    amount: int = Field(..., description="What this worker-month costs at the month's tariff, in rupiah.")
    state: Literal["reserved", "paid", "rejected", "released"]


class CoFundingShareOut(Schema):
    position: int
    funder_id: int | None
    share_bp: int = Field(..., description="This funder's part of every month, in basis points (6000 = 60 %).")
    total: int = Field(..., description="This funder's part of the whole block, in rupiah.")


class CoFundingOut(Schema):
    id: int
    priced_as: Source = Field(..., description="The funding source every month is priced at (APBN/APBD: no discount).")
    total: int
    shares: list[CoFundingShareOut]

    @staticmethod
    def resolve_priced_as(obj) -> str:
        return obj.source

    @staticmethod
    def resolve_shares(obj) -> list[dict]:
        return [
            {"position": s.position, "funder_id": s.funder_id, "share_bp": s.share_bp, "total": s.total}
            for s in obj.shares.all()
        ]


class SponsorshipOut(Schema):
    id: int
    worker_id: int
    worker_nik_masked: str
    funder_id: int | None
    kind: SponsorshipKindName
    source: Source
    package: PackageName
    start_month: str
    months: int
    total: int = Field(..., description="The whole block reserved, in rupiah.")
    state: SponsorshipStateName
    cofunding: CoFundingOut | None = Field(
        None, description="The co-funding split this sponsorship is one share of; its months then show this share."
    )
    worker_months: list[SponsoredMonthOut]

    @staticmethod
    def resolve_worker_nik_masked(obj) -> str:
        return obj.worker.nik_masked

    @staticmethod
    def resolve_start_month(obj) -> str:
        return _month(obj.start_month)

    @staticmethod
    def resolve_worker_months(obj) -> list[dict]:
        if obj.cofunding_id:
            parts = sorted(obj.share_months.all(), key=lambda p: p.sponsored_month.month)
            return [
                {"month": _month(p.sponsored_month.month), "amount": p.amount, "state": p.sponsored_month.state}
                for p in parts
            ]
        return [{"month": _month(m.month), "amount": m.amount, "state": m.state} for m in obj.worker_months.all()]


class SponsorshipQuery(Schema):
    funder_id: int | None = Field(None, description="Only this funder's (a funder user sees only its own anyway).")
    kind: SponsorshipKindName | None = None
    state: SponsorshipStateName | None = None
    month: str | None = Field(None, pattern=MONTH_PATTERN, description="Only blocks that cover this month, YYYY-MM.")


@router.get(
    "/sponsorships",
    response=list[SponsorshipOut],
    summary="Sponsorships the caller may see, newest block first (a funder's token: its own funder's only)",
)
@paginate(LimitOffset)
def sponsorship_list(request, filters: Query[SponsorshipQuery]):
    rows = sponsorship_reads.sponsorships_filtered(
        request.user,
        sponsorship_reads.SponsorshipFilter(
            funder_id=filters.funder_id,
            kind=filters.kind or "",
            state=filters.state or "",
            month=rules.parse_month(filters.month) if filters.month else None,
        ),
    )
    return rows


class CoFundIn(Schema):
    funder_id: int
    share_bp: int = Field(..., ge=100, le=9900, description="This funder's part of every month, in basis points.")


class DirectedIn(Schema):
    funder_id: int
    worker_ids: list[int] = Field(..., min_length=1, max_length=1000, description="Verified workers to sponsor.")
    start: str = Field(..., pattern=MONTH_PATTERN, description="First contribution month, YYYY-MM.")
    months: int = Field(..., ge=1, le=60)
    package: PackageName
    cofund_with: list[CoFundIn] = Field(
        [],
        max_length=4,
        description=(
            "Co-funding: other funders and their shares; `funder_id` pays the rest. Every month is then split "
            "between them and each share is reserved from its own pool (all or nothing)."
        ),
    )


@router.post(
    "/sponsorships/directed",
    response={201: list[SponsorshipOut]},
    summary="A funder pays for named verified workers for a block of months, reserved now (all or nothing)",
    description=(
        "Errors: `pool_insufficient` (409, `details.available`, `details.needed`), `sponsorship_refused` (422, "
        "`details.not_verified`, `details.refused`: worker id → reason codes), `worker_month_taken` (409), "
        "`tariff_not_in_force` (422), `forbidden` (403), `not_found` (404, an unknown funder). Sending the same body "
        "again returns the same sponsorships and reserves nothing more. With `cofund_with`: one sponsorship per "
        "share and worker; `cofunding_invalid` (422, `details.reason`) when the shares are no split, and "
        "`pool_insufficient` lists every short pool in `details.pools`."
    ),
)
def sponsorship_directed(request, payload: DirectedIn):
    require(request.user, Capability.MANAGE_SPONSORSHIPS)
    funder = funding_selectors.funder_for(request.user, payload.funder_id)
    cofund_with = [
        sponsorships.ShareSpec(funding_selectors.funder_for(request.user, share.funder_id), share.share_bp)
        for share in payload.cofund_with
    ]
    rows = sponsorships.sponsor_directed(
        funder=funder,
        worker_ids=payload.worker_ids,
        start=rules.parse_month(payload.start),
        months=payload.months,
        package=payload.package,
        by=request.user,
        cofund_with=cofund_with,
    )
    ids = [row.pk for row in rows]
    fresh = (
        sponsorship_reads.sponsorships_visible_to(request.user)
        .filter(pk__in=ids)
        .prefetch_related("worker_months", "share_months__sponsored_month", "cofunding__shares")
    )
    return Status(201, list(fresh.order_by("pk")))


# A list of NIKs (CSV or XLSX) for a directed block: the row report, and with ``commit`` the reservation
# (``protection.selectors_nik_list``, ``protection.nik_lists``; docs/subsystems/protection-sponsorships.md).

ListOutcome = Literal["matched", "not_found", "not_verified", "not_payable", "duplicate", "malformed"]


class NikListRowOut(Schema):
    row: int = Field(..., description="The row number in the spreadsheet (1-based, as Excel shows it).")
    outcome: ListOutcome
    nik_masked: str = Field(..., description="The NIK masked; empty for a malformed NIK.")
    worker_id: int | None
    region_code: str
    reasons: list[str] = Field(
        ..., description="malformed: the NIK problem (`nik_number`, `nik_scientific`, …); not_payable: refusal codes."
    )
    first_row: int | None = Field(None, description="duplicate: the row that holds this NIK first.")
    name_differs: bool = Field(..., description="matched, but the file's name is not the registered name.")
    message: str = Field(..., description="Why the row is left out (or the warning), in the request's language.")


class NikListMonthOut(Schema):
    month: str
    total: int


class NikListOut(Schema):
    file_format: Literal["csv", "xlsx"]
    header_row: int = Field(..., description="The header's row number; 0 when the list has no header.")
    nik_column: str
    counts: dict[str, int] = Field(..., description="Rows per outcome.")
    complete: bool = Field(..., description="Every row matched (or repeats a matched row).")
    replayed: bool = Field(..., description="These workers and this block were already reserved from this list.")
    matched_worker_ids: list[int]
    total: int = Field(..., description="The whole block for the matched workers, at each month's tariff.")
    available: int = Field(..., description="The funder's pool balance.")
    months: list[NikListMonthOut]
    committed: bool
    rows: list[NikListRowOut]
    sponsorships: list[SponsorshipOut]


def _nik_list_rows(report) -> list[dict]:
    from lingkaran.protection.nik_list_messages import row_note

    return [
        {
            "row": r.number, "outcome": r.outcome, "nik_masked": r.nik_masked, "worker_id": r.worker_id,
            "region_code": r.region_code, "reasons": list(r.reasons), "first_row": r.first_row,
            "name_differs": r.name_differs, "message": row_note(r),
        }
        for r in report.rows
    ]  # fmt: skip


@router.post(
    "/sponsorships/directed/upload",
    response={200: NikListOut, 201: NikListOut},
    summary="A list of NIKs (CSV or XLSX) for a directed block: the row report, and with commit=true the reservation",
    description=(
        "Multipart: `file` (CSV or XLSX, at most 2 MB and 5,000 rows; a column of NIKs under a header such as `nik` "
        "or `no_ktp`, optionally names), `funder_id`, `start` (YYYY-MM), `months`, `package`, `commit` (default "
        "false), `accept_partial` (default false). Without `commit` nothing is written: 200 with every row's "
        "outcome and the block's cost for the matched workers. With `commit=true`: 201 and the sponsorships, "
        "reserved through the directed way in (all or nothing over the matched workers; the same list again "
        "reserves nothing more and returns the same sponsorships). A list with rows that did not match is "
        "`nik_list_incomplete` (422, `details.counts`, `details.rows`) unless `accept_partial=true`, which reserves "
        "the matched workers only. Errors: `nik_list_refused` (422, `details.reason`), `pool_insufficient` (409), "
        "`worker_month_taken` (409), `tariff_not_in_force` (422), `forbidden` (403), `not_found` (404, a funder the "
        "caller may not see)."
    ),
)
def sponsorship_directed_upload(
    request,
    file: File[UploadedFile],
    funder_id: Form[int],
    start: Form[str],
    months: Form[int],
    package: Form[PackageName],
    commit: Form[bool] = False,
    accept_partial: Form[bool] = False,
):
    from lingkaran.protection import nik_lists
    from lingkaran.protection import selectors_nik_list as list_reads
    from lingkaran.protection.domain import nik_list as list_rules
    from lingkaran.protection.errors import NikListRefused

    require(request.user, Capability.MANAGE_SPONSORSHIPS)
    first = rules.parse_month(start) if re.fullmatch(MONTH_PATTERN, start or "") else None
    problems = {}
    if first is None:
        problems["start"] = [_("Write the month as YYYY-MM, for example 2026-04.")]
    if not 1 <= months <= 60:
        problems["months"] = [_("Give 1 to 60 months.")]
    if problems:
        raise InvalidInput(details={"fields": problems})
    funder = funding_selectors.funder_for(request.user, funder_id)
    if file.size > list_rules.MAX_BYTES:
        raise NikListRefused(details={"reason": "file_too_large", "limit_mb": list_rules.MAX_BYTES // (1024 * 1024)})
    report = list_reads.nik_list_check(
        request.user, funder=funder, content=file.read(), file_name=file.name or "", start=first, months=months,
        package=package,
    )  # fmt: skip
    rows = _nik_list_rows(report)
    preview = None
    if report.worker_ids and not report.replayed:
        preview = sponsorship_reads.directed_preview(
            request.user, funder=funder, worker_ids=report.worker_ids, start=first, months=months, package=package
        )
    body = {
        "file_format": report.file_format, "header_row": report.header_row, "nik_column": report.nik_column,
        "counts": report.counts, "complete": report.complete, "replayed": report.replayed,
        "matched_worker_ids": report.worker_ids, "total": preview.total if preview else 0,
        "available": balance_of(funding_accounts.funder_pool(funder.pk)),
        "months": [{"month": _month(m.month), "total": m.total} for m in preview.months] if preview else [],
        "committed": False, "rows": rows, "sponsorships": [],
    }  # fmt: skip
    if not commit:
        return Status(200, body)
    done = nik_lists.nik_list_sponsor(
        funder=funder, summary=nik_lists.ListSummary.of(report), start=first, months=months, package=package,
        by=request.user, accept_partial=accept_partial, blocking_rows=[r for r in rows if r["outcome"] != "matched"],
    )  # fmt: skip
    fresh = (
        sponsorship_reads.sponsorships_visible_to(request.user)
        .filter(pk__in=[row.pk for row in done])
        .prefetch_related("worker_months", "share_months__sponsored_month", "cofunding__shares")
    )
    body.update(committed=True, sponsorships=list(fresh.order_by("pk")))
    return Status(201, body)


class CriteriaIn(Schema):
    key: str = Field(..., min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:-]+$",
                     description="The request's own key: committing the same key again reserves nothing more.")  # fmt: skip
    funder_id: int
    regions: list[str] = Field([], description="Region codes at any level; empty = anywhere.")
    occupations: list[str] = []
    sectors: list[Sector] = []
    sex: Literal["M", "F"] | None = None
    max_decile: int | None = Field(None, ge=1, le=10)
    indicators: list[Indicator] = Field([], description="Every one of these must hold.")
    workers: int | None = Field(None, ge=1, le=1_000_000, description="How many workers; or give `budget`.")
    budget: int | None = Field(None, ge=1, description="Rupiah to spend on whole blocks; or give `workers`.")
    start: str = Field(..., pattern=MONTH_PATTERN)
    months: int = Field(..., ge=1, le=60)
    package: PackageName


class AllocationRunIn(Schema):
    requests: list[CriteriaIn] = Field(..., min_length=1, max_length=1000)
    commit: bool = Field(False, description="False: a preview, kept and reserving nothing. True: reserve the picks.")


class PickOut(Schema):
    worker_id: int
    rank: int = Field(..., description="1 = the highest priority among all candidates.")
    score: int
    cost: int = Field(..., description="The whole block at each month's tariff, in rupiah.")


class OutcomeOut(Schema):
    request_key: str
    spent: int
    shortfall: int = Field(..., description="Workers not found (count mode) or budget left (budget mode).")
    picks: list[PickOut]


class AllocationRunOut(Schema):
    id: int
    state: Literal["preview", "committed"]
    as_of: date
    inputs_sha256: str = Field(..., description="Same inputs, same fingerprint: a preview and its commit compare.")
    created_at: datetime
    committed_at: datetime | None
    requests: list[dict]
    outcomes: list[OutcomeOut]


def _run(run) -> dict:
    return {
        "id": run.pk,
        "state": run.state,
        "as_of": run.as_of,
        "inputs_sha256": run.inputs_sha256,
        "created_at": run.created_at,
        "committed_at": run.committed_at,
        "requests": run.parameters.get("requests", []),
        "outcomes": [
            {
                "request_key": key,
                "spent": outcome["spent"],
                "shortfall": outcome["shortfall"],
                "picks": [{"worker_id": w, "rank": r, "score": s, "cost": c} for w, r, s, c in outcome["picked"]],
            }
            for key, outcome in sorted(run.summary.items())
        ],
    }


@router.post(
    "/allocation-runs",
    response={201: AllocationRunOut},
    summary="Run the allocation engine for criteria requests: a preview, or a commit that reserves the picks",
    description=(
        "Errors: `invalid_input` (422: both or neither of `workers` and `budget`, a key used twice), "
        "`pool_insufficient` (409), `worker_month_taken` (409), `tariff_not_in_force` (422), `forbidden` (403), "
        "`not_found` (404, an unknown funder)."
    ),
)
def allocation_run_create(request, payload: AllocationRunIn):
    require(request.user, Capability.MANAGE_SPONSORSHIPS)
    fields: dict[str, list[str]] = {}
    keys = [r.key for r in payload.requests]
    for index, spec in enumerate(payload.requests):
        if (spec.workers is None) == (spec.budget is None):
            fields[f"requests.{index}.workers"] = [_("Give a number of workers or a budget, not both.")]
        if keys.count(spec.key) > 1:
            fields[f"requests.{index}.key"] = [_("Each request needs its own key.")]
        funding_selectors.funder_for(request.user, spec.funder_id)
    if fields:
        raise InvalidInput(details={"fields": fields})
    specs = [
        sponsorships.CriteriaRequest(
            key=spec.key,
            funder_id=spec.funder_id,
            criteria=engine.Criteria(
                regions=tuple(spec.regions),
                occupations=tuple(spec.occupations),
                sectors=tuple(spec.sectors),
                sex=spec.sex,
                max_decile=spec.max_decile,
                indicators=frozenset(spec.indicators),
            ),
            start=rules.parse_month(spec.start),
            months=spec.months,
            package=spec.package,
            workers=spec.workers,
            budget=spec.budget,
        )
        for spec in payload.requests
    ]
    run = sponsorships.allocation_run(
        requests=specs, as_of=timezone.localdate(), by=request.user, commit=payload.commit
    )
    return Status(201, _run(run))


@router.get("/allocation-runs/{run_id}", response=AllocationRunOut, summary="One allocation run with its picks")
def allocation_run_detail(request, run_id: int):
    return _run(sponsorship_reads.run_for(request.user, run_id))


# --- Coverage: the public self-service status check (docs/subsystems/protection-coverage.md) -------------------------


class CoverageCheckIn(Schema):
    nik: str = Field(min_length=16, max_length=32, description="The worker's 16-digit NIK (spaces and dots allowed).")
    birth_date: date = Field(description="The birth date on the KTP, YYYY-MM-DD.")


class CoverageCheckOut(Schema):
    status: Literal["active", "reactivated", "grace", "ended", "inactive", "not_started", "no_match"] = Field(
        description="`no_match` for an unknown NIK and for a wrong birth date alike."
    )
    headline: str
    next_step: str
    protected_through: str | None = Field(None, description="YYYY-MM: the last protected month.")
    pay_before: date | None = Field(None, description="In grace: pay the arrears before this date.")


@router.post(
    "/coverage/check",
    auth=None,
    response={200: CoverageCheckOut},
    summary="Self-service protection check by NIK and birth date (public, rate-limited)",
    description=(
        "Answers protection dates and the next step only: never a name, contact, funder or amount. The same answer "
        "for an unknown NIK and a wrong birth date. At most 5 tries per 10 minutes per client address and per NIK; "
        "beyond that `429` with code `rate_limited`. Each check is audited without the NIK."
    ),
)
def coverage_check(request, payload: CoverageCheckIn):
    import time

    from lingkaran.api.errors import problem
    from lingkaran.protection import coverage as coverage_reads
    from lingkaran.registry.domain.nik import normalise_nik

    digits = normalise_nik(payload.nik)
    if not (digits.isdigit() and len(digits) == 16):
        raise InvalidInput(details={"fields": {"nik": [_("Enter the 16 digits of the NIK.")]}})
    answer = coverage_reads.self_service_check(digits, payload.birth_date, today=timezone.localdate(), now=time.time())
    if answer.status == "limited":
        response = problem(request, status=429, code="rate_limited", title=answer.headline)
        response["Retry-After"] = str(coverage_reads.CHECK_WINDOW_SECONDS)
        return response
    return CoverageCheckOut(
        status=answer.status,
        headline=answer.headline,
        next_step=answer.next_step,
        protected_through=_month(answer.protected_through),
        pay_before=answer.pay_before,
    )


# --- The monthly contribution cycle (docs/subsystems/protection-cycle.md, docs/api.md "Cycles") ---------------------
# Reads go through ``protection.reconciliation`` as the /cycles/ pages do: money staff (``view_money``: operators,
# finance, auditors); other roles, funders included, get 403. Running a month is finance's (``manage_money``) and calls
# ``protection.cycle.cycle_run``, the service the page and ``lingkaran cycle run`` call. Workers appear masked.

CycleStateName = Literal["running", "submitted", "done"]
ChunkStateName = Literal["billed", "submitted", "answered", "posted"]
LineStateName = Literal["due", "submitted", "confirmed", "rejected"]


def _cycle_month(text: str) -> date:
    from lingkaran.protection.domain import cycle as cycle_rules

    month = cycle_rules.parse_month(text)
    if month is None:
        raise InvalidInput(details={"fields": {"month": [_("Write the month as YYYY-MM, for example 2027-04.")]}})
    return month


class CycleFields(Schema):
    month: str = Field(..., description="The contribution month, YYYY-MM.")
    state: CycleStateName = Field(..., description="`submitted`: some lines still wait for the agency's answer.")
    lines: int
    total: int = Field(..., description="Rupiah billed.")
    confirmed: int
    confirmed_amount: int
    rejected: int
    rejected_amount: int
    started_at: datetime
    finished_at: datetime | None


class CycleOut(CycleFields):
    @staticmethod
    def resolve_month(obj) -> str:
        return _month(obj.month)

    @staticmethod
    def resolve_lines(obj) -> int:
        return obj.line_count

    @staticmethod
    def resolve_total(obj) -> int:
        return obj.total_amount

    @staticmethod
    def resolve_confirmed(obj) -> int:
        return obj.confirmed_count

    @staticmethod
    def resolve_rejected(obj) -> int:
        return obj.rejected_count


class CycleChunkOut(Schema):
    province: str = Field(..., description="Two-digit province code: one chunk and one agency payment batch each.")
    pass_number: int = Field(
        1, description="1 for the month's first run; 2, 3 … for later passes (late reservations, resubmissions)."
    )
    state: ChunkStateName
    lines: int
    total: int
    confirmed_amount: int
    rejected_amount: int
    posted_at: datetime | None


class RejectionReasonOut(Schema):
    code: str = Field(..., description="The stable reason code (see docs/subsystems/agency.md).")
    text: str = Field(..., description="The reason in words, in the request's language.")
    lines: int


class CycleDetailOut(CycleFields):
    held_back: int = Field(..., description="Reserved worker-months of the month that no line bills yet.")
    short: int = Field(
        0, description="Of those: held back because a tariff change raised their price and the pool cannot pay it."
    )
    chunks: list[CycleChunkOut]
    rejection_reasons: list[RejectionReasonOut]


def _cycle_detail(month: date) -> dict:
    from lingkaran.protection import reconciliation as recon
    from lingkaran.protection.agency import messages as agency_words
    from lingkaran.protection.cycle import cycle_summary

    cycle = recon.cycle_for(month)
    summary = cycle_summary(month)
    return {
        "month": _month(cycle.month),
        **{name: getattr(cycle, name) for name in ("state", "started_at", "finished_at")},
        "lines": cycle.line_count,
        "total": cycle.total_amount,
        "confirmed": cycle.confirmed_count,
        "confirmed_amount": cycle.confirmed_amount,
        "rejected": cycle.rejected_count,
        "rejected_amount": cycle.rejected_amount,
        "held_back": summary.held_back,
        "short": summary.short,
        "chunks": [
            {
                "province": chunk.province,
                "pass_number": chunk.pass_number,
                "state": chunk.state,
                "lines": chunk.line_count,
                "total": chunk.total_amount,
                "confirmed_amount": chunk.confirmed_amount,
                "rejected_amount": chunk.rejected_amount,
                "posted_at": chunk.posted_at,
            }
            for chunk in sorted(cycle.chunks.all(), key=lambda c: (c.province, c.pass_number))
        ],
        "rejection_reasons": [
            {"code": code, "text": agency_words.reason_text(code), "lines": count}
            for code, count in recon.line_reasons(month)
        ],
    }


@router.get(
    "/cycles",
    response=list[CycleOut],
    summary="Every monthly cycle, the latest month first (money staff)",
)
@paginate(LimitOffset)
def cycle_list(request):
    from lingkaran.protection import reconciliation as recon

    recon.require_read(request.user)
    return recon.cycles()


@router.get(
    "/cycles/{month}",
    response=CycleDetailOut,
    summary="One month's cycle: state, totals, each province's chunk, lines per rejection reason",
    description="Errors: `invalid_input` (422, a month not written YYYY-MM), `not_found` (404, no cycle for the "
    "month yet), `forbidden` (403).",
)
def cycle_detail(request, month: str):
    from lingkaran.protection import reconciliation as recon

    recon.require_read(request.user)
    return _cycle_detail(_cycle_month(month))


@router.post(
    "/cycles/{month}/run",
    response=CycleDetailOut,
    summary="Run (or complete) the cycle of a contribution month: bill, pay the agency, post the ledger (finance)",
    description=(
        "The service the /cycles/ page and `lingkaran cycle run` call: idempotent (running a month again bills "
        "nothing twice and finishes what an interrupted run left) and one run per month at a time. Answers the "
        "month as `GET /cycles/{month}` does. Errors: `forbidden` (403, without `manage_money`), `invalid_input` "
        "(422), `cycle_nothing_due` (422, no reserved worker-month in that month), `tariff_not_in_force` (422), "
        "`cycle_running` (409, another run of the month holds it), `cycle_ledger_mismatch` (409)."
    ),
)
def cycle_run_month(request, month: str):
    from lingkaran.protection import reconciliation as recon
    from lingkaran.protection.cycle import cycle_run

    require(request.user, recon.RUN)
    when = _cycle_month(month)
    cycle_run(month=when, actor=request.user, today=timezone.localdate())
    return _cycle_detail(when)


class CycleLineOut(Schema):
    id: int
    worker_id: int
    worker_nik_masked: str
    province: str
    month: str
    amount: int
    kind: Literal["sponsored", "co_paid", "bridged", "self"]
    funding_source: Source
    funder_id: int | None
    funder_name: str
    state: LineStateName
    reason: str = Field(..., description="The rejection reason code, or empty.")
    reason_text: str = Field(..., description="The reason in words (with the agency's own words), or empty.")
    agency_reference: str

    @staticmethod
    def resolve_worker_nik_masked(obj) -> str:
        return obj.worker.nik_masked

    @staticmethod
    def resolve_province(obj) -> str:
        return obj.chunk.province

    @staticmethod
    def resolve_month(obj) -> str:
        return _month(obj.month)

    @staticmethod
    def resolve_funder_id(obj) -> int | None:
        return obj.sponsorship.funder_id if obj.sponsorship else None

    @staticmethod
    def resolve_funder_name(obj) -> str:
        return obj.sponsorship.funder.name if obj.sponsorship and obj.sponsorship.funder else ""

    @staticmethod
    def resolve_reason_text(obj) -> str:
        from lingkaran.protection.agency import messages as agency_words

        return agency_words.reason_text(obj.reason, obj.reason_text) if obj.reason else ""


class CycleLineQuery(Schema):
    state: LineStateName | None = None
    province: str | None = Field(None, pattern=r"^[0-9]{2}$", description="Two-digit province code.")
    reason: str | None = Field(None, max_length=40, description="A rejection reason code.")


@router.get(
    "/cycles/{month}/lines",
    response=list[CycleLineOut],
    summary="A month's contribution lines (workers masked), by province then line, with filters",
)
@paginate(LimitOffset)
def cycle_lines(request, month: str, filters: Query[CycleLineQuery]):
    from lingkaran.protection import reconciliation as recon

    recon.require_read(request.user)
    when = _cycle_month(month)
    recon.cycle_for(when)  # 404 before an empty page
    return recon.cycle_lines(
        when, recon.LineFilter(state=filters.state or "", province=filters.province or "", reason=filters.reason or "")
    )


# --- Reconciliation (docs/subsystems/protection-reconciliation.md) --------------------------------------------------
# The exceptions of a month as the /cycles/<month>/reconciliation/ page shows them, and an action about one: reading
# is money staff's (``view_money``); recording an action is operators' and finance's (``manage_sponsorships``).

ExceptionKind = Literal["paid_inactive", "active_unpaid", "rejected"]
ExceptionActionName = Literal["resubmit", "escalate", "resolve"]


class ReconciliationActionOut(Schema):
    action: ExceptionActionName
    note: str
    recorded_by: str = Field(..., description="The username of who recorded it.")
    recorded_at: datetime

    @staticmethod
    def resolve_recorded_by(obj) -> str:
        return obj.created_by.username if obj.created_by else ""

    @staticmethod
    def resolve_recorded_at(obj) -> datetime:
        return obj.created_at


class ReconExceptionOut(Schema):
    kind: ExceptionKind
    state: Literal["open", "resolved"]
    worker_id: int
    worker_nik_masked: str
    month: str
    amount: int = Field(..., description="Rupiah of the line (0 for `active_unpaid`: we paid nothing).")
    funder: str = Field(..., description="Who paid the line; every funder of a co-funding split, joined by ' + '.")
    line_id: int | None
    reason: str = Field(..., description="`rejected`: the agency's reason code.")
    reason_text: str = Field(..., description="`rejected`: the reason in words, in the request's language.")
    ledger_key: str = Field(..., description="`rejected`: the key of the entry that returned the money to its pool.")
    ledger_posted: bool
    agency_state: str = Field(..., description="The agency's latest membership state of the worker, if known.")
    agency_last_paid: str | None = Field(..., description="The last month the agency shows paid, YYYY-MM.")
    actions: list[ReconciliationActionOut]

    @staticmethod
    def resolve_worker_nik_masked(obj) -> str:
        return obj.worker_masked

    @staticmethod
    def resolve_month(obj) -> str:
        return _month(obj.month)

    @staticmethod
    def resolve_reason_text(obj) -> str:
        from lingkaran.protection.agency import messages as agency_words

        return agency_words.reason_text(obj.reason, obj.reason_text) if obj.reason else ""

    @staticmethod
    def resolve_agency_last_paid(obj) -> str | None:
        return _month(obj.agency_last_paid) if obj.agency_last_paid else None


class ExceptionQuery(Schema):
    state: Literal["open", "resolved", "all"] = "all"
    kind: ExceptionKind | None = None


class ExceptionActionIn(Schema):
    kind: ExceptionKind
    worker_id: int
    action: ExceptionActionName
    note: str = Field("", max_length=500, description="Required to resolve.")


class ExceptionActionOut(ReconciliationActionOut):
    created: bool = Field(..., description="False: the same action was recorded before; nothing was written.")


@router.get(
    "/cycles/{month}/exceptions",
    response=list[ReconExceptionOut],
    summary="A month's reconciliation exceptions: paid but inactive, active but unpaid, rejected (money staff)",
    description="In worker order, each with the actions recorded about it. Errors: `invalid_input` (422), "
    "`not_found` (404, no cycle for the month), `forbidden` (403).",
)
@paginate(LimitOffset)
def cycle_exceptions(request, month: str, filters: Query[ExceptionQuery]):
    from lingkaran.protection import reconciliation as recon

    recon.require_read(request.user)
    when = _cycle_month(month)
    recon.cycle_for(when)
    return [
        item
        for item in recon.exceptions_for_month(when)
        if (filters.state == "all" or item.state == filters.state) and (not filters.kind or item.kind == filters.kind)
    ]


@router.post(
    "/cycles/{month}/exceptions/actions",
    response={200: ExceptionActionOut, 201: ExceptionActionOut},
    summary="Record an action about one exception: resubmit, escalate, resolve (operators, finance)",
    description="The service the reconciliation page calls: append-only, once per exception and action (the same "
    "action again answers 200 with the first record). `resubmit` bills a rejected line again in the month's next "
    "run. Errors: `forbidden` (403), `invalid_input` (422), `reconciliation_note_required` (422, resolve without a "
    "note), `reconciliation_not_found` (404, no such exception now), `reconciliation_resolved` (409).",
)
def cycle_exception_act(request, month: str, payload: ExceptionActionIn):
    from lingkaran.protection import reconciliation as recon

    when = _cycle_month(month)
    row, created = recon.exception_act(
        actor=request.user,
        kind=payload.kind,
        worker_id=payload.worker_id,
        month=when,
        action=payload.action,
        note=payload.note,
    )
    row.created = created
    return (201 if created else 200), row


# --- The funder view (issue #5 item 9) -------------------------------------------------------------------------------
# Reads go through ``protection.selectors_funder``, as the pages do: operators, finance officers and auditors see any
# funder; a funder user (or its token) only its own (another funder: 404); other roles 403. A donation's trace is open
# to its donor, its funder's users and those staff. Workers appear as a masked NIK and a kabupaten/kota code only.
# Attribution of pooled money: first in, first out (docs/subsystems/protection-funder-view.md).

WorkerMonthState = Literal["reserved", "paid", "rejected", "released"]


class StateFiguresOut(Schema):
    months: int
    amount: int = Field(..., description="Rupiah.")


class FunderLedgerOut(Schema):
    received: int = Field(..., description="Money into the funder's pools (and its campaigns'), net of refunds.")
    held_in_reserve: int = Field(..., description="Balance of the pools' reserved accounts (`liability:reserved:…`).")
    available: int = Field(..., description="Balance of the pools (`liability:pool:…`).")
    reserve_ties: bool = Field(..., description="The reserved worker-months add up to `held_in_reserve`.")


class MonthFiguresOut(Schema):
    month: str
    reserved: StateFiguresOut
    paid: StateFiguresOut
    rejected: StateFiguresOut
    released: StateFiguresOut


class BlockEndingOut(Schema):
    sponsorship_id: int
    worker_id: int
    worker_nik_masked: str
    regency_code: str = Field(..., description="The worker's kabupaten/kota (Kemendagri code), never the village.")
    start_month: str
    last_month: str
    renewed: bool = Field(..., description="The worker already has a later month reserved or paid.")


class FunderProtectionOut(Schema):
    funder_id: int
    funder_name: str
    as_of: date
    worker_months: dict[Literal["reserved", "paid", "rejected", "released", "funded"], StateFiguresOut]
    workers_funded: int = Field(..., description="Workers with at least one month reserved or paid.")
    workers_protected_now: int = Field(..., description="Workers with a paid month equal to the month of `as_of`.")
    latest_paid_month: str | None
    workers_in_latest_paid_month: int
    blocks_ending_count: int = Field(..., description="Blocks whose last month ends within 60 days of `as_of`.")
    blocks_ending: list[BlockEndingOut] = Field(..., description="The first 100 of them, soonest first.")
    ledger: FunderLedgerOut
    months: list[MonthFiguresOut] = Field(..., description="Per contribution month, from the first funded to the last.")


class AsOfQuery(Schema):
    on: date | None = Field(None, description="Figures as of this day (default: today).")


def _figures(figures) -> dict:
    return {"months": figures.months, "amount": figures.amount}


@router.get(
    "/funders/{funder_id}/protection",
    response=FunderProtectionOut,
    summary="A funder's protection: worker-months by state, workers protected now, blocks ending, reserved vs paid",
)
def funder_protection(request, funder_id: int, query: Query[AsOfQuery]):
    from lingkaran.protection import selectors_funder as funder_reads

    scope = funder_reads.funder_scope(request.user, funder_id)
    today = query.on or timezone.localdate()
    s = funder_reads.summary(scope, today=today)
    ending = list(funder_reads.blocks_ending(scope, today=today)[:100])
    return {
        "funder_id": scope.funder.pk,
        "funder_name": scope.funder.name,
        "as_of": today,
        "worker_months": {
            "reserved": _figures(s.reserved),
            "paid": _figures(s.paid),
            "rejected": _figures(s.rejected),
            "released": _figures(s.released),
            "funded": _figures(s.funded),
        },
        "workers_funded": s.workers_funded,
        "workers_protected_now": s.workers_protected_now,
        "latest_paid_month": _month(s.latest_paid_month),
        "workers_in_latest_paid_month": s.workers_in_latest_paid_month,
        "blocks_ending_count": s.blocks_ending,
        "blocks_ending": [
            {
                "sponsorship_id": b.pk,
                "worker_id": b.worker_id,
                "worker_nik_masked": b.worker.nik_masked,
                "regency_code": b.regency or "",
                "start_month": _month(b.start_month),
                "last_month": _month(b.last_month),
                "renewed": b.renewed,
            }
            for b in ending
        ],
        "ledger": {
            "received": s.ledger.received,
            "held_in_reserve": s.ledger.held_in_reserve,
            "available": s.ledger.available,
            "reserve_ties": s.reserve_ties,
        },
        "months": [
            {"month": _month(p.month), **{state: _figures(f) for state, f in p.by_state.items()}}
            for p in funder_reads.monthly_series(scope)
        ],
    }


class CoveredMonthOut(Schema):
    month: str
    state: WorkerMonthState
    amount: int


class CoveredWorkerOut(Schema):
    worker_id: int
    worker_nik_masked: str
    regency_code: str
    first_month: str
    last_month: str
    months_paid: int
    months_reserved: int
    amount_paid: int
    amount_reserved: int
    protected_now: bool
    months: list[CoveredMonthOut] = Field(..., description="Every month of the worker funded by this funder.")


class CoveredWorkersPage(Schema):
    items: list[CoveredWorkerOut]
    count: int
    limit: int
    offset: int
    next: int | None


class PageQuery(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)
    on: date | None = Field(None, description="`protected_now` as of this day (default: today).")


def _funder_page(rows, query: PageQuery) -> tuple[list, int, int | None]:
    count = rows.count()
    end = query.offset + query.limit
    return list(rows[query.offset : end]), count, (end if end < count else None)


@router.get(
    "/funders/{funder_id}/protection/workers",
    response=CoveredWorkersPage,
    summary="The workers a funder's money covers (masked NIK, kabupaten/kota) with their months, by first month",
)
def funder_protection_workers(request, funder_id: int, query: Query[PageQuery]):
    from lingkaran.protection import selectors_funder as funder_reads

    scope = funder_reads.funder_scope(request.user, funder_id)
    covered = funder_reads.covered_workers(scope, today=query.on or timezone.localdate())
    rows, count, following = _funder_page(covered, query)
    months = funder_reads.months_of_workers(scope, [r["worker_id"] for r in rows])
    items = [
        {
            "worker_id": r["worker_id"],
            "worker_nik_masked": r["nik_masked"],
            "regency_code": r["regency"] or "",
            "first_month": _month(r["first_month"]),
            "last_month": _month(r["last_month"]),
            "months_paid": r["months_paid"],
            "months_reserved": r["months_reserved"],
            "amount_paid": r["amount_paid"],
            "amount_reserved": r["amount_reserved"],
            "protected_now": bool(r["protected_now"]),
            "months": [
                {"month": _month(m), "state": state, "amount": amount} for m, state, amount in months[r["worker_id"]]
            ],
        }
        for r in rows
    ]
    return {"items": items, "count": count, "limit": query.limit, "offset": query.offset, "next": following}


class TracedMonthOut(Schema):
    worker_nik_masked: str
    regency_code: str
    month: str
    amount: int = Field(..., description="The whole month's contribution.")
    attributed: int = Field(..., description="The part of it this donation paid (a month may be shared by two).")
    state: Literal["reserved", "paid"]


class DonationTraceOut(Schema):
    donation_id: int
    pool: str | None = Field(..., description="The ledger account the donation went into; null while unpaid.")
    received: int = Field(..., description="The donation net of refunds (0 while unpaid).")
    attributed: int = Field(..., description="What of it pays worker-months (first in, first out).")
    unspent: int
    paid: int = Field(..., description="Rupiah of it in months paid to the agency.")
    reserved: int = Field(..., description="Rupiah of it in months reserved, not yet paid.")
    items: list[TracedMonthOut]
    count: int
    limit: int
    offset: int
    next: int | None


@router.get(
    "/donations/{donation_id}/worker-months",
    response=DonationTraceOut,
    summary="The worker-months one donation paid (pooled money attributed first in, first out)",
    description=(
        "For the donation's donor, the users of the funder it went to, and operators, finance officers and auditors; "
        "anyone else gets 404."
    ),
)
def donation_worker_months(request, donation_id: int, query: Query[PageQuery]):
    from lingkaran.protection import selectors_funder as funder_reads

    donation, trace = funder_reads.donation_trace(request.user, donation_id)
    rows, count, following = _funder_page(trace.months, query) if trace.receipt else ([], 0, None)
    return {
        "donation_id": donation.pk,
        "pool": trace.receipt.pool if trace.receipt else None,
        "received": trace.receipt.net if trace.receipt else 0,
        "attributed": trace.attributed,
        "unspent": (trace.receipt.net - trace.attributed) if trace.receipt else 0,
        "paid": trace.by_state.get("paid", 0),
        "reserved": trace.by_state.get("reserved", 0),
        "items": [
            {
                "worker_nik_masked": m.worker.nik_masked,
                "regency_code": m.regency or "",
                "month": _month(m.month),
                "amount": m.amount,
                "attributed": funder_reads.attributed_of(m, trace),
                "state": m.state,
            }
            for m in rows
        ],
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "next": following,
    }
