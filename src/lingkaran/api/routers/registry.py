"""Registry endpoints: regions, occupations, workers, verification, consent, duplicates and the NIK check.

Every read goes through ``registry.selectors`` (narrowed to what the caller may see: a field agent sees its own
regions, and a worker of another region is a 404, never a 403 that would disclose it); every write goes through
``registry.services`` (which checks the role, writes the audit row and owns the transaction). Worker data is masked
in every answer; ``POST /workers/{id}/reveal`` is the only way to the full personal data, audited on each call.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability, RoleName
from lingkaran.core.errors import Forbidden, InvalidInput, NotAuthenticated
from lingkaran.registry import messages, selectors, services
from lingkaran.registry.domain.nik import mask_nik
from lingkaran.registry.models import (
    Consent,
    DuplicateCandidate,
    Heir,
    NominationSource,
    Sex,
    VerificationDecision,
    WorkerStatus,
)

router = Router(tags=["registry"])


def _one_of(choices) -> Any:
    """An inline enum of a model's choices. Inline, because nested choice classes have generic names (State,
    Method, Purpose …) that would collide with other apps' enums in the OpenAPI components."""
    return Literal[tuple(choices.values)]


ConsentPurpose = _one_of(Consent.Purpose)
ConsentMethod = _one_of(Consent.Method)
HeirRelationship = _one_of(Heir.Relationship)
DecisionValue = _one_of(VerificationDecision.Decision)
DuplicateState = _one_of(DuplicateCandidate.State)


def _require_registry_reader(user) -> None:
    """Staff roles and field agents read the registry; funders and workers see workers elsewhere (sponsorships,
    self-service), so the registry refuses them outright."""
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if not (can(user, Capability.VIEW_ALL_REGIONS) or user.role == RoleName.FIELD_AGENT):
        raise Forbidden()


def _language() -> str:
    return translation.get_language() or "id"


# --- Regions --------------------------------------------------------------------------------------------------------


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None = None
    code_list: str

    @staticmethod
    def resolve_parent_code(obj):
        return obj.parent_id


@router.get("/regions", response=list[RegionOut], summary="Regions the caller may work in")
@paginate(LimitOffset)
def region_list(request, level: int | None = None, parent: str | None = None, q: str = ""):
    regions = selectors.regions_visible_to(request.user)
    if level is not None:
        regions = regions.filter(level=level)
    if parent:
        regions = regions.filter(parent_id=parent)
    if q:
        regions = regions.filter(name__icontains=q)
    return regions.order_by("code")


@router.get("/regions/{code}", response=RegionOut, summary="One region (404 outside the caller's regions)")
def region_detail(request, code: str):
    return selectors.region_for(request.user, code)


# --- Occupations ----------------------------------------------------------------------------------------------------


class OccupationOut(Schema):
    code: str
    name: str = Field(..., description="In the caller's language.")
    name_id: str
    name_en: str
    group: str = Field(..., alias="group_id")
    group_name: str
    sector: str = Field(..., description="`transport` or `other`: decides the contribution discount window.")

    @staticmethod
    def resolve_name(obj):
        return obj.label(_language())

    @staticmethod
    def resolve_group_name(obj):
        return obj.group.name_en if _language().startswith("en") else obj.group.name_id

    @staticmethod
    def resolve_sector(obj):
        return obj.group.sector


@router.get("/occupations", response=list[OccupationOut], summary="Occupations of BPU workers, grouped")
@paginate(LimitOffset)
def occupation_list(request):
    return selectors.occupations()


# --- Workers: output ------------------------------------------------------------------------------------------------


class WorkerOut(Schema):
    """A worker as every list and page shows it: NIK and phone masked, no address, no heirs' details."""

    id: int
    nik_masked: str = Field(..., examples=["6409••••••••0001"])
    full_name: str
    birth_date: date
    sex: Sex
    phone_masked: str
    region_code: str = Field(..., description="The desa when known, else the kecamatan of the NIK.")
    region_name: str | None = None
    occupation: str = Field(..., alias="occupation_id")
    occupation_name: str
    occupation_sector: str
    declared_income: int = Field(..., description="Declared monthly income in rupiah.")
    dtsen_decile: int | None
    dtsen_as_of: date | None
    has_disability: bool
    is_elderly: bool
    is_female_head: bool
    on_extreme_poverty_list: bool
    zakat_eligible: bool
    kpj_number: str
    status: WorkerStatus
    rejection_reason: str
    source: NominationSource
    merged_into_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_region_name(obj):
        return obj.region.name if obj.region_id else None

    @staticmethod
    def resolve_occupation_name(obj):
        return obj.occupation.label(_language())

    @staticmethod
    def resolve_occupation_sector(obj):
        return obj.occupation.group.sector


