"""Reads for the sponsorship pages and endpoints: who may see which sponsorships, the totals per funder, the preview of
a directed block, the verified workers a form may pick, and the explanation of a criteria run for one worker.

Who sees what, in one place for pages and API alike: operators and finance officers (``MANAGE_SPONSORSHIPS``) see
every sponsorship; a funder user sees only its own funder's (read-only); other roles are refused. Workers appear
masked (NIK masked; a funder user never gets a worker's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Forbidden, NotAuthenticated, NotFound
from lingkaran.funding import accounts as funding_accounts
from lingkaran.funding.models import Funder
from lingkaran.ledger.selectors import balance_of
from lingkaran.protection import sponsorships
from lingkaran.protection.domain import allocation as engine
from lingkaran.protection.domain.tariffs import add_months, month_start
from lingkaran.protection.models import AllocationRun, SponsoredMonth, Sponsorship
from lingkaran.registry.models import Worker, WorkerStatus

# --- Who may read ---------------------------------------------------------------------------------------------------


def may_read_sponsorships(user) -> bool:
    return can(user, Capability.MANAGE_SPONSORSHIPS) or bool(
        user and user.is_authenticated and user.is_active and user.role == RoleName.FUNDER
    )


def sponsorships_visible_to(user) -> QuerySet[Sponsorship]:
    """Every sponsorship for operators and finance; a funder user's own funder's; anyone else is refused."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    base = Sponsorship.objects.select_related("worker", "worker__region", "funder")
    if can(user, Capability.MANAGE_SPONSORSHIPS):
        return base
    if user.role == RoleName.FUNDER:
        return base.filter(funder__memberships__user=user)
    raise Forbidden(details={"capability": Capability.MANAGE_SPONSORSHIPS.value})


def funders_for_sponsorships(user) -> QuerySet[Funder]:
    if can(user, Capability.MANAGE_SPONSORSHIPS):
        return Funder.objects.order_by("name")
    return Funder.objects.filter(memberships__user=user).order_by("name")


@dataclass(frozen=True)
class SponsorshipFilter:
    funder_id: int | None = None
    kind: str = ""
    state: str = ""
    month: date | None = None  # sponsorships whose block covers this contribution month


