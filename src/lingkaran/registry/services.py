"""Writes for the registry: regions, workers, consent, heirs, verification, duplicates and merges.

Every write checks access with the same functions the pages and the API use, runs in one transaction, and writes an
audit row. Personal data is encrypted here, on the way in; ``worker_reveal`` is the only way back out in full.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lingkaran.core import crypto
from lingkaran.core.access import assigned_region_codes, can, require
from lingkaran.core.audit import audit_record, audit_records
from lingkaran.core.domain.roles import Capability, region_within
from lingkaran.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from lingkaran.core.models import RegionAssignment
from lingkaran.registry import messages
from lingkaran.registry.domain import duplicates as dup_rules
from lingkaran.registry.domain.nik import check_nik, mask_nik
from lingkaran.registry.domain.people import PhoneError, clean_name, mask_phone, normalise_name, normalise_phone
from lingkaran.registry.domain.regions import CODE as REGION_CODE
from lingkaran.registry.domain.regions import ancestors as region_ancestors
from lingkaran.registry.domain.regions import parent_code, region_level
from lingkaran.registry.models import (
    Consent,
    DuplicateCandidate,
    Heir,
    Merge,
    NominationSource,
    Occupation,
    Region,
    VerificationDecision,
    Worker,
    WorkerStatus,
)

CURRENT_CODE_LIST = "Kepmendagri 300.2.2-2138/2025"
from lingkaran.registry.selectors import PURPOSE_NIK  # noqa: E402  (one definition for reads and writes)

PURPOSE_PHONE = "registry.worker.phone"
PURPOSE_ADDRESS = "registry.worker.address"
PURPOSE_HEIR = "registry.heir.details"


class RegionFileError(DomainError):
    code = "region_file_invalid"
    http_status = 422


# --- Regions --------------------------------------------------------------------------------------------------------


@dataclass
class RegionLoadResult:
    rows: int = 0
    added: int = 0
    renamed: int = 0
    retired: int = 0
    deleted: int = 0
    kept_in_use: list[str] = field(default_factory=list)


def _read_region_rows(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RegionFileError(_("File %(path)s does not exist.") % {"path": path}) from None
    except UnicodeDecodeError:
        raise RegionFileError(_("The region file is not UTF-8 text.")) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["kode", "nama"]:
        raise RegionFileError(_("The region file must start with the header kode,nama."))
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    problems: list[str] = []
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            problems.append(f"{number}: {_('expected kode,nama')}")
            continue
        code, name = row[0].strip(), row[1].strip()
        if not REGION_CODE.match(code):
            problems.append(f"{number}: {_('not a region code')} {code!r}")
        elif not name:
            problems.append(f"{number}: {_('empty name')}")
        elif code in seen:
            problems.append(f"{number}: {_('code repeated')} {code}")
        else:
            seen.add(code)
            rows.append((code, name))
        if len(problems) >= 20:
            break
    if problems:
        raise RegionFileError(_("The region file has problems; nothing was loaded."), details={"rows": problems[:20]})
    return rows


def regions_load(path: Path | str, *, code_list: str = CURRENT_CODE_LIST, actor=None) -> RegionLoadResult:
    """Load the Kemendagri list (``kode,nama``): add new codes, rename changed ones, and retire codes that are no
    longer listed. A retired code that any record still uses is kept (marked not current); unused ones are deleted.
    """
    rows = _read_region_rows(Path(path))
    incoming = dict(rows)
    result = RegionLoadResult(rows=len(rows))
    with transaction.atomic():
        existing_rows = {
            code: (name, listed_in, current)
            for code, name, listed_in, current in Region.objects.values_list("code", "name", "code_list", "is_current")
        }
        existing = {code: row[0] for code, row in existing_rows.items()}
        for code in incoming:
            parent = parent_code(code)
            if parent and parent not in incoming and parent not in existing:
                raise RegionFileError(
                    _("Region %(code)s has no parent %(parent)s in the file or the database; nothing was loaded.")
                    % {"code": code, "parent": parent}
                )
        result.added = sum(1 for c in incoming if c not in existing)
        result.renamed = sum(1 for c, n in incoming.items() if c in existing and existing[c] != n)
        # Only new or changed rows are written: a reload of the same list touches nothing.
        regions_upsert([(c, n) for c, n in rows if existing_rows.get(c) != (n, code_list, True)], code_list=code_list)
        absent = set(existing) - set(incoming)
        if absent:
            # Distinct values read whole (no IN list of every absent code: PostgreSQL takes at most 65,535
            # parameters); a worker's region_code (its desa, or its NIK's kecamatan) is a use as well.
            used = set(Worker.objects.values_list("region_id", flat=True).distinct())
            used |= set(Worker.objects.values_list("region_code", flat=True).distinct())
            used |= set(RegionAssignment.objects.values_list("region_code", flat=True))
            from lingkaran.funding.selectors import funder_region_codes

            used |= funder_region_codes()
            keep = set()
            for code in used & absent:
                keep.add(code)
            # a kept code keeps its ancestors
            for code in list(keep):
                parts = code.split(".")
                keep.update(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in absent)
            # an absent code that still has current children (should not happen in an official list) is kept too
            listed_parents = {ancestor for c in incoming for ancestor in region_ancestors(c)}
            keep |= (absent - keep) & listed_parents
            deletable = sorted(absent - keep, key=lambda c: -region_level(c))
            for start in range(0, len(deletable), 500):
                Region.objects.filter(code__in=deletable[start : start + 500]).delete()
            Region.objects.filter(code__in=keep).update(is_current=False)
            result.deleted = len(deletable)
            result.retired = len(keep)
            result.kept_in_use = sorted(keep)
        audit_record(
            actor=actor,
            action="regions.load",
            object_type="registry.region",
            details={
                "rows": result.rows,
                "added": result.added,
                "renamed": result.renamed,
                "deleted": result.deleted,
                "retired": result.retired,
                "code_list": code_list,
            },
        )
    return result


@transaction.atomic
def regions_upsert(rows: Iterable[tuple[str, str]], *, code_list: str = CURRENT_CODE_LIST) -> int:
    """Insert or rename regions from ``(code, name)`` pairs, parents first. Returns how many rows were given.

    One ``INSERT … ON CONFLICT (code) DO UPDATE`` (the same SQL on PostgreSQL and SQLite ≥ 3.24) executed over the
    rows in batches: the whole Kemendagri list is ~91,600 rows, and model instances would cost most of the time.
    """
    ordered = sorted(((c.strip(), n.strip()) for c, n in rows), key=lambda r: (region_level(r[0]), r[0]))
    params = [(c, n, region_level(c), parent_code(c), code_list, True) for c, n in ordered]
    table, quote = Region._meta.db_table, connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(table)} (code, name, level, parent_id, code_list, is_current) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET "
        "name = excluded.name, code_list = excluded.code_list, is_current = excluded.is_current"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])
    return len(params)


# --- Workers --------------------------------------------------------------------------------------------------------


@dataclass
class HeirInput:
    name: str
    relationship: str
    nik: str = ""
    phone: str = ""
    birth_date: date | None = None


@dataclass
class WorkerInput:
    nik: str
    full_name: str
    birth_date: date | None
    sex: str
    occupation: str
    declared_income: int | None
    phone: str = ""
    address: str = ""
    region_code: str = ""
    dtsen_decile: int | None = None
    dtsen_as_of: date | None = None
    has_disability: bool = False
    is_elderly: bool = False
    is_female_head: bool = False
    on_extreme_poverty_list: bool = False
    zakat_eligible: bool = False
    consents: list[tuple[str, str]] = field(default_factory=list)  # (purpose, method)
    consent_evidence: str = ""
    heirs: list[HeirInput] = field(default_factory=list)


class _Problems:
    def __init__(self):
        self.fields: dict[str, list[str]] = {}
        self.codes: list[tuple[str, str, dict]] = []

    def add(self, field_name: str, problem_code: str, /, **params):
        self.fields.setdefault(field_name, []).append(messages.render(problem_code, params))
        self.codes.append((field_name, problem_code, params))

    def raise_if_any(self):
        if self.fields:
            raise InvalidInput(details={"fields": self.fields, "codes": [c for _, c, _ in self.codes]})


def _region_allowed(actor, code: str) -> bool:
    return can(actor, Capability.VIEW_ALL_REGIONS) or region_within(code, assigned_region_codes(actor))


def validate_worker_input(data: WorkerInput, *, actor, today: date | None = None) -> dict:
    """Check a registration and return the cleaned values, or raise InvalidInput with every field's problems."""
    today = today or timezone.localdate()
    problems = _Problems()
    name = clean_name(data.full_name)
    if not name:
        problems.add("full_name", "name_missing")
    elif len(name) > 150:
        problems.add("full_name", "name_too_long")
    if data.birth_date is None:
        problems.add("birth_date", "birth_date_missing")
    if data.sex not in {"M", "F"}:
        problems.add("sex", "sex_invalid")
    known_districts = frozenset(Region.objects.filter(level=3).values_list("code", flat=True))
    nik = check_nik(
        data.nik,
        today=today,
        declared_birth_date=data.birth_date,
        declared_sex=data.sex if data.sex in {"M", "F"} else None,
        known_district_codes=known_districts,
    )
    for problem in nik.errors:
        problems.add(problem.field, problem.code, **problem.params)
    phone = ""
    if data.phone:
        try:
            phone = normalise_phone(data.phone)
        except PhoneError as exc:
            problems.add("phone", str(exc))
    region = None
    if data.region_code:
        region = Region.objects.filter(code=data.region_code.strip()).first()
        if region is None:
            problems.add("region_code", "region_unknown", code=data.region_code)
        elif region.level != Region.Level.VILLAGE:
            problems.add("region_code", "region_not_village", code=region.code)
        elif not _region_allowed(actor, region.code):
            problems.add("region_code", "region_outside_scope", code=region.code)
    elif nik.is_valid and not _region_allowed(actor, nik.district_code):
        problems.add("region_code", "region_outside_scope", code=nik.district_code)
    occupation = Occupation.objects.filter(code=data.occupation).first()
    if occupation is None:
        problems.add("occupation", "occupation_unknown", value=data.occupation)
    if data.declared_income is None or data.declared_income <= 0:
        problems.add("declared_income", "income_invalid")
    if data.dtsen_decile is not None and not 1 <= data.dtsen_decile <= 10:
        problems.add("dtsen_decile", "decile_invalid")
    for purpose, method in data.consents:
        if purpose not in Consent.Purpose.values or method not in Consent.Method.values:
            problems.add("consents", "consent_invalid", purpose=purpose, method=method)
    if not any(purpose == Consent.Purpose.REGISTRATION for purpose, _method in data.consents):
        # UU PDP: personal data is processed on a recorded basis; registration consent is the minimum.
        problems.add("consents", "consent_registration_missing")
    for heir in data.heirs:
        if heir.name.strip() and heir.relationship not in Heir.Relationship.values:
            problems.add("heirs", "heir_relationship_invalid", value=heir.relationship)
        if heir.phone.strip():
            try:
                normalise_phone(heir.phone)
            except PhoneError as exc:
                problems.add("heirs", str(exc))
        if heir.nik.strip() and not check_nik(heir.nik, today=today).is_valid:
            problems.add("heirs", "heir_nik_invalid")
    problems.raise_if_any()
    return {
        "nik": nik,
        "full_name": name,
        "phone": phone,
        "region": region,
        "occupation": occupation,
        "warnings": [messages.render(w.code, w.params) for w in nik.warnings],
    }


