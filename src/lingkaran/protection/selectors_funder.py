"""Reads of the funder view (issue #5 item 9) and of the programme's coverage overview.

For one funder (its own pool, its campaigns' pools and every sponsorship naming it) or one campaign: the worker-months
funded by state, the workers protected now, the blocks ending in the next 60 days, reserved against paid beside the
ledger's own balances, the workers covered (masked) with their months, a month-by-month series, and the trace from a
payment into a pool (a donation, a bank transfer) to the worker-months it paid, by the first-in-first-out rule of
``domain/attribution.py`` (docs/subsystems/protection-funder-view.md).

Every figure is one aggregate query (or a bounded few); no loop over workers or months in Python, except the
coverage overview, which classifies each worker with the pure coverage rules as ``coverage.coverage_counts`` does.

Who sees what, for pages and API alike: operators, finance officers and auditors (``VIEW_ALL_FUNDERS``) any funder;
a funder user only its own (another funder, or a campaign of another funder, is a 404 exactly like one that does not
exist); other roles are refused (403). A donation's trace is also open to its own donor. Workers appear with their
masked NIK and their kabupaten/kota only: never a name, a full NIK or a village.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Substr

from lingkaran.core.access import can
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Forbidden, NotAuthenticated, NotFound
from lingkaran.funding import accounts as funding_accounts
from lingkaran.funding import selectors as funding_selectors
from lingkaran.funding.models import Campaign, Donation, Funder
from lingkaran.ledger import selectors as ledger
from lingkaran.protection.domain import attribution as rules
from lingkaran.protection.models import SponsoredMonth, SponsoredShare, Sponsorship
from lingkaran.protection.sponsorships import reserved_account

ENDING_DAYS = 60
# Money a pool gets back from protection itself (a voided reservation, a rejected or unbilled month): not a receipt.
RETURN_KEY_PREFIXES = ("sponsor:", "cycle:")
HOLDING = (SponsoredMonth.State.RESERVED, SponsoredMonth.State.PAID)  # months that hold money
STATES = [s.value for s in SponsoredMonth.State]


def _with_part(sponsorship_q: Q) -> QuerySet[SponsoredMonth]:
    """Worker-months held by sponsorships matching ``sponsorship_q`` (a condition on ``sponsorship__…``), alone or
    as one share of a co-funding split, each annotated with ``part``: the whole amount of a month the sponsorship
    holds alone, else the amount of the matching share (``SponsoredShare``; a split has at most one share per funder
    and pool). One query: an ``EXISTS`` and a scalar subquery, no join that could repeat a month."""
    # ``SponsoredShare`` names its sponsorship by the same field, so the same condition applies to it.
    shares = SponsoredShare.objects.filter(sponsorship_q, sponsored_month=OuterRef("pk"))
    return (
        SponsoredMonth.objects.filter(sponsorship_q | Q(Exists(shares)))
        .annotate(
            part=Case(
                When(sponsorship_q, then=F("amount")),
                default=Subquery(shares.values("amount")[:1]),
                output_field=BigIntegerField(),
            )
        )
        .order_by()
    )


# --- Who may read ---------------------------------------------------------------------------------------------------


def _require_reader(user) -> None:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if can(user, Capability.VIEW_ALL_FUNDERS) or user.role == RoleName.FUNDER:
        return
    raise Forbidden(details={"capability": Capability.VIEW_ALL_FUNDERS.value})


def may_read_funder_view(user) -> bool:
    try:
        _require_reader(user)
    except (NotAuthenticated, Forbidden):
        return False
    return True


def funders_for(user) -> QuerySet[Funder]:
    """The funders the user may pick: every one for staff, its own for a funder user."""
    _require_reader(user)
    return funding_selectors.funders_visible_to(user).order_by("name", "pk")


def funder_for(user, funder_id: int) -> Funder:
    _require_reader(user)
    return funding_selectors.funder_for(user, funder_id)


def campaign_for(user, campaign_id: int) -> Campaign:
    """A campaign of a funder the user may see (a campaign with no funder: staff only)."""
    _require_reader(user)
    campaigns = Campaign.objects.select_related("funder").filter(pk=campaign_id)
    if not can(user, Capability.VIEW_ALL_FUNDERS):
        campaigns = campaigns.filter(funder__in=funding_selectors.funders_visible_to(user))
    campaign = campaigns.first()
    if campaign is None:
        raise NotFound()
    return campaign


# --- The scope: a funder or one campaign ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    funder: Funder | None = None
    campaign: Campaign | None = None

    @property
    def name(self) -> str:
        return self.campaign.title if self.campaign else self.funder.name

    def sponsorships(self) -> QuerySet[Sponsorship]:
        if self.campaign is not None:
            return Sponsorship.objects.filter(campaign_id=self.campaign.pk)
        return Sponsorship.objects.filter(funder_id=self.funder.pk)

    def owner_q(self, prefix: str = "") -> Q:
        """Sponsorships of this scope, as a condition on ``{prefix}campaign_id`` or ``{prefix}funder_id``."""
        if self.campaign is not None:
            return Q(**{f"{prefix}campaign_id": self.campaign.pk})
        return Q(**{f"{prefix}funder_id": self.funder.pk})

    def months(self) -> QuerySet[SponsoredMonth]:
        """The scope's worker-months, each with ``part``: what the scope pays of it (the whole month, or its share of
        a co-funded month)."""
        return _with_part(self.owner_q("sponsorship__"))

    def pools(self) -> list[str]:
        """The pool accounts whose money this scope spends: a campaign's own; for a funder its pool, its campaigns'
        pools and any other pool its sponsorships were reserved from."""
        if self.campaign is not None:
            return [funding_accounts.campaign_pool(self.campaign.pk)]
        codes = {funding_accounts.funder_pool(self.funder.pk)}
        codes.update(funding_accounts.campaign_pool(pk) for pk in self.funder.campaigns.values_list("pk", flat=True))
        codes.update(self.sponsorships().order_by().values_list("pool", flat=True).distinct())
        return sorted(codes)


def funder_scope(user, funder_id: int) -> Scope:
    return Scope(funder=funder_for(user, funder_id))


def campaign_scope(user, campaign_id: int) -> Scope:
    return Scope(campaign=campaign_for(user, campaign_id))


# --- The summary ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateFigures:
    months: int = 0
    amount: int = 0


@dataclass(frozen=True)
class LedgerFigures:
    """What the ledger holds for the scope's pools (``liability:pool:…`` and ``liability:reserved:…``)."""

    available: int  # still in the pools
    held_in_reserve: int  # in the reserved accounts: blocks committed, not yet paid
    received: int  # receipts into the pools, net of refunds (see ``pool_receipts``)


