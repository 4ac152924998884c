"""The exact outcome of every line of a payment batch, as the agency (and its simulator) decides it.

This is the reference model: the simulator applies the same rules set-based in SQL (``agency/simulator.py``), and
the tests hold the two to the same answers. Lines are judged against the agency's records *before* the batch, so
the order of the lines inside a batch changes nothing, except that of two lines for the same participant-month the
one with the smaller line id is judged and the other is a ``duplicate_line``.

Precedence (``reasons.LINE_PRECEDENCE``): identity first (``unknown_participant``, ``kpj_mismatch``,
``not_registered``), then ``duplicate_line``, then the month (``membership.month_verdict``), then the amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.domain.membership import month_verdict


@dataclass(frozen=True)
class Participant:
    kpj_number: str
    nik_index: str
    registered: date
    paid: frozenset[date]


@dataclass(frozen=True)
class Line:
    line_id: int
    month: date
    amount: int
    kpj_number: str = ""
    nik_index: str = ""


@dataclass(frozen=True)
class Outcome:
    line_id: int
    reason: str  # "" when accepted
    kpj_number: str  # the participant the line was matched to ("" when none)

    @property
    def accepted(self) -> bool:
        return self.reason == ""


def identify(line: Line, by_kpj: Mapping[str, Participant], by_nik: Mapping[str, Participant]):
    """``(participant, reason)``: the participant the line pays for, or the identity reason it is refused."""
    if line.kpj_number:
        participant = by_kpj.get(line.kpj_number)
        if participant is None:
            return None, reasons.UNKNOWN_PARTICIPANT
        if line.nik_index and participant.nik_index != line.nik_index:
            return participant, reasons.KPJ_MISMATCH
        return participant, ""
    participant = by_nik.get(line.nik_index)
    if participant is None:
        return None, reasons.NOT_REGISTERED
    return participant, ""


def judge_batch(
    lines: Sequence[Line],
    participants: Iterable[Participant],
    *,
    reference: date,
    expected_amount,
) -> dict[int, Outcome]:
    """Outcome of every line. ``expected_amount(participant, line)`` is the contribution billed for that
    participant-month (the simulator's ``billing.monthly_bill``)."""
    people = list(participants)
    by_kpj = {p.kpj_number: p for p in people}
    by_nik = {p.nik_index: p for p in people}
    outcomes: dict[int, Outcome] = {}
    seen: set[tuple[str, date]] = set()
    for line in sorted(lines, key=lambda item: item.line_id):
        participant, reason = identify(line, by_kpj, by_nik)
        kpj = participant.kpj_number if participant is not None else ""
        if not reason:
            key = (kpj, line.month)
            if key in seen:
                reason = reasons.DUPLICATE_LINE
            seen.add(key)
        if not reason:
            reason = (
                month_verdict(line.month, reference=reference, registered=participant.registered, paid=participant.paid)
                or ""
            )
        if not reason and line.amount != expected_amount(participant, line):
            reason = reasons.AMOUNT_MISMATCH
        outcomes[line.line_id] = Outcome(line.line_id, reason, kpj)
    return outcomes
