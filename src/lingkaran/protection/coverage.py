"""Coverage per worker, read set-based from the paid months (docs/subsystems/protection-coverage.md).

A month counts as paid when its ``ContributionLine`` was confirmed by the agency, or its ``SponsoredMonth`` is marked
paid (a month paid before the cycle wrote lines). The agency's ``MembershipStatus`` (matched by KPJ number) adds the
latest month the agency knows paid, and *nonaktif*. The state itself comes from the agency domain's membership rules
through ``protection.domain.coverage``.

* ``worker_coverage``: one worker's state and protected months (month, amount, payer, kind), 3 queries.
* ``coverage_counts``: workers per state for a region and/or a funder, in a fixed number of queries.
* ``coverage_check``: the public self-service check by NIK and birth date, rate-limited and audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lingkaran.core import context, crypto
from lingkaran.core.audit import audit_record
from lingkaran.core.ratelimit import count_attempt
from lingkaran.protection.agency.models import MembershipStatus
from lingkaran.protection.domain.coverage import Coverage, State, coverage
from lingkaran.protection.models import ContributionLine, SponsoredMonth, SponsoredShare, SponsorshipKind
from lingkaran.registry.domain.nik import normalise_nik
from lingkaran.registry.models import Worker, WorkerStatus
from lingkaran.registry.selectors import PURPOSE_NIK, workers_visible_to

CHECK_LIMIT = 5  # tries per window, per client address and per NIK
CHECK_WINDOW_SECONDS = 600


@dataclass(frozen=True)
class ProtectedMonth:
    month: date
    amount: int
    payer: str  # the funder's name, else the campaign's title, else ""
    kind: str  # ContributionLine.Kind value, or the sponsorship kind when no line exists
    source: str  # "line" or "sponsored_month"

    @property
    def kind_label(self) -> str:
        labels = {**dict(SponsorshipKind.choices), **dict(ContributionLine.Kind.choices)}
        return str(labels.get(self.kind, self.kind))


@dataclass(frozen=True)
class WorkerCoverage:
    coverage: Coverage
    months: tuple[ProtectedMonth, ...]  # newest first


def _line_rows(worker_ids: Iterable[int] | None, *, detail: bool):
    qs = ContributionLine.objects.filter(state=ContributionLine.State.CONFIRMED).order_by()
    if worker_ids is not None:
        qs = qs.filter(worker_id__in=worker_ids)
    if detail:
        return qs.values_list(
            "worker_id", "month", "amount", "kind", "sponsorship__funder__name", "sponsorship__campaign__title"
        )
    return qs.values_list("worker_id", "month")


def _sponsored_rows(worker_ids: Iterable[int] | None, *, detail: bool):
    qs = SponsoredMonth.objects.filter(state=SponsoredMonth.State.PAID).order_by()
    if worker_ids is not None:
        qs = qs.filter(worker_id__in=worker_ids)
    if detail:
        return qs.values_list(
            "worker_id",
            "month",
            "amount",
            "sponsorship__kind",
            "sponsorship__funder__name",
            "sponsorship__campaign__title",
        )
    return qs.values_list("worker_id", "month")


def _agency(kpj_numbers: Iterable[str]) -> dict[str, tuple[str, date | None]]:
    numbers = [k for k in kpj_numbers if k]
    if not numbers:
        return {}
    rows = MembershipStatus.objects.filter(kpj_number__in=numbers).values_list("kpj_number", "state", "last_paid_month")
    return {kpj: (state, last) for kpj, state, last in rows}


def _coverage_of(worker: Worker, paid: Iterable[date], today: date, agency: tuple[str, date | None] | None) -> Coverage:
    state, last = agency or ("", None)
    registered = worker.created_at.date().replace(day=1) if getattr(worker, "created_at", None) else None
    return coverage(paid, today, registered=registered, agency_state=state, agency_last_paid=last)


def worker_coverage(worker: Worker, *, today: date) -> WorkerCoverage:
    """One worker's coverage and protected months; a confirmed line wins over the sponsored month it billed."""
    found: dict[date, ProtectedMonth] = {}
    for _wid, month, amount, kind, funder, campaign in _sponsored_rows([worker.pk], detail=True):
        found[month] = ProtectedMonth(month, amount, funder or campaign or "", kind, "sponsored_month")
    for _wid, month, amount, kind, funder, campaign in _line_rows([worker.pk], detail=True):
        found[month] = ProtectedMonth(month, amount, funder or campaign or "", kind, "line")
    unnamed = [m for m, item in found.items() if not item.payer]
    if unnamed:  # co-funded months: every funder of the split, in the split's order
        payers: dict[date, list[str]] = defaultdict(list)
        for month, name in (
            SponsoredShare.objects.filter(sponsored_month__worker=worker, sponsored_month__month__in=unnamed)
            .order_by("sponsored_month__month", "share__position")
            .values_list("sponsored_month__month", "share__funder__name")
        ):
            payers[month].append(name or "")
        for month, names in payers.items():
            item = found[month]
            found[month] = ProtectedMonth(month, item.amount, " + ".join(names), item.kind or "directed", item.source)
    agency = _agency([worker.kpj_number]).get(worker.kpj_number)
    cov = _coverage_of(worker, found, today, agency)
    return WorkerCoverage(cov, tuple(sorted(found.values(), key=lambda m: m.month, reverse=True)))


