"""Writes for the agency: open, fill and submit payment and registration batches; refresh membership status; export
the files an officer uploads and import the ones the agency sends back; seed the simulator's records.

Each service owns its transaction, checks the actor's capability (``agency.access``; no actor = a system call such as
the monthly cycle or a command) and writes one audit row. The adapter of a batch (simulator or file exchange) is
fixed when the batch is opened, from ``LINGKARAN_AGENCY``; the contract is in ``agency/base.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.core import crypto
from lingkaran.core.audit import audit_record
from lingkaran.core.db import copy_rows
from lingkaran.core.errors import Conflict, InvalidInput, NotFound
from lingkaran.protection.agency import access, files_in, files_out, sql
from lingkaran.protection.agency.base import AgencyAdapter, PaymentSummary, RegistrationSummary, StatusSummary
from lingkaran.protection.agency.domain import billing
from lingkaran.protection.agency.domain import files as formats
from lingkaran.protection.agency.domain.months import first_of_month
from lingkaran.protection.agency.file_exchange import FileExchangeAdapter
from lingkaran.protection.agency.models import (
    AdapterKind,
    BatchState,
    FileImport,
    LineOutcome,
    PaymentBatch,
    RegistrationBatch,
    RegistrationOutcome,
    SimulatorParticipant,
    SimulatorWageEarner,
    SubmittedLine,
)
from lingkaran.protection.agency.selectors import payment_summary, registration_summary, status_summary
from lingkaran.protection.agency.simulator import SimulatorAdapter, issue_participants, lock_counter
from lingkaran.registry import services as registry_services
from lingkaran.registry.domain.nik import normalise_nik
from lingkaran.registry.models import Worker, WorkerStatus
from lingkaran.registry.selectors import PURPOSE_NIK

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._/\-]{0,99}$")
ADAPTERS: dict[str, type[AgencyAdapter]] = {
    AdapterKind.SIMULATOR: SimulatorAdapter,
    AdapterKind.FILE: FileExchangeAdapter,
}


def adapter_for(kind: str) -> AgencyAdapter:
    return ADAPTERS[kind]()


def configured_kind() -> str:
    return settings.LINGKARAN_AGENCY


def nik_index_of(nik: str) -> str:
    return crypto.blind_index(normalise_nik(nik), purpose=PURPOSE_NIK)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_PATTERN.match(key):
        raise InvalidInput(
            details={
                "fields": {
                    "key": [_("Use up to 100 letters, digits and : . _ / - (starting with one of the first two).")]
                }
            }
        )
    return key


def _package_problems(income_nominal, sector: str) -> list[tuple[str, str]]:
    found = []
    if sector not in billing.SECTORS:
        found.append(("sector", str(_("Sector must be transport or other."))))
    if isinstance(income_nominal, bool) or not isinstance(income_nominal, int) or income_nominal <= 0:
        found.append(("income_nominal", str(_("The income bracket is a positive whole number of rupiah."))))
    return found


def _check_package(income_nominal, sector: str) -> None:
    problems = _package_problems(income_nominal, sector)
    if problems:
        raise InvalidInput(details={"fields": {name: [text] for name, text in problems}})


# --- Payments --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLineInput:
    """One line for ``payment_lines_add`` (small callers and tests; the cycle inserts set-based instead)."""

    line_id: int
    month: date
    amount: int
    kpj_number: str = ""
    nik_index: str = ""
    government_funded: bool = False


def payment_batch_open(*, key: str, today: date | None = None, actor=None) -> PaymentBatch:
    """The batch with ``key``, created (with the configured adapter, paid in the month of ``today``) if new."""
    access.check(actor, access.PAY)
    key = _check_key(key)
    month = first_of_month(today or timezone.localdate())
    with transaction.atomic():
        batch, created = PaymentBatch.objects.get_or_create(
            key=key,
            defaults={"adapter": configured_kind(), "reference_month": month, "created_by": actor},
        )
        if created:
            audit_record(
                actor=actor, action="agency.payment_batch_open", target=batch, details={"adapter": batch.adapter}
            )
    return batch


def _open_batch(model, batch_id: int):
    batch = model.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    if batch.state != BatchState.OPEN:
        raise Conflict(_("The batch was already submitted; it takes no more lines."), code="batch_not_open")
    return batch


def payment_lines_add(*, batch_id: int, lines: Iterable[PaymentLineInput]) -> int:
    """Add lines to an open batch with one ``COPY`` (PostgreSQL); the number added. For a million lines, insert
    set-based from SQL instead (see ``agency/base.py``)."""
    with transaction.atomic():
        batch = _open_batch(PaymentBatch, batch_id)
        return copy_rows(
            "agency_submittedline",
            ("batch_id", "line_id", "nik_index", "kpj_number", "month", "amount", "government_funded"),
            (
                (
                    batch.pk,
                    line.line_id,
                    line.nik_index,
                    line.kpj_number,
                    line.month,
                    line.amount,
                    line.government_funded,
                )
                for line in lines
            ),
        )


def _invalid_lines(batch_id: int) -> list[int]:
    rows = sql.fetch(
        f"""
        SELECT line_id FROM agency_submittedline
        WHERE batch_id = %(batch)s AND ({sql.not_first_of_month("month")} OR {sql.not_kpj_shaped("kpj_number")})
        ORDER BY line_id
        """,
        {"batch": batch_id},
    )
    return [row[0] for row in rows[:20]]


def payment_batch_submit(*, batch_id: int, actor=None, now: datetime | None = None) -> PaymentSummary:
    """Seal the batch and hand it to its adapter. Idempotent: a batch already submitted is returned as it is."""
    access.check(actor, access.PAY)
    now = _now(now)
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound()
        if batch.state != BatchState.OPEN:
            return payment_summary(batch)
        invalid = _invalid_lines(batch.pk)
        if invalid:
            raise InvalidInput(
                _(
                    "Some lines have a month that is not the first day of a month, or a KPJ number that is not 11 digits."
                ),
                code="batch_lines_invalid",
                details={"line_ids": invalid},
            )
        totals = SubmittedLine.objects.filter(batch=batch).aggregate(lines=Count("id"), amount=Sum("amount"))
        if not totals["lines"]:
            raise InvalidInput(_("The batch has no lines."), code="batch_empty")
        batch.line_count = totals["lines"]
        batch.total_amount = totals["amount"]
        batch.state = BatchState.SUBMITTED
        batch.submitted_at = now
        batch.save(update_fields=["line_count", "total_amount", "state", "submitted_at"])
        adapter_for(batch.adapter).submit_payments(batch, now=now)
        payment_batch_recount(batch_id=batch.pk, now=now)
        batch.refresh_from_db()
        summary = payment_summary(batch)
        audit_record(
            actor=actor,
            action="agency.payment_batch_submit",
            target=batch,
            details={"lines": summary.lines, "accepted": summary.accepted, "rejected": summary.rejected},
        )
    return summary


def payment_batch_recount(*, batch_id: int, now: datetime) -> None:
    """The batch's counters from its outcomes (set-based); answered once every line has an outcome."""
    counts = LineOutcome.objects.filter(batch_id=batch_id).aggregate(
        accepted=Count("pk", filter=Q(result=LineOutcome.Result.ACCEPTED)),
        rejected=Count("pk", filter=Q(result=LineOutcome.Result.REJECTED)),
        amount=Sum("submitted__amount", filter=Q(result=LineOutcome.Result.ACCEPTED)),
    )
    batch = PaymentBatch.objects.get(pk=batch_id)
    batch.accepted_count = counts["accepted"]
    batch.rejected_count = counts["rejected"]
    batch.accepted_amount = counts["amount"] or 0
    if batch.state == BatchState.SUBMITTED and batch.accepted_count + batch.rejected_count >= batch.line_count:
        batch.state = BatchState.ANSWERED
        batch.answered_at = now
    batch.save(update_fields=["accepted_count", "rejected_count", "accepted_amount", "state", "answered_at"])