def _encrypt_heir(heir: HeirInput) -> str:
    payload = {
        "name": clean_name(heir.name),
        "nik": heir.nik.strip(),
        "phone": heir.phone.strip(),
        "birth_date": heir.birth_date.isoformat() if heir.birth_date else "",
    }
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False), purpose=PURPOSE_HEIR)


def worker_register(*, actor, data: WorkerInput, source: str = NominationSource.FIELD_AGENT) -> Worker:
    """Nominate a worker. Status starts as ``nominated``; a verifier (not the nominator) decides later."""
    require(actor, Capability.REGISTER_WORKERS)
    clean = validate_worker_input(data, actor=actor)
    nik = clean["nik"]
    index = crypto.blind_index(nik.nik, purpose=PURPOSE_NIK)
    if Worker.objects.filter(nik_index=index).exists():
        raise Conflict(
            messages.render("nik_exists"),
            code="nik_exists",
            details={"fields": {"nik": [messages.render("nik_exists")]}},
        )
    region = clean["region"]
    phone = clean["phone"]
    worker = Worker(
        nik_encrypted=crypto.encrypt(nik.nik, purpose=PURPOSE_NIK),
        nik_index=index,
        nik_masked=mask_nik(nik.nik),
        full_name=clean["full_name"],
        name_key=normalise_name(clean["full_name"]),
        birth_date=data.birth_date,
        sex=data.sex,
        phone_encrypted=crypto.encrypt(phone, purpose=PURPOSE_PHONE),
        phone_index=crypto.blind_index(phone, purpose=PURPOSE_PHONE) if phone else "",
        phone_masked=mask_phone(phone) if phone else "",
        address_encrypted=crypto.encrypt(data.address.strip(), purpose=PURPOSE_ADDRESS),
        region=region,
        region_code=region.code if region else nik.district_code,
        occupation=clean["occupation"],
        declared_income=data.declared_income,
        dtsen_decile=data.dtsen_decile,
        dtsen_as_of=data.dtsen_as_of,
        has_disability=data.has_disability,
        is_elderly=data.is_elderly,
        is_female_head=data.is_female_head,
        on_extreme_poverty_list=data.on_extreme_poverty_list,
        zakat_eligible=data.zakat_eligible,
        source=source,
        nominated_by=actor,
    )
    try:
        with transaction.atomic():
            worker.save()
            Consent.objects.bulk_create(
                [
                    Consent(worker=worker, purpose=p, method=m, collected_by=actor, evidence=data.consent_evidence)
                    for p, m in dict(data.consents).items()
                ]
            )
            Heir.objects.bulk_create(
                [
                    Heir(worker=worker, relationship=h.relationship, details_encrypted=_encrypt_heir(h), order=i)
                    for i, h in enumerate(data.heirs, start=1)
                    if h.name.strip()
                ]
            )
            audit_record(
                actor=actor,
                action="worker.register",
                target=worker,
                details={"source": source, "warnings": clean["warnings"]},
            )
            duplicates_find(worker_ids=[worker.pk])
    except IntegrityError:
        # Two registrations of one NIK at the same moment: the unique blind index lets only one in.
        raise Conflict(messages.render("nik_exists"), code="nik_exists") from None
    worker.registration_warnings = clean["warnings"]
    return worker


