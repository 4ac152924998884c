"""Sponsorships: a funder's money committed to workers' contribution months, reserved in the ledger up front.

Three ways in, one way to commit:

- ``sponsor_directed``: a funder names verified workers for N months;
- ``allocation_run`` with criteria requests: the allocation engine (``domain/allocation.py``) picks;
- ``pool_enrol``: a campaign's pool enrols the next eligible workers, a whole block each, while it can pay for one.

``sponsor_cofunded`` is the directed way in for an explicit co-funding split: two or more funders share every
worker-month, each part reserved from its own pool (``cofunding_commit``).

``sponsorships_commit`` writes the blocks: one ``Sponsorship`` per worker, one ``SponsoredMonth`` per worker-month
(the database refuses a second funder on the same worker-month), and one ledger reservation per request and month,
at the tariff of each month. It checks the pool first and answers ``pool_insufficient`` with what is available and
what is needed before anything is reserved; the transaction is the backstop. Committing the same request key again
returns what the first commit wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.funding import accounts as funding_accounts
from lingkaran.funding.models import Agreement, Campaign, Funder
from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.selectors import balance_of
from lingkaran.ledger.services import AccountSpec, account_open, reservation_create
from lingkaran.protection import selectors as tariff_selectors
from lingkaran.protection.domain import allocation as engine
from lingkaran.protection.domain import cofunding as split_rules
from lingkaran.protection.domain.tariffs import FundingSource, Package, add_months, month_start
from lingkaran.protection.errors import CoFundingInvalid, PoolInsufficient, SponsorshipRefused, WorkerMonthTaken
from lingkaran.protection.models import (
    AllocationRun,
    CoFunding,
    CoFundingShare,
    Repricing,
    SponsoredMonth,
    SponsoredShare,
    Sponsorship,
    SponsorshipKind,
)
from lingkaran.registry.models import Worker, WorkerStatus

SOURCE_OF_FUNDER = {
    Funder.Kind.COMPANY: FundingSource.CSR,
    Funder.Kind.LOCAL_GOVERNMENT: FundingSource.APBD,
    Funder.Kind.ZAKAT_BODY: FundingSource.ZAKAT,
    Funder.Kind.INSTITUTION: FundingSource.CSR,
    Funder.Kind.INDIVIDUAL: FundingSource.DONATION,
}


@dataclass(frozen=True)
class Block:
    """One worker's block: the amount of each month from the first, at the tariff of that month."""

    worker_id: int
    amounts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.amounts)


def reserved_account(pool: str) -> str:
    """``liability:pool:campaign:7`` → ``liability:reserved:campaign:7``: where a pool's committed blocks wait."""
    return pool.replace("liability:pool:", "liability:reserved:", 1)


def _open_reserved(pool: str) -> str:
    code = reserved_account(pool)
    owner = ":".join(pool.split(":")[2:])
    account_open(AccountSpec(code, f"Reserved for workers ({owner})"[:200], AccountType.LIABILITY, is_trust=True))
    return code


def _reservation_key(request_key: str, month: date) -> str:
    return f"sponsor:{request_key}:{month:%Y-%m}"


def sponsorships_commit(
    *,
    request_key: str,
    kind: str,
    source: str,
    package: str,
    pool: str,
    start: date,
    months: int,
    blocks: Sequence[Block],
    by,
    funder_id: int | None = None,
    agreement_id: int | None = None,
    campaign_id: int | None = None,
    run: AllocationRun | None = None,
) -> list[Sponsorship]:
    start = month_start(start)
    existing = list(Sponsorship.objects.filter(request_key=request_key).order_by("pk"))
    if existing:
        return existing
    if not blocks:
        return []
    if any(len(b.amounts) != months for b in blocks):
        raise ValueError("every block has one amount per month")
    needed = sum(b.total for b in blocks)
    available = balance_of(pool)
    if needed > available:
        raise PoolInsufficient(details={"pool": pool, "available": available, "needed": needed})
    held_in = _open_reserved(pool)
    with transaction.atomic():
        rows = Sponsorship.objects.bulk_create(
            [
                Sponsorship(
                    worker_id=b.worker_id,
                    kind=kind,
                    source=source,
                    funder_id=funder_id,
                    agreement_id=agreement_id,
                    campaign_id=campaign_id,
                    pool=pool,
                    package=package,
                    start_month=start,
                    months=months,
                    total=b.total,
                    request_key=request_key,
                    run=run,
                    created_by=by,
                )
                for b in blocks
            ]
        )
        by_worker = {row.worker_id: row for row in rows}
        per_month: dict[date, int] = defaultdict(int)
        lines = []
        for block in blocks:
            for offset, amount in enumerate(block.amounts):
                month = add_months(start, offset)
                per_month[month] += amount
                lines.append(
                    SponsoredMonth(
                        worker_id=block.worker_id,
                        month=month,
                        sponsorship=by_worker[block.worker_id],
                        amount=amount,
                        reservation_key=_reservation_key(request_key, month),
                    )
                )
        try:
            with transaction.atomic():
                SponsoredMonth.objects.bulk_create(lines, batch_size=5000)
        except IntegrityError:
            taken = sorted(
                set(
                    SponsoredMonth.objects.filter(
                        worker_id__in=[b.worker_id for b in blocks],
                        month__gte=start,
                        month__lt=add_months(start, months),
                    ).values_list("worker_id", flat=True)
                )
            )
            raise WorkerMonthTaken(details={"workers": taken}) from None
        for month, amount in sorted(per_month.items()):
            reservation_create(
                key=_reservation_key(request_key, month),
                pool=pool,
                held_in=held_in,
                amount=amount,
                effective_on=timezone.localdate(),
                description=f"{kind} {request_key} {month:%Y-%m}",
                metadata={"request": request_key, "month": f"{month:%Y-%m}", "workers": len(blocks)},
            )
        audit_record(
            actor=by,
            action="sponsorships.commit",
            object_type="protection.sponsorship",
            object_id=request_key,
            details={
                "kind": kind,
                "workers": len(blocks),
                "months": months,
                "start": f"{start:%Y-%m}",
                "total": needed,
                "pool": pool,
            },
        )
    return rows