# --- Registrations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationInput:
    """One worker to register: the nominal value of the declared-income bracket, JHT or not, the policy sector."""

    worker_id: int
    income_nominal: int
    with_jht: bool = False
    sector: str = "other"
    line_id: int | None = None  # default: the worker id


def registration_batch_open(*, key: str, today: date | None = None, actor=None) -> RegistrationBatch:
    access.check(actor, access.ENROL)
    key = _check_key(key)
    month = first_of_month(today or timezone.localdate())
    with transaction.atomic():
        batch, created = RegistrationBatch.objects.get_or_create(
            key=key, defaults={"adapter": configured_kind(), "month": month, "created_by": actor}
        )
        if created:
            audit_record(
                actor=actor, action="agency.registration_batch_open", target=batch, details={"adapter": batch.adapter}
            )
    return batch


def registration_requests_add(*, batch_id: int, requests: Iterable[RegistrationInput]) -> int:
    """Add verified workers to an open registration batch; the number added."""
    requests = list(requests)
    problems: dict[str, list[str]] = {}
    for item in requests:
        for name, text in _package_problems(item.income_nominal, item.sector):
            if text not in problems.get(name, []):
                problems.setdefault(name, []).append(text)
    ids = [item.worker_id for item in requests]
    found = dict(Worker.objects.filter(pk__in=ids, status=WorkerStatus.VERIFIED).values_list("pk", "nik_index"))
    missing = sorted(set(ids) - set(found))
    if missing:
        problems.setdefault("worker", []).append(
            str(_("Only verified workers can be registered with the agency (workers %(ids)s).") % {"ids": missing[:20]})
        )
    if problems:
        raise InvalidInput(details={"fields": problems})
    with transaction.atomic():
        batch = _open_batch(RegistrationBatch, batch_id)
        return copy_rows(
            "agency_registrationrequest",
            ("batch_id", "line_id", "worker_id", "nik_index", "income_nominal", "with_jht", "sector"),
            (
                (
                    batch.pk,
                    item.line_id if item.line_id is not None else item.worker_id,
                    item.worker_id,
                    found[item.worker_id],
                    item.income_nominal,
                    item.with_jht,
                    item.sector,
                )
                for item in requests
            ),
        )