def coverage_counts(user, *, today: date, region: str = "", funder_id: int | None = None) -> dict[str, int]:
    """Workers per coverage state among those the user may see, in a region (code prefix) and/or sponsored by a
    funder: one query for the workers, one per source of paid months, one for the agency's statuses."""
    workers = workers_visible_to(user).select_related(None).exclude(status=WorkerStatus.MERGED).order_by()
    if region:
        workers = workers.filter(Q(region_code=region) | Q(region_code__startswith=region + "."))
    if funder_id is not None:
        workers = workers.filter(sponsorships__funder_id=funder_id).distinct()
    rows = list(workers.values_list("pk", "kpj_number", "created_at"))
    ids = [pk for pk, _kpj, _created in rows]
    paid: dict[int, set[date]] = defaultdict(set)
    subquery = workers.values("pk")
    for wid, month in _line_rows(subquery, detail=False):
        paid[wid].add(month)
    for wid, month in _sponsored_rows(subquery, detail=False):
        paid[wid].add(month)
    agency = _agency(kpj for _pk, kpj, _created in rows)
    counts = {state.value: 0 for state in State}
    for pk, kpj, created in rows:
        state, last = agency.get(kpj, ("", None))
        cov = coverage(
            paid.get(pk, ()),
            today,
            registered=created.date().replace(day=1) if created else None,
            agency_state=state,
            agency_last_paid=last,
        )
        counts[cov.state.value] += 1
    counts["total"] = len(ids)
    return counts


# --- Public self-service check ---------------------------------------------------------------------------------------


def nik_index(nik: str) -> str:
    return crypto.blind_index(normalise_nik(nik), purpose=PURPOSE_NIK)


def check_allowed(*, ip_address: str | None, index: str, now: float) -> bool:
    """Fixed-window limit (``core.ratelimit``): at most ``CHECK_LIMIT`` tries per window per client address and per
    NIK (both count)."""
    by_ip = count_attempt("coverage-check:ip", ip_address or "", window_seconds=CHECK_WINDOW_SECONDS, now=now)
    by_nik = count_attempt("coverage-check:nik", index, window_seconds=CHECK_WINDOW_SECONDS, now=now) if index else 0
    return by_ip <= CHECK_LIMIT and by_nik <= CHECK_LIMIT