# --- Pricing and candidates -----------------------------------------------------------------------------------------


def rules_for(start: date, months: int):
    """The tariff rules for every month of blocks starting at ``start``, loaded once (four queries)."""
    return tariff_selectors.tariff_rules(first_month=start, last_month=add_months(start, months - 1))


def month_amounts(rules, *, income, sector, package, source, first, count) -> tuple[int, ...]:
    """The amount of each month of a block at the tariff of that month."""
    return tuple(
        rules.amount_due(
            month=add_months(first, i), declared_income=income, sector=sector, package=package, source=source
        ).total
        for i in range(count)
    )


def block_price(rules) -> engine.Price:
    """The allocation engine's price of a whole block, cached: it depends only on income, sector and the request."""
    cache: dict[tuple, int] = {}

    def price(candidate: engine.Candidate, request: engine.Request) -> int:
        key = (candidate.income, candidate.sector, request.package, request.source, request.start, request.months)
        if key not in cache:
            cache[key] = sum(
                month_amounts(
                    rules,
                    income=candidate.income,
                    sector=candidate.sector,
                    package=request.package,
                    source=request.source,
                    first=request.start,
                    count=request.months,
                )
            )
        return cache[key]

    return price


CANDIDATE_FIELDS = (
    "id",
    "region_code",
    "occupation_id",
    "occupation__group__sector",
    "sex",
    "dtsen_decile",
    "has_disability",
    "is_elderly",
    "is_female_head",
    "on_extreme_poverty_list",
    "zakat_eligible",
    "declared_income",
)


def candidates(*, as_of: date, worker_ids: Iterable[int] | None = None) -> list[engine.Candidate]:
    """Verified workers as the engine sees them, with the first month each is free of sponsorship. Three queries."""
    workers = Worker.objects.filter(status=WorkerStatus.VERIFIED)
    if worker_ids is not None:
        workers = workers.filter(pk__in=list(worker_ids))
    verified_on = dict(workers.values_list("pk").annotate(on=Max("decisions__decided_at")).values_list("pk", "on"))
    busy = dict(
        SponsoredMonth.objects.filter(worker__in=workers, month__gte=month_start(as_of))
        .values("worker_id")
        .annotate(last=Max("month"))
        .values_list("worker_id", "last")
    )
    first_free = month_start(as_of)
    out = []
    for row in workers.values_list(*CANDIDATE_FIELDS).iterator(chunk_size=10_000):
        (pk, region, occupation, sector, sex, decile, disability, elderly, female_head, poverty, zakat, income) = row
        decided = verified_on.get(pk)
        last = busy.get(pk)
        out.append(
            engine.Candidate(
                worker_id=pk,
                region_code=region or "",
                occupation=occupation,
                sector=sector,
                sex=sex,
                decile=decile,
                disability=disability,
                elderly=elderly,
                female_head=female_head,
                extreme_poverty=poverty,
                zakat_eligible=zakat,
                verified_on=timezone.localdate(decided) if decided else as_of,
                income=income,
                available_from=add_months(last, 1) if last else first_free,
            )
        )
    return out


def _fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _source_of(funder: Funder) -> FundingSource:
    return SOURCE_OF_FUNDER[Funder.Kind(funder.kind)]


def _blocks(picks_or_candidates, *, request: engine.Request, price) -> list[Block]:
    return [
        Block(
            c.worker_id,
            price(
                income=c.income,
                sector=c.sector,
                package=request.package,
                source=request.source,
                first=request.start,
                count=request.months,
            ),
        )
        for c in picks_or_candidates
    ]