def sponsorships_filtered(user, filters: SponsorshipFilter) -> QuerySet[Sponsorship]:
    qs = sponsorships_visible_to(user)
    if filters.funder_id:
        qs = qs.filter(funder_id=filters.funder_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.month:
        month = month_start(filters.month)
        covering = Sponsorship.objects.filter(
            Q(worker_months__month=month) | Q(share_months__sponsored_month__month=month)
        ).values("pk")
        qs = qs.filter(pk__in=covering)
    return qs.prefetch_related("worker_months", "share_months__sponsored_month", "cofunding__shares__funder").order_by(
        "-start_month", "-id"
    )


@dataclass(frozen=True)
class FunderTotal:
    funder_id: int
    name: str
    sponsorships: int
    reserved: int
    worker_months: int


def funder_totals(sponsorship_qs: QuerySet[Sponsorship]) -> list[FunderTotal]:
    """Per funder of ``sponsorship_qs``: how many blocks, the rupiah reserved and the worker-months they pay."""
    rows = (
        sponsorship_qs.order_by()
        .values("funder_id", "funder__name")
        .annotate(n=Count("pk", distinct=True), reserved=Sum("total"), months=Sum("months"))
        .order_by("funder__name")
    )
    return [
        FunderTotal(r["funder_id"], r["funder__name"] or "—", r["n"], r["reserved"] or 0, r["months"] or 0)
        for r in rows
    ]


# --- Months waiting for a top-up after a tariff change -------------------------------------------------------------


@dataclass(frozen=True)
class ShortReservation:
    month: date
    funder: str
    pool: str
    reserved: int  # what the reservation holds
    due: int  # what its months cost now
    available: int  # in the pool now

    @property
    def missing(self) -> int:
        return self.due - self.reserved


def reservations_short(user) -> list[ShortReservation]:
    """Reservations whose months a tariff change made dearer than their pool could pay (``Repricing`` ``short``,
    months still with ``price_due``): the cycle holds those months back until the pool is topped up. Operators and
    finance see every pool; a funder user its own funder's."""
    from django.db.models import Exists, OuterRef

    from lingkaran.protection.models import Repricing, SponsoredShare

    if not may_read_sponsorships(user):
        raise Forbidden(details={"capability": Capability.MANAGE_SPONSORSHIPS.value})
    funders = {funding_accounts.funder_pool(f.pk): f.name for f in funders_for_sponsorships(user)}
    still = Exists(
        SponsoredMonth.objects.filter(reservation_key=OuterRef("reservation_key"), price_due__isnull=False)
    ) | Exists(
        SponsoredShare.objects.filter(
            reservation_key=OuterRef("reservation_key"), sponsored_month__price_due__isnull=False
        )
    )
    rows = Repricing.objects.filter(state=Repricing.State.SHORT).filter(still).order_by("-created_at", "-id")
    if not can(user, Capability.MANAGE_SPONSORSHIPS):
        rows = rows.filter(pool__in=list(funders))
    latest: dict[str, ShortReservation] = {}
    for row in rows:
        if row.reservation_key not in latest:
            latest[row.reservation_key] = ShortReservation(
                row.month, funders.get(row.pool, row.pool), row.pool, row.old_amount, row.new_amount, 0
            )
    return [
        ShortReservation(r.month, r.funder, r.pool, r.reserved, r.due, balance_of(r.pool))
        for r in sorted(latest.values(), key=lambda r: (r.month, r.funder))
    ]


# --- Workers a form may pick ----------------------------------------------------------------------------------------


def verified_workers(user, *, q: str = "", region: str = "", limit: int = 30) -> list[Worker]:
    """Verified workers matching part of a name, a masked NIK as shown (``6409••••••••0001``: its first and last
    digits), or a whole NIK, in a region at any level. For the directed form; needs ``MANAGE_SPONSORSHIPS``."""
    from lingkaran.registry import selectors as registry_selectors

    require(user, Capability.MANAGE_SPONSORSHIPS)
    text = (q or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    masked = "•" in text or "*" in text
    if masked and digits:
        head, tail = _masked_parts(text)
        qs = registry_selectors.workers_visible_to(user).filter(nik_masked__startswith=head, nik_masked__endswith=tail)
    else:
        qs = registry_selectors.workers_filtered(user, registry_selectors.WorkerFilter(q=text))
    qs = qs.filter(status=WorkerStatus.VERIFIED)
    if region:
        qs = qs.filter(Q(region_code=region) | Q(region_code__startswith=region + "."))
    return list(qs.order_by("full_name", "pk")[:limit])


def _masked_parts(text: str) -> tuple[str, str]:
    cleaned = text.replace("*", "•")
    head = cleaned.split("•", 1)[0].strip()
    tail = cleaned.rsplit("•", 1)[-1].strip()
    return head, tail


# --- The directed form's preview ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCost:
    month: date
    per_worker: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.per_worker)


@dataclass(frozen=True)
class DirectedPreview:
    funder: Funder
    workers: list[Worker]
    months: list[MonthCost]
    total: int
    available: int
    not_verified: list[int]
    refused: dict[int, list[str]]

    @property
    def enough(self) -> bool:
        return self.total <= self.available

    @property
    def can_commit(self) -> bool:
        return self.enough and not self.not_verified and not self.refused and bool(self.workers)


def directed_preview(
    user, *, funder: Funder, worker_ids: list[int], start: date, months: int, package: str
) -> DirectedPreview:
    """What ``sponsor_directed`` would reserve: each month's cost at that month's tariff, the pool's balance, and
    the workers it would refuse and why. Raises ``TariffNotInForce`` for a month no tariff covers."""
    require(user, Capability.MANAGE_SPONSORSHIPS)
    start = month_start(start)
    ids = sorted(set(worker_ids))
    source = sponsorships._source_of(funder)
    request = engine.Request(
        key="preview",
        source=source,
        criteria=engine.Criteria(),
        start=start,
        months=months,
        package=package,
        workers=max(1, len(ids)),
        funder_region=(funder.region_code or None) if source.value == "apbd" else None,
    )
    found = {c.worker_id: c for c in sponsorships.candidates(as_of=start, worker_ids=ids)}
    refused = {wid: [r.value for r in engine.refusals(c, request)] for wid, c in found.items()}
    rules = sponsorships.rules_for(start, months)
    blocks = [
        sponsorships.month_amounts(
            rules, income=c.income, sector=c.sector, package=package, source=source, first=start, count=months
        )
        for wid, c in sorted(found.items())
    ]
    month_costs = [MonthCost(add_months(start, i), tuple(block[i] for block in blocks)) for i in range(months)]
    workers = list(Worker.objects.filter(pk__in=ids).select_related("region").order_by("pk"))
    return DirectedPreview(
        funder=funder,
        workers=workers,
        months=month_costs,
        total=sum(m.total for m in month_costs),
        available=balance_of(funding_accounts.funder_pool(funder.pk)),
        not_verified=[wid for wid in ids if wid not in found],
        refused={wid: reasons for wid, reasons in refused.items() if reasons},
    )


# --- Criteria runs --------------------------------------------------------------------------------------------------


def run_for(user, run_id: int) -> AllocationRun:
    require(user, Capability.MANAGE_SPONSORSHIPS)
    run = AllocationRun.objects.select_related("started_by").filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


@dataclass(frozen=True)
class RunPick:
    request_key: str
    worker: Worker | None
    worker_id: int
    rank: int
    score: int
    cost: int


def run_picks(run: AllocationRun) -> list[RunPick]:
    """Every pick of a run, per request, with its worker (masked on the page)."""
    ids = [row[0] for outcome in run.summary.values() for row in outcome["picked"]]
    workers = Worker.objects.select_related("region").in_bulk(ids)
    return [
        RunPick(key, workers.get(wid), wid, rank, score, cost)
        for key, outcome in sorted(run.summary.items())
        for wid, rank, score, cost in outcome["picked"]
    ]


def criteria_requests_of(run: AllocationRun) -> list[sponsorships.CriteriaRequest]:
    """The requests a run was made with, as ``allocation_run`` takes them (to commit what a preview showed)."""
    out = []
    for spec in run.parameters.get("requests", []):
        c = spec["criteria"]
        out.append(
            sponsorships.CriteriaRequest(
                key=spec["key"],
                funder_id=spec["funder"],
                agreement_id=spec.get("agreement"),
                criteria=engine.Criteria(
                    regions=tuple(c["regions"]),
                    occupations=tuple(c["occupations"]),
                    sectors=tuple(c["sectors"]),
                    sex=c["sex"],
                    max_decile=c["max_decile"],
                    indicators=frozenset(c["indicators"]),
                ),
                start=date.fromisoformat(spec["start"] + "-01"),
                months=spec["months"],
                package=spec["package"],
                workers=spec["workers"],
                budget=spec["budget"],
            )
        )
    return out


def committed_run_of(request_key: str) -> AllocationRun | None:
    """The run that already committed ``request_key``, if one did (a second Commit shows it again)."""
    row = Sponsorship.objects.filter(request_key=f"criteria:{request_key}").select_related("run").first()
    return row.run if row else None


def _engine_run(run: AllocationRun, gaps: dict[str, int], pool: list[engine.Candidate]) -> engine.Run:
    """The engine's result as recorded in ``run``: its outcomes from the summary, the order re-scored."""
    funders = Funder.objects.in_bulk([s.funder_id for s in criteria_requests_of(run)])
    outcomes = []
    for spec in criteria_requests_of(run):
        funder = funders[spec.funder_id]
        source = sponsorships._source_of(funder)
        request = engine.Request(
            key=spec.key,
            source=source,
            criteria=spec.criteria,
            start=month_start(spec.start),
            months=spec.months,
            package=spec.package,
            workers=spec.workers,
            budget=spec.budget,
            funder_region=(funder.region_code or None) if source.value == "apbd" else None,
        )
        recorded = run.summary.get(spec.key, {"picked": [], "spent": 0, "shortfall": 0})
        picks = tuple(engine.Pick(*row) for row in recorded["picked"])
        outcomes.append(
            engine.Outcome(request=request, picks=picks, spent=recorded["spent"], shortfall=recorded["shortfall"])
        )
    outcomes.sort(key=lambda o: (not o.request.restricted, o.request.key))
    scored = sorted(
        ((engine.score_of(c, as_of=run.as_of, gap_points=gaps).total, c) for c in pool),
        key=lambda sc: (-sc[0], sc[1].verified_on, sc[1].worker_id),
    )
    return engine.Run(outcomes=tuple(outcomes), order=tuple(c.worker_id for _s, c in scored))


def run_explain(user, run: AllocationRun, *, worker_id: int, request_key: str) -> engine.Explanation:
    """Why ``worker_id`` was or was not chosen for ``request_key`` in ``run``: recomputed from the run's recorded
    inputs, with the worker's months as they were before the run (its own sponsorships are left out)."""
    require(user, Capability.MANAGE_SPONSORSHIPS)
    if request_key not in run.summary:
        raise NotFound()
    pool = sponsorships.candidates(as_of=run.as_of)
    found = next((c for c in pool if c.worker_id == worker_id), None)
    if found is None:
        raise NotFound()
    last = (
        SponsoredMonth.objects.filter(worker_id=worker_id, month__gte=month_start(run.as_of))
        .exclude(sponsorship__run=run)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    from dataclasses import replace

    found = replace(found, available_from=add_months(last, 1) if last else month_start(run.as_of))
    gaps = run.parameters.get("gap_points", {})
    engine_run = _engine_run(run, gaps, pool)
    outcome = engine_run.outcome(request_key)
    block_price = sponsorships.block_price(sponsorships.rules_for(outcome.request.start, outcome.request.months))
    return engine.explain(engine_run, found, request_key, as_of=run.as_of, gap_points=gaps, price=block_price)
