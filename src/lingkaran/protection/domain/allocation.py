"""The allocation engine: which verified workers a funder's money protects, and why. Pure functions.

Inputs are frozen values (candidates, requests, the price of a block); the output is the same for the same inputs,
whatever the order the candidates arrive in, so a run can be repeated and audited.

Priority (higher first), in whole points so that ties are exact:

- vulnerability: DTSEN decile 1 → 10 points … decile 10 → 1 (unknown decile → 0); extreme-poverty list +5, disability
  +3, female head of household +3, elderly +2;
- time waiting since verification: +1 a month, at most +12;
- the region's coverage gap: 0–10 points given per kabupaten/kota by the caller (10 = nobody covered yet).

Ties go to the worker who has waited longer, then the lower worker id.

Requests are served one after another: restricted money first (zakat to zakat-eligible workers, a Pemda's APBD to its
own region — fewer workers can take it), then the rest, each group in key order. A worker taken by an earlier request
is not offered to a later one for an overlapping block: never two funders on the same worker-month (the database
enforces it too). A request asks for a number of workers, or spends a budget: in budget mode the engine walks the
priority order and takes each worker whose whole block still fits in what is left, so the block is reserved up front
and never stops for lack of money.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from lingkaran.protection.domain.tariffs import FundingSource

INDICATORS = ("disability", "elderly", "female_head", "extreme_poverty")
MAX_WAITING_POINTS = 12
MAX_GAP_POINTS = 10


class Reason(StrEnum):
    CHOSEN = "chosen"
    OUTSIDE_REGIONS = "outside_regions"
    OUTSIDE_FUNDER_REGION = "outside_funder_region"
    OCCUPATION_NOT_TARGETED = "occupation_not_targeted"
    SECTOR_NOT_TARGETED = "sector_not_targeted"
    SEX_NOT_TARGETED = "sex_not_targeted"
    DECILE_ABOVE_LIMIT = "decile_above_limit"
    MISSING_INDICATOR = "missing_indicator"
    NOT_ZAKAT_ELIGIBLE = "not_zakat_eligible"
    ALREADY_SPONSORED = "already_sponsored"
    TAKEN_BY_EARLIER_REQUEST = "taken_by_earlier_request"
    LOWER_PRIORITY = "lower_priority"
    OVER_BUDGET = "over_budget"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A verified worker as the engine sees it (no personal data)."""

    worker_id: int
    region_code: str  # the desa/kelurahan (or the most precise level known)
    occupation: str
    sector: str  # "transport" | "other"
    sex: str  # "M" | "F"
    decile: int | None
    disability: bool
    elderly: bool
    female_head: bool
    extreme_poverty: bool
    zakat_eligible: bool
    verified_on: date
    income: int
    available_from: date  # the first contribution month with no sponsorship already committed


@dataclass(frozen=True, slots=True)
class Criteria:
    regions: tuple[str, ...] = ()  # region codes at any level; empty = anywhere
    occupations: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    sex: str | None = None
    max_decile: int | None = None  # only workers with a known decile at or below this
    indicators: frozenset[str] = frozenset()  # every one of these must hold


@dataclass(frozen=True, slots=True)
class Request:
    key: str
    source: FundingSource
    criteria: Criteria
    start: date  # first contribution month
    months: int
    package: str
    workers: int | None = None
    budget: int | None = None
    funder_region: str | None = None  # APBD money stays in this region

    def __post_init__(self):
        if (self.workers is None) == (self.budget is None):
            raise ValueError("a request asks for a number of workers or a budget, not both")
        if self.months < 1:
            raise ValueError("a block is at least one month")
        if self.workers is not None and self.workers < 1:
            raise ValueError("a request asks for at least one worker")
        if self.budget is not None and self.budget < 1:
            raise ValueError("a budget is a positive number of rupiah")

    @property
    def restricted(self) -> bool:
        return self.source in (FundingSource.ZAKAT, FundingSource.APBD)


@dataclass(frozen=True, slots=True)
class Score:
    vulnerability: int
    waiting: int
    gap: int

    @property
    def total(self) -> int:
        return self.vulnerability + self.waiting + self.gap


@dataclass(frozen=True, slots=True)
class Pick:
    worker_id: int
    rank: int  # 1 = the highest priority among all candidates
    score: int
    cost: int  # the whole block at the tariff of each month


