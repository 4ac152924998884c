"""A funder's uploaded list of NIKs matched to verified workers, row by row, before anything is reserved.

``nik_list_check`` reads the file (``domain/nik_list.read_list``), finds the workers of its NIKs in one set query
through the NIK blind index (``nik_matches``: the HMACs are computed here, never one query per row), asks the
allocation engine what this funder's money may not pay (zakat only to mustahik, APBD only in the Pemda's region,
nobody already sponsored in the block) and classifies every row (``domain/nik_list.classify``). Only workers the
user may see are found: a NIK outside the user's scope is "not found", like one that is not registered.

Nothing is written. The matched workers then go through the directed preview and ``sponsor_directed``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models.expressions import RawSQL

from lingkaran.core import crypto
from lingkaran.core.access import require
from lingkaran.core.domain.roles import Capability
from lingkaran.funding.models import Funder
from lingkaran.protection import sponsorships
from lingkaran.protection.domain import allocation as engine
from lingkaran.protection.domain import nik_list as rules
from lingkaran.protection.domain.tariffs import FundingSource, month_start
from lingkaran.protection.errors import NikListRefused
from lingkaran.protection.models import Sponsorship, SponsorshipKind
from lingkaran.registry import selectors as registry_selectors
from lingkaran.registry.domain.nik import mask_nik
from lingkaran.registry.domain.people import normalise_name
from lingkaran.registry.models import WorkerStatus


@dataclass(frozen=True)
class Registered:
    worker_id: int
    status: str
    name_key: str
    nik_masked: str
    region_code: str
    region_name: str


def nik_matches(user, niks: list[str]) -> dict[str, Registered]:
    """The workers the user may see among these NIKs, by NIK: the blind indexes computed in Python (one HMAC key
    schedule for the list) and one query through the unique index. On PostgreSQL the indexes go as one text
    parameter the database splits (``IN (SELECT unnest(…))``, probed through the index) rather than thousands of
    placeholders."""
    if not niks:
        return {}
    index = crypto.BlindIndexer()
    nik_of = {index(nik, purpose=registry_selectors.PURPOSE_NIK): nik for nik in niks}
    if connection.vendor == "postgresql":
        wanted = RawSQL("SELECT unnest(string_to_array(%s, ','))", [",".join(nik_of)])
    else:
        wanted = list(nik_of)
    rows = (
        registry_selectors.workers_visible_to(user)
        .select_related(None)
        .filter(nik_index__in=wanted)
        .order_by()
        .values_list("nik_index", "pk", "status", "name_key", "nik_masked", "region_code", "region__name")
    )
    return {
        nik_of[row[0]]: Registered(row[1], row[2], row[3] or "", row[4], row[5] or "", row[6] or "")
        for row in rows
        if row[0] in nik_of
    }


@dataclass(frozen=True)
class ReportRow:
    number: int
    outcome: str
    nik_masked: str
    worker_id: int | None
    region_code: str
    region_name: str
    reasons: tuple[str, ...]
    params: dict
    first_row: int | None
    name_differs: bool


@dataclass(frozen=True)
class NikListReport:
    file_name: str
    file_format: str
    header_row: int
    nik_column: str
    name_column: str
    rows: list[ReportRow]
    counts: dict[str, int]
    worker_ids: list[int]  # the matched workers, sorted
    blocking: int  # rows that keep the list from being sponsored whole
    replayed: bool  # this very list (the same workers and block) was reserved before

    @property
    def complete(self) -> bool:
        return self.blocking == 0


def _request(funder: Funder, *, start: date, months: int, package: str, workers: int) -> engine.Request:
    source = sponsorships._source_of(funder)
    return engine.Request(
        key="nik-list",
        source=source,
        criteria=engine.Criteria(),
        start=start,
        months=months,
        package=package,
        workers=max(1, workers),
        funder_region=(funder.region_code or None) if source is FundingSource.APBD else None,
    )


def _refusals(funder: Funder, ids: list[int], *, start: date, months: int, package: str) -> dict[int, tuple[str, ...]]:
    """The allocation engine's reasons this funder may not pay each verified worker for the block (three queries)."""
    request = _request(funder, start=start, months=months, package=package, workers=len(ids))
    return {
        c.worker_id: tuple(r.value for r in engine.refusals(c, request))
        for c in sponsorships.candidates(as_of=start, worker_ids=ids)
    }