def sponsor_directed(
    *,
    funder: Funder,
    worker_ids: Sequence[int],
    start: date,
    months: int,
    package: str,
    by,
    agreement: Agreement | None = None,
    cofund_with: Sequence[ShareSpec] = (),
) -> list[Sponsorship]:
    """A funder pays for the named verified workers for ``months`` from ``start``. All or nothing.

    ``cofund_with``: other funders and their shares of every month (basis points); the funder pays the rest. The
    block is then an explicit co-funding split (``sponsor_cofunded``)."""
    require(by, Capability.MANAGE_SPONSORSHIPS)
    if cofund_with:
        own = split_rules.WHOLE - sum(s.share_bp for s in cofund_with)
        return sponsor_cofunded(
            shares=[ShareSpec(funder, own), *cofund_with],
            worker_ids=worker_ids,
            start=start,
            months=months,
            package=package,
            by=by,
        )
    start = month_start(start)
    worker_ids = sorted(set(worker_ids))
    source = _source_of(funder)
    key = (
        "directed:"
        + _fingerprint(
            {
                "funder": funder.pk,
                "agreement": agreement.pk if agreement else None,
                "workers": worker_ids,
                "start": start,
                "months": months,
                "package": package,
            }
        )[:32]
    )
    request = engine.Request(
        key=key,
        source=source,
        criteria=engine.Criteria(),
        start=start,
        months=months,
        package=package,
        workers=max(1, len(worker_ids)),
        funder_region=funder.region_code or None if source is FundingSource.APBD else None,
    )
    if Sponsorship.objects.filter(request_key=key).exists():
        return list(Sponsorship.objects.filter(request_key=key).order_by("pk"))
    found = {c.worker_id: c for c in candidates(as_of=start, worker_ids=worker_ids)}
    refused = {str(wid): [r.value for r in engine.refusals(c, request)] for wid, c in found.items()}
    refused = {wid: reasons for wid, reasons in refused.items() if reasons}
    not_verified = [wid for wid in worker_ids if wid not in found]
    if not worker_ids or refused or not_verified:
        raise SponsorshipRefused(details={"not_verified": not_verified, "refused": refused})
    rules = rules_for(start, months)
    return sponsorships_commit(
        request_key=key,
        kind=SponsorshipKind.DIRECTED,
        source=source,
        package=package,
        pool=funding_accounts.funder_pool(funder.pk),
        start=start,
        months=months,
        blocks=_blocks([found[w] for w in worker_ids], request=request, price=lambda **kw: month_amounts(rules, **kw)),
        by=by,
        funder_id=funder.pk,
        agreement_id=agreement.pk if agreement else None,
    )


def gap_points(*, as_of: date) -> dict[str, int]:
    """Per kabupaten/kota: 10 when none of its verified workers is covered in ``as_of``'s month, 0 when all are."""
    verified = dict(
        Worker.objects.filter(status=WorkerStatus.VERIFIED)
        .annotate(regency=Substr("region_code", 1, 5))
        .values("regency")
        .annotate(n=Count("pk"))
        .values_list("regency", "n")
    )
    covered = dict(
        SponsoredMonth.objects.filter(month=month_start(as_of))
        .annotate(regency=Substr("worker__region_code", 1, 5))
        .values("regency")
        .annotate(n=Count("pk"))
        .values_list("regency", "n")
    )
    return {regency: round(10 * (1 - min(covered.get(regency, 0), n) / n)) for regency, n in verified.items() if n}


@dataclass(frozen=True)
class CriteriaRequest:
    """A funder's (or an agreement's) request to the allocation engine."""

    key: str
    funder_id: int
    criteria: engine.Criteria
    start: date
    months: int
    package: str
    workers: int | None = None
    budget: int | None = None
    agreement_id: int | None = None


def allocation_run(*, requests: Sequence[CriteriaRequest], as_of: date, by, commit: bool) -> AllocationRun:
    """Run the engine over every verified worker for ``requests``; with ``commit``, reserve what it picked.

    The run records a fingerprint of its inputs and, per request, the workers picked with their rank and score, so
    the result can be shown and explained later (``allocation_explain``)."""
    require(by, Capability.MANAGE_SPONSORSHIPS)
    funders = Funder.objects.in_bulk([r.funder_id for r in requests])
    engine_requests = []
    for spec in requests:
        funder = funders[spec.funder_id]
        source = _source_of(funder)
        engine_requests.append(
            engine.Request(
                key=spec.key,
                source=source,
                criteria=spec.criteria,
                start=month_start(spec.start),
                months=spec.months,
                package=spec.package,
                workers=spec.workers,
                budget=spec.budget,
                funder_region=(funder.region_code or None) if source is FundingSource.APBD else None,
            )
        )
    pool = candidates(as_of=as_of)
    gaps = gap_points(as_of=as_of)
    first = min(r.start for r in engine_requests)
    last = max(add_months(r.start, r.months - 1) for r in engine_requests)
    rules = tariff_selectors.tariff_rules(first_month=first, last_month=last)
    price = block_price(rules)

    result = engine.allocate(pool, engine_requests, as_of=as_of, gap_points=gaps, price=price)
    summary = {
        o.request.key: {
            "picked": [[p.worker_id, p.rank, p.score, p.cost] for p in o.picks],
            "spent": o.spent,
            "shortfall": o.shortfall,
        }
        for o in result.outcomes
    }
    parameters = {
        "requests": [
            {
                "key": s.key,
                "funder": s.funder_id,
                "agreement": s.agreement_id,
                "criteria": {
                    "regions": list(s.criteria.regions),
                    "occupations": list(s.criteria.occupations),
                    "sectors": list(s.criteria.sectors),
                    "sex": s.criteria.sex,
                    "max_decile": s.criteria.max_decile,
                    "indicators": sorted(s.criteria.indicators),
                },
                "start": f"{month_start(s.start):%Y-%m}",
                "months": s.months,
                "package": s.package,
                "workers": s.workers,
                "budget": s.budget,
            }
            for s in requests
        ],
        "gap_points": gaps,
    }
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode())
    for candidate in sorted(pool, key=lambda c: c.worker_id):
        digest.update(repr(astuple(candidate)).encode())
    fingerprint = digest.hexdigest()
    with transaction.atomic():
        run = AllocationRun.objects.create(
            as_of=as_of, inputs_sha256=fingerprint, parameters=parameters, summary=summary, started_by=by
        )
        if commit:
            by_id = {c.worker_id: c for c in pool}
            specs = {s.key: s for s in requests}
            for outcome in result.outcomes:
                spec = specs[outcome.request.key]
                if not outcome.picks:
                    continue
                sponsorships_commit(
                    request_key=f"criteria:{spec.key}",
                    kind=SponsorshipKind.CRITERIA,
                    source=outcome.request.source,
                    package=spec.package,
                    pool=funding_accounts.funder_pool(spec.funder_id),
                    start=outcome.request.start,
                    months=spec.months,
                    blocks=_blocks(
                        [by_id[p.worker_id] for p in outcome.picks],
                        request=outcome.request,
                        price=lambda **kw: month_amounts(rules, **kw),
                    ),
                    by=by,
                    funder_id=spec.funder_id,
                    agreement_id=spec.agreement_id,
                    run=run,
                )
            run.state = AllocationRun.State.COMMITTED
            run.committed_at = timezone.now()
            run.save(update_fields=["state", "committed_at"])
    return run