class ConsentOut(Schema):
    id: int
    purpose: ConsentPurpose
    method: ConsentMethod
    given_at: datetime
    collected_by: str
    evidence: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None = None
    withdrawal_note: str

    @staticmethod
    def resolve_collected_by(obj):
        return obj.collected_by.username

    @staticmethod
    def resolve_withdrawn_by(obj):
        return obj.withdrawn_by.username if obj.withdrawn_by_id else None


class HeirOut(Schema):
    """An heir as listed: the relationship only; name, NIK and phone come through the reveal endpoint."""

    id: int
    relationship: HeirRelationship
    order: int


class DecisionOut(Schema):
    id: int
    worker_id: int
    decision: DecisionValue
    reason: str
    decided_by: str
    decided_at: datetime

    @staticmethod
    def resolve_decided_by(obj):
        return obj.decided_by.username


class WorkerDetailOut(WorkerOut):
    nominated_by: str
    consents: list[ConsentOut]
    heirs: list[HeirOut]
    decisions: list[DecisionOut]

    @staticmethod
    def resolve_nominated_by(obj):
        return obj.nominated_by.username

    @staticmethod
    def resolve_consents(obj):
        return list(obj.consents.select_related("collected_by", "withdrawn_by"))

    @staticmethod
    def resolve_heirs(obj):
        return list(obj.heirs.all())

    @staticmethod
    def resolve_decisions(obj):
        return list(obj.decisions.select_related("decided_by"))


class WorkerCreatedOut(WorkerDetailOut):
    warnings: list[str] = Field(..., description="Non-blocking remarks, e.g. a NIK kecamatan not in the region list.")

    @staticmethod
    def resolve_warnings(obj):
        return list(getattr(obj, "registration_warnings", []))


# --- Workers: input -------------------------------------------------------------------------------------------------


class HeirIn(Schema):
    name: str = Field(..., min_length=1, max_length=150)
    relationship: HeirRelationship
    nik: str = Field("", max_length=32)
    phone: str = Field("", max_length=32)
    birth_date: date | None = None


class ConsentIn(Schema):
    purpose: ConsentPurpose
    method: ConsentMethod


class WorkerIn(Schema):
    """A registration, as a field agent or operator enters it. Mirrors ``registry.services.WorkerInput``."""

    nik: str = Field(..., max_length=32, examples=["6409014508900001"], description="16 digits; spaces and dots ok.")
    full_name: str = Field(..., max_length=200)
    birth_date: date
    sex: Sex
    occupation: str = Field(..., max_length=40, description="An occupation code from `GET /occupations`.")
    declared_income: int = Field(..., gt=0, description="Declared monthly income in rupiah.")
    phone: str = Field("", max_length=32, description="08…, 628… or +628…; stored as +628….")
    address: str = Field("", max_length=500)
    region_code: str = Field("", max_length=13, description="The desa/kelurahan code, e.g. 64.09.01.2020.")
    dtsen_decile: int | None = Field(None, ge=1, le=10)
    dtsen_as_of: date | None = None
    has_disability: bool = False
    is_elderly: bool = False
    is_female_head: bool = False
    on_extreme_poverty_list: bool = False
    zakat_eligible: bool = False
    consents: list[ConsentIn] = Field(default_factory=list)
    consent_evidence: str = Field("", max_length=200)
    heirs: list[HeirIn] = Field(default_factory=list, max_length=10)
    source: NominationSource | None = Field(
        None, description="Who nominated the worker; operators may name a list. Field agents always nominate."
    )


class WorkerQuery(Schema):
    q: str = Field("", description="Part of a name, or a full NIK (exact match through the blind index).")
    region: str = Field("", description="A region code at any level.")
    occupation: str = ""
    status: WorkerStatus | None = None
    decile_max: int | None = Field(None, ge=1, le=10)
    source: NominationSource | None = None