@dataclass(frozen=True)
class Summary:
    today: date
    by_state: dict[str, StateFigures]
    workers_funded: int  # workers with at least one reserved or paid month
    workers_protected_now: int  # workers with a paid month equal to today's month
    latest_paid_month: date | None
    workers_in_latest_paid_month: int
    blocks_ending: int
    ledger: LedgerFigures

    @property
    def reserved(self) -> StateFigures:
        return self.by_state["reserved"]

    @property
    def paid(self) -> StateFigures:
        return self.by_state["paid"]

    @property
    def rejected(self) -> StateFigures:
        return self.by_state["rejected"]

    @property
    def released(self) -> StateFigures:
        return self.by_state["released"]

    @property
    def funded(self) -> StateFigures:
        """Worker-months that hold money: reserved and paid."""
        return StateFigures(self.reserved.months + self.paid.months, self.reserved.amount + self.paid.amount)

    @property
    def returned(self) -> StateFigures:
        """Worker-months whose money went back to the pool: rejected by the agency, or released."""
        return StateFigures(self.rejected.months + self.released.months, self.rejected.amount + self.released.amount)

    @property
    def reserve_ties(self) -> bool:
        """The reserved worker-months add up to what the ledger holds in reserve for these pools."""
        return self.reserved.amount == self.ledger.held_in_reserve


def _by_state(months: QuerySet[SponsoredMonth]) -> dict[str, StateFigures]:
    figures = {state: StateFigures() for state in STATES}
    for state, count, amount in (
        months.values("state").annotate(n=Count("pk"), total=Sum("part")).values_list("state", "n", "total")
    ):
        figures[state] = StateFigures(count, int(amount or 0))
    return figures


def ledger_figures(pools: list[str]) -> LedgerFigures:
    available = sum(ledger.balance_of(pool) for pool in pools)
    held = sum(ledger.balance_of(reserved_account(pool)) for pool in pools)
    received = sum(pool_received(pool) for pool in pools)
    return LedgerFigures(available=available, held_in_reserve=held, received=received)