def pool_enrol(*, campaign: Campaign, as_of: date, by, block_months: int | None = None) -> list[Sponsorship]:
    """A campaign's pool enrols the next eligible workers, a whole block each, while it can pay for one.

    Blocks start in the month after ``as_of`` and last ``LINGKARAN_POOL_BLOCK_MONTHS`` (default 6). The campaign's
    target regions and occupations are the criteria; the money is crowdfunding (source ``donation``). The request key
    names the campaign, the first month, how many workers the pool has enrolled before and the balance it starts from,
    so a retry of the same enrolment reserves nothing new while new money enrols new workers."""
    require(by, Capability.MANAGE_SPONSORSHIPS)
    months = block_months or settings.LINGKARAN_POOL_BLOCK_MONTHS
    start = add_months(month_start(as_of), 1)
    pool = funding_accounts.campaign_pool(campaign.pk)
    available = balance_of(pool)
    if available <= 0:
        return []
    enrolled = Sponsorship.objects.filter(campaign=campaign, kind=SponsorshipKind.POOLED).count()
    key = f"pooled:{campaign.pk}:{start:%Y-%m}:{enrolled}:{available}"
    request = engine.Request(
        key=key,
        source=FundingSource.DONATION,
        criteria=engine.Criteria(
            regions=tuple(campaign.target_regions or ()), occupations=tuple(campaign.target_occupations or ())
        ),
        start=start,
        months=months,
        package=Package.JKK_JKM,
        budget=available,
    )
    rules = rules_for(start, months)
    price = block_price(rules)

    pool_candidates = candidates(as_of=start)
    result = engine.allocate(pool_candidates, [request], as_of=as_of, gap_points=gap_points(as_of=as_of), price=price)
    picks = result.outcome(key).picks
    if not picks:
        return []
    by_id = {c.worker_id: c for c in pool_candidates}
    return sponsorships_commit(
        request_key=key,
        kind=SponsorshipKind.POOLED,
        source=FundingSource.DONATION,
        package=Package.JKK_JKM,
        pool=pool,
        start=start,
        months=months,
        blocks=_blocks(
            [by_id[p.worker_id] for p in picks], request=request, price=lambda **kw: month_amounts(rules, **kw)
        ),
        by=by,
        funder_id=campaign.funder_id,
        campaign_id=campaign.pk,
    )


# --- Co-funding splits ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareSpec:
    """One funder's part of a co-funding split, in basis points (6000 = 60 %)."""

    funder: Funder
    share_bp: int


@dataclass(frozen=True)
class SharePlan:
    position: int
    funder: Funder
    share_bp: int
    source: str
    pool: str
    per_worker: dict[int, tuple[int, ...]]  # worker id → the share's part of each month
    available: int

    @property
    def total(self) -> int:
        return sum(sum(parts) for parts in self.per_worker.values())

    @property
    def enough(self) -> bool:
        return self.total <= self.available


@dataclass(frozen=True)
class CoFundingPlan:
    """What a co-funded block would reserve: the month amounts (priced once, at ``source``) and each share's parts."""

    key: str
    start: date
    months: int
    package: str
    source: str
    worker_ids: list[int]
    month_amounts: dict[int, tuple[int, ...]]  # worker id → the whole amount of each month
    shares: tuple[SharePlan, ...]
    not_verified: list[int]
    refused: dict[str, list[str]]

    @property
    def total(self) -> int:
        return sum(sum(amounts) for amounts in self.month_amounts.values())

    @property
    def source_label(self) -> str:
        from lingkaran.protection.models import FundingSource as SourceChoices

        return str(dict(SourceChoices.choices).get(self.source, self.source))

    @property
    def enough(self) -> bool:
        return all(share.enough for share in self.shares)

    @property
    def can_commit(self) -> bool:
        return self.enough and not self.not_verified and not self.refused and bool(self.worker_ids)

    def month_totals(self) -> list[tuple[date, int, tuple[int, ...]]]:
        """Per month: its first day, the whole amount over every worker, and each share's part of it."""
        out = []
        for i in range(self.months):
            whole = sum(amounts[i] for amounts in self.month_amounts.values())
            parts = tuple(sum(p[i] for p in share.per_worker.values()) for share in self.shares)
            out.append((add_months(self.start, i), whole, parts))
        return out


def _check_shares(shares: Sequence[ShareSpec]) -> None:
    try:
        split_rules.check_split([s.share_bp for s in shares])
    except split_rules.SplitInvalid as exc:
        raise CoFundingInvalid(details={"reason": exc.code}) from None
    if len({s.funder.pk for s in shares}) != len(shares):
        raise CoFundingInvalid(details={"reason": "same_funder"})


