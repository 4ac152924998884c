"""The agency's tables: what Lingkaran sends (batches and their lines), what comes back (outcomes), what is known of
each participant's membership, the files exchanged, and the built-in simulator's own records.

Requests and answers are separate tables on purpose. A caller fills ``SubmittedLine`` (or ``RegistrationRequest``)
set-based and never touches it again; the adapter writes one ``LineOutcome`` (or ``RegistrationOutcome``) per line,
whose primary key *is* the line, so no answer can ever be applied twice. See ``agency/base.py`` for the contract.

The ``Simulator*`` tables are the simulated agency's own database: participants with their KPJ numbers, the list of
NIKs covered as wage earners (PU), and the months paid, unique per participant-month.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.protection.agency.domain.membership import State as MembershipState


class AdapterKind(models.TextChoices):
    SIMULATOR = "simulator", _("Built-in simulator")
    FILE = "file", _("File exchange")


class Sector(models.TextChoices):
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


class BatchState(models.TextChoices):
    OPEN = "open", _("Being filled")
    SUBMITTED = "submitted", _("Waiting for the agency")
    ANSWERED = "answered", _("Answered")


# --- Registrations ---------------------------------------------------------------------------------------------------


class RegistrationBatch(models.Model):
    """People to register as BPU participants, sent together."""

    key = models.CharField(_("batch"), max_length=100, unique=True)
    adapter = models.CharField(max_length=10, choices=AdapterKind.choices)
    month = models.DateField(_("registration month"))
    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.OPEN)
    request_count = models.PositiveIntegerField(default=0)
    registered_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key

    @property
    def pending_count(self) -> int:
        return self.request_count - self.registered_count - self.rejected_count


class RegistrationRequest(models.Model):
    """One person to register. ``line_id`` is the caller's own number for the row (the worker id, typically)."""

    batch = models.ForeignKey(RegistrationBatch, on_delete=models.PROTECT, related_name="requests")
    line_id = models.BigIntegerField()
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="+")
    nik_index = models.CharField(max_length=64)
    income_nominal = models.PositiveBigIntegerField(_("income bracket (Rp)"))
    with_jht = models.BooleanField(_("with JHT"), default=False)
    sector = models.CharField(max_length=10, choices=Sector.choices)

    class Meta:
        ordering = ["batch_id", "line_id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line_id"], name="agency_request_line_unique"),
            models.CheckConstraint(condition=models.Q(income_nominal__gt=0), name="agency_request_income_positive"),
        ]
        indexes = [models.Index(fields=["nik_index"], name="agency_request_nik")]


class RegistrationOutcome(models.Model):
    """The agency's answer to one registration request: a KPJ number, or a refusal with its reason."""

    class Result(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        ALREADY_REGISTERED = "already_registered", _("Already a participant")
        REJECTED = "rejected", _("Refused")

    request = models.OneToOneField(
        RegistrationRequest, on_delete=models.PROTECT, primary_key=True, related_name="outcome"
    )
    batch = models.ForeignKey(RegistrationBatch, on_delete=models.PROTECT, related_name="outcomes")
    result = models.CharField(max_length=20, choices=Result.choices)
    reason = models.CharField(max_length=40, blank=True)
    reason_text = models.CharField(max_length=200, blank=True)
    kpj_number = models.CharField(max_length=11, blank=True, db_index=True)
    file_import = models.ForeignKey("FileImport", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch_id", "request_id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(result="rejected") & ~models.Q(reason="") & models.Q(kpj_number=""))
                | (~models.Q(result="rejected") & models.Q(reason="") & ~models.Q(kpj_number="")),
                name="agency_registration_outcome_shape",
            )
        ]


# --- Payments --------------------------------------------------------------------------------------------------------