def summary(scope: Scope, *, today: date) -> Summary:
    months = scope.months()
    this_month = rules.month_start(today)
    paid = months.filter(state=SponsoredMonth.State.PAID)
    latest = paid.filter(month__lte=this_month).aggregate(last=Max("month"))["last"]
    first, last = rules.ending_window(today, ENDING_DAYS)
    return Summary(
        today=today,
        by_state=_by_state(months),
        workers_funded=months.filter(state__in=HOLDING).values("worker_id").distinct().count(),
        workers_protected_now=paid.filter(month=this_month).values("worker_id").distinct().count(),
        latest_paid_month=latest,
        workers_in_latest_paid_month=(
            paid.filter(month=latest).values("worker_id").distinct().count() if latest else 0
        ),
        blocks_ending=_ending(scope, first, last).count(),
        ledger=ledger_figures(scope.pools()),
    )


# --- Month by month -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    month: date
    by_state: dict[str, StateFigures]

    @property
    def funded(self) -> int:
        return self.by_state["reserved"].months + self.by_state["paid"].months

    @property
    def paid(self) -> int:
        return self.by_state["paid"].months

    @property
    def reserved(self) -> int:
        return self.by_state["reserved"].months


def monthly_series(scope: Scope, *, first: date | None = None, last: date | None = None) -> list[MonthPoint]:
    """Per contribution month (every month from the first to the last funded, gaps included): worker-months and
    amounts by state. One grouped query."""
    months = scope.months()
    if first:
        months = months.filter(month__gte=rules.month_start(first))
    if last:
        months = months.filter(month__lte=rules.month_start(last))
    rows = months.values("month", "state").annotate(n=Count("pk"), total=Sum("part"))
    found: dict[date, dict[str, StateFigures]] = defaultdict(lambda: {s: StateFigures() for s in STATES})
    for row in rows.values_list("month", "state", "n", "total"):
        found[row[0]][row[1]] = StateFigures(row[2], int(row[3] or 0))
    if not found:
        return []
    empty = {s: StateFigures() for s in STATES}
    return [MonthPoint(m, found.get(m, empty)) for m in rules.months_between(min(found), max(found))]


# --- Blocks ending soon ---------------------------------------------------------------------------------------------


def _ending(scope: Scope, first: date, last: date) -> QuerySet[Sponsorship]:
    alone = SponsoredMonth.objects.filter(sponsorship=OuterRef("pk")).order_by("-month").values("month")[:1]
    shared = (
        SponsoredShare.objects.filter(sponsorship=OuterRef("pk"))
        .order_by("-sponsored_month__month")
        .values("sponsored_month__month")[:1]
    )
    return (
        scope.sponsorships()
        .exclude(state=Sponsorship.State.STOPPED)
        .annotate(last_month=Coalesce(Subquery(alone), Subquery(shared)))
        .filter(last_month__gte=first, last_month__lte=last)
    )


def blocks_ending(scope: Scope, *, today: date, days: int = ENDING_DAYS) -> QuerySet[Sponsorship]:
    """Blocks whose last month ends within ``days`` days of ``today``, soonest first, each marked ``renewed`` when the
    worker already has a later month reserved or paid (by anyone)."""
    first, last = rules.ending_window(today, days)
    later = SponsoredMonth.objects.filter(worker_id=OuterRef("worker_id"), month__gt=OuterRef("last_month")).filter(
        state__in=HOLDING
    )
    return (
        _ending(scope, first, last)
        .annotate(renewed=Exists(later), regency=Substr("worker__region_code", 1, 5))
        .select_related("worker", "campaign")
        .order_by("last_month", "worker_id", "pk")
    )


# --- The workers covered --------------------------------------------------------------------------------------------