def registration_batch_submit(*, batch_id: int, actor=None, now: datetime | None = None) -> RegistrationSummary:
    access.check(actor, access.ENROL)
    now = _now(now)
    with transaction.atomic():
        batch = RegistrationBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound()
        if batch.state != BatchState.OPEN:
            return registration_summary(batch)
        count = batch.requests.count()
        if not count:
            raise InvalidInput(_("The batch has no lines."), code="batch_empty")
        batch.request_count = count
        batch.state = BatchState.SUBMITTED
        batch.submitted_at = now
        batch.save(update_fields=["request_count", "state", "submitted_at"])
        adapter_for(batch.adapter).register(batch, now=now)
        registration_batch_recount(batch_id=batch.pk, now=now)
        batch.refresh_from_db()
        summary = registration_summary(batch)
        audit_record(
            actor=actor,
            action="agency.registration_batch_submit",
            target=batch,
            details={"requests": summary.requests, "registered": summary.registered + summary.already_registered},
        )
    return summary


def registration_batch_recount(*, batch_id: int, now: datetime) -> None:
    """The batch's counters from its outcomes, and the KPJ numbers they gave written to the registry (called after
    the simulator answers and after an imported registration file, so both paths record them)."""
    registration_kpj_numbers_record(batch_id=batch_id)
    counts = RegistrationOutcome.objects.filter(batch_id=batch_id).aggregate(
        registered=Count("pk", filter=~Q(result=RegistrationOutcome.Result.REJECTED)),
        rejected=Count("pk", filter=Q(result=RegistrationOutcome.Result.REJECTED)),
    )
    batch = RegistrationBatch.objects.get(pk=batch_id)
    batch.registered_count = counts["registered"]
    batch.rejected_count = counts["rejected"]
    if batch.state == BatchState.SUBMITTED and batch.registered_count + batch.rejected_count >= batch.request_count:
        batch.state = BatchState.ANSWERED
        batch.answered_at = now
    batch.save(update_fields=["registered_count", "rejected_count", "state", "answered_at"])


def registration_kpj_numbers_record(*, batch_id: int) -> int:
    """Write the KPJ numbers of a batch's answered requests (registered or already a participant) to the workers,
    through the registry's service (set-based, audited per worker); later payment batches carry them. Returns how
    many workers changed."""
    batch = RegistrationBatch.objects.only("pk", "key").get(pk=batch_id)
    numbers = (
        RegistrationOutcome.objects.filter(batch_id=batch_id)
        .exclude(kpj_number="")
        .order_by()
        .values_list("request__worker_id", "kpj_number")
    )
    return registry_services.worker_kpj_numbers_record(
        numbers=numbers.iterator(chunk_size=5000), source=f"agency.registrationbatch:{batch.key}"
    )


# --- Membership status -----------------------------------------------------------------------------------------------


def status_refresh(*, month: date | None = None, actor=None, now: datetime | None = None) -> StatusSummary:
    """Bring ``MembershipStatus`` up to date as of ``month`` (default: this month) with the configured adapter."""
    access.check(actor, access.ENROL)
    now = _now(now)
    month = first_of_month(month or timezone.localdate())
    with transaction.atomic():
        adapter_for(configured_kind()).refresh_status(month=month, now=now)
        summary = status_summary()
        audit_record(
            actor=actor,
            action="agency.status_refresh",
            object_type="agency.membershipstatus",
            details={"month": month.isoformat(), "adapter": configured_kind(), "participants": summary.participants},
        )
    return summary


# --- Files -----------------------------------------------------------------------------------------------------------


def _file_batch(model, batch_id: int):
    batch = model.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    if batch.adapter != AdapterKind.FILE:
        raise Conflict(_("The simulator answered this batch; there is no file to upload."), code="batch_not_file")
    if batch.state == BatchState.OPEN:
        raise Conflict(_("Submit the batch before downloading its file."), code="batch_not_submitted")
    return batch


def _check_format(file_format: str) -> None:
    if file_format not in files_out.CONTENT_TYPES:
        raise InvalidInput(details={"fields": {"format": [_("Choose CSV or XLSX.")]}})