@dataclass(frozen=True)
class Outcome:
    request: Request
    picks: tuple[Pick, ...]
    spent: int
    shortfall: int  # workers asked for and not found (count mode), or budget left unspent (budget mode)
    cutoff: int | None = None  # the lowest score taken, for explanations

    @property
    def worker_ids(self) -> frozenset[int]:
        return frozenset(p.worker_id for p in self.picks)


@dataclass(frozen=True)
class Run:
    outcomes: tuple[Outcome, ...]
    order: tuple[int, ...] = field(repr=False)  # worker ids by priority (rank 1 first)

    def outcome(self, key: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.request.key == key:
                return outcome
        raise KeyError(key)


Price = Callable[[Candidate, Request], int]


def month_add(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def regency_of(code: str) -> str:
    """``32.73.01.1001`` → ``32.73``; a province code stays itself."""
    return ".".join(code.split(".")[:2])


def within(code: str, area: str) -> bool:
    """True when region ``code`` lies in ``area`` (a code at any level)."""
    return code == area or code.startswith(area + ".")


def score_of(candidate: Candidate, *, as_of: date, gap_points: dict[str, int]) -> Score:
    vulnerability = 0
    if candidate.decile is not None:
        vulnerability += 11 - candidate.decile
    vulnerability += 5 * candidate.extreme_poverty + 3 * candidate.disability
    vulnerability += 3 * candidate.female_head + 2 * candidate.elderly
    waiting = max(0, min(MAX_WAITING_POINTS, months_between(candidate.verified_on, as_of)))
    gap = max(0, min(MAX_GAP_POINTS, gap_points.get(regency_of(candidate.region_code), 0)))
    return Score(vulnerability, waiting, gap)


def refusals(candidate: Candidate, request: Request) -> list[Reason]:
    """Every rule of ``request`` that ``candidate`` fails (empty when the worker may be chosen)."""
    reasons: list[Reason] = []
    c = request.criteria
    if request.source is FundingSource.ZAKAT and not candidate.zakat_eligible:
        reasons.append(Reason.NOT_ZAKAT_ELIGIBLE)
    if request.funder_region and not within(candidate.region_code, request.funder_region):
        reasons.append(Reason.OUTSIDE_FUNDER_REGION)
    if c.regions and not any(within(candidate.region_code, area) for area in c.regions):
        reasons.append(Reason.OUTSIDE_REGIONS)
    if c.occupations and candidate.occupation not in c.occupations:
        reasons.append(Reason.OCCUPATION_NOT_TARGETED)
    if c.sectors and candidate.sector not in c.sectors:
        reasons.append(Reason.SECTOR_NOT_TARGETED)
    if c.sex and candidate.sex != c.sex:
        reasons.append(Reason.SEX_NOT_TARGETED)
    if c.max_decile is not None and (candidate.decile is None or candidate.decile > c.max_decile):
        reasons.append(Reason.DECILE_ABOVE_LIMIT)
    if any(not getattr(candidate, flag) for flag in c.indicators):
        reasons.append(Reason.MISSING_INDICATOR)
    if candidate.available_from > request.start:
        reasons.append(Reason.ALREADY_SPONSORED)
    return reasons


def _served_order(requests: Iterable[Request]) -> list[Request]:
    requests = list(requests)
    keys = [r.key for r in requests]
    if len(set(keys)) != len(keys):
        raise ValueError("request keys must be unique")
    return sorted(requests, key=lambda r: (not r.restricted, r.key))


def _areas(request: Request) -> tuple[str, ...] | None:
    """The region codes a request is confined to, or None for anywhere."""
    regions = request.criteria.regions
    if request.funder_region:
        if not regions:
            return (request.funder_region,)
        # Keep only the parts of the criteria inside the funder's region (or the funder's region inside them).
        kept = [a for a in regions if within(a, request.funder_region)]
        kept += [request.funder_region for a in regions if within(request.funder_region, a)]
        return tuple(sorted(set(kept)))
    return tuple(regions) or None


def allocate(
    candidates: Sequence[Candidate],
    requests: Iterable[Request],
    *,
    as_of: date,
    gap_points: dict[str, int],
    price: Price,
) -> Run:
    """Serve every request from ``candidates`` in priority order. Deterministic for the same inputs."""
    scored = sorted(
        ((score_of(c, as_of=as_of, gap_points=gap_points).total, c) for c in candidates),
        key=lambda sc: (-sc[0], sc[1].verified_on, sc[1].worker_id),
    )
    ids = [c.worker_id for _, c in scored]
    if len(set(ids)) != len(ids):
        raise ValueError("each worker may be a candidate once")
    by_rank = [c for _, c in scored]
    scores = [s for s, _ in scored]
    # Ranks per kabupaten/kota, already in priority order, so a request confined to a few regions walks only those.
    buckets: dict[str, list[int]] = {}
    for rank, candidate in enumerate(by_rank):
        buckets.setdefault(regency_of(candidate.region_code), []).append(rank)
    # One representative per (income, sector): the price of a block depends on nothing else about the worker.
    kinds = list({(c.income, c.sector): c for c in by_rank}.values())
    busy: dict[int, list[tuple[date, date]]] = {}  # worker id → blocks given in this run, [start, end)

    outcomes = []
    for request in _served_order(requests):
        outcomes.append(_serve(request, by_rank, scores, buckets, busy, price, kinds))
    return Run(outcomes=tuple(outcomes), order=tuple(ids))


def _ranks_for(request: Request, buckets: dict[str, list[int]], total: int) -> Iterator[int]:
    areas = _areas(request)
    if areas is None:
        return iter(range(total))
    chosen = [
        ranks
        for regency, ranks in buckets.items()
        if any(within(regency, area) or within(area, regency) for area in areas)
    ]
    return heapq.merge(*chosen)


def _serve(request, by_rank, scores, buckets, busy, price, kinds) -> Outcome:
    picks: list[Pick] = []
    left = request.budget
    costs: dict[tuple[int, str], int] = {}
    end = month_add(request.start, request.months)
    for kind in kinds:
        costs[(kind.income, kind.sector)] = price(kind, request)
    cheapest = min(costs.values(), default=0)
    for rank in _ranks_for(request, buckets, len(by_rank)):
        if request.workers is not None and len(picks) >= request.workers:
            break
        if left is not None and left < cheapest:
            break  # no block fits in what is left
        candidate = by_rank[rank]
        blocks = busy.get(candidate.worker_id)
        if blocks and any(start < end and request.start < until for start, until in blocks):
            continue
        if refusals(candidate, request):
            continue
        cost = costs[(candidate.income, candidate.sector)]
        if left is not None:
            if cost > left:
                continue
            left -= cost
        picks.append(Pick(candidate.worker_id, rank + 1, scores[rank], cost))
        busy.setdefault(candidate.worker_id, []).append((request.start, end))
    spent = sum(p.cost for p in picks)
    shortfall = (request.workers - len(picks)) if request.workers is not None else left
    cutoff = min((p.score for p in picks), default=None)
    return Outcome(request=request, picks=tuple(picks), spent=spent, shortfall=shortfall, cutoff=cutoff)


@dataclass(frozen=True)
class Explanation:
    worker_id: int
    request_key: str
    reasons: tuple[Reason, ...]
    score: Score
    rank: int | None
    taken_by: str | None = None


def explain(
    run: Run,
    candidate: Candidate,
    request_key: str,
    *,
    as_of: date,
    gap_points: dict[str, int],
    price: Price,
) -> Explanation:
    """Why ``candidate`` was or was not chosen for the request ``request_key`` in ``run``."""
    outcome = run.outcome(request_key)
    request = outcome.request
    score = score_of(candidate, as_of=as_of, gap_points=gap_points)
    rank = run.order.index(candidate.worker_id) + 1 if candidate.worker_id in run.order else None
    if candidate.worker_id in outcome.worker_ids:
        return Explanation(candidate.worker_id, request_key, (Reason.CHOSEN,), score, rank)
    reasons = refusals(candidate, request)
    if reasons:
        return Explanation(candidate.worker_id, request_key, tuple(reasons), score, rank)
    served = [o.request.key for o in run.outcomes]
    for earlier in run.outcomes[: served.index(request_key)]:
        if candidate.worker_id in earlier.worker_ids and _overlaps(earlier.request, request):
            return Explanation(
                candidate.worker_id, request_key, (Reason.TAKEN_BY_EARLIER_REQUEST,), score, rank, earlier.request.key
            )
    if request.budget is not None and price(candidate, request) > outcome.shortfall:
        return Explanation(candidate.worker_id, request_key, (Reason.OVER_BUDGET,), score, rank)
    return Explanation(candidate.worker_id, request_key, (Reason.LOWER_PRIORITY,), score, rank)


def _overlaps(a: Request, b: Request) -> bool:
    return a.start < month_add(b.start, b.months) and b.start < month_add(a.start, a.months)
