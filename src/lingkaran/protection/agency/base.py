"""The agency adapter: how Lingkaran registers participants with BPJS Ketenagakerjaan, pays their contributions in
batches, reads their membership status and (later) follows claims. Two implementations: the built-in simulator
(``simulator.py``, the embedded default) and file exchange (``file_exchange.py``); ``LINGKARAN_AGENCY`` chooses.

The contract is built for a million lines a month, so nothing here takes or returns one Python object per line.
Requests and answers live in tables; callers fill the request tables set-based and read the answers back with a join.

**Paying a batch** (the monthly cycle)::

    batch = services.payment_batch_open(key="cycle:2026-11:64.09", today=today)   # idempotent per key
    INSERT INTO agency_submittedline (batch_id, line_id, nik_index, kpj_number, month, amount, government_funded)
    SELECT %(batch)s, c.id, w.nik_index, w.kpj_number, c.month, c.amount, c.government_funded FROM … c JOIN …
    summary = services.payment_batch_submit(batch_id=batch.pk)

* ``agency_submittedline`` (``SubmittedLine``): ``batch_id``; ``line_id``, the caller's own id for the line (bigint,
  unique within the batch; the contribution line's primary key is the natural choice); ``nik_index`` (the registry's
  NIK blind index) and/or ``kpj_number`` (11 digits), at least one of them; ``month``, the contribution month as the
  date of its first day; ``amount``, positive whole rupiah; ``government_funded``, true when the money comes from
  APBN or APBD (no PP 50/2025 discount). Fill it and submit in the same transaction: a submitted batch takes no lines.
* ``payment_batch_submit`` checks the lines set-based (first day of month, KPJ shape), totals them, and hands the
  batch to the adapter of the batch (``PaymentBatch.adapter``, fixed when the batch was opened).
* Answers go to ``agency_lineoutcome`` (``LineOutcome``), one row per line, primary key ``submitted_id`` =
  ``agency_submittedline.id``: ``result`` (``accepted`` / ``rejected``), ``reason`` (a code of
  ``domain.reasons.LINE_REASONS``, empty when accepted), ``kpj_number`` (the participant the agency matched),
  ``agency_amount`` (what the agency billed or confirmed), ``agency_reference`` (its receipt reference). The
  simulator answers every line inside ``submit``; with file exchange lines stay without an outcome (pending) until
  the confirmation file is imported. Reading the answers back, set-based::

    UPDATE my_lines SET … FROM agency_submittedline l JOIN agency_lineoutcome o ON o.submitted_id = l.id
    WHERE l.batch_id = %(batch)s AND my_lines.id = l.line_id

* Idempotent: submitting a batch again changes nothing and returns the same summary; a line can never get two
  outcomes (primary key), and the simulator's paid months are unique per participant-month, so the same months sent
  in a new batch come back ``already_paid``.

**Registering participants** works the same way with ``RegistrationBatch``, ``RegistrationRequest`` (one row per
worker: ``line_id``, ``worker_id``, ``nik_index``, ``income_nominal`` (the declared-income bracket's nominal value),
``with_jht``, ``sector``) and ``RegistrationOutcome`` (``result`` ``registered`` / ``already_registered`` /
``rejected``, ``reason``, ``kpj_number``). ``services.registration_batch_open`` / ``registration_requests_add`` /
``registration_batch_submit``.

**Membership status**: ``refresh_status(month=…)`` brings ``agency_membershipstatus`` (``MembershipStatus``, one row
per KPJ number: ``state`` of ``domain.membership.State``, ``as_of``, ``last_paid_month``, ``unpaid_months``) up to
date: the simulator recomputes it set-based from its paid months; with file exchange the table is filled by
importing the agency's status file and ``refresh_status`` only reports what is known. Callers join the table.

**Claims** arrive with the claims issue (JKK/JKM claim cases and their status with the agency, app ``claims``).
Until then ``claim_submit`` and ``claim_status`` raise ``NotImplementedError``; nothing else does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar


@dataclass(frozen=True)
class PaymentSummary:
    batch_id: int
    key: str
    state: str
    lines: int
    accepted: int
    rejected: int
    pending: int
    total_amount: int
    accepted_amount: int
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistrationSummary:
    batch_id: int
    key: str
    state: str
    requests: int
    registered: int
    already_registered: int
    rejected: int
    pending: int
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusSummary:
    as_of: date | None
    participants: int
    states: dict[str, int] = field(default_factory=dict)


class AgencyAdapter(ABC):
    """One way of reaching the agency. Methods run inside the caller's transaction, with the batch row locked by
    the service that calls them (``agency.services``); they never check permissions or write the audit log."""

    kind: ClassVar[str]

    @abstractmethod
    def register(self, batch, *, now: datetime) -> None:
        """Hand the batch's ``RegistrationRequest`` rows to the agency. Answers (``RegistrationOutcome``) are
        written now (simulator) or when the results file is imported (file exchange)."""

    @abstractmethod
    def submit_payments(self, batch, *, now: datetime) -> None:
        """Hand the batch's ``SubmittedLine`` rows to the agency. Answers (``LineOutcome``) are written now
        (simulator) or when the confirmation file is imported (file exchange); a line that cannot be sent at all
        (no KPJ number known) is answered at once."""

    @abstractmethod
    def refresh_status(self, *, month: date, now: datetime) -> None:
        """Bring ``MembershipStatus`` up to date as of ``month`` as far as this adapter can."""

    def claim_submit(self, *, worker_id: int, claim: dict) -> str:
        """Send a JKK/JKM claim; the agency's claim reference. Arrives with the claims issue."""
        raise NotImplementedError("claims arrive with the claims issue (JKK/JKM claim cases)")

    def claim_status(self, *, claim_reference: str) -> str:
        """The agency's status of a claim. Arrives with the claims issue."""
        raise NotImplementedError("claims arrive with the claims issue (JKK/JKM claim cases)")