def _worker_in_scope(actor, worker: Worker) -> bool:
    return can(actor, Capability.VIEW_ALL_REGIONS) or region_within(worker.region_code, assigned_region_codes(actor))


def worker_reveal(*, actor, worker: Worker, reason: str = "") -> dict:
    """The full personal data of one worker, for a role that needs it and in its scope. Every call is audited."""
    require(actor, Capability.REVEAL_PERSONAL_DATA)
    if not _worker_in_scope(actor, worker):
        raise NotFound()
    heirs = []
    for heir in worker.heirs.all():
        details = json.loads(crypto.decrypt(heir.details_encrypted, purpose=PURPOSE_HEIR))
        heirs.append({"relationship": heir.relationship, **details})
    revealed = {
        "nik": crypto.decrypt(worker.nik_encrypted, purpose=PURPOSE_NIK),
        "phone": crypto.decrypt(worker.phone_encrypted, purpose=PURPOSE_PHONE),
        "address": crypto.decrypt(worker.address_encrypted, purpose=PURPOSE_ADDRESS),
        "heirs": heirs,
    }
    audit_record(
        actor=actor,
        action="worker.reveal_personal_data",
        target=worker,
        details={"fields": ["nik", "phone", "address", "heirs"], "reason": reason[:200]},
    )
    return revealed