def _source_for(user, requested: str | None) -> str:
    if user.role == RoleName.FIELD_AGENT:
        return NominationSource.FIELD_AGENT
    if requested is None:
        return NominationSource.OPERATOR
    if requested == NominationSource.IMPORT:
        raise InvalidInput(details={"fields": {"source": [_("Imported workers come through the import, not here.")]}})
    return requested


# --- Workers: endpoints ---------------------------------------------------------------------------------------------


@router.get("/workers", response=list[WorkerOut], summary="Workers the caller may see (masked), with filters")
@paginate(LimitOffset)
def worker_list(request, filters: Query[WorkerQuery]):
    _require_registry_reader(request.user)
    data = filters.dict()
    data["status"] = data["status"] or ""
    data["source"] = data["source"] or ""
    return selectors.workers_filtered(request.user, selectors.WorkerFilter(**data))


@router.post(
    "/workers",
    response={201: WorkerCreatedOut},
    summary="Register (nominate) a worker",
    description=(
        "Creates a worker with status `nominated`; a verifier other than the nominator decides later. "
        "Answers 422 `invalid_input` with `details.fields` (one list of messages per field, in the caller's "
        "language) and 409 `nik_exists` when the NIK is already registered."
    ),
)
def worker_create(request, payload: WorkerIn):
    require(request.user, Capability.REGISTER_WORKERS)
    data = payload.dict()
    source = _source_for(request.user, data.pop("source"))
    data["heirs"] = [services.HeirInput(**heir) for heir in data["heirs"]]
    data["consents"] = [(c["purpose"], c["method"]) for c in data["consents"]]
    worker = services.worker_register(actor=request.user, data=services.WorkerInput(**data), source=source)
    return Status(201, worker)


@router.get("/workers/{worker_id}", response=WorkerDetailOut, summary="One worker (masked; 404 outside your regions)")
def worker_detail(request, worker_id: int):
    _require_registry_reader(request.user)
    return selectors.worker_for(request.user, worker_id)


class RevealIn(Schema):
    reason: str = Field("", max_length=200, description="Why the full data is needed; kept in the audit log.")


class HeirRevealed(Schema):
    relationship: HeirRelationship
    name: str
    nik: str
    phone: str
    birth_date: str


class WorkerRevealed(Schema):
    id: int
    nik: str
    phone: str
    address: str
    heirs: list[HeirRevealed]


@router.post(
    "/workers/{worker_id}/reveal",
    response=WorkerRevealed,
    summary="The full personal data of one worker (audited; not cached)",
    description="For roles allowed to reveal personal data, in their regions. Every call writes an audit event.",
)
def worker_reveal(request, worker_id: int, response: HttpResponse, payload: RevealIn | None = None):
    require(request.user, Capability.REVEAL_PERSONAL_DATA)
    worker = selectors.worker_for(request.user, worker_id)
    revealed = services.worker_reveal(actor=request.user, worker=worker, reason=payload.reason if payload else "")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return {"id": worker.pk, **revealed}


class DecisionIn(Schema):
    decision: DecisionValue
    reason: str = Field(..., max_length=300)


@router.post(
    "/workers/{worker_id}/decisions",
    response={201: DecisionOut},
    summary="Verify or reject a nominated worker (maker-checker)",
    description="Verifiers only, never on their own nomination; each decision is an append-only record.",
)
def worker_decide(request, worker_id: int, payload: DecisionIn):
    require(request.user, Capability.VERIFY_WORKERS)
    selectors.worker_for(request.user, worker_id)
    record = services.worker_decide(
        actor=request.user, worker_id=worker_id, decision=payload.decision, reason=payload.reason
    )
    return Status(201, record)


class HistoryEventOut(Schema):
    id: int
    occurred_at: datetime
    actor: str = Field(..., alias="actor_label")
    channel: str
    action: str
    details: dict[str, Any]


@router.get("/workers/{worker_id}/history", response=list[HistoryEventOut], summary="What happened to a worker")
@paginate(LimitOffset)
def worker_history(request, worker_id: int):
    _require_registry_reader(request.user)
    return selectors.worker_history(selectors.worker_for(request.user, worker_id))


# --- Consent --------------------------------------------------------------------------------------------------------


class ConsentWithdrawIn(Schema):
    note: str = Field("", max_length=300)


@router.post("/consents/{consent_id}/withdraw", response=ConsentOut, summary="Withdraw a consent (recorded, kept)")
def consent_withdraw(request, consent_id: int, payload: ConsentWithdrawIn | None = None):
    return services.consent_withdraw(actor=request.user, consent_id=consent_id, note=payload.note if payload else "")