def _exported(batch, make, file_format: str):
    try:
        exported = make(batch, file_format)
    except files_out.TooManyRows:
        raise InvalidInput(
            _("Too many rows for one XLSX sheet; download the CSV file."), code="too_many_rows_for_xlsx"
        ) from None
    type(batch).objects.filter(pk=batch.pk).update(exported_at=timezone.now())
    return exported


def payment_file_export(*, actor, batch_id: int, file_format: str) -> files_out.ExportedFile:
    """The payment file of a file-exchange batch: its lines still waiting for the agency's confirmation."""
    access.check(actor, access.PAY)
    _check_format(file_format)
    batch = _file_batch(PaymentBatch, batch_id)
    exported = _exported(batch, files_out.payment_file, file_format)
    audit_record(
        actor=actor,
        action="agency.payment_file_export",
        target=batch,
        details={"rows": exported.rows, "format": file_format},
    )
    return exported


def registration_file_export(*, actor, batch_id: int, file_format: str) -> files_out.ExportedFile:
    """The registration file: full NIKs and names of the people still waiting for the agency's answer."""
    access.check(actor, access.ENROL)
    _check_format(file_format)
    batch = _file_batch(RegistrationBatch, batch_id)
    exported = _exported(batch, files_out.registration_file, file_format)
    audit_record(
        actor=actor,
        action="agency.registration_file_export",
        target=batch,
        details={"rows": exported.rows, "format": file_format, "personal_data": "nik, full_name, birth_date, sex"},
    )
    return exported


IMPORT_CAPABILITY = {
    formats.CONFIRMATIONS: access.PAY,
    formats.REGISTRATIONS: access.ENROL,
    formats.STATUS: access.ENROL,
}


def agency_file_import(
    *, actor, kind: str, file_name: str, content: bytes, today: date | None = None, now: datetime | None = None
) -> FileImport:
    """Import a file the agency sent back (see ``files_in``): accept valid rows, report the others; the same file
    twice applies nothing."""
    if kind not in IMPORT_CAPABILITY:
        raise InvalidInput(details={"fields": {"kind": [_("Choose the kind of file.")]}})
    access.check(actor, IMPORT_CAPABILITY[kind])
    indexer = crypto.BlindIndexer()
    with transaction.atomic():
        record = files_in.file_import_run(
            kind=kind,
            file_name=file_name,
            content=content,
            actor=actor,
            today=today or timezone.localdate(),
            now=_now(now),
            nik_indexer=lambda nik: indexer(nik, purpose=PURPOSE_NIK),
        )
        audit_record(
            actor=actor,
            action="agency.file_import",
            target=record,
            details={
                "kind": kind,
                "state": record.state,
                "rows": record.total_rows,
                "applied": record.applied_count,
                "problem_rows": record.problem_rows,
            },
        )
    return record


# --- The simulator's own records (tests, the demo, and operators trying things out) ---------------------------------


def simulator_wage_earner_add(*, actor, nik: str, employer: str = "") -> SimulatorWageEarner:
    """Put a NIK on the simulator's list of wage earners (PU): registering it as BPU is then refused."""
    access.check(actor, access.ENROL)
    digits = normalise_nik(nik)
    if len(digits) != 16 or not digits.isdigit():
        raise InvalidInput(details={"fields": {"nik": [_("A NIK is 16 digits.")]}})
    with transaction.atomic():
        earner, created = SimulatorWageEarner.objects.get_or_create(
            nik_index=nik_index_of(digits), defaults={"employer": employer[:150]}
        )
        if created:
            audit_record(
                actor=actor, action="agency.simulator_wage_earner_add", target=earner, object_label=employer[:150]
            )
    return earner


def simulator_participant_add(
    *,
    nik_index: str,
    registered_month: date,
    income_nominal: int,
    with_jht: bool = False,
    sector: str = "other",
    actor=None,
    now: datetime | None = None,
) -> str:
    """Make someone a BPU participant of the simulated agency directly (someone who joined before Lingkaran, say);
    the new KPJ number."""
    access.check(actor, access.ENROL)
    _check_package(income_nominal, sector)
    with transaction.atomic():
        lock_counter()
        if SimulatorParticipant.objects.filter(nik_index=nik_index).exists():
            raise Conflict(_("This NIK is already a participant."), code="already_registered")
        if SimulatorWageEarner.objects.filter(nik_index=nik_index).exists():
            raise Conflict(_("This NIK is covered as a wage earner (PU)."), code="covered_as_wage_earner")
        (kpj,) = issue_participants(
            [(nik_index, first_of_month(registered_month), income_nominal, with_jht, sector)], now=_now(now)
        )
        audit_record(
            actor=actor,
            action="agency.simulator_participant_add",
            object_type="agency.simulatorparticipant",
            object_id=kpj,
        )
    return kpj
