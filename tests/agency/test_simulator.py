"""The built-in simulator through its service interface (run on SQLite and on PostgreSQL): registration with KPJ
numbers and the refusal of wage earners, payment batches judged set-based with every reason, idempotent
resubmission, and the membership going active → grace → ended → reactivated as months pass."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from lingkaran.core.errors import Conflict, Forbidden, InvalidInput
from lingkaran.core.models import AuditEvent
from lingkaran.protection.agency import services
from lingkaran.protection.agency.domain import reasons
from lingkaran.protection.agency.domain.kpj import is_simulator_kpj, simulator_kpj
from lingkaran.protection.agency.domain.membership import State, membership
from lingkaran.protection.agency.domain.months import add_months
from lingkaran.protection.agency.domain.payments import Line, Participant, judge_batch
from lingkaran.protection.agency.models import (
    LineOutcome,
    MembershipStatus,
    PaymentBatch,
    RegistrationOutcome,
    SimulatorPaidMonth,
    SimulatorParticipant,
)
from lingkaran.protection.agency.services import PaymentLineInput, RegistrationInput
from tests.agency.helpers import FULL, NOW, bill, month, nik_index, outcomes, participant, pay

pytestmark = pytest.mark.django_db

JAN_2027 = month(2027, 1)  # outside every PP 50/2025 window for sector "other": full price


# --- Registration ----------------------------------------------------------------------------------------------------


def _register(people, key, workers, **package):
    batch = services.registration_batch_open(key=key, today=date(2026, 11, 5), actor=people["operator"])
    services.registration_requests_add(
        batch_id=batch.pk,
        requests=[
            RegistrationInput(worker_id=w.pk, income_nominal=package.get("income", 1_000_000), sector="transport")
            for w in workers
        ],
    )
    return services.registration_batch_submit(batch_id=batch.pk, actor=people["operator"], now=NOW)


def test_registration_issues_kpj_numbers_and_refuses_wage_earners(people, verified_worker):
    (anna, _), (budi, budi_nik), (citra, _) = (verified_worker(serial) for serial in (1, 2, 3))
    services.simulator_wage_earner_add(actor=people["operator"], nik=budi_nik, employer="PT Pabrik")

    summary = _register(people, "reg-1", [anna, budi, citra])

    assert (summary.state, summary.requests, summary.registered, summary.rejected, summary.pending) == (
        "answered",
        3,
        2,
        1,
        0,
    )
    assert summary.reasons == {reasons.COVERED_AS_WAGE_EARNER: 1}
    results = {o.request.worker_id: o for o in RegistrationOutcome.objects.select_related("request")}
    assert results[anna.pk].kpj_number == simulator_kpj(1)
    assert results[citra.pk].kpj_number == simulator_kpj(2)
    assert (results[budi.pk].result, results[budi.pk].reason, results[budi.pk].kpj_number) == (
        "rejected",
        reasons.COVERED_AS_WAGE_EARNER,
        "",
    )
    anna_participant = SimulatorParticipant.objects.get(kpj_number=simulator_kpj(1))
    assert anna_participant.nik_index == anna.nik_index
    assert (anna_participant.registered_month, anna_participant.segment, anna_participant.sector) == (
        date(2026, 11, 1),
        "BPU",
        "transport",
    )
    assert AuditEvent.objects.filter(action="agency.registration_batch_submit", actor=people["operator"]).count() == 1


def test_registering_again_returns_the_same_kpj_and_refuses_a_duplicate_line(people, verified_worker):
    anna, _ = verified_worker(1)
    _register(people, "reg-1", [anna])
    batch = services.registration_batch_open(key="reg-2", today=date(2026, 12, 1), actor=people["operator"])
    services.registration_requests_add(
        batch_id=batch.pk,
        requests=[
            RegistrationInput(worker_id=anna.pk, income_nominal=1_000_000, line_id=1),
            RegistrationInput(worker_id=anna.pk, income_nominal=1_000_000, line_id=2),
        ],
    )
    summary = services.registration_batch_submit(batch_id=batch.pk, now=NOW)
    assert (summary.already_registered, summary.rejected) == (1, 1)
    answers = dict(RegistrationOutcome.objects.filter(batch=batch).values_list("request__line_id", "kpj_number"))
    assert answers == {1: simulator_kpj(1), 2: ""}
    assert SimulatorParticipant.objects.count() == 1
    # Submitting again changes nothing.
    assert services.registration_batch_submit(batch_id=batch.pk, now=NOW) == summary
    assert RegistrationOutcome.objects.filter(batch=batch).count() == 2


def test_only_verified_workers_can_be_registered(people, region_tree):
    from tests.registry.helpers import register

    nominated = register(people["operator"], source="operator", serial=9)
    batch = services.registration_batch_open(key="reg-x", actor=people["operator"])
    with pytest.raises(InvalidInput) as refused:
        services.registration_requests_add(
            batch_id=batch.pk, requests=[RegistrationInput(worker_id=nominated.pk, income_nominal=1_000_000)]
        )
    assert "worker" in refused.value.details["fields"]
    assert batch.requests.count() == 0


# --- Payments: every reason ------------------------------------------------------------------------------------------


def test_each_reason_of_a_payment_batch(db):
    anna = participant("anna", month(2026, 6))
    budi = participant("budi", month(2026, 6))
    pay("history-anna", month(2026, 10), [(1, anna, month(2026, 10), bill(month(2026, 10)))])
    pay("history-budi", month(2026, 7), [(1, budi, month(2026, 7), bill(month(2026, 7)))])
    paid_in = JAN_2027
    summary = pay(
        "jan",
        paid_in,
        [
            (10, anna, JAN_2027, FULL),  # anna last paid October: 3 unpaid months (Nov, Dec, Jan) → grace
            (11, anna, JAN_2027, FULL),  # the same month again
            (12, anna, month(2026, 11), 8400),  # an arrear, discounted month (sector other, Apr–Dec 2026)
            (13, anna, month(2026, 10), 8400),  # already paid
            (14, budi, month(2026, 12), 8400),  # budi last paid July: ended, arrears not payable
            (15, budi, JAN_2027, FULL),  # the current month reactivates
            (16, "12345678901", JAN_2027, FULL),
            (17, "", JAN_2027, FULL, nik_index("nobody")),
            (18, anna, JAN_2027, FULL, nik_index("budi")),  # the KPJ is anna's, the NIK budi's
            (19, anna, month(2028, 2), FULL),  # 13 months ahead
            (20, anna, month(2026, 9), 8400),  # 4 months back
            (21, budi, month(2026, 5), FULL),  # before budi registered
            (22, anna, month(2027, 3), 8400),  # the bill is 16.800 outside the window
            (23, "", month(2027, 2), FULL, nik_index("budi")),  # by NIK only
        ],
    )
    assert outcomes("jan") == {
        10: "",
        11: reasons.DUPLICATE_LINE,
        12: "",
        13: reasons.ALREADY_PAID,
        14: reasons.ARREARS_NOT_PAYABLE,
        15: "",
        16: reasons.UNKNOWN_PARTICIPANT,
        17: reasons.NOT_REGISTERED,
        18: reasons.KPJ_MISMATCH,
        19: reasons.MONTH_OUT_OF_WINDOW,
        20: reasons.MONTH_OUT_OF_WINDOW,
        21: reasons.MONTH_BEFORE_REGISTRATION,
        22: reasons.AMOUNT_MISMATCH,
        23: "",
    }
    assert (summary.lines, summary.accepted, summary.rejected, summary.pending) == (14, 4, 10, 0)
    assert summary.accepted_amount == FULL + 8400 + FULL + FULL
    assert summary.total_amount == sum(
        LineOutcome.objects.filter(batch_id=summary.batch_id).values_list("submitted__amount", flat=True)
    )
    by_line = {o.submitted.line_id: o for o in LineOutcome.objects.filter(batch_id=summary.batch_id)}
    assert by_line[23].kpj_number == budi  # matched by NIK, answered with the KPJ
    assert by_line[22].agency_amount == FULL  # what the simulator billed
    assert by_line[10].agency_reference.startswith("SIM-")
    assert by_line[16].agency_amount is None
    paid = set(SimulatorPaidMonth.objects.values_list("participant__kpj_number", "month"))
    assert paid == {
        (anna, month(2026, 10)),
        (budi, month(2026, 7)),
        (anna, JAN_2027),
        (anna, month(2026, 11)),
        (budi, JAN_2027),
        (budi, month(2027, 2)),
    }


def test_government_money_pays_full_price_inside_the_discount_window(db):
    anna = participant("anna", month(2026, 6), sector="transport")
    batch = services.payment_batch_open(key="pemda", today=month(2026, 11))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(line_id=1, kpj_number=anna, month=month(2026, 11), amount=16_800, government_funded=True),
            PaymentLineInput(line_id=2, kpj_number=anna, month=month(2026, 12), amount=8_400, government_funded=True),
            PaymentLineInput(line_id=3, kpj_number=anna, month=month(2027, 1), amount=8_400),
        ],
    )
    services.payment_batch_submit(batch_id=batch.pk, now=NOW)
    assert outcomes("pemda") == {1: "", 2: reasons.AMOUNT_MISMATCH, 3: ""}  # transport: discounted to March 2027


# --- Idempotency -----------------------------------------------------------------------------------------------------


def test_the_same_batch_submitted_twice_changes_nothing(db):
    anna = participant("anna", month(2026, 11))
    first = pay("nov", month(2026, 11), [(1, anna, month(2026, 11), 8400), (2, anna, month(2026, 12), 8400)])
    rows = list(LineOutcome.objects.order_by("submitted_id").values())
    paid = list(SimulatorPaidMonth.objects.order_by("id").values())
    audits = AuditEvent.objects.filter(action="agency.payment_batch_submit").count()

    again = services.payment_batch_submit(batch_id=first.batch_id, now=NOW)

    assert again == first
    assert list(LineOutcome.objects.order_by("submitted_id").values()) == rows
    assert list(SimulatorPaidMonth.objects.order_by("id").values()) == paid
    assert AuditEvent.objects.filter(action="agency.payment_batch_submit").count() == audits
    assert services.payment_batch_open(key="nov").pk == first.batch_id  # opening the key again: the same batch
    with pytest.raises(Conflict) as closed:
        services.payment_lines_add(batch_id=first.batch_id, lines=[PaymentLineInput(3, month(2027, 1), 16800, anna)])
    assert closed.value.code == "batch_not_open"


def test_the_same_months_in_a_new_batch_come_back_already_paid(db):
    anna = participant("anna", month(2026, 11))
    pay("nov-a", month(2026, 11), [(1, anna, month(2026, 11), 8400)])
    pay("nov-b", month(2026, 11), [(1, anna, month(2026, 11), 8400)])
    assert outcomes("nov-b") == {1: reasons.ALREADY_PAID}
    assert SimulatorPaidMonth.objects.count() == 1


def test_a_batch_with_malformed_lines_is_refused_whole(db):
    anna = participant("anna", month(2026, 11))
    batch = services.payment_batch_open(key="bad", today=month(2026, 11))
    services.payment_lines_add(
        batch_id=batch.pk,
        lines=[
            PaymentLineInput(1, date(2026, 11, 15), 8400, anna),
            PaymentLineInput(2, month(2026, 11), 8400, "1234"),
            PaymentLineInput(3, month(2026, 12), 8400, anna),
        ],
    )
    with pytest.raises(InvalidInput) as refused:
        services.payment_batch_submit(batch_id=batch.pk)
    assert refused.value.code == "batch_lines_invalid"
    assert refused.value.details == {"line_ids": [1, 2]}
    assert PaymentBatch.objects.get(pk=batch.pk).state == "open"
    assert not LineOutcome.objects.exists()
    empty = services.payment_batch_open(key="empty")
    with pytest.raises(InvalidInput) as nothing:
        services.payment_batch_submit(batch_id=empty.pk)
    assert nothing.value.code == "batch_empty"


@pytest.mark.parametrize("key", ["", "=cmd", "-x", "a b", "x" * 101])
def test_batch_keys_are_plain(db, key):
    with pytest.raises(InvalidInput):
        services.payment_batch_open(key=key)


@pytest.mark.parametrize("role", ["operator", "auditor", "verifier", "field_agent", "funder"])
def test_only_finance_submits_payment_batches(people, role):
    batch = services.payment_batch_open(key="b")
    with pytest.raises(Forbidden):
        services.payment_batch_open(key="b2", actor=people[role])
    with pytest.raises(Forbidden):
        services.payment_batch_submit(batch_id=batch.pk, actor=people[role])
    assert services.payment_batch_open(key="b3", actor=people["finance"]).created_by == people["finance"]


# --- The membership over time ----------------------------------------------------------------------------------------


def _state(kpj: str, when: date) -> str:
    services.status_refresh(month=when, now=NOW)
    return MembershipStatus.objects.get(kpj_number=kpj).state


def test_three_unpaid_months_grace_four_ended_a_new_payment_reactivates(db):
    anna = participant("anna", month(2027, 1))
    pay("jan", month(2027, 1), [(1, anna, month(2027, 1), FULL)])
    assert _state(anna, month(2027, 1)) == State.ACTIVE
    assert _state(anna, month(2027, 2)) == State.GRACE  # 1 unpaid month
    assert _state(anna, month(2027, 4)) == State.GRACE  # 3 unpaid months: Feb, Mar, Apr
    status = MembershipStatus.objects.get(kpj_number=anna)
    assert (status.last_paid_month, status.unpaid_months, status.as_of) == (month(2027, 1), 3, month(2027, 4))
    assert _state(anna, month(2027, 5)) == State.ENDED  # 4 unpaid months

    # In May the arrears are no longer payable; May itself reactivates.
    pay("may", month(2027, 5), [(1, anna, month(2027, 4), FULL), (2, anna, month(2027, 5), FULL)])
    assert outcomes("may") == {1: reasons.ARREARS_NOT_PAYABLE, 2: ""}
    assert _state(anna, month(2027, 5)) == State.REACTIVATED
    assert _state(anna, month(2027, 6)) == State.GRACE


def test_arrears_paid_in_grace_keep_one_membership(db):
    anna = participant("anna", month(2027, 1))
    pay("jan", month(2027, 1), [(1, anna, month(2027, 1), FULL)])
    pay(
        "apr",
        month(2027, 4),
        [(1, anna, month(2027, 2), FULL), (2, anna, month(2027, 3), FULL), (3, anna, month(2027, 4), FULL)],
    )
    assert outcomes("apr") == {1: "", 2: "", 3: ""}
    assert _state(anna, month(2027, 4)) == State.ACTIVE
    assert MembershipStatus.objects.get(kpj_number=anna).unpaid_months == 0


def test_status_of_never_paid_participants_and_those_paid_ahead(db):
    anna = participant("anna", month(2027, 1))
    budi = participant("budi", month(2027, 1))
    pay("ahead", month(2027, 1), [(1, budi, month(2027, 2), FULL)])
    assert _state(anna, month(2027, 1)) == State.NOT_STARTED
    assert MembershipStatus.objects.get(kpj_number=budi).state == State.NOT_STARTED
    assert _state(budi, month(2027, 2)) == State.ACTIVE


def test_status_refresh_needs_an_operator(people):
    with pytest.raises(Forbidden):
        services.status_refresh(actor=people["finance"])
    assert services.status_refresh(actor=people["operator"]).participants == 0


# --- The SQL agrees with the pure rules ------------------------------------------------------------------------------

REFERENCE = month(2027, 6)
KPJ_CHOICES = ["", "12345678901", simulator_kpj(1), simulator_kpj(2), simulator_kpj(3)]


class SimulatorAgreesWithTheRules(TestCase):
    """Random histories and random batches: the simulator's set-based answer is the pure model's answer."""

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        histories=st.lists(st.sets(st.integers(min_value=-14, max_value=4), max_size=8), min_size=3, max_size=3),
        registered=st.lists(st.integers(min_value=-16, max_value=0), min_size=3, max_size=3),
        lines=st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=4),  # KPJ choice
                st.sampled_from(["", "p0", "p1", "p2", "x"]),  # NIK choice
                st.integers(min_value=-6, max_value=14),  # month offset
                st.sampled_from([FULL, 8400]),
            ),
            max_size=14,
        ),
    )
    def test_outcomes_and_status(self, histories, registered, lines):
        people = []
        for number, (history, registered_offset) in enumerate(zip(histories, registered, strict=True)):
            start = add_months(REFERENCE, min([registered_offset, *history]))
            kpj = participant(f"p{number}", start)
            paid = {add_months(REFERENCE, offset) for offset in history}
            if paid:
                self._seed_paid(kpj, start, sorted(paid))
            people.append(Participant(kpj, nik_index(f"p{number}"), start, frozenset(paid)))

        batch_lines = []
        for line_id, (kpj_choice, nik_choice, offset, amount) in enumerate(lines, start=1):
            kpj = KPJ_CHOICES[kpj_choice]
            nik = nik_index(nik_choice) if nik_choice else ""
            if not kpj and not nik:
                nik = nik_index("x")
            batch_lines.append(Line(line_id, add_months(REFERENCE, offset), amount, kpj, nik))
        if not batch_lines:
            return
        pay("random", REFERENCE, [(x.line_id, x.kpj_number, x.month, x.amount, x.nik_index) for x in batch_lines])

        expected = judge_batch(
            batch_lines,
            people,
            reference=REFERENCE,
            expected_amount=lambda p, line: bill(line.month),
        )
        assert outcomes("random") == {line_id: outcome.reason for line_id, outcome in expected.items()}

        paid_now: dict[str, set] = {p.kpj_number: set(p.paid) for p in people}
        for line in batch_lines:
            if expected[line.line_id].accepted:
                paid_now[expected[line.line_id].kpj_number].add(line.month)
        for check in (REFERENCE, add_months(REFERENCE, 2), add_months(REFERENCE, 5)):
            services.status_refresh(month=check, now=NOW)
            for p in people:
                known = MembershipStatus.objects.get(kpj_number=p.kpj_number)
                rule = membership(paid_now[p.kpj_number], check)
                assert (known.state, known.last_paid_month, known.unpaid_months) == (
                    rule.state,
                    rule.last_paid,
                    rule.unpaid_months,
                )

    def _seed_paid(self, kpj: str, start: date, months: list[date]) -> None:
        """Paid months of the history, each paid in its own month (so every one is accepted)."""
        for offset, paid_month in enumerate(months):
            summary = pay(f"seed-{kpj}-{offset}", paid_month, [(1, kpj, paid_month, bill(paid_month))])
            assert summary.accepted == 1, (kpj, paid_month, summary.reasons)


def test_kpj_numbers_of_the_simulator_follow_the_sequence(db):
    numbers = [participant(f"p{i}", month(2027, 1)) for i in range(5)]
    assert numbers == [simulator_kpj(i) for i in range(1, 6)]
    assert all(is_simulator_kpj(n) for n in numbers)
    with pytest.raises(Conflict) as twice:
        participant("p0", month(2027, 1))
    assert twice.value.code == "already_registered"