@transaction.atomic
def worker_decide(*, actor, worker_id: int, decision: str, reason: str) -> VerificationDecision:
    """Maker-checker: a verifier other than the nominator verifies or rejects a nominated worker, with a reason."""
    require(actor, Capability.VERIFY_WORKERS)
    worker = Worker.objects.select_for_update().filter(pk=worker_id).first()
    if worker is None or not _worker_in_scope(actor, worker):
        raise NotFound()
    reason = reason.strip()
    if decision not in VerificationDecision.Decision.values:
        raise InvalidInput(details={"fields": {"decision": [_("Choose verified or rejected.")]}})
    if not reason:
        raise InvalidInput(details={"fields": {"reason": [_("Give the reason for the decision.")]}})
    if worker.nominated_by_id == actor.pk:
        raise Forbidden(_("You nominated this worker; another verifier must decide."), code="own_nomination")
    if worker.status != WorkerStatus.NOMINATED:
        raise Conflict(
            _("This worker has already been decided (%(status)s).") % {"status": worker.get_status_display()},
            code="already_decided",
        )
    record = VerificationDecision.objects.create(worker=worker, decision=decision, reason=reason, decided_by=actor)
    worker.status = decision
    worker.rejection_reason = reason if decision == VerificationDecision.Decision.REJECTED else ""
    worker.save(update_fields=["status", "rejection_reason", "updated_at"])
    audit_record(actor=actor, action=f"worker.{decision}", target=worker, details={"reason": reason})
    return record


