"""The monthly contribution cycle: bill the month's reserved worker-months, pay them to the agency chunk by chunk,
and post the ledger per pool and reservation (docs/subsystems/protection-cycle.md).

Steps, each its own transaction and each idempotent, so a run killed between two steps is completed by the next:

1. ``cycle_bill``: one ``Cycle`` per month; ``ContributionLine`` rows from every ``SponsoredMonth`` still reserved for
   the month (``INSERT … SELECT``, one line per worker-month: a unique constraint), and one ``CycleChunk`` per province.
2. per chunk (``chunk_process``; a Celery task per chunk in ``tasks.py``):
   ``chunk_submit`` (an agency payment batch keyed ``cycle:{YYYY-MM}:{province}``, filled set-based, submitted),
   ``chunk_read`` (outcomes back onto the lines and the sponsored months, set-based) and
   ``chunk_post`` (the ledger: ``domain.cycle.chunk_plan``).
3. ``cycle_finish``: the cycle's totals from its lines; ``done`` once every chunk is posted.

``cycle_run`` runs them all under a lock of the month (a PostgreSQL advisory lock; another run is refused with
``cycle_running``, or waits with ``wait=True``). ``after_step`` is the documented hook for tests: it is called with the
step's name (``bill``, ``submit``, ``read``, ``post``, ``finish``) after each step has committed; an exception raised
there stops the run as a crash would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from lingkaran.core.audit import audit_record
from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.services import AccountSpec, account_open, reservation_post, transfer
from lingkaran.protection import selectors as tariff_selectors
from lingkaran.protection.agency import access, sql
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.models import BatchState
from lingkaran.protection.domain import cycle as rules
from lingkaran.protection.errors import CycleLedgerMismatch, CycleNothingDue, CycleRunning
from lingkaran.protection.models import (
    ContributionLine,
    Cycle,
    CycleChunk,
    ReconciliationAction,
    SponsoredMonth,
    SponsoredShare,
)

Hook = Callable[[str], None] | None
LOCK_NAMESPACE = 0x4C4B4359  # "LKCY": advisory locks of the monthly cycle, one per month


@dataclass(frozen=True)
class CycleSummary:
    month: date
    state: str
    lines: int
    total: int
    confirmed: int
    confirmed_amount: int
    rejected: int
    rejected_amount: int
    held_back: int = 0  # reserved worker-months of the month that no line bills yet
    short: int = 0  # of those: held back because a tariff change raised their price and the pool could not pay it
    chunks: dict[str, str] = field(default_factory=dict)  # province → state
    reasons: dict[str, int] = field(default_factory=dict)


# --- The lock of a month ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def month_lock(month: date, *, wait: bool = False):
    """Hold the month for one run. PostgreSQL: a session advisory lock (released when the run ends or its connection
    dies, so a killed run never leaves it held). SQLite serialises writers itself and the steps are idempotent, so a
    second run there only repeats what is done; no lock is taken."""
    if connection.vendor != "postgresql":
        yield
        return
    key = month.year * 12 + month.month - 1
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key])
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key])
            if not cursor.fetchone()[0]:
                raise CycleRunning(details={"month": f"{month:%Y-%m}"})
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, key])


# --- Step 1: bill ----------------------------------------------------------------------------------------------------


def _open_accounts() -> None:
    account_open(
        AccountSpec(rules.PAYABLE, "Contributions payable to BPJS Ketenagakerjaan", AccountType.LIABILITY, True)
    )
    account_open(AccountSpec(rules.BANK, "Trust bank account", AccountType.ASSET))


@contextlib.contextmanager
def _hash_joins():
    """PostgreSQL: no nested-loop joins for the statement inside (``SET LOCAL``, then the caller's value back).

    The bill's ``INSERT … SELECT`` reads ``protection_contributionline`` (is the month billed yet?) while it writes
    it. With statistics that call that table empty (a new installation analysed before its first cycle) the planner
    picks a nested loop over a sequential scan of it, and each outer row re-reads every page the statement has
    written so far: the bill grows with the square of the month (20,000 lines: 2.6 s instead of 0.4 s). Hash joins
    read each table once whatever the statistics. Nothing on SQLite, nor outside a transaction."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def _province_sql(column: str) -> str:
    """``domain.cycle.province_of`` in SQL: the first two characters when both are digits, else ``00``."""
    head = f"SUBSTR(COALESCE({column}, ''), 1, 2)"
    if connection.vendor == "postgresql":
        return f"(CASE WHEN {head} ~ '^[0-9]{{2}}$' THEN {head} ELSE '{rules.UNKNOWN_PROVINCE}' END)"
    return (
        f"(CASE WHEN LENGTH({head}) = 2 AND {head} NOT GLOB '*[^0-9]*' THEN {head} ELSE '{rules.UNKNOWN_PROVINCE}' END)"
    )


def cycle_bill(*, month: date, actor=None) -> Cycle:
    """The month's cycle with a line for every reserved sponsored worker-month not billed yet, and its chunks.

    Refuses a month with no tariff in force (``tariff_not_in_force``) and a month with nothing to bill
    (``cycle_nothing_due``). Billing again adds only worker-months reserved since, and never bills one twice."""
    access.check(actor, access.PAY)
    tariff_selectors.amount_table(month)  # TariffNotInForce, with the missing parts, when the month has no tariff
    reserved = SponsoredMonth.objects.filter(month=month, state=SponsoredMonth.State.RESERVED)
    # Co-paid, self-paid and bridged months come from the continuation app (docs/subsystems/continuation.md): it
    # reserves the worker's part now (own money, else the bridge fund) and gives them to us ready to bill, as SQL.
    from lingkaran.continuation import selectors as continuation
    from lingkaran.continuation.services import months_prepare

    months_prepare(
        month=month,
        sponsored_workers=SponsoredMonth.objects.filter(month=month)
        .exclude(state=SponsoredMonth.State.REJECTED)
        .values("worker_id"),
        actor=actor,
    )
    if (
        not Cycle.objects.filter(month=month).exists()
        and not reserved.exists()
        and not continuation.any_billable(month)
    ):
        raise CycleNothingDue(details={"month": f"{month:%Y-%m}"})
    # Months a tariff change left short (their pool could not pay the higher price): try once more now, in case
    # money came in since. Those still short are not billed (``price_due IS NULL`` below).
    if reserved.filter(price_due__isnull=False).exists():
        from lingkaran.protection.sponsorships import reserved_months_reprice

        reserved_months_reprice(first_month=month, last_month=month, reason="cycle", by=actor, only_short=True)
    _open_accounts()
    province = _province_sql("w.region_code")
    params = {"month": month, "billed": CycleChunk.State.BILLED, "reserved": SponsoredMonth.State.RESERVED}
    with transaction.atomic():
        cycle, created = Cycle.objects.get_or_create(month=month, defaults={"started_by": actor})
        params["cycle"] = cycle.pk
        # The chunks still open (billed, not sent) are locked, so a chunk being sent by a worker cannot take lines
        # after its batch went out; a province whose chunks have all gone out gets a new pass.
        list(CycleChunk.objects.select_for_update().filter(cycle=cycle, state=CycleChunk.State.BILLED))
        # A worker-month is held by one sponsorship or by one co-funding split (then its parts are posted per share,
        # see ``chunk_post``): either way the agency gets one line per worker-month.
        reserved_sql = """
            FROM protection_sponsoredmonth m
            JOIN registry_worker w ON w.id = m.worker_id
            LEFT JOIN protection_sponsorship s ON s.id = m.sponsorship_id
            LEFT JOIN protection_cofunding f ON f.id = m.cofunding_id"""
        # Every reserved month of a reservation is billed by the same run (a reservation's months are written
        # together, and a month left short by a tariff change holds back its whole reservation), so posting a
        # reservation never moves money for a month that no line bills.
        not_billed = """
            m.month = %(month)s AND m.state = %(reserved)s AND m.price_due IS NULL
            AND NOT EXISTS (SELECT 1 FROM protection_contributionline c WHERE c.sponsored_month_id = m.id)"""
        resubmits = _affordable(_resubmits_due(month))
        continued_sql, continued_params = continuation.billable_sql(month)
        params.update(continued_params)
        continued_from = f"""
            FROM ({continued_sql}) p
            JOIN registry_worker w ON w.id = p.worker_id"""
        continued_where = """
            WHERE NOT EXISTS (
                SELECT 1 FROM protection_contributionline c WHERE c.worker_id = p.worker_id AND c.month = p.month
            )"""
        _open_chunks(
            cycle,
            f"SELECT DISTINCT {province} AS province {reserved_sql} WHERE {not_billed}"
            f" UNION SELECT DISTINCT {province} AS province {continued_from} {continued_where}",
            params,
            extra_provinces={item.province for item in resubmits},
        )
        with _hash_joins():
            added = sql.run(
                f"""
            INSERT INTO protection_contributionline
                (cycle_id, chunk_id, worker_id, month, amount, kind, funding_source, sponsorship_id,
                 sponsored_month_id, cofunding_id, pool, reservation_key, state, reason, reason_text, agency_reference)
            SELECT %(cycle)s, k.id, m.worker_id, m.month, m.amount, '{ContributionLine.Kind.SPONSORED}',
                   COALESCE(s.source, f.source), s.id, m.id, m.cofunding_id, COALESCE(s.pool, ''), m.reservation_key,
                   '{ContributionLine.State.DUE}', '', '', ''
            {reserved_sql}
            JOIN protection_cyclechunk k ON k.cycle_id = %(cycle)s AND k.province = {province} AND k.state = %(billed)s
            WHERE {not_billed}
            """,
                params,
            )
            # One line per co-paid / self / bridged month (never one already billed for the worker-month, whatever
            # its state: a rejected one is not billed again); its parts are posted per reservation in ``chunk_post``.
            added += sql.run(
                f"""
            INSERT INTO protection_contributionline
                (cycle_id, chunk_id, worker_id, month, amount, kind, funding_source, sponsorship_id,
                 sponsored_month_id, cofunding_id, pool, reservation_key, state, reason, reason_text, agency_reference)
            SELECT %(cycle)s, k.id, p.worker_id, p.month, p.amount, p.kind, p.source, NULL, NULL, NULL, '',
                   p.line_key, '{ContributionLine.State.DUE}', '', '', ''
            {continued_from}
            JOIN protection_cyclechunk k ON k.cycle_id = %(cycle)s AND k.province = {province} AND k.state = %(billed)s
            {continued_where}
            """,
                params,
            )
        retried = _bill_resubmits(cycle, resubmits)
        if added or retried:
            _chunk_totals(cycle)
        if created or added or retried:
            audit_record(
                actor=actor,
                action="protection.cycle_bill",
                object_type="protection.cycle",
                object_id=f"{month:%Y-%m}",
                details={"lines_added": added, "resubmitted": retried},
            )
    cycle.refresh_from_db()
    return cycle


def _open_chunks(cycle: Cycle, provinces_sql: str, params: dict, *, extra_provinces=()) -> None:
    """A chunk in state ``billed`` for every province that has something to bill and none open: pass 1, or the next
    pass after the province's last chunk went out."""
    wanted = {row[0] for row in sql.fetch(provinces_sql, params)} | set(extra_provinces)
    if not wanted:
        return
    chunks = CycleChunk.objects.filter(cycle=cycle, province__in=wanted)
    open_now = set(chunks.filter(state=CycleChunk.State.BILLED).values_list("province", flat=True))
    last = dict(chunks.values("province").annotate(n=Max("pass_number")).values_list("province", "n"))
    CycleChunk.objects.bulk_create(
        [CycleChunk(cycle=cycle, province=p, pass_number=last.get(p, 0) + 1) for p in sorted(wanted - open_now)]
    )


@dataclass(frozen=True)
class _Resubmit:
    line_id: int
    province: str
    pool: str
    amount: int
    share_part_id: int | None = None  # a co-funded line: the ``SponsoredShare`` this part is


def _resubmits_due(month: date) -> list[_Resubmit]:
    """Rejected lines of the month that staff chose to resubmit (a ``resubmit`` action recorded on the line, the
    exception not marked resolved) and that have no retry yet, each with its pool and amount: a co-funded line once
    per share (its part, from the share's pool)."""
    line = ContributionLine.State
    wanted = (
        ContributionLine.objects.filter(
            month=month,
            state=line.REJECTED,
            retry__isnull=True,
            sponsored_month__isnull=False,
        )
        .filter(
            pk__in=ReconciliationAction.objects.filter(
                month=month, kind=ReconciliationAction.Kind.REJECTED, action=ReconciliationAction.Action.RESUBMIT
            ).values("line_id")
        )
        .exclude(
            worker_id__in=ReconciliationAction.objects.filter(
                month=month, kind=ReconciliationAction.Kind.REJECTED, action=ReconciliationAction.Action.RESOLVE
            ).values("worker_id")
        )
        .order_by("pk")
    )
    single = [
        _Resubmit(pk, province, pool, amount)
        for pk, province, pool, amount in wanted.filter(cofunding__isnull=True).values_list(
            "pk", "chunk__province", "pool", "sponsored_month__amount"
        )
    ]
    shared = [
        _Resubmit(pk, province, pool, amount, share_id)
        for pk, province, pool, amount, share_id in SponsoredShare.objects.filter(
            sponsored_month__contribution_lines__in=wanted.filter(cofunding__isnull=False)
        )
        .order_by("sponsored_month__contribution_lines__pk", "share__position")
        .values_list(
            "sponsored_month__contribution_lines__pk",
            "sponsored_month__contribution_lines__chunk__province",
            "share__pool",
            "amount",
            "pk",
        )
    ]
    return single + shared


def _affordable(resubmits: list[_Resubmit]) -> list[_Resubmit]:
    """The resubmissions whose pools can pay for them now: a pool that cannot pay all of its parts pays none, and a
    co-funded line goes only when every one of its shares' pools can. The others wait for a later run."""
    from lingkaran.ledger.selectors import balance_of

    need: dict[str, int] = {}
    for item in resubmits:
        need[item.pool] = need.get(item.pool, 0) + item.amount
    short = {pool for pool, total in need.items() if total > balance_of(pool)}
    waiting = {item.line_id for item in resubmits if item.pool in short}
    return [item for item in resubmits if item.line_id not in waiting]


def _bill_resubmits(cycle: Cycle, resubmits: list[_Resubmit]) -> int:
    """A new line for each resubmitted worker-month in its province's open chunk, linked to the rejected line, and the
    money reserved again from its pool (a co-funded line: each share's part from its own pool): one reservation per
    pool and resubmission run, ``cycle:{YYYY-MM}:resubmit:{pool}:{n}``. A co-funded line's parts take the new
    reservations (``SponsoredShare.reservation_key``), so the line is posted per share as before."""
    if not resubmits:
        return 0
    from lingkaran.ledger.models import Reservation
    from lingkaran.ledger.services import reservation_create
    from lingkaran.protection.sponsorships import reserved_account

    month = cycle.month
    chunks = dict(CycleChunk.objects.filter(cycle=cycle, state=CycleChunk.State.BILLED).values_list("province", "pk"))
    by_pool: dict[str, list[_Resubmit]] = {}
    for item in resubmits:
        by_pool.setdefault(item.pool, []).append(item)
    key_of_pool: dict[str, str] = {}
    for pool, items in sorted(by_pool.items()):
        prefix = f"cycle:{month:%Y-%m}:resubmit:{pool}:"
        key = f"{prefix}{Reservation.objects.filter(key__startswith=prefix).count() + 1}"
        held_in = reserved_account(pool)
        account_open(AccountSpec(held_in, f"Reserved for workers ({pool[15:]})"[:200], AccountType.LIABILITY, True))
        reservation_create(
            key=key,
            pool=pool,
            held_in=held_in,
            amount=sum(item.amount for item in items),
            effective_on=timezone.localdate(),
            description=f"Cycle {month:%Y-%m}: resubmitted worker-months",
            metadata={"month": f"{month:%Y-%m}", "lines": sorted({item.line_id for item in items})},
        )
        key_of_pool[pool] = key
    parts = [item for item in resubmits if item.share_part_id is not None]
    for item in parts:
        SponsoredShare.objects.filter(pk=item.share_part_id).update(reservation_key=key_of_pool[item.pool])
    first = {}
    for item in resubmits:
        first.setdefault(item.line_id, item)
    old = ContributionLine.objects.select_related("sponsored_month").in_bulk(list(first))
    ContributionLine.objects.bulk_create(
        [
            ContributionLine(
                cycle=cycle,
                chunk_id=chunks[item.province],
                worker_id=old[line_id].worker_id,
                month=month,
                amount=old[line_id].sponsored_month.amount,
                kind=old[line_id].kind,
                funding_source=old[line_id].funding_source,
                sponsorship_id=old[line_id].sponsorship_id,
                sponsored_month_id=old[line_id].sponsored_month_id,
                cofunding_id=old[line_id].cofunding_id,
                pool="" if old[line_id].cofunding_id else item.pool,
                reservation_key=(old[line_id].reservation_key if old[line_id].cofunding_id else key_of_pool[item.pool]),
                retry_of_id=line_id,
            )
            for line_id, item in sorted(first.items())
        ]
    )
    return len(first)


def _chunk_totals(cycle: Cycle) -> None:
    for row in (
        ContributionLine.objects.filter(cycle=cycle).values("chunk_id").annotate(n=Count("id"), total=Sum("amount"))
    ):
        CycleChunk.objects.filter(pk=row["chunk_id"]).update(line_count=row["n"], total_amount=row["total"])


# --- Step 2: per chunk -----------------------------------------------------------------------------------------------


def chunk_submit(*, chunk_id: int, today: date) -> CycleChunk:
    """Open the chunk's payment batch, fill it set-based from the chunk's due lines and submit it, in one
    transaction (a submitted batch takes no more lines). Again: nothing."""
    with transaction.atomic():
        chunk = CycleChunk.objects.select_for_update().select_related("cycle").get(pk=chunk_id)
        if chunk.state != CycleChunk.State.BILLED:
            return chunk
        if chunk.batch_id is None and not ContributionLine.objects.filter(chunk=chunk).exists():
            chunk.state = CycleChunk.State.ANSWERED  # nothing to send (every month of it held back)
            chunk.save(update_fields=["state"])
            return chunk
        batch = agency.payment_batch_open(key=rules.batch_key(chunk.cycle.month, chunk.label), today=today)
        if batch.state == BatchState.OPEN:
            sources = ", ".join(f"'{s}'" for s in rules.GOVERNMENT_SOURCES)
            sql.run(
                f"""
                INSERT INTO agency_submittedline
                    (batch_id, line_id, nik_index, kpj_number, month, amount, government_funded)
                SELECT %(batch)s, c.id, w.nik_index, w.kpj_number, c.month, c.amount, c.funding_source IN ({sources})
                FROM protection_contributionline c
                JOIN registry_worker w ON w.id = c.worker_id
                WHERE c.chunk_id = %(chunk)s AND c.state = %(due)s
                  AND NOT EXISTS (
                      SELECT 1 FROM agency_submittedline l WHERE l.batch_id = %(batch)s AND l.line_id = c.id
                  )
                """,
                {"batch": batch.pk, "chunk": chunk.pk, "due": ContributionLine.State.DUE},
            )
            agency.payment_batch_submit(batch_id=batch.pk)
        sql.run(
            """
            UPDATE protection_contributionline SET state = %(submitted)s
            WHERE chunk_id = %(chunk)s AND state = %(due)s
              AND id IN (SELECT line_id FROM agency_submittedline WHERE batch_id = %(batch)s)
            """,
            {
                "submitted": ContributionLine.State.SUBMITTED,
                "due": ContributionLine.State.DUE,
                "chunk": chunk.pk,
                "batch": batch.pk,
            },
        )
        chunk.batch = batch
        chunk.state = CycleChunk.State.SUBMITTED
        chunk.save(update_fields=["batch", "state"])
    return chunk


def chunk_read(*, chunk_id: int) -> CycleChunk:
    """The agency's answers onto the chunk's lines (confirmed / rejected with the reason) and onto their sponsored
    months (paid / rejected), set-based. Lines still unanswered (file exchange) keep waiting; the chunk is
    ``answered`` once none does."""
    with transaction.atomic():
        chunk = CycleChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.state != CycleChunk.State.SUBMITTED:
            return chunk
        line = ContributionLine.State
        sql.run(
            f"""
            UPDATE protection_contributionline
            SET state = CASE WHEN o.result = 'accepted' THEN '{line.CONFIRMED}' ELSE '{line.REJECTED}' END,
                reason = o.reason, reason_text = o.reason_text, agency_reference = o.agency_reference
            FROM agency_submittedline l
            JOIN agency_lineoutcome o ON o.submitted_id = l.id
            WHERE l.batch_id = %(batch)s AND protection_contributionline.id = l.line_id
              AND protection_contributionline.chunk_id = %(chunk)s
              AND protection_contributionline.state = '{line.SUBMITTED}'
            """,
            {"batch": chunk.batch_id, "chunk": chunk.pk},
        )
        month = SponsoredMonth.State
        sql.run(
            f"""
            UPDATE protection_sponsoredmonth
            SET state = CASE WHEN c.state = '{line.CONFIRMED}' THEN '{month.PAID}' ELSE '{month.REJECTED}' END
            FROM protection_contributionline c
            WHERE c.sponsored_month_id = protection_sponsoredmonth.id AND c.chunk_id = %(chunk)s
              AND c.state IN ('{line.CONFIRMED}', '{line.REJECTED}')
              AND protection_sponsoredmonth.state IN ('{month.RESERVED}', '{month.REJECTED}')
            """,
            {"chunk": chunk.pk},
        )
        if not ContributionLine.objects.filter(chunk=chunk, state__in=[line.DUE, line.SUBMITTED]).exists():
            chunk.state = CycleChunk.State.ANSWERED
            chunk.save(update_fields=["state"])
    return chunk


def _reservation_lines(chunk: CycleChunk) -> list[rules.ReservationLines]:
    """The chunk's confirmed and rejected rupiah per ledger reservation, set-based: a line of one sponsorship counts
    under its own reservation; a co-funded line counts each share's part under that share's reservation."""
    line = ContributionLine.State
    sponsored = ContributionLine.Kind.SPONSORED
    single = (
        ContributionLine.objects.filter(chunk=chunk, cofunding__isnull=True, kind=sponsored)
        .values("reservation_key", "pool")
        .annotate(
            confirmed=Sum("amount", filter=Q(state=line.CONFIRMED), default=0),
            rejected=Sum("amount", filter=Q(state=line.REJECTED), default=0),
        )
        .order_by("reservation_key")
    )
    continued = _continued_parts(chunk)
    if not ContributionLine.objects.filter(chunk=chunk, cofunding__isnull=False).exists():
        return [
            rules.ReservationLines(r["reservation_key"], r["pool"], r["confirmed"], r["rejected"]) for r in single
        ] + continued
    state = "sponsored_month__contribution_lines__state"
    shared = (
        SponsoredShare.objects.filter(sponsored_month__contribution_lines__chunk=chunk)
        .values("reservation_key", "share__pool")
        .annotate(
            confirmed=Sum("amount", filter=Q(**{state: line.CONFIRMED}), default=0),
            rejected=Sum("amount", filter=Q(**{state: line.REJECTED}), default=0),
        )
        .order_by("reservation_key")
    )
    return (
        [rules.ReservationLines(r["reservation_key"], r["pool"], r["confirmed"], r["rejected"]) for r in single]
        + [
            rules.ReservationLines(r["reservation_key"], r["share__pool"], r["confirmed"], r["rejected"])
            for r in shared
        ]
        + continued
    )


def _continued_parts(chunk: CycleChunk) -> list[rules.ReservationLines]:
    """The chunk's co-paid, self and bridged lines, per reservation of their parts (funder, worker's own money,
    bridge fund), from the continuation app: each part is paid, or returned to its own pool, with its line."""
    lines = ContributionLine.objects.filter(chunk=chunk).exclude(kind=ContributionLine.Kind.SPONSORED)
    if not lines.exists():
        return []
    from lingkaran.continuation import selectors as continuation

    state = ContributionLine.State
    return [
        rules.ReservationLines(key, pool, confirmed, rejected)
        for key, pool, confirmed, rejected in continuation.part_totals(
            confirmed_keys=lines.filter(state=state.CONFIRMED).values("reservation_key"),
            rejected_keys=lines.filter(state=state.REJECTED).values("reservation_key"),
        )
    ]


def lines_rejected(reservation_keys: list[str]) -> set[str]:
    """Of these line keys (the continuation app's plan months), those whose line the agency rejected."""
    return set(
        ContributionLine.objects.filter(reservation_key__in=reservation_keys, state=ContributionLine.State.REJECTED)
        .exclude(kind=ContributionLine.Kind.SPONSORED)
        .values_list("reservation_key", flat=True)
    )


def _billed_per_reservation(cycle: Cycle, keys: list[str]) -> dict[str, int]:
    """What every line of the cycle bills under each of these reservations (co-funded lines: each share's part)."""
    billed = dict(
        ContributionLine.objects.filter(
            cycle=cycle, cofunding__isnull=True, kind=ContributionLine.Kind.SPONSORED, reservation_key__in=keys
        )
        .values("reservation_key")
        .annotate(total=Sum("amount"))
        .values_list("reservation_key", "total")
    )
    if len(billed) == len(keys):
        return billed  # every key is a reservation of one sponsorship: no co-funded share among them
    continued = ContributionLine.objects.filter(cycle=cycle).exclude(kind=ContributionLine.Kind.SPONSORED)
    if continued.exists():
        from lingkaran.continuation import selectors as continuation

        billed.update(continuation.billed_parts(line_keys=continued.values("reservation_key"), reservation_keys=keys))
    billed.update(
        SponsoredShare.objects.filter(
            sponsored_month__contribution_lines__cycle=cycle,
            sponsored_month__contribution_lines__retry__isnull=True,  # a resubmitted month: its latest line only
            reservation_key__in=keys,
        )
        .values("reservation_key")
        .annotate(total=Sum("amount"))
        .values_list("reservation_key", "total")
    )
    return billed


def chunk_post(*, chunk_id: int, today: date) -> CycleChunk:
    """The ledger for an answered chunk, per pool and reservation (``domain.cycle.chunk_plan``), in one transaction.
    Every entry is idempotent by key, so posting again changes nothing."""
    with transaction.atomic():
        chunk = CycleChunk.objects.select_for_update().select_related("cycle").get(pk=chunk_id)
        if chunk.state != CycleChunk.State.ANSWERED:
            return chunk
        month = chunk.cycle.month
        lines = _reservation_lines(chunk)
        keys = sorted({item.reservation_key for item in lines})
        billed = _billed_per_reservation(chunk.cycle, keys)
        reserved = {}
        for key in keys:
            reservation = reservation_post(
                key=key, to_account=rules.PAYABLE, effective_on=today, description=f"Cycle {month:%Y-%m}: {key}"
            )
            reserved[key] = reservation.amount
        try:
            plan = rules.chunk_plan(
                month=month, province=chunk.label, lines=lines, reserved=reserved, billed_in_cycle=billed
            )
        except rules.PlanError as exc:
            raise CycleLedgerMismatch(
                details={"reservation": exc.reservation_key, "reserved": exc.reserved, "billed": exc.billed}
            ) from None
        for item in plan.transfers:
            transfer(
                key=item.key,
                source=item.source,
                target=item.target,
                amount=item.amount,
                effective_on=today,
                description=f"Cycle {month:%Y-%m} {chunk.label}: {item.kind}",
                metadata={"cycle": f"{month:%Y-%m}", "chunk": chunk.label, "kind": item.kind},
            )
        chunk.confirmed_amount = sum(item.confirmed for item in lines)
        chunk.rejected_amount = sum(item.rejected for item in lines)
        chunk.state = CycleChunk.State.POSTED
        chunk.posted_at = timezone.now()
        chunk.save(update_fields=["confirmed_amount", "rejected_amount", "state", "posted_at"])
    return chunk


def chunk_process(*, chunk_id: int, today: date, after_step: Hook = None) -> str:
    """Every step of one chunk, each idempotent; the chunk's state at the end."""
    for name, step in (
        ("submit", lambda: chunk_submit(chunk_id=chunk_id, today=today)),
        ("read", lambda: chunk_read(chunk_id=chunk_id)),
        ("post", lambda: chunk_post(chunk_id=chunk_id, today=today)),
    ):
        step()
        if after_step:
            after_step(name)
    return CycleChunk.objects.values_list("state", flat=True).get(pk=chunk_id)


# --- Step 3: finish --------------------------------------------------------------------------------------------------


def cycle_finish(*, month: date, actor=None) -> Cycle:
    """The cycle's totals from its lines (set-based); ``done`` once every chunk is posted, ``submitted`` while the
    agency still has to answer some, ``running`` otherwise."""
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(month=month)
        line = ContributionLine.State
        totals = ContributionLine.objects.filter(cycle=cycle).aggregate(
            lines=Count("id"),
            total=Sum("amount", default=0),
            confirmed=Count("id", filter=Q(state=line.CONFIRMED)),
            confirmed_amount=Sum("amount", filter=Q(state=line.CONFIRMED), default=0),
            rejected=Count("id", filter=Q(state=line.REJECTED)),
            rejected_amount=Sum("amount", filter=Q(state=line.REJECTED), default=0),
        )
        states = set(cycle.chunks.values_list("state", flat=True))
        was = cycle.state
        cycle.line_count, cycle.total_amount = totals["lines"], totals["total"]
        cycle.confirmed_count, cycle.confirmed_amount = totals["confirmed"], totals["confirmed_amount"]
        cycle.rejected_count, cycle.rejected_amount = totals["rejected"], totals["rejected_amount"]
        if states <= {CycleChunk.State.POSTED}:
            cycle.state = Cycle.State.DONE
        elif CycleChunk.State.BILLED in states:
            cycle.state = Cycle.State.RUNNING
        else:
            cycle.state = Cycle.State.SUBMITTED
        if cycle.state == Cycle.State.DONE and was != Cycle.State.DONE:
            cycle.finished_at = timezone.now()
            cycle.finished_by = actor
        cycle.save()
        if cycle.state != was:
            audit_record(
                actor=actor,
                action="protection.cycle_finish",
                object_type="protection.cycle",
                object_id=f"{month:%Y-%m}",
                details={
                    "state": cycle.state,
                    "lines": cycle.line_count,
                    "confirmed_amount": cycle.confirmed_amount,
                    "rejected_amount": cycle.rejected_amount,
                },
            )
    return cycle


def cycle_summary(month: date) -> CycleSummary:
    cycle = Cycle.objects.get(month=month)
    reasons = dict(
        ContributionLine.objects.filter(cycle=cycle, state=ContributionLine.State.REJECTED)
        .values("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
        .order_by("reason")
    )
    return CycleSummary(
        month=cycle.month,
        state=cycle.state,
        lines=cycle.line_count,
        total=cycle.total_amount,
        confirmed=cycle.confirmed_count,
        confirmed_amount=cycle.confirmed_amount,
        rejected=cycle.rejected_count,
        rejected_amount=cycle.rejected_amount,
        held_back=SponsoredMonth.objects.filter(
            month=month, state=SponsoredMonth.State.RESERVED, contribution_lines__isnull=True
        ).count(),
        short=SponsoredMonth.objects.filter(
            month=month, state=SponsoredMonth.State.RESERVED, price_due__isnull=False
        ).count(),
        chunks={c.label: c.state for c in cycle.chunks.order_by("province", "pass_number")},
        reasons=reasons,
    )


# --- The whole run ---------------------------------------------------------------------------------------------------


def cycle_run(
    *,
    month: date,
    actor=None,
    today: date | None = None,
    tasks: bool = True,
    wait: bool = False,
    after_step: Hook = None,
) -> CycleSummary:
    """Run (or complete) the cycle of ``month``: bill, every chunk not posted yet, finish.

    ``tasks``: each chunk as a Celery task (``protection.cycle_chunk``; in-process when no broker is configured, the
    embedded default); otherwise in this process. With a real broker the run sends the chunks as a chord whose
    callback finishes the cycle when the last chunk ends (``tasks.chunks_send``; without a result backend a later run
    finishes it). ``after_step``: see the module docstring."""
    access.check(actor, access.PAY)
    today = today or timezone.localdate()
    with month_lock(month, wait=wait):
        cycle_bill(month=month, actor=actor)
        if after_step:
            after_step("bill")
        chunks = list(
            CycleChunk.objects.filter(cycle__month=month)
            .exclude(state=CycleChunk.State.POSTED)
            .order_by("province", "pass_number")
            .values_list("pk", flat=True)
        )
        if tasks:
            from lingkaran.protection import tasks as cycle_tasks

            cycle_tasks.chunks_send(month=month, chunk_ids=chunks, today=today)
        else:
            for chunk_id in chunks:
                chunk_process(chunk_id=chunk_id, today=today, after_step=after_step)
        cycle_finish(month=month, actor=actor)
        if after_step:
            after_step("finish")
    return cycle_summary(month)
