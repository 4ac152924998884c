"""Continuation endpoints (docs/subsystems/continuation.md): co-payment plans, a worker's continuation, a worker's
payment.

Who: reads need ``continuation.selectors.may_read`` (operators, finance officers, auditors; field agents within their
regions, anything else there is 404); plans need ``may_plan`` (operators, finance); payments ``may_record_payment``
(field agents, finance). Months are written ``YYYY-MM``, dates ``YYYY-MM-DD``, amounts in whole rupiah, shares in
basis points (2500 = 25 %).
"""

from datetime import date
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.continuation import selectors as reads
from lingkaran.continuation import services
from lingkaran.continuation.domain import rules
from lingkaran.continuation.errors import field_error
from lingkaran.core.errors import Forbidden
from lingkaran.protection.domain.tariffs import parse_month

router = Router(tags=["continuation"])

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
REGION_PATTERN = r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$"
PackageName = Literal["jkk_jkm", "jkk_jkm_jht"]
FunderSource = Literal["apbn", "apbd", "csr", "zakat", "donation"]
MonthState = Literal["planned", "ready", "short", "superseded"]


def _month(value: date | None) -> str | None:
    return None if value is None else f"{value:%Y-%m}"


def _check(allowed: bool) -> None:
    if not allowed:
        raise Forbidden()


class PlanOut(Schema):
    id: int
    worker_id: int
    worker_nik_masked: str
    first_month: str
    months: int
    shares_bp: list[int] = Field(..., description="The worker's share of each month, in basis points (10000: alone).")
    funder_pool: str = Field(..., description="The ledger pool the funder's part is reserved from; empty if none.")
    funder_source: FunderSource
    package: PackageName
    funder_reserved: int = Field(..., description="The funder's part of every month, reserved when the plan was made.")
    note: str

    @staticmethod
    def resolve_worker_nik_masked(obj) -> str:
        return obj.worker.nik_masked

    @staticmethod
    def resolve_first_month(obj) -> str:
        return _month(obj.first_month)


class PlanRowOut(PlanOut):
    billed: int = Field(..., description="Months made ready to bill (co-paid, self or bridged).")
    short: int = Field(..., description="Months not billed: neither the worker's money nor the bridge fund could pay.")


class PlanQuery(Schema):
    month: str | None = Field(None, pattern=MONTH_PATTERN, description="Only plans with this month, YYYY-MM.")
    state: MonthState | None = Field(None, description="Only plans with a month in this state (in `month` if given).")
    region: str | None = Field(None, pattern=REGION_PATTERN, description="Only workers in this region (any level).")


@router.get(
    "/continuation/plans",
    response=list[PlanRowOut],
    summary="Co-payment plans the caller may see, newest first (field agents: their regions)",
)
@paginate(LimitOffset)
def plan_list(request, filters: Query[PlanQuery]):
    _check(reads.may_read(request.user))
    return reads.plans_filtered(
        request.user,
        reads.PlanFilter(
            month=parse_month(filters.month) if filters.month else None,
            state=filters.state or "",
            region=filters.region or "",
        ),
    )


class PlanIn(Schema):
    worker_id: int
    first_month: str = Field(..., pattern=MONTH_PATTERN, description="First month of the plan, YYYY-MM.")
    shares_bp: list[int] | None = Field(
        None,
        min_length=1,
        max_length=rules.MAX_MONTHS,
        description="The worker's share of each month in basis points: 100–9900 (co-paid) or 10000 (alone). "
        "Or give `first_share_bp`, `step_bp` and `months` for a step-down.",
    )
    first_share_bp: int | None = Field(None, ge=100, le=10_000)
    step_bp: int | None = Field(None, ge=0, le=9_900)
    months: int | None = Field(None, ge=1, le=rules.MAX_MONTHS)
    funder_pool: str = Field("", max_length=120, description="e.g. `liability:pool:funder:7`; needed unless alone.")
    funder_source: FunderSource = "csr"
    package: PackageName = "jkk_jkm"
    note: str = Field("", max_length=200)
    preview: bool = Field(False, description="True: price every month and reserve nothing (answers 200).")


class PlanMonthPreviewOut(Schema):
    month: str
    worker_bp: int
    source: str
    amount: int
    funder_part: int
    worker_part: int


class PlanPreviewOut(Schema):
    worker_id: int
    first_month: str
    funder_pool: str
    needed: int = Field(..., description="The funder's part of every month, to reserve.")
    available: int = Field(..., description="What the funder pool holds now.")
    months: list[PlanMonthPreviewOut]