def covered_workers(scope: Scope, *, today: date) -> QuerySet:
    """One row per worker with a reserved or paid month: masked NIK, kabupaten/kota code, first and last month,
    months and rupiah paid and reserved, and whether they are protected this month. Ordered by first month."""
    this_month = rules.month_start(today)
    paid, reserved = Q(state=SponsoredMonth.State.PAID), Q(state=SponsoredMonth.State.RESERVED)
    return (
        scope.months()
        .filter(state__in=HOLDING)
        .values("worker_id")
        .annotate(
            nik_masked=Max("worker__nik_masked"),
            regency=Max(Substr("worker__region_code", 1, 5)),
            first_month=Min("month"),
            last_month=Max("month"),
            months_paid=Count("pk", filter=paid),
            months_reserved=Count("pk", filter=reserved),
            amount_paid=Sum("part", filter=paid, default=0),
            amount_reserved=Sum("part", filter=reserved, default=0),
            protected_now=Count("pk", filter=paid & Q(month=this_month)),
        )
        .order_by("first_month", "worker_id")
    )


def months_of_workers(scope: Scope, worker_ids) -> dict[int, list[tuple[date, str, int]]]:
    """The months (month, state, amount) of some workers in the scope, for one page of ``covered_workers``."""
    out: dict[int, list[tuple[date, str, int]]] = defaultdict(list)
    rows = scope.months().filter(worker_id__in=list(worker_ids)).order_by("worker_id", "month")
    for worker_id, month, state, amount in rows.values_list("worker_id", "month", "state", "part"):
        out[worker_id].append((month, state, amount))
    return out


def worker_month_rows(scope: Scope):
    """Every worker-month of the scope for an export: masked NIK, kabupaten/kota code, month, the scope's part of it,
    state, the sponsorship's kind (``cofunded`` for a share of a split) and campaign. Streamed."""
    return (
        scope.months()
        .annotate(
            regency=Substr("worker__region_code", 1, 5),
            kind=Case(When(cofunding__isnull=False, then=Value("cofunded")), default=F("sponsorship__kind")),
        )
        .order_by("worker_id", "month")
        .values_list("worker__nik_masked", "regency", "month", "part", "state", "kind", "sponsorship__campaign__title")
        .iterator(chunk_size=2000)
    )


def region_names(codes) -> dict[str, str]:
    from lingkaran.registry.models import Region

    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))


def scope_region_names(scope: Scope) -> dict[str, str]:
    """Names of every kabupaten/kota the scope's workers live in (one query for the codes, one for the names)."""
    codes = scope.months().annotate(regency=Substr("worker__region_code", 1, 5)).values_list("regency", flat=True)
    return region_names(codes.distinct())


# --- Receipts and the trace -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolReceipt:
    """Money into a pool: a ledger credit that is not protection's own return."""

    pool: str
    entry_id: int
    on: date
    amount: int
    refunded: int
    kind: str  # "donation", "transfer" (a bank transfer against an invoice) or "other"
    donation_id: int | None
    description: str

    @property
    def net(self) -> int:
        return max(0, self.amount - self.refunded)


def _receipt_legs(pool: str):
    legs = ledger.statement(pool).filter(side="C")
    for prefix in RETURN_KEY_PREFIXES:
        legs = legs.exclude(entry__idempotency_key__startswith=prefix)
    return legs


def pool_receipts(pool: str) -> list[PoolReceipt]:
    """The pool's receipts in the order they were recorded (two queries): each credit with its donation, if it is a
    donation's settlement, and what was refunded of that donation since."""
    legs = _receipt_legs(pool)
    donations = {
        entry_id: (pk, refunded)
        for entry_id, pk, refunded in Donation.objects.filter(
            intent__settlement_entry_id__in=legs.values("entry_id")
        ).values_list("intent__settlement_entry_id", "pk", "intent__refunded_amount")
    }
    out = []
    for entry_id, amount, on, key, description in legs.order_by("entry_id").values_list(
        "entry_id", "amount", "entry__effective_on", "entry__idempotency_key", "entry__description"
    ):
        donation_id, refunded = donations.get(entry_id, (None, 0))
        kind = "donation" if donation_id else ("transfer" if key.startswith("bank:") else "other")
        out.append(PoolReceipt(pool, entry_id, on, amount, int(refunded or 0), kind, donation_id, description))
    return out


def pool_received(pool: str) -> int:
    """Σ of the pool's receipts net of refunds, in two aggregates (the same total as ``pool_receipts``)."""
    legs = _receipt_legs(pool)
    gross = legs.aggregate(t=Sum("amount"))["t"] or 0
    refunded = (
        Donation.objects.filter(intent__settlement_entry_id__in=legs.values("entry_id")).aggregate(
            t=Sum("intent__refunded_amount")
        )["t"]
        or 0
    )
    return int(gross) - int(refunded)