@transaction.atomic
def consent_withdraw(*, actor, consent_id: int, note: str = "") -> Consent:
    consent = Consent.objects.select_for_update().select_related("worker").filter(pk=consent_id).first()
    if consent is None or not _worker_in_scope(actor, consent.worker):
        raise NotFound()
    require(actor, Capability.REGISTER_WORKERS)
    if consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_by = actor
        consent.withdrawal_note = note.strip()[:300]
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
        audit_record(
            actor=actor, action="worker.consent_withdrawn", target=consent.worker, details={"purpose": consent.purpose}
        )
    return consent


# --- Duplicates -----------------------------------------------------------------------------------------------------


def _keys(workers) -> list[dup_rules.PersonKey]:
    return [
        dup_rules.PersonKey(w["id"], w["name_key"], w["birth_date"], w["phone_index"], w["region_code"])
        for w in workers
    ]


def duplicates_find(*, worker_ids: list[int] | None = None) -> int:
    """Find likely duplicates of the given workers (all when None) and record new candidates. Returns how many.

    Blocking keeps it set-based: candidates share a birth date, a phone index, or a desa; only those are scored.
    """
    fields = ("id", "name_key", "birth_date", "phone_index", "region_code")
    active = Worker.objects.exclude(status=WorkerStatus.MERGED).order_by()
    targets = list(
        active.filter(pk__in=worker_ids).values(*fields) if worker_ids is not None else active.values(*fields)
    )
    if not targets:
        return 0
    target_keys = _keys(targets)
    pairs: dict[tuple[int, int], tuple[int, list]] = {}
    chunk = 500
    for start in range(0, len(target_keys), chunk):
        block = target_keys[start : start + chunk]
        # Each branch matches an index (birth date; the phone index, which holds only rows with a phone, hence the
        # repeated condition; region and status), so PostgreSQL reads the three through one bitmap, not the table.
        q = (
            Q(birth_date__in={k.birth_date for k in block})
            | (Q(phone_index__in={k.phone_index for k in block if k.phone_index}) & ~Q(phone_index=""))
            | Q(region_code__in={k.region_code for k in block if len(k.region_code) == 13})
        )
        others = _keys(active.filter(q).values(*fields))
        by_birth: dict = {}
        by_phone: dict[str, list] = {}
        by_village: dict[str, list] = {}
        for other in others:
            by_birth.setdefault(other.birth_date, []).append(other)
            if other.phone_index:
                by_phone.setdefault(other.phone_index, []).append(other)
            if len(other.region_code) == 13:
                by_village.setdefault(other.region_code, []).append(other)
        for key in block:
            near = [
                *by_birth.get(key.birth_date, []),
                *(by_phone.get(key.phone_index, []) if key.phone_index else []),
                *by_village.get(key.region_code, []),
            ]
            for other in near:
                if other.id == key.id:
                    continue
                pair = (min(key.id, other.id), max(key.id, other.id))
                if pair in pairs:
                    continue
                score, evidence = dup_rules.score_pair(key, other)
                if score:
                    pairs[pair] = (score, [e.__dict__ for e in evidence])
    if not pairs:
        return 0
    firsts = sorted({a for a, _ in pairs})
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(firsts), 10_000):  # PostgreSQL takes at most 65,535 parameters per statement
        existing.update(
            DuplicateCandidate.objects.filter(first_id__in=firsts[start : start + 10_000]).values_list(
                "first_id", "second_id"
            )
        )
    new = [
        DuplicateCandidate(first_id=a, second_id=b, score=s, evidence=e)
        for (a, b), (s, e) in sorted(pairs.items())
        if (a, b) not in existing
    ]
    DuplicateCandidate.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


MERGE_COMPARED = (
    "full_name",
    "birth_date",
    "sex",
    "phone_index",
    "region_code",
    "occupation_id",
    "declared_income",
    "dtsen_decile",
    "has_disability",
    "is_female_head",
    "on_extreme_poverty_list",
    "zakat_eligible",
)