def coverage_check(nik: str, birth_date: date, *, today: date, limited: bool = False) -> Coverage | None:
    """The coverage of the worker with this NIK and birth date, or None when either does not match (the caller
    answers both the same way). Every check is audited with a short prefix of the NIK's blind index, never the NIK."""
    index = nik_index(nik)
    result = None
    if not limited:
        worker = (
            Worker.objects.filter(nik_index=index)
            .exclude(status=WorkerStatus.MERGED)
            .only("pk", "birth_date", "kpj_number", "created_at")
            .order_by("pk")
            .first()
        )
        if worker is not None and worker.birth_date == birth_date:
            result = worker_coverage(worker, today=today).coverage
    audit_record(
        actor=None,
        action="protection.coverage_checked",
        object_type="registry.worker",
        details={
            "nik_index_prefix": index[:12],
            "answer": "limited" if limited else (result.state.value if result else "no_match"),
        },
    )
    return result


@dataclass(frozen=True)
class CheckAnswer:
    """What the public check says: dates and the next step only, never a name, an amount or a funder."""

    status: str  # a State value, or "no_match" / "limited"
    headline: str
    next_step: str
    protected_through: date | None = None
    pay_before: date | None = None


def _month_text(month: date) -> str:
    return date_format(month, "F Y")


def _day_text(day: date) -> str:
    return date_format(day, "j F Y")


def check_answer(result: Coverage | None, *, limited: bool = False) -> CheckAnswer:
    if limited:
        return CheckAnswer(
            "limited",
            _("Too many checks. Please wait 10 minutes and try again."),
            _("For help, ask your field agent or the nearest BPJS Ketenagakerjaan office."),
        )
    if result is None:
        return CheckAnswer(
            "no_match",
            _("We could not find protection for this NIK and birth date."),
            _("Check the NIK and the birth date on your KTP and try again, or ask your field agent to register you."),
        )
    state = result.state
    if state in (State.ACTIVE, State.REACTIVATED):
        return CheckAnswer(
            state.value,
            _("Protected until %(month)s.") % {"month": _month_text(result.protected_through)},
            _("The next contribution is due by %(day)s.") % {"day": _day_text(result.next_due)},
            protected_through=result.protected_through,
        )
    if state == State.GRACE:
        return CheckAnswer(
            state.value,
            _("Protection lapsed after %(month)s: contributions are unpaid.")
            % {"month": _month_text(result.protected_through)},
            _("Pay the unpaid contributions before %(day)s to keep your membership; after that it ends.")
            % {"day": _day_text(result.pay_before)},
            protected_through=result.protected_through,
            pay_before=result.pay_before,
        )
    if state in (State.ENDED, State.INACTIVE):
        return CheckAnswer(
            state.value,
            _("Your membership ended: the last protected month was %(month)s.")
            % {"month": _month_text(result.protected_through)},
            _(
                "Register again, or pay continuation contributions (iuran lanjutan) with your NIK at a partner "
                "channel of BPJS Ketenagakerjaan."
            ),
            protected_through=result.protected_through,
        )
    return CheckAnswer(
        state.value,
        _("You are registered, but no contribution has been paid yet."),
        _("Protection starts once the first contribution is paid; ask your field agent when."),
    )


def self_service_check(nik: str, birth_date: date, *, today: date, now: float) -> CheckAnswer:
    """The public check, for the page and the API alike: limit, look up, audit, answer."""
    index = nik_index(nik)
    allowed = check_allowed(ip_address=context.current().ip_address, index=index, now=now)
    result = coverage_check(nik, birth_date, today=today, limited=not allowed)
    return check_answer(result, limited=not allowed)


__all__ = [
    "CHECK_LIMIT",
    "CHECK_WINDOW_SECONDS",
    "CheckAnswer",
    "ProtectedMonth",
    "WorkerCoverage",
    "check_allowed",
    "check_answer",
    "coverage_check",
    "coverage_counts",
    "nik_index",
    "self_service_check",
    "worker_coverage",
]