def cofunding_plan(
    *, shares: Sequence[ShareSpec], worker_ids: Sequence[int], start: date, months: int, package: str
) -> CoFundingPlan:
    """Price a co-funded block and split every worker-month between the shares, with each pool's balance and the
    workers any of the funders may not pay (zakat, APBD region), without writing anything. Raises
    ``cofunding_invalid`` for shares that are no split and ``tariff_not_in_force`` for a month without a tariff."""
    _check_shares(shares)
    start = month_start(start)
    ids = sorted(set(worker_ids))
    sources = [_source_of(s.funder).value for s in shares]
    source = split_rules.pricing_source(sources)
    key = (
        "cofund:"
        + _fingerprint(
            {
                "shares": [[s.funder.pk, s.share_bp] for s in shares],
                "workers": ids,
                "start": start,
                "months": months,
                "package": package,
            }
        )[:32]
    )
    found = {c.worker_id: c for c in candidates(as_of=start, worker_ids=ids)}
    refused: dict[str, list[str]] = {}
    for spec, share_source in zip(shares, sources, strict=True):
        request = engine.Request(
            key=key,
            source=FundingSource(share_source),
            criteria=engine.Criteria(),
            start=start,
            months=months,
            package=package,
            workers=max(1, len(ids)),
            funder_region=(spec.funder.region_code or None) if share_source == FundingSource.APBD else None,
        )
        for wid, candidate in found.items():
            for reason in engine.refusals(candidate, request):
                reasons = refused.setdefault(str(wid), [])
                if reason.value not in reasons:
                    reasons.append(reason.value)
    rules = rules_for(start, months)
    amounts = {
        wid: month_amounts(
            rules, income=c.income, sector=c.sector, package=package, source=source, first=start, count=months
        )
        for wid, c in sorted(found.items())
    }
    bps = [s.share_bp for s in shares]
    parts = {wid: [split_rules.split_amount(a, bps) for a in month_list] for wid, month_list in amounts.items()}
    plans = []
    for position, (spec, share_source) in enumerate(zip(shares, sources, strict=True), start=1):
        pool = funding_accounts.funder_pool(spec.funder.pk)
        plans.append(
            SharePlan(
                position=position,
                funder=spec.funder,
                share_bp=spec.share_bp,
                source=share_source,
                pool=pool,
                per_worker={wid: tuple(p[position - 1] for p in split) for wid, split in parts.items()},
                available=balance_of(pool),
            )
        )
    return CoFundingPlan(
        key=key,
        start=start,
        months=months,
        package=package,
        source=source,
        worker_ids=ids,
        month_amounts=amounts,
        shares=tuple(plans),
        not_verified=[wid for wid in ids if wid not in found],
        refused=refused,
    )


def sponsor_cofunded(
    *, shares: Sequence[ShareSpec], worker_ids: Sequence[int], start: date, months: int, package: str, by
) -> list[Sponsorship]:
    """Two or more funders share the named verified workers' months from ``start``: every worker-month is priced once
    and split by ``split_amount``; each share is reserved from its own pool, per share and month. All or nothing:
    a worker any of the funders may not pay, or a pool that cannot pay its share, reserves nothing."""
    require(by, Capability.MANAGE_SPONSORSHIPS)
    plan = cofunding_plan(shares=shares, worker_ids=worker_ids, start=start, months=months, package=package)
    existing = CoFunding.objects.filter(request_key=plan.key).first()
    if existing is not None:
        return list(existing.sponsorships.order_by("pk"))
    if not plan.worker_ids or plan.refused or plan.not_verified:
        raise SponsorshipRefused(details={"not_verified": plan.not_verified, "refused": plan.refused})
    return cofunding_commit(plan=plan, by=by)


