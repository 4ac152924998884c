"""Reads for regions and workers, narrowed to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from lingkaran.core import crypto
from lingkaran.core.access import assigned_region_codes, can
from lingkaran.core.domain.roles import Capability, RoleName, region_within
from lingkaran.core.errors import NotAuthenticated, NotFound
from lingkaran.registry.domain.nik import NikCheck, check_nik, normalise_nik
from lingkaran.registry.domain.people import normalise_name
from lingkaran.registry.models import DuplicateCandidate, Occupation, Region, Worker, WorkerStatus

PURPOSE_NIK = "registry.worker.nik"


def region_scope_q(user, field: str = "code") -> Q:
    """A filter on a region-code ``field`` that keeps only the user's regions (everything for staff)."""
    if can(user, Capability.VIEW_ALL_REGIONS):
        return Q()
    codes = assigned_region_codes(user)
    if not codes:
        return Q(pk__in=[])
    q = Q()
    for code in codes:
        q |= Q(**{field: code}) | Q(**{f"{field}__startswith": code + "."})
    return q


def regions_visible_to(user) -> QuerySet[Region]:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    return Region.objects.filter(region_scope_q(user))


def region_for(user, code: str) -> Region:
    """One region the user may work in, or NotFound (existence of other regions' data is not disclosed)."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if not can(user, Capability.VIEW_ALL_REGIONS) and not region_within(code, assigned_region_codes(user)):
        raise NotFound()
    region = Region.objects.select_related("parent__parent__parent").filter(code=code).first()
    if region is None:
        raise NotFound()
    return region


def region_children(region: Region) -> QuerySet[Region]:
    return region.children.order_by("code")


def region_path(region: Region) -> list[Region]:
    path = []
    node = region
    while node is not None:
        path.append(node)
        node = node.parent
    return list(reversed(path))


# --- Workers --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerFilter:
    q: str = ""  # part of a name, or a full NIK (exact match through the blind index)
    region: str = ""  # a region code at any level
    occupation: str = ""
    status: str = ""
    decile_max: int | None = None
    source: str = ""
    zakat_eligible: bool | None = None


def workers_visible_to(user) -> QuerySet[Worker]:
    """Staff see every worker; a field agent sees the workers of its regions; other roles see none here (funders
    see the workers they sponsor through the protection app, a worker sees itself through self-service)."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    base = Worker.objects.select_related("occupation__group", "region")
    if can(user, Capability.VIEW_ALL_REGIONS):
        return base
    if user.role == RoleName.FIELD_AGENT:
        return base.filter(region_scope_q(user, "region_code"))
    return base.none()


def workers_filtered(user, filters: WorkerFilter) -> QuerySet[Worker]:
    qs = workers_visible_to(user)
    if filters.q:
        text = filters.q.strip()
        digits = normalise_nik(text)
        if digits.isdigit() and len(digits) == 16:
            qs = qs.filter(nik_index=crypto.blind_index(digits, purpose=PURPOSE_NIK))
        else:
            # Only a key with letters: digits or titles alone normalise to "", which every name_key contains.
            key = normalise_name(text)
            qs = (
                qs.filter(Q(full_name__icontains=text) | Q(name_key__contains=key))
                if key
                else qs.filter(full_name__icontains=text)
            )
    if filters.region:
        qs = qs.filter(Q(region_code=filters.region) | Q(region_code__startswith=filters.region + "."))
    if filters.occupation:
        qs = qs.filter(occupation_id=filters.occupation)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.decile_max is not None:
        qs = qs.filter(dtsen_decile__lte=filters.decile_max)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.zakat_eligible is not None:
        qs = qs.filter(zakat_eligible=filters.zakat_eligible)
    return qs


def worker_for(user, worker_id: int) -> Worker:
    worker = workers_visible_to(user).filter(pk=worker_id).first()
    if worker is None:
        raise NotFound()
    return worker


def worker_by_nik(user, nik: str) -> Worker | None:
    """The worker with this NIK, if the user may see it: one row through the unique blind index, without the joins
    and the ordering of the list (the index is unique, so there is nothing to order); a caller that shows the
    occupation or the region reads them itself."""
    index = crypto.blind_index(normalise_nik(nik), purpose=PURPOSE_NIK)
    return next(iter(workers_visible_to(user).select_related(None).filter(nik_index=index).order_by()[:1]), None)


def verification_queue(user) -> QuerySet[Worker]:
    """Nominated workers waiting for a decision, oldest first, without the user's own nominations."""
    return (
        workers_visible_to(user)
        .filter(status=WorkerStatus.NOMINATED)
        .exclude(nominated_by=user)
        .select_related("nominated_by")
        .order_by("created_at", "id")
    )


def duplicate_candidates_for(user, state: str = DuplicateCandidate.State.OPEN) -> QuerySet[DuplicateCandidate]:
    visible = workers_visible_to(user)
    return (
        DuplicateCandidate.objects.filter(state=state, first__in=visible, second__in=visible)
        .select_related("first__occupation", "second__occupation", "first__region", "second__region")
        .order_by("-score", "found_at")
    )


def worker_history(worker: Worker):
    """Everything that happened to a worker, newest first: audit events, decisions, merges."""
    from lingkaran.core.models import AuditEvent

    return AuditEvent.objects.filter(object_type="registry.worker", object_id=str(worker.pk)).order_by(
        "-occurred_at", "-id"
    )


def occupations():
    return Occupation.objects.select_related("group").order_by("group__name_id", "name_id")


# --- NIK check (no personal data stored) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NikLookup:
    check: NikCheck
    region_names: dict[str, str]  # code -> name for the province, regency and district that are loaded


def nik_lookup(raw: str, *, today: date, birth_date: date | None = None, sex: str | None = None) -> NikLookup:
    """Decode a NIK, cross-check it with a declared birth date and sex, and name its regions from the loaded list.

    A district missing from the list is a warning (an old code from before a region split), never an error.
    """
    decoded = check_nik(raw, today=today, declared_birth_date=birth_date, declared_sex=sex)
    if not decoded.district_code:
        return NikLookup(decoded, {})
    codes = [decoded.province_code, decoded.regency_code, decoded.district_code]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    if decoded.district_code not in names:
        decoded = check_nik(
            raw, today=today, declared_birth_date=birth_date, declared_sex=sex, known_district_codes=frozenset(names)
        )
    return NikLookup(decoded, names)