def _same_list_reserved(funder: Funder, ids: list[int], *, start: date, months: int, package: str) -> bool:
    """Whether exactly these workers were sponsored together, by this funder, for this block, by one directed
    request: the list was reserved before, and reserving it again returns what was written then."""
    if not ids:
        return False
    keys: dict[str, set[int]] = defaultdict(set)
    for key, worker_id in Sponsorship.objects.filter(
        worker_id__in=ids,
        funder=funder,
        kind=SponsorshipKind.DIRECTED,
        cofunding__isnull=True,
        start_month=start,
        months=months,
        package=package,
    ).values_list("request_key", "worker_id"):
        keys[key].add(worker_id)
    wanted = set(ids)
    return any(
        workers == wanted and Sponsorship.objects.filter(request_key=key).count() == len(wanted)
        for key, workers in keys.items()
    )


def nik_list_check(
    user, *, funder: Funder, content: bytes, file_name: str, start: date, months: int, package: str
) -> NikListReport:
    """Every row of the list with its outcome, and the workers it matched. Raises ``nik_list_refused`` when the
    file cannot be read as a list of NIKs. Needs ``MANAGE_SPONSORSHIPS``; writes nothing."""
    require(user, Capability.MANAGE_SPONSORSHIPS)
    start = month_start(start)
    try:
        parsed = rules.read_list(content, file_name)
    except rules.ListRefused as exc:
        raise NikListRefused(details={"reason": exc.reason, **exc.params}) from None
    registered = nik_matches(user, parsed.niks)
    verified = sorted(r.worker_id for r in registered.values() if r.status == WorkerStatus.VERIFIED)
    refusals = _refusals(funder, verified, start=start, months=months, package=package)
    # A list sent again after it was reserved: its workers are now "already sponsored" by the list itself.
    again = [w for w in verified if set(refusals.get(w, ())) <= {engine.Reason.ALREADY_SPONSORED.value}]
    replayed = any(refusals.get(w) for w in again) and _same_list_reserved(
        funder, again, start=start, months=months, package=package
    )
    if replayed:
        refusals.update(dict.fromkeys(again, ()))
    found = {
        nik: rules.Found(
            worker_id=r.worker_id,
            verified=r.status == WorkerStatus.VERIFIED and r.worker_id in refusals,
            refusals=refusals.get(r.worker_id, ()),
            name_key=r.name_key,
        )
        for nik, r in registered.items()
    }
    results = rules.classify(parsed.rows, found, name_key=normalise_name)
    by_worker = {r.worker_id: r for r in registered.values()}
    rows = []
    for result in results:
        worker = by_worker.get(result.worker_id)
        rows.append(
            ReportRow(
                number=result.number,
                outcome=result.outcome.value,
                nik_masked=worker.nik_masked if worker else (mask_nik(result.nik) if result.nik else ""),
                worker_id=result.worker_id,
                region_code=worker.region_code if worker else "",
                region_name=worker.region_name if worker else "",
                reasons=result.reasons,
                params=result.params,
                first_row=result.first_row,
                name_differs=result.name_differs,
            )
        )
    return NikListReport(
        file_name=file_name,
        file_format=parsed.file_format,
        header_row=parsed.header_row,
        nik_column=parsed.nik_column,
        name_column=parsed.name_column,
        rows=rows,
        counts=rules.counts(results),
        worker_ids=rules.matched_worker_ids(results),
        blocking=len(rules.blocking(results)),
        replayed=bool(replayed),
    )