def cofunding_commit(*, plan: CoFundingPlan, by) -> list[Sponsorship]:
    """Write a co-funded block in one transaction: the split and its shares, a sponsorship per share and worker, one
    ``SponsoredMonth`` per worker-month held by the split (the database refuses a month another sponsorship or split
    holds), its parts, and one ledger reservation per share and month (``sponsor:{request}:s{n}:{YYYY-MM}``)."""
    short = [{"pool": s.pool, "available": s.available, "needed": s.total} for s in plan.shares if not s.enough]
    if short:
        raise PoolInsufficient(details={**short[0], "pools": short})
    held = {s.position: _open_reserved(s.pool) for s in plan.shares}
    start, months = plan.start, plan.months
    with transaction.atomic():
        cofunding = CoFunding.objects.create(
            request_key=plan.key,
            package=plan.package,
            start_month=start,
            months=months,
            source=plan.source,
            total=plan.total,
            created_by=by,
        )
        share_rows = {
            s.position: CoFundingShare.objects.create(
                cofunding=cofunding,
                position=s.position,
                funder=s.funder,
                pool=s.pool,
                source=s.source,
                share_bp=s.share_bp,
                total=s.total,
            )
            for s in plan.shares
        }
        sponsorships = Sponsorship.objects.bulk_create(
            [
                Sponsorship(
                    worker_id=wid,
                    kind=SponsorshipKind.DIRECTED,
                    source=s.source,
                    funder_id=s.funder.pk,
                    pool=s.pool,
                    package=plan.package,
                    start_month=start,
                    months=months,
                    total=sum(parts),
                    request_key=f"{plan.key}:s{s.position}",
                    cofunding=cofunding,
                    share=share_rows[s.position],
                    created_by=by,
                )
                for s in plan.shares
                for wid, parts in sorted(s.per_worker.items())
            ]
        )
        sponsorship_of = {(row.share_id, row.worker_id): row for row in sponsorships}
        claims = [
            SponsoredMonth(
                worker_id=wid,
                month=add_months(start, i),
                cofunding=cofunding,
                amount=amount,
                reservation_key=f"{plan.key}:{add_months(start, i):%Y-%m}",
            )
            for wid, amounts in sorted(plan.month_amounts.items())
            for i, amount in enumerate(amounts)
        ]
        try:
            with transaction.atomic():
                claims = SponsoredMonth.objects.bulk_create(claims, batch_size=5000)
        except IntegrityError:
            taken = sorted(
                set(
                    SponsoredMonth.objects.filter(
                        worker_id__in=plan.worker_ids, month__gte=start, month__lt=add_months(start, months)
                    ).values_list("worker_id", flat=True)
                )
            )
            raise WorkerMonthTaken(details={"workers": taken}) from None
        claim_of = {(c.worker_id, c.month): c for c in claims}
        per_share_month: dict[tuple[int, date], int] = defaultdict(int)
        parts = []
        for s in plan.shares:
            share = share_rows[s.position]
            for wid, amounts in sorted(s.per_worker.items()):
                for i, amount in enumerate(amounts):
                    month = add_months(start, i)
                    per_share_month[(s.position, month)] += amount
                    parts.append(
                        SponsoredShare(
                            sponsored_month=claim_of[(wid, month)],
                            cofunding=cofunding,
                            share=share,
                            sponsorship=sponsorship_of[(share.pk, wid)],
                            amount=amount,
                            reservation_key=_share_reservation_key(plan.key, s.position, month),
                        )
                    )
        SponsoredShare.objects.bulk_create(parts, batch_size=5000)
        pools = {s.position: s.pool for s in plan.shares}
        for (position, month), amount in sorted(per_share_month.items()):
            reservation_create(
                key=_share_reservation_key(plan.key, position, month),
                pool=pools[position],
                held_in=held[position],
                amount=amount,
                effective_on=timezone.localdate(),
                description=f"co-funded {plan.key} share {position} {month:%Y-%m}",
                metadata={
                    "request": plan.key,
                    "share": position,
                    "month": f"{month:%Y-%m}",
                    "workers": len(plan.worker_ids),
                },
            )
        audit_record(
            actor=by,
            action="sponsorships.cofund",
            object_type="protection.cofunding",
            object_id=str(cofunding.pk),
            details={
                "request": plan.key,
                "workers": len(plan.worker_ids),
                "months": months,
                "start": f"{start:%Y-%m}",
                "total": plan.total,
                "priced_as": plan.source,
                "shares": [
                    {"funder": s.funder.pk, "share_bp": s.share_bp, "pool": s.pool, "total": s.total}
                    for s in plan.shares
                ],
            },
        )
    return sorted(sponsorships, key=lambda row: row.pk)


def _share_reservation_key(request_key: str, position: int, month: date) -> str:
    return f"sponsor:{request_key}:s{position}:{month:%Y-%m}"


# --- Re-pricing reserved months after a tariff change ----------------------------------------------------------------

REPRICED_KEY = re.compile(r"^(?P<base>.*?)(?::r(?P<n>\d+))?$")


@dataclass
class RepriceResult:
    months: list[str] = field(default_factory=list)  # months looked at
    no_tariff: list[str] = field(default_factory=list)  # months no tariff covers: left alone
    applied: list[Repricing] = field(default_factory=list)
    short: list[Repricing] = field(default_factory=list)

    @property
    def topped_up(self) -> int:
        return sum(r.difference for r in self.applied if r.difference > 0)

    @property
    def returned(self) -> int:
        return sum(-r.difference for r in self.applied if r.difference < 0)


def _next_key(key: str) -> str:
    """``sponsor:x:2027-05`` → ``sponsor:x:2027-05:r1`` → ``…:r2``: the reservation of a month re-priced again."""
    found = REPRICED_KEY.match(key)
    return f"{found.group('base')}:r{int(found.group('n') or 0) + 1}"


_PRICED = """
    SELECT m.id AS month_id, m.reservation_key AS reservation_key, m.cofunding_id AS cofunding_id,
           m.amount AS amount, t.total AS price, m.price_due AS price_due, s.pool AS pool
    FROM protection_sponsoredmonth m
    JOIN registry_worker w ON w.id = m.worker_id
    JOIN registry_occupation o ON o.code = w.occupation_id
    JOIN registry_occupationgroup g ON g.code = o.group_id
    LEFT JOIN protection_sponsorship s ON s.id = m.sponsorship_id
    LEFT JOIN protection_cofunding f ON f.id = m.cofunding_id
    JOIN tariff t
      ON w.declared_income >= t.income_from AND (t.income_to IS NULL OR w.declared_income <= t.income_to)
     AND t.sector = g.sector AND t.package = COALESCE(s.package, f.package) AND t.source = COALESCE(s.source, f.source)
    WHERE m.month = %(month)s AND m.state = 'reserved'
      AND NOT EXISTS (SELECT 1 FROM protection_contributionline c WHERE c.sponsored_month_id = m.id)"""