class PaymentBatch(models.Model):
    """Contribution lines paid together. ``key`` is the caller's id for the batch (``cycle:2026-11:64.09`` …)."""

    key = models.CharField(_("batch"), max_length=100, unique=True)
    adapter = models.CharField(max_length=10, choices=AdapterKind.choices)
    reference_month = models.DateField(_("paid in"))
    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.OPEN)
    line_count = models.PositiveIntegerField(default=0)
    total_amount = models.PositiveBigIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    accepted_amount = models.PositiveBigIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key

    @property
    def pending_count(self) -> int:
        return self.line_count - self.accepted_count - self.rejected_count


class SubmittedLine(models.Model):
    """One contribution line, as the caller handed it over (filled set-based, never changed afterwards).

    ``line_id`` is the caller's own id (the contribution line's primary key, typically), unique within the batch. A
    line names its participant by KPJ number, or by the NIK's blind index (``nik_index``), or both.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (batch, line_id) index starts with the batch.
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="lines", db_index=False)
    line_id = models.BigIntegerField()
    nik_index = models.CharField(max_length=64, blank=True)
    kpj_number = models.CharField(max_length=11, blank=True)
    month = models.DateField(_("contribution month"))
    amount = models.BigIntegerField(_("amount (Rp)"))
    government_funded = models.BooleanField(default=False, help_text="Paid from APBN or APBD (no PP 50/2025 discount).")

    class Meta:
        ordering = ["batch_id", "line_id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line_id"], name="agency_line_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="agency_line_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(nik_index="") | ~models.Q(kpj_number=""), name="agency_line_names_participant"
            ),
        ]


class LineOutcome(models.Model):
    """The agency's answer to one line. Its primary key is the line: one answer per line, never two."""

    class Result(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Refused")

    submitted = models.OneToOneField(SubmittedLine, on_delete=models.PROTECT, primary_key=True, related_name="outcome")
    # Indexed by (batch, result, reason) below; file_import only where set (a simulator answer has none).
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="outcomes", db_index=False)
    result = models.CharField(max_length=10, choices=Result.choices)
    reason = models.CharField(max_length=40, blank=True)
    reason_text = models.CharField(max_length=200, blank=True)
    kpj_number = models.CharField(max_length=11, blank=True)
    agency_amount = models.BigIntegerField(null=True, blank=True)
    agency_reference = models.CharField(max_length=60, blank=True)
    file_import = models.ForeignKey(
        "FileImport", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch_id", "submitted_id"]
        indexes = [
            models.Index(fields=["batch", "result", "reason"], name="agency_outcome_batch_reason"),
            models.Index(
                fields=["file_import"], condition=models.Q(file_import__isnull=False), name="agency_outcome_file"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(result="rejected") & ~models.Q(reason=""))
                | (models.Q(result="accepted") & models.Q(reason="")),
                name="agency_outcome_reason_iff_rejected",
            )
        ]


# --- Membership status (what Lingkaran knows) ------------------------------------------------------------------------


class MembershipStatus(models.Model):
    """The latest known membership of a participant: computed by the simulator or read from the agency's file."""

    kpj_number = models.CharField(max_length=11, unique=True)
    nik_index = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=12, choices=[(s.value, s.value) for s in MembershipState])
    as_of = models.DateField()
    last_paid_month = models.DateField(null=True, blank=True)
    unpaid_months = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=AdapterKind.choices)
    file_import = models.ForeignKey("FileImport", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kpj_number"]
        indexes = [models.Index(fields=["state", "as_of"], name="agency_status_state")]


# --- Files exchanged -------------------------------------------------------------------------------------------------


class FileImport(models.Model):
    """A file the agency sent back, imported once (the same file again returns this record and applies nothing)."""

    class Kind(models.TextChoices):
        REGISTRATIONS = "registrations", _("Registration results")
        CONFIRMATIONS = "confirmations", _("Payment confirmations")
        STATUS = "status", _("Membership status")

    class State(models.TextChoices):
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused (nothing applied)")

    kind = models.CharField(max_length=15, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=5, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    refusal_code = models.CharField(max_length=40, blank=True)
    refusal_params = models.JSONField(default=dict, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    applied_count = models.PositiveIntegerField(default=0)
    already_applied_count = models.PositiveIntegerField(default=0)
    problem_rows = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "file_sha256"], name="agency_file_once_per_kind")]

    def __str__(self) -> str:
        return self.file_name