@transaction.atomic
def duplicate_review(
    *, actor, candidate_id: int, same_person: bool, survivor_id: int | None = None, note: str = ""
) -> DuplicateCandidate:
    """Dismiss a candidate, or merge it: the other record points to the survivor; nothing is overwritten, and every
    value that differs is kept in the merge record."""
    require(actor, Capability.VERIFY_WORKERS)
    candidate = DuplicateCandidate.objects.select_for_update().filter(pk=candidate_id).first()
    if candidate is None:
        raise NotFound()
    if candidate.state != DuplicateCandidate.State.OPEN:
        raise Conflict(_("This candidate has already been reviewed."), code="already_reviewed")
    pair = list(
        Worker.objects.select_for_update().filter(pk__in=[candidate.first_id, candidate.second_id]).order_by("pk")
    )
    if not all(_worker_in_scope(actor, w) for w in pair):
        raise NotFound()
    candidate.reviewed_by = actor
    candidate.reviewed_at = timezone.now()
    candidate.review_note = note.strip()[:300]
    if not same_person:
        candidate.state = DuplicateCandidate.State.DISMISSED
        candidate.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
        audit_record(
            actor=actor,
            action="worker.duplicate_dismissed",
            target=pair[0],
            details={"other": pair[1].pk, "candidate": candidate.pk},
        )
        return candidate
    if survivor_id not in {candidate.first_id, candidate.second_id}:
        raise InvalidInput(details={"fields": {"survivor_id": [_("Choose which of the two records to keep.")]}})
    survivor = next(w for w in pair if w.pk == survivor_id)
    merged = next(w for w in pair if w.pk != survivor_id)
    if merged.status == WorkerStatus.MERGED or survivor.status == WorkerStatus.MERGED:
        raise Conflict(_("One of these records is already merged."), code="already_merged")
    conflicts = {}
    for name in MERGE_COMPARED:
        a, b = getattr(survivor, name), getattr(merged, name)
        if a != b:
            shown = {"phone_index": (survivor.phone_masked, merged.phone_masked)}.get(name, (a, b))
            conflicts[name.removesuffix("_id").removesuffix("_index")] = [str(shown[0]), str(shown[1])]
    Merge.objects.create(survivor=survivor, merged=merged, conflicts=conflicts, candidate=candidate, merged_by=actor)
    merged.status = WorkerStatus.MERGED
    merged.merged_into = survivor
    merged.save(update_fields=["status", "merged_into", "updated_at"])
    candidate.state = DuplicateCandidate.State.MERGED
    candidate.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=actor,
        action="worker.merged",
        target=survivor,
        details={"merged": merged.pk, "conflicts": sorted(conflicts)},
    )
    # The merged record keeps its own history: the merge shows there too, pointing to the survivor.
    audit_record(
        actor=actor,
        action="worker.merged_into",
        target=merged,
        details={"survivor": survivor.pk, "conflicts": sorted(conflicts)},
    )
    return candidate


# --- KPJ numbers from the agency -------------------------------------------------------------------------------------

KPJ_CHUNK = 1000


def worker_kpj_numbers_record(*, numbers: Iterable[tuple[int, str]], source: str, actor=None) -> int:
    """Record the KPJ numbers the agency gave workers when it registered them (``numbers``: worker id, KPJ number),
    from the agency's registration answers (simulator or imported file). Set-based: one read and one ``UPDATE`` per
    chunk of ``KPJ_CHUNK`` workers, in one transaction. Only changes are written: a worker that already holds the
    number is left alone, one holding another number gets the agency's (the agency is the authority on its own
    numbers). Each changed worker gets an audit row ``worker.kpj_recorded`` (in its history) with the previous
    number and ``source``. Unknown worker ids and merged records are skipped. Returns how many workers changed."""
    wanted: dict[int, str] = {}
    for worker_id, kpj in numbers:
        kpj = (kpj or "").strip()
        if not (len(kpj) == 11 and kpj.isdigit()):
            raise InvalidInput(details={"fields": {"kpj_number": [_("A KPJ number is 11 digits.")]}})
        wanted[int(worker_id)] = kpj
    ids = sorted(wanted)
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(ids), KPJ_CHUNK):
            chunk = ids[start : start + KPJ_CHUNK]
            current = dict(
                Worker.objects.filter(pk__in=chunk)
                .exclude(status=WorkerStatus.MERGED)
                .values_list("pk", "kpj_number")
                .order_by()
            )
            dirty = [pk for pk in chunk if pk in current and current[pk] != wanted[pk]]
            if not dirty:
                continue
            Worker.objects.bulk_update(
                [Worker(pk=pk, kpj_number=wanted[pk], updated_at=now) for pk in dirty],
                ["kpj_number", "updated_at"],
                batch_size=KPJ_CHUNK,
            )
            audit_records(
                actor=actor,
                action="worker.kpj_recorded",
                object_type="registry.worker",
                rows=[(pk, "", {"kpj_number": wanted[pk], "previous": current[pk], "source": source}) for pk in dirty],
            )
            changed += len(dirty)
    return changed