# --- Duplicates -----------------------------------------------------------------------------------------------------


class DuplicateWorkerOut(Schema):
    id: int
    nik_masked: str
    full_name: str
    birth_date: date
    phone_masked: str
    region_code: str
    status: WorkerStatus


class DuplicateOut(Schema):
    id: int
    score: int = Field(..., description="0–100; the strongest rule, raised a little when rules agree.")
    evidence: list[dict[str, Any]]
    state: DuplicateState
    found_at: datetime
    first: DuplicateWorkerOut
    second: DuplicateWorkerOut
    reviewed_by: str | None = None
    reviewed_at: datetime | None
    review_note: str

    @staticmethod
    def resolve_reviewed_by(obj):
        return obj.reviewed_by.username if obj.reviewed_by_id else None


class DuplicateQuery(Schema):
    state: DuplicateState = "open"


@router.get("/duplicates", response=list[DuplicateOut], summary="Likely duplicate workers, highest score first")
@paginate(LimitOffset)
def duplicate_list(request, filters: Query[DuplicateQuery]):
    _require_registry_reader(request.user)
    return selectors.duplicate_candidates_for(request.user, filters.state).select_related("reviewed_by")


class DuplicateReviewIn(Schema):
    same_person: bool
    survivor_id: int | None = Field(None, description="When merging: which of the two records to keep.")
    note: str = Field("", max_length=300)


@router.post(
    "/duplicates/{candidate_id}/review",
    response=DuplicateOut,
    summary="Dismiss a candidate or merge the two records",
    description="Merging keeps both records; the other points to the survivor and differing values are recorded.",
)
def duplicate_review(request, candidate_id: int, payload: DuplicateReviewIn):
    candidate = services.duplicate_review(
        actor=request.user,
        candidate_id=candidate_id,
        same_person=payload.same_person,
        survivor_id=payload.survivor_id,
        note=payload.note,
    )
    return DuplicateCandidate.objects.select_related("first", "second", "reviewed_by").filter(pk=candidate.pk).get()


# --- NIK check ------------------------------------------------------------------------------------------------------


class NikCheckIn(Schema):
    nik: str = Field(..., max_length=40, examples=["6409014508900001"])
    birth_date: date | None = Field(None, description="When given, cross-checked with the NIK.")
    sex: Sex | None = Field(None, description="When given, cross-checked with the NIK.")


class RegionRef(Schema):
    code: str
    name: str | None = Field(None, description="Null when the code is not in the loaded region list.")


class NikProblemOut(Schema):
    code: str
    field: str = Field(..., description="The field the problem is about: nik, birth_date or sex.")
    message: str


class NikCheckOut(Schema):
    is_valid: bool
    nik_masked: str
    province: RegionRef | None
    regency: RegionRef | None
    district: RegionRef | None
    birth_date: date | None
    sex: Sex | None
    serial: str | None
    errors: list[NikProblemOut]
    warnings: list[NikProblemOut]


@router.post(
    "/nik/check",
    response=NikCheckOut,
    summary="Check and decode a NIK (nothing is stored)",
    description=(
        "Decodes province, regency and district (named when loaded), birth date, sex and serial; cross-checks a "
        "declared birth date and sex. Errors make the NIK invalid; warnings do not."
    ),
)
def nik_check(request, payload: NikCheckIn):
    lookup = selectors.nik_lookup(
        payload.nik, today=timezone.localdate(), birth_date=payload.birth_date, sex=payload.sex
    )
    check = lookup.check

    def ref(code: str) -> dict | None:
        return {"code": code, "name": lookup.region_names.get(code)} if code else None

    def problems(items) -> list[dict]:
        return [{"code": p.code, "field": p.field, "message": messages.render(p.code, p.params)} for p in items]

    decoded = bool(check.district_code)
    return {
        "is_valid": check.is_valid,
        "nik_masked": mask_nik(check.nik),
        "province": ref(check.province_code),
        "regency": ref(check.regency_code),
        "district": ref(check.district_code),
        "birth_date": check.birth_date,
        "sex": check.sex if decoded else None,
        "serial": check.serial if decoded else None,
        "errors": problems(check.errors),
        "warnings": problems(check.warnings),
    }