def pool_spent(pool: str) -> int:
    return int(_with_part(Q(sponsorship__pool=pool)).filter(state__in=HOLDING).aggregate(t=Sum("part"))["t"] or 0)


@dataclass(frozen=True)
class ReceiptUse:
    receipt: PoolReceipt
    attributed: int  # rupiah of this receipt that pays worker-months
    start: int  # the receipt's place in the pool's running total of receipts: [start, start + net)

    @property
    def unspent(self) -> int:
        return self.receipt.net - self.attributed


@dataclass(frozen=True)
class PoolUse:
    """One pool of the scope: what came in, what its worker-months hold, and each receipt with what of it they use."""

    pool: str
    kind: str  # "funder", "campaign" or "other"
    owner_id: int | None
    received: int  # net of refunds
    spent: int  # the pool's reserved and paid worker-months
    receipts: list[ReceiptUse]  # newest first

    @property
    def attributed(self) -> int:
        return min(self.received, self.spent)


def _pool_kind(pool: str) -> tuple[str, int | None]:
    parts = pool.split(":")
    if len(parts) == 4 and parts[2] in ("funder", "campaign") and parts[3].isdigit():
        return parts[2], int(parts[3])
    return "other", None


def receipts_of_scope(scope: Scope) -> list[PoolUse]:
    """Per pool of the scope, every receipt with what of it pays worker-months (FIFO, in closed form per receipt:
    two queries for the receipts and one for the pool's total spent)."""
    out = []
    for pool in scope.pools():
        receipts = pool_receipts(pool)
        windows = rules.receipt_windows([rules.Receipt(r.entry_id, r.net) for r in receipts])
        spent = pool_spent(pool)
        uses = [
            ReceiptUse(r, rules.attributed_to(*windows[r.entry_id], spent), windows[r.entry_id][0]) for r in receipts
        ]
        uses.sort(key=lambda u: u.receipt.entry_id, reverse=True)
        kind, owner = _pool_kind(pool)
        out.append(PoolUse(pool, kind, owner, sum(r.net for r in receipts), spent, uses))
    return out


@dataclass(frozen=True)
class Trace:
    receipt: PoolReceipt | None  # None: the payment has not reached a pool (not paid, or refunded before)
    start: int
    end: int
    spent_before: int
    months: QuerySet  # the worker-months it paid, with ``attributed``
    attributed: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


def _spends_in(pool: str, lo: int, hi: int) -> QuerySet:
    """The pool's holding months whose running total (in reservation order) overlaps ``[lo, hi)``: one query with a
    window function (PostgreSQL, SQLite ≥ 3.25). Each row has ``run_end`` (the running total through it)."""
    return (
        _with_part(Q(sponsorship__pool=pool))
        .filter(state__in=HOLDING)
        .annotate(run_end=Window(Sum("part"), order_by=F("pk").asc()))
        .filter(run_end__gt=lo, run_end__lt=hi + F("part"))
        .annotate(regency=Substr("worker__region_code", 1, 5))
        .select_related("worker", "sponsorship")
        .order_by("pk")
    )


def _trace(receipt: PoolReceipt | None, receipts: list[PoolReceipt]) -> Trace:
    if receipt is None or receipt.net == 0:
        return Trace(receipt, 0, 0, 0, SponsoredMonth.objects.none())
    windows = rules.receipt_windows([rules.Receipt(r.entry_id, r.net) for r in receipts])
    lo, hi = windows[receipt.entry_id]
    spent = pool_spent(receipt.pool)
    rows = _spends_in(receipt.pool, lo, hi)
    by_state: dict[str, int] = {}
    for state, total in _trace_totals(receipt.pool, lo, hi):
        by_state[state] = total
    return Trace(receipt, lo, hi, lo, rows, rules.attributed_to(lo, hi, spent), by_state)


def _trace_totals(pool: str, lo: int, hi: int) -> list[tuple[str, int]]:
    """Rupiah of ``[lo, hi)`` per state of the months it pays (the overlap of each month, summed in Python over the
    receipt's own months only)."""
    totals: dict[str, int] = defaultdict(int)
    for state, amount, run_end in _spends_in(pool, lo, hi).values_list("state", "part", "run_end"):
        totals[state] += rules.overlap(lo, hi, run_end - amount, run_end)
    return sorted(totals.items())


