"""Reads for the agency's pages, commands and callers: batches with their summaries and lines, file imports with
their row-level problems, what is known of membership, and the simulator's participants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, QuerySet

from lingkaran.core.errors import NotFound
from lingkaran.protection.agency.base import PaymentSummary, RegistrationSummary, StatusSummary
from lingkaran.protection.agency.domain.membership import Membership, membership
from lingkaran.protection.agency.models import (
    FileImport,
    FileProblem,
    LineOutcome,
    MembershipStatus,
    PaymentBatch,
    RegistrationBatch,
    RegistrationOutcome,
    RegistrationRequest,
    SimulatorPaidMonth,
    SimulatorParticipant,
    SimulatorWageEarner,
    SubmittedLine,
)


def _reason_counts(queryset) -> dict[str, int]:
    rows = queryset.exclude(reason="").values_list("reason").annotate(count=Count("pk")).order_by("-count", "reason")
    return dict(rows)


def payment_summary(batch: PaymentBatch) -> PaymentSummary:
    return PaymentSummary(
        batch_id=batch.pk,
        key=batch.key,
        state=batch.state,
        lines=batch.line_count,
        accepted=batch.accepted_count,
        rejected=batch.rejected_count,
        pending=batch.pending_count,
        total_amount=batch.total_amount,
        accepted_amount=batch.accepted_amount,
        reasons=_reason_counts(LineOutcome.objects.filter(batch=batch)),
    )


def registration_summary(batch: RegistrationBatch) -> RegistrationSummary:
    outcomes = RegistrationOutcome.objects.filter(batch=batch)
    already = outcomes.filter(result=RegistrationOutcome.Result.ALREADY_REGISTERED).count()
    return RegistrationSummary(
        batch_id=batch.pk,
        key=batch.key,
        state=batch.state,
        requests=batch.request_count,
        registered=batch.registered_count - already,
        already_registered=already,
        rejected=batch.rejected_count,
        pending=batch.pending_count,
        reasons=_reason_counts(outcomes),
    )


def status_summary() -> StatusSummary:
    states = dict(MembershipStatus.objects.values_list("state").annotate(count=Count("pk")).order_by("state"))
    latest = MembershipStatus.objects.aggregate(as_of=Max("as_of"))["as_of"]
    return StatusSummary(as_of=latest, participants=sum(states.values()), states=states)


def payment_batches() -> QuerySet[PaymentBatch]:
    return PaymentBatch.objects.select_related("created_by").order_by("-created_at", "-id")


def payment_batch_for(batch_id: int) -> PaymentBatch:
    batch = PaymentBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def payment_lines(batch: PaymentBatch, *, result: str = "", reason: str = "") -> QuerySet[SubmittedLine]:
    """The batch's lines with their outcomes; ``result`` ``pending`` means no outcome yet."""
    lines = SubmittedLine.objects.filter(batch=batch).select_related("outcome").order_by("line_id")
    if result == "pending":
        lines = lines.filter(outcome__isnull=True)
    elif result:
        lines = lines.filter(outcome__result=result)
    if reason:
        lines = lines.filter(outcome__reason=reason)
    return lines


def registration_batches() -> QuerySet[RegistrationBatch]:
    return RegistrationBatch.objects.select_related("created_by").order_by("-created_at", "-id")


def registration_batch_for(batch_id: int) -> RegistrationBatch:
    batch = RegistrationBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def registration_requests(batch: RegistrationBatch, *, result: str = "") -> QuerySet[RegistrationRequest]:
    requests = (
        RegistrationRequest.objects.filter(batch=batch)
        .select_related("outcome", "worker")
        .only(
            "id",
            "line_id",
            "worker_id",
            "income_nominal",
            "with_jht",
            "sector",
            "worker__full_name",
            "worker__nik_masked",
            "outcome__result",
            "outcome__reason",
            "outcome__reason_text",
            "outcome__kpj_number",
        )
        .order_by("line_id")
    )
    if result == "pending":
        return requests.filter(outcome__isnull=True)
    if result:
        return requests.filter(outcome__result=result)
    return requests


def file_imports() -> QuerySet[FileImport]:
    return FileImport.objects.select_related("uploaded_by").order_by("-created_at", "-id")


def file_import_for(import_id: int) -> FileImport:
    record = FileImport.objects.filter(pk=import_id).select_related("uploaded_by").first()
    if record is None:
        raise NotFound()
    return record


def file_problems(record: FileImport, *, errors_only: bool = False) -> QuerySet[FileProblem]:
    problems = record.problems.order_by("row", "id")
    return problems.filter(is_error=True) if errors_only else problems


def membership_statuses(kpj_numbers) -> dict[str, MembershipStatus]:
    """What is known of each of ``kpj_numbers`` (missing ones are not known)."""
    return {status.kpj_number: status for status in MembershipStatus.objects.filter(kpj_number__in=list(kpj_numbers))}


@dataclass(frozen=True)
class ParticipantRow:
    participant: SimulatorParticipant
    membership: Membership
    paid_months: list[date]


def simulator_participants(*, search: str = "") -> QuerySet[SimulatorParticipant]:
    participants = SimulatorParticipant.objects.order_by("-sequence")
    if search:
        participants = participants.filter(kpj_number__startswith=search.strip())
    return participants


def participant_rows(participants, *, month: date) -> list[ParticipantRow]:
    """The membership of each participant (one page of them) in ``month``, from the pure rules."""
    people = list(participants)
    paid: dict[int, list[date]] = {p.pk: [] for p in people}
    for participant_id, paid_month in (
        SimulatorPaidMonth.objects.filter(participant__in=people)
        .order_by("month")
        .values_list("participant_id", "month")
    ):
        paid[participant_id].append(paid_month)
    return [ParticipantRow(p, membership(paid[p.pk], month, registered=p.registered_month), paid[p.pk]) for p in people]


def wage_earners() -> QuerySet[SimulatorWageEarner]:
    return SimulatorWageEarner.objects.order_by("-added_at", "-id")