class FileProblem(models.Model):
    """One problem of one row (row 0: the file as a whole). The message is rendered from ``code`` and ``params`` in
    the reader's language."""

    file_import = models.ForeignKey(FileImport, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    is_error = models.BooleanField(default=True)

    class Meta:
        ordering = ["file_import_id", "row", "id"]


class StagedRow(models.Model):
    """Scratch rows of a file being imported: parsed in Python, judged and applied with set-based SQL, then deleted.

    The same columns serve the three kinds of file: ``batch_key``/``line_id`` name the line (registrations,
    confirmations), ``month`` is the contribution month or the status's as-of month, ``month2`` the last paid month.
    """

    id = models.BigAutoField(primary_key=True)
    file_import = models.ForeignKey(FileImport, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField()
    batch_key = models.CharField(max_length=100, blank=True)
    line_id = models.BigIntegerField(null=True)
    target_id = models.BigIntegerField(null=True)
    kpj_number = models.CharField(max_length=11, blank=True)
    nik_index = models.CharField(max_length=64, blank=True)
    month = models.DateField(null=True)
    month2 = models.DateField(null=True)
    amount = models.BigIntegerField(null=True)
    result = models.CharField(max_length=20, blank=True)
    reason_text = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=60, blank=True)
    problem = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["file_import", "target_id"], name="agency_staged_target")]


# --- The simulator's own records -------------------------------------------------------------------------------------


class SimulatorParticipant(models.Model):
    """A BPU participant of the simulated agency. Only the NIK's blind index is kept, never the NIK."""

    kpj_number = models.CharField(max_length=11, unique=True)
    nik_index = models.CharField(max_length=64, unique=True)
    sequence = models.PositiveBigIntegerField(unique=True)
    segment = models.CharField(max_length=3, default="BPU")
    registered_month = models.DateField()
    income_nominal = models.PositiveBigIntegerField()
    with_jht = models.BooleanField(default=False)
    sector = models.CharField(max_length=10, choices=Sector.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return self.kpj_number


class SimulatorWageEarner(models.Model):
    """A NIK covered as a wage earner (PU) through an employer: the simulator refuses to register it as BPU."""

    nik_index = models.CharField(max_length=64, unique=True)
    employer = models.CharField(max_length=150, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]


class SimulatorPaidMonth(models.Model):
    """A contribution month the simulated agency has been paid: unique per participant-month."""

    id = models.BigAutoField(primary_key=True)
    # The unique (participant, month) index serves the participant; batch and line are kept for evidence only
    # (one outcome per line already makes a line pay at most one month), so they carry no index of their own.
    participant = models.ForeignKey(
        SimulatorParticipant, on_delete=models.PROTECT, related_name="paid_months", db_index=False
    )
    month = models.DateField()
    amount = models.BigIntegerField()
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="+", db_index=False)
    submitted = models.ForeignKey(SubmittedLine, on_delete=models.PROTECT, related_name="+", db_index=False)
    paid_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant_id", "month"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "month"], name="agency_simulator_paid_once"),
        ]


class SimulatorBill(models.Model):
    """What the simulator billed, per kind of participant and month, for one batch (evidence for amount checks)."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.CASCADE, related_name="+")
    income_nominal = models.PositiveBigIntegerField()
    with_jht = models.BooleanField()
    sector = models.CharField(max_length=10)
    month = models.DateField()
    government_funded = models.BooleanField()
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "income_nominal", "with_jht", "sector", "month", "government_funded"],
                name="agency_simulator_bill_unique",
            )
        ]


class SimulatorCounter(models.Model):
    """One row: the last KPJ sequence issued. Locked while the simulator works, so its answers are serial."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.PositiveBigIntegerField(default=0)