def attributed_of(month: SponsoredMonth, trace: Trace) -> int:
    return rules.overlap(trace.start, trace.end, month.run_end - month.part, month.run_end)


def _may_trace_donation(user, donation: Donation, order_ids) -> bool:
    intent = getattr(donation, "intent", None)
    if intent is not None and intent.order_id in (order_ids or ()):
        return True
    if not (user and user.is_authenticated):
        return False
    if can(user, Capability.VIEW_ALL_FUNDERS) or funding_selectors.is_own_donation(user, donation):
        return True
    if user.role == RoleName.FUNDER:
        owner = donation.funder_id or (donation.campaign.funder_id if donation.campaign_id else None)
        return owner is not None and funding_selectors.funders_visible_to(user).filter(pk=owner).exists()
    return False


def donation_for(user, donation_id: int, *, order_ids=()) -> Donation:
    """A donation its donor (logged in, or the browser that paid it), the funder it went to, or staff may trace."""
    donation = Donation.objects.select_related("intent", "campaign", "funder", "receipt").filter(pk=donation_id).first()
    if donation is None or not _may_trace_donation(user, donation, order_ids):
        raise NotFound()
    return donation


def donation_trace(user, donation_id: int, *, order_ids=()) -> tuple[Donation, Trace]:
    """The worker-months one donation paid, by the pool's first-in-first-out rule."""
    donation = donation_for(user, donation_id, order_ids=order_ids)
    pool = funding_accounts.pool_of(
        target=donation.target, campaign_id=donation.campaign_id, funder_id=donation.funder_id
    )
    receipts = pool_receipts(pool)
    intent = getattr(donation, "intent", None)
    entry = intent.settlement_entry_id if intent is not None else None
    receipt = next((r for r in receipts if r.entry_id == entry), None) if entry else None
    return donation, _trace(receipt, receipts)


def receipt_trace(scope: Scope, entry_id: int) -> Trace:
    """The worker-months one receipt of the scope's pools paid (a bank transfer, a top-up, a donation)."""
    for pool in scope.pools():
        receipts = pool_receipts(pool)
        receipt = next((r for r in receipts if r.entry_id == entry_id), None)
        if receipt is not None:
            return _trace(receipt, receipts)
    raise NotFound()


# --- The programme's coverage overview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    code: str
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def coverage_overview(user, *, today: date, funder_id: int | None = None) -> tuple[dict[str, int], list[CoverageRow]]:
    """Workers per coverage state, for the whole programme and per province: the same rules and sources as
    ``coverage.coverage_counts`` (paid lines and months, the agency's statuses), in a fixed number of queries.
    Staff who see every region (``VIEW_ALL_REGIONS``) only."""
    from lingkaran.core.access import require
    from lingkaran.protection import coverage as cov
    from lingkaran.protection.domain.coverage import State, coverage
    from lingkaran.registry.models import WorkerStatus
    from lingkaran.registry.selectors import workers_visible_to

    require(user, Capability.VIEW_ALL_REGIONS)
    workers = workers_visible_to(user).select_related(None).exclude(status=WorkerStatus.MERGED).order_by()
    if funder_id is not None:
        workers = workers.filter(sponsorships__funder_id=funder_id).distinct()
    rows = list(workers.values_list("pk", "kpj_number", "created_at", "region_code"))
    paid: dict[int, set[date]] = defaultdict(set)
    ids = workers.values("pk")
    for wid, month in cov._line_rows(ids, detail=False):
        paid[wid].add(month)
    for wid, month in cov._sponsored_rows(ids, detail=False):
        paid[wid].add(month)
    agency = cov._agency(kpj for _pk, kpj, _c, _r in rows)
    states = [s.value for s in State]
    totals = dict.fromkeys(states, 0)
    per_province: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(states, 0))
    for pk, kpj, created, region_code in rows:
        state, last = agency.get(kpj, ("", None))
        result = coverage(
            paid.get(pk, ()),
            today,
            registered=created.date().replace(day=1) if created else None,
            agency_state=state,
            agency_last_paid=last,
        )
        totals[result.state.value] += 1
        per_province[(region_code or "")[:2] or "00"][result.state.value] += 1
    names = region_names(per_province)
    return totals, [CoverageRow(code, names.get(code, code), counts) for code, counts in sorted(per_province.items())]