def reserved_months_reprice(
    *, first_month: date, reason: str, by=None, last_month: date | None = None, only_short: bool = False
) -> RepriceResult:
    """Re-price every reserved, not yet billed worker-month from ``first_month`` (to ``last_month``) at the tariff
    in force now, and move the difference in the ledger, per reservation and month.

    Set-based: one aggregate per month finds the reservations whose months changed price (the month's price table
    as a CTE joined to the workers). For each such reservation (one per request and month, so few) either

    - the pool pays a higher price, or takes back a lower one: the reservation is voided and its months reserved
      again at the new total under the next key (``…:r1``, ``…:r2``): the pool's balance moves by exactly the
      difference; its months take the new amounts and key in one ``UPDATE … FROM``; a ``Repricing`` row ``applied``;
    - or the pool cannot pay the difference: nothing moves, every month of the reservation keeps its old amount with
      ``price_due`` set, a ``Repricing`` row ``short``; the cycle holds those months back until a later re-pricing
      succeeds (the cycle retries it before billing: ``only_short``).

    A co-funded month is re-priced as a whole and split again (``split_amount``); each share's reservation moves by
    its own difference, all shares or none. Running it again changes nothing. Months with no tariff are left alone."""
    from lingkaran.protection.cycle import month_lock

    first = month_start(first_month)
    result = RepriceResult()
    months = SponsoredMonth.objects.filter(month__gte=first, state=SponsoredMonth.State.RESERVED)
    if last_month is not None:
        months = months.filter(month__lte=month_start(last_month))
    if only_short:
        months = months.filter(price_due__isnull=False)
    actor = by if by is not None and getattr(by, "is_authenticated", False) else None
    today = timezone.localdate()
    for month in sorted(set(months.values_list("month", flat=True).distinct())):
        # The month's cycle lock (PostgreSQL): a run billing this month finishes first, so a reservation is never
        # replaced while its lines are being written; the cycle's own retry holds it already (locks stack).
        with month_lock(month, wait=True):
            _reprice_month(month=month, reason=reason, actor=actor, today=today, only_short=only_short, result=result)
    return result


def _reprice_month(*, month: date, reason: str, actor, today: date, only_short: bool, result: RepriceResult) -> None:
    from lingkaran.ledger.models import Reservation
    from lingkaran.ledger.services import reservation_void
    from lingkaran.protection.agency import sql
    from lingkaran.protection.errors import TariffNotInForce

    result.months.append(f"{month:%Y-%m}")
    try:
        cte = tariff_selectors.amount_table_cte(month, name="tariff")
    except TariffNotInForce:
        result.no_tariff.append(f"{month:%Y-%m}")
        return
    short_only = "AND m.price_due IS NOT NULL" if only_short else ""
    changed = sql.fetch(
        f"""
        WITH {cte}
        SELECT p.reservation_key, p.cofunding_id, MAX(p.pool), SUM(p.amount), SUM(p.price)
        FROM ({_PRICED} {short_only}) p
        GROUP BY p.reservation_key, p.cofunding_id
        HAVING SUM(CASE WHEN p.amount <> p.price OR p.price_due IS NOT NULL THEN 1 ELSE 0 END) > 0
        ORDER BY p.reservation_key
        """,
        {"month": month},
    )
    for key, cofunding_id, pool, old_sum, new_sum in changed:
        if cofunding_id is not None:
            _reprice_cofunded(
                month=month, key=key, cofunding_id=cofunding_id, cte=cte, reason=reason, by=actor, result=result
            )
            continue
        reservation = Reservation.objects.filter(key=key, state=Reservation.State.PENDING).first()
        if reservation is None:
            continue  # settled already: the cycle owns it now
        difference = int(new_sum) - int(old_sum)
        old_total, new_total = reservation.amount, reservation.amount + difference
        available = balance_of(pool)
        where = (
            f"WITH {cte} {{update}} FROM ({_PRICED} AND m.reservation_key = %(key)s) p WHERE {{target}}.id = p.month_id"
        )
        if difference > available:
            with transaction.atomic():
                sql.run(
                    where.format(
                        update="UPDATE protection_sponsoredmonth SET price_due = p.price",
                        target="protection_sponsoredmonth",
                    ),
                    {"month": month, "key": key},
                )
                row, _created = Repricing.objects.get_or_create(
                    reservation_key=key,
                    state=Repricing.State.SHORT,
                    new_amount=new_total,
                    defaults={
                        "month": month,
                        "pool": pool,
                        "old_amount": old_total,
                        "available": available,
                        "reason": reason[:40],
                        "created_by": actor,
                    },
                )
            result.short.append(row)
            continue
        new_key = _next_key(key) if difference else key
        with transaction.atomic():
            if difference:
                reservation_void(key=key, effective_on=today, description=f"Tariff change ({reason}): {key}")
                reservation_create(
                    key=new_key,
                    pool=pool,
                    held_in=_open_reserved(pool),
                    amount=new_total,
                    effective_on=today,
                    description=f"Tariff change ({reason}): {key} at the new price",
                    metadata={"repriced": key, "difference": difference, "month": f"{month:%Y-%m}"},
                )
            sql.run(
                where.format(
                    update=(
                        "UPDATE protection_sponsoredmonth SET amount = p.price, reservation_key = %(new)s,"
                        " price_due = NULL"
                    ),
                    target="protection_sponsoredmonth",
                ),
                {"month": month, "key": key, "new": new_key},
            )
            sql.run(
                """
                UPDATE protection_sponsorship SET total = (
                    SELECT SUM(m.amount) FROM protection_sponsoredmonth m
                    WHERE m.sponsorship_id = protection_sponsorship.id
                )
                WHERE id IN (SELECT sponsorship_id FROM protection_sponsoredmonth WHERE reservation_key = %(new)s)
                """,
                {"new": new_key},
            )
            if difference:
                row = Repricing.objects.create(
                    month=month,
                    reservation_key=key,
                    new_key=new_key,
                    pool=pool,
                    old_amount=old_total,
                    new_amount=new_total,
                    state=Repricing.State.APPLIED,
                    reason=reason[:40],
                    created_by=actor,
                )
                result.applied.append(row)
                _audit_repricing(row, actor)