def _shares(payload: PlanIn) -> list[int]:
    if payload.shares_bp is not None:
        return payload.shares_bp
    if None in (payload.first_share_bp, payload.step_bp, payload.months):
        raise field_error("shares", _("Give shares_bp, or first_share_bp, step_bp and months."))
    return list(rules.step_down(payload.first_share_bp, payload.step_bp, payload.months))


@router.post(
    "/continuation/plans",
    response={201: PlanOut, 200: PlanPreviewOut},
    summary="A step-down co-payment plan for one worker; the funder's part of every month reserved now",
    description=(
        "All or nothing. Errors: `invalid_input` (422, `details.fields`: `shares`, `funder_pool`, `funder_source`, "
        "`package`), `plan_months_taken` (409, `details.months`: already planned or sponsored), "
        "`plan_pool_insufficient` (409, `details.pool`, `details.available`, `details.needed`), `tariff_not_in_force` "
        "(422), `forbidden` (403), `not_found` (404: no such worker for the caller). With `preview: true`: 200 and "
        "each month's parts, nothing reserved."
    ),
)
def plan_create(request, payload: PlanIn):
    _check(reads.may_plan(request.user))
    spec = {
        "actor": request.user,
        "worker_id": payload.worker_id,
        "first_month": parse_month(payload.first_month),
        "shares_bp": _shares(payload),
        "funder_pool": payload.funder_pool,
        "funder_source": payload.funder_source,
        "package": payload.package,
    }
    if payload.preview:
        priced = services.plan_price(**spec)
        return Status(
            200,
            {
                "worker_id": priced.worker.pk,
                "first_month": _month(priced.first_month),
                "funder_pool": priced.funder_pool,
                "needed": priced.needed,
                "available": priced.available,
                "months": [
                    {
                        "month": _month(m.month),
                        "worker_bp": m.worker_bp,
                        "source": m.source,
                        "amount": m.amount,
                        "funder_part": m.funder_part,
                        "worker_part": m.worker_part,
                    }
                    for m in priced.months
                ],
            },
        )
    plan = services.plan_create(**spec, note=payload.note)
    return Status(201, plan)


class MonthPartOut(Schema):
    month: str
    worker_bp: int
    amount: int
    funder_part: int
    worker_part: int
    own_part: int = Field(..., description="Of the worker's part: paid from the worker's own pool.")
    bridged_part: int = Field(..., description="Of the worker's part: advanced by the bridge fund (a debt).")
    kind: Literal["", "co_paid", "self", "bridged"] = Field(..., description="How the cycle bills it; empty before.")
    state: MonthState
    plan_id: int

    @staticmethod
    def resolve_month(obj) -> str:
        return _month(obj.month)


class PaymentOut(Schema):
    id: int
    worker_id: int
    amount: int
    paid_on: date
    receipt_number: str
    repaid: int = Field(..., description="What this payment repaid of the worker's debt to the bridge fund.")


class ContinuationOut(Schema):
    worker_id: int
    balance: int = Field(..., description="The worker's own pool: money handed over, not yet used.")
    debt: int = Field(..., description="What the worker owes the bridge fund.")
    counts: dict[str, int] = Field(..., description="Months billed `co_paid`, `self`, `bridged`, and `short`.")
    plans: list[PlanOut]
    months: list[MonthPartOut]
    payments: list[PaymentOut] = Field(..., description="The latest 24, newest first.")


@router.get(
    "/continuation/workers/{worker_id}",
    response=ContinuationOut,
    summary="A worker's plans, months and parts, own pool, debt to the bridge fund and payments",
)
def worker_continuation(request, worker_id: int):
    _check(reads.may_read(request.user))
    view = reads.worker_continuation(request.user, worker_id)
    return view


class PaymentIn(Schema):
    amount: int = Field(..., gt=0, le=1_000_000_000_000, description="Whole rupiah.")
    paid_on: date = Field(..., description="The day the worker handed the money over, YYYY-MM-DD; not in the future.")
    receipt_number: str = Field(..., min_length=1, max_length=40)


@router.post(
    "/continuation/workers/{worker_id}/payments",
    response={201: PaymentOut},
    summary="Record money a worker handed over; the worker's debt to the bridge fund is repaid from it first",
    description=(
        "Errors: `invalid_input` (422, `details.fields`), `payment_receipt_taken` (409: the receipt number is "
        "recorded for another payment), `forbidden` (403), `not_found` (404: not a worker of the caller's regions). "
        "Sending the same body again returns the same payment and moves no money."
    ),
)
def payment_record(request, worker_id: int, payload: PaymentIn):
    _check(reads.may_record_payment(request.user))
    payment = services.worker_payment_record(
        actor=request.user,
        worker_id=worker_id,
        amount=payload.amount,
        paid_on=payload.paid_on,
        receipt_number=payload.receipt_number,
    )
    return Status(201, payment)