def _audit_repricing(row: Repricing, actor) -> None:
    audit_record(
        actor=actor,
        action="sponsorships.reprice",
        object_type="protection.repricing",
        object_id=str(row.pk),
        details={
            "month": f"{row.month:%Y-%m}",
            "reservation": row.reservation_key,
            "new_key": row.new_key,
            "pool": row.pool,
            "old": row.old_amount,
            "new": row.new_amount,
            "reason": row.reason,
        },
    )


def _reprice_cofunded(*, month: date, key: str, cofunding_id: int, cte: str, reason: str, by, result) -> None:
    """Re-price the co-funded months of one split and month (``key`` = ``cofund:{request}:{YYYY-MM}``): each month's
    new amount split again, each share's reservation moved by its own difference; all shares or none."""
    from lingkaran.ledger.models import Reservation
    from lingkaran.ledger.services import reservation_void
    from lingkaran.protection.agency import sql

    prices = {
        month_id: (int(amount), int(price))
        for month_id, amount, price in sql.fetch(
            f"WITH {cte} SELECT p.month_id, p.amount, p.price FROM ({_PRICED} AND m.reservation_key = %(key)s) p",
            {"month": month, "key": key},
        )
    }
    shares = list(CoFundingShare.objects.filter(cofunding_id=cofunding_id).order_by("position"))
    bps = [s.share_bp for s in shares]
    parts = list(SponsoredShare.objects.filter(sponsored_month_id__in=list(prices)).select_related("share"))
    new_part: dict[int, int] = {}
    difference: dict[int, int] = defaultdict(int)
    share_key: dict[int, str] = {}
    for part in parts:
        split = split_rules.split_amount(prices[part.sponsored_month_id][1], bps)
        new_part[part.pk] = split[part.share.position - 1]
        difference[part.share_id] += new_part[part.pk] - part.amount
        share_key[part.share_id] = part.reservation_key
    short = [s for s in shares if difference[s.pk] > 0 and difference[s.pk] > balance_of(s.pool)]
    today = timezone.localdate()
    with transaction.atomic():
        if short:
            for month_id, (_amount, price) in prices.items():
                SponsoredMonth.objects.filter(pk=month_id).update(price_due=price)
            for share in short:
                reservation = Reservation.objects.get(key=share_key[share.pk])
                row, _created = Repricing.objects.get_or_create(
                    reservation_key=share_key[share.pk],
                    state=Repricing.State.SHORT,
                    new_amount=reservation.amount + difference[share.pk],
                    defaults={
                        "month": month,
                        "pool": share.pool,
                        "old_amount": reservation.amount,
                        "available": balance_of(share.pool),
                        "reason": reason[:40],
                        "created_by": by,
                    },
                )
                result.short.append(row)
            return
        new_keys: dict[int, str] = {}
        for share in shares:
            old_key = share_key.get(share.pk)
            if old_key is None or not difference[share.pk]:
                continue
            reservation = Reservation.objects.get(key=old_key)
            if reservation.state != Reservation.State.PENDING:
                return  # settled already: the cycle owns it now
            new_keys[share.pk] = _next_key(old_key)
            new_total = reservation.amount + difference[share.pk]
            reservation_void(key=old_key, effective_on=today, description=f"Tariff change ({reason}): {old_key}")
            reservation_create(
                key=new_keys[share.pk],
                pool=share.pool,
                held_in=_open_reserved(share.pool),
                amount=new_total,
                effective_on=today,
                description=f"Tariff change ({reason}): {old_key} at the new price",
                metadata={"repriced": old_key, "difference": difference[share.pk], "month": f"{month:%Y-%m}"},
            )
            row = Repricing.objects.create(
                month=month,
                reservation_key=old_key,
                new_key=new_keys[share.pk],
                pool=share.pool,
                old_amount=reservation.amount,
                new_amount=new_total,
                state=Repricing.State.APPLIED,
                reason=reason[:40],
                created_by=by,
            )
            result.applied.append(row)
            _audit_repricing(row, by)
        for part in parts:
            part.amount = new_part[part.pk]
            part.reservation_key = new_keys.get(part.share_id, part.reservation_key)
        SponsoredShare.objects.bulk_update(parts, ["amount", "reservation_key"])
        for month_id, (_amount, price) in prices.items():
            SponsoredMonth.objects.filter(pk=month_id).update(amount=price, price_due=None)
        for sponsorship_id in {p.sponsorship_id for p in parts}:
            Sponsorship.objects.filter(pk=sponsorship_id).update(
                total=SponsoredShare.objects.filter(sponsorship_id=sponsorship_id).aggregate(t=Sum("amount"))["t"]
            )
        for share in shares:
            CoFundingShare.objects.filter(pk=share.pk).update(
                total=SponsoredShare.objects.filter(share=share).aggregate(t=Sum("amount"))["t"]
            )
        CoFunding.objects.filter(pk=cofunding_id).update(
            total=SponsoredMonth.objects.filter(cofunding_id=cofunding_id).aggregate(t=Sum("amount"))["t"]
        )
