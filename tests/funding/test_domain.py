"""Pure money rules: tables of cases and Hypothesis properties. No database."""

from __future__ import annotations

import hashlib
import importlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran.funding.domain import amounts, intents, notifications, recurring, references, refunds
from lingkaran.funding.domain.campaigns import CampaignState, can_move, progress_percent
from lingkaran.funding.domain.intents import Decision, PaymentState, decide

S = PaymentState


# --- The payment-intent state machine -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "incoming", "decision"),
    [
        (S.CREATED, S.PENDING, Decision.APPLY),
        (S.CREATED, S.SETTLED, Decision.APPLY),
        (S.PENDING, S.SETTLED, Decision.APPLY),
        (S.PENDING, S.EXPIRED, Decision.APPLY),
        (S.PENDING, S.CANCELLED, Decision.APPLY),
        (S.PENDING, S.FAILED, Decision.APPLY),
        (S.SETTLED, S.PARTIALLY_REFUNDED, Decision.APPLY),
        (S.SETTLED, S.REFUNDED, Decision.APPLY),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, Decision.APPLY),
        (S.SETTLED, S.SETTLED, Decision.SAME),
        (S.PENDING, S.PENDING, Decision.SAME),
        (S.SETTLED, S.PENDING, Decision.IGNORE),  # a stale pending after settlement
        (S.SETTLED, S.CREATED, Decision.IGNORE),
        (S.EXPIRED, S.SETTLED, Decision.IGNORE),  # sideways: money after expiry goes to review, not to settled
        (S.EXPIRED, S.PENDING, Decision.IGNORE),
        (S.REFUNDED, S.SETTLED, Decision.IGNORE),
        (S.REFUNDED, S.PARTIALLY_REFUNDED, Decision.IGNORE),
        (S.CANCELLED, S.FAILED, Decision.IGNORE),
    ],
)
def test_decide(current, incoming, decision):
    assert decide(current, incoming) == decision


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_an_applied_move_never_goes_back(current, incoming):
    if decide(current, incoming) == Decision.APPLY:
        assert intents.RANK[incoming] > intents.RANK[current]
        assert intents.can_move(current, incoming)
    if intents.is_stale(current, incoming):
        assert decide(current, incoming) == Decision.IGNORE


@given(st.lists(st.sampled_from(list(S)), max_size=30))
def test_any_sequence_of_events_only_climbs(events):
    state, ranks = S.CREATED, [0]
    for incoming in events:
        if decide(state, incoming) == Decision.APPLY:
            state = incoming
        ranks.append(intents.RANK[state])
    assert ranks == sorted(ranks)


def test_the_database_trigger_allows_exactly_the_moves_of_the_pure_rule():
    for name in ("0003_payment_intent_forward_only", "0004_review_resolution"):
        migration = importlib.import_module(f"lingkaran.funding.migrations.{name}")
        assert {(a, b) for a, b in migration.ALLOWED} == {(str(a), str(b)) for a, b in intents.ALLOWED}
    migration = importlib.import_module("lingkaran.funding.migrations.0004_review_resolution")
    assert {(a, b) for a, b in migration.ALLOWED_IN_REVIEW} == {(str(a), str(b)) for a, b in intents.ALLOWED_IN_REVIEW}


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ("created", ["accept", "return", "close"]),
        ("pending", ["accept", "return", "close"]),
        ("expired", ["accept", "return", "close"]),
        ("cancelled", ["accept", "return", "close"]),
        ("failed", ["accept", "return", "close"]),
        ("settled", ["record_refund", "close"]),
        ("partially_refunded", ["record_refund", "close"]),
        ("refunded", ["record_refund", "close"]),
    ],
)
def test_review_offers_what_the_payments_state_allows(state, actions):
    from lingkaran.funding.domain import review

    assert [str(a) for a in review.actions_for(state)] == actions
    assert review.can_settle_in_review(state) == (review.ReviewAction.ACCEPT in review.actions_for(state))


@pytest.mark.parametrize(
    ("name", "masked"),
    [("Siti Aminah", "S*** A*****"), ("  Budi   ", "B***"), ("", ""), ("A", "A")],
)
def test_donor_names_are_masked_to_their_initials(name, masked):
    from lingkaran.funding.domain.donors import mask_name

    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [("siti@contoh.id", "s***@contoh.id"), ("ab@x.id", "a***@x.id"), ("tanpa-at", "t*******"), ("", "")],
)
def test_donor_emails_keep_only_their_first_letter_and_domain(email, masked):
    from lingkaran.funding.domain.donors import mask_email

    assert mask_email(email) == masked


def test_emails_are_indexed_in_one_form():
    from lingkaran.funding.domain.donors import normalise_email, normalise_name

    assert normalise_email("  Siti@Contoh.ID ") == "siti@contoh.id"
    assert normalise_name(" Siti   AMINAH ") == "siti aminah"


def test_state_choices_match_the_domain_states():
    from lingkaran.funding.models import Campaign, PaymentStateChoices

    assert set(PaymentStateChoices.values) == {s.value for s in S}
    assert set(Campaign.State.values) == {s.value for s in CampaignState}


@pytest.mark.parametrize(
    ("settled", "refunded", "state"),
    [(50_400, 0, S.SETTLED), (50_400, 400, S.PARTIALLY_REFUNDED), (50_400, 50_400, S.REFUNDED)],
)
def test_state_after_refund(settled, refunded, state):
    assert intents.after_refund(settled, refunded) == state


# --- Notifications: signatures, status mapping, amounts -------------------------------------------------------------


def test_midtrans_signature_is_sha512_of_the_four_strings():
    expected = hashlib.sha512(b"LK-261122-0A1B2C3D4E20050400.00SB-Mid-server-xyz").hexdigest()
    assert notifications.midtrans_signature("LK-261122-0A1B2C3D4E", "200", "50400.00", "SB-Mid-server-xyz") == expected
    # Over the exact strings: "50400" is another signature than "50400.00".
    assert notifications.midtrans_signature("LK-1", "200", "50400", "k") != notifications.midtrans_signature(
        "LK-1", "200", "50400.00", "k"
    )


@pytest.mark.parametrize(
    ("received", "expected", "match"),
    [("abc", "abc", True), ("abd", "abc", False), ("", "abc", False), (None, "abc", False), ("abc", "", False)],
)
def test_secrets_match(received, expected, match):
    assert notifications.secrets_match(received, expected) is match


@pytest.mark.parametrize(
    ("status", "fraud", "state"),
    [
        ("settlement", "accept", S.SETTLED),
        ("capture", "accept", S.SETTLED),
        ("capture", None, S.SETTLED),
        ("capture", "challenge", S.PENDING),
        ("capture", "deny", S.FAILED),
        ("pending", "accept", S.PENDING),
        ("deny", "deny", S.FAILED),
        ("failure", None, S.FAILED),
        ("cancel", "accept", S.CANCELLED),
        ("expire", None, S.EXPIRED),
        ("refund", "accept", S.REFUNDED),
        ("partial_refund", "accept", S.PARTIALLY_REFUNDED),
        ("something_new", None, None),
    ],
)
def test_midtrans_status_mapping(status, fraud, state):
    assert notifications.midtrans_state(status, fraud) == state


@pytest.mark.parametrize(
    ("status", "state"),
    [("PAID", S.SETTLED), ("SETTLED", S.SETTLED), ("EXPIRED", S.EXPIRED), ("PENDING", S.PENDING), ("X", None)],
)
def test_xendit_status_mapping(status, state):
    assert notifications.xendit_state(status) == state


@pytest.mark.parametrize(
    ("value", "rupiah"),
    [
        ("50400.00", 50400),
        ("50400", 50400),
        ("50400.0", 50400),
        (50400, 50400),
        (50400.0, 50400),
        (Decimal("50400.00"), 50400),
        ("50400.50", None),
        ("50.400", None),  # never a thousands separator in a gateway amount: 50.4 is not whole
        ("-50400.00", None),
        ("abc", None),
        ("", None),
        (True, None),
        (None, None),
        (50400.5, None),
    ],
)
def test_whole_rupiah(value, rupiah):
    assert notifications.whole_rupiah(value) == rupiah


@given(st.integers(min_value=0, max_value=10**14))
def test_gross_amount_text_reads_back(amount):
    assert notifications.whole_rupiah(notifications.gross_amount_text(amount)) == amount


# --- Amounts in protection bought -----------------------------------------------------------------------------------


def test_fifty_thousand_four_hundred_is_six_months_for_one_worker():
    suggestions = amounts.suggest_amounts(8_400)
    assert suggestions[0] == (50_400, 6, 1)
    assert suggestions[0].amount == 50_400
    assert (100_800, 12, 1) in suggestions
    assert all(s.amount == 8_400 * s.months * s.workers for s in suggestions)


@pytest.mark.parametrize("bad", [0, -1, 8400.0, "8400", True])
def test_tickets_are_positive_whole_rupiah(bad):
    with pytest.raises(ValueError, match="ticket"):
        amounts.suggest_amounts(bad)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_worker_months_never_cost_more_than_the_amount(amount, ticket):
    months = amounts.worker_months(amount, ticket)
    assert months * ticket <= amount < (months + 1) * ticket


# --- References ------------------------------------------------------------------------------------------------------


def test_invoice_references_carry_a_luhn_check_digit_and_are_found_in_bank_text():
    reference = references.invoice_reference("260000123")
    assert reference.startswith("LKI260000123")
    assert len(reference) == 13
    text = f"TRF DARI PEMDA PPU {reference[:5]}-{reference[5:]} APBD 2026"
    assert references.find_invoice_references(text) == [reference]
    wrong = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert references.find_invoice_references(f"berita {wrong}") == []


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_every_invoice_reference_is_found_again(digits):
    reference = references.invoice_reference(digits)
    assert references.find_invoice_references(reference.lower()) == [reference]


def test_order_ids_survive_a_bank_description():
    order_id = references.order_id(date(2026, 11, 22), "0A1B2C3D4E")
    assert order_id == "LK-261122-0A1B2C3D4E"
    found = references.find_order_ids("setoran lk261122 0a1b2c3d4e via atm")
    assert [references.order_id_from_normalized(f) for f in found] == [order_id]


def test_receipt_numbers():
    assert references.receipt_number(2026, 123) == "LK-2026-000123"
    with pytest.raises(ValueError, match="start at 1"):
        references.receipt_number(2026, 0)


# --- Monthly pledges -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "day", "next_due"),
    [
        (date(2026, 11, 22), 5, date(2026, 12, 5)),
        (date(2026, 11, 4), 5, date(2026, 11, 5)),
        (date(2026, 11, 5), 5, date(2026, 12, 5)),
        (date(2026, 12, 20), 28, date(2026, 12, 28)),
        (date(2026, 12, 28), 28, date(2027, 1, 28)),
    ],
)
def test_next_due_after(today, day, next_due):
    assert recurring.next_due_after(today, day) == next_due


@pytest.mark.parametrize("day", [0, 29, 31, -1])
def test_pledge_days_are_one_to_twenty_eight(day):
    with pytest.raises(ValueError, match="day of month"):
        recurring.add_month(date(2026, 1, 31), day)


# --- Refund rules ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settled", "refunded", "in_progress", "pool", "can"),
    [
        (50_400, 0, 0, 1_000_000, 50_400),
        (50_400, 10_000, 0, 1_000_000, 40_400),
        (50_400, 10_000, 5_000, 1_000_000, 35_400),
        (50_400, 0, 0, 20_000, 20_000),  # the rest is committed to workers
        (50_400, 0, 0, 0, 0),
        (50_400, 50_400, 0, 100, 0),
    ],
)
def test_refundable(settled, refunded, in_progress, pool, can):
    assert refunds.refundable(settled=settled, refunded=refunded, in_progress=in_progress, pool_available=pool) == can


def test_second_approval_above_the_threshold_only():
    assert not refunds.needs_second_approval(1_000_000, 1_000_000)
    assert refunds.needs_second_approval(1_000_001, 1_000_000)


# --- Campaigns ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("draft", "pending_approval", True),
        ("pending_approval", "published", True),
        ("pending_approval", "draft", True),
        ("published", "closed", True),
        ("draft", "published", False),  # never published without an approval step
        ("closed", "published", False),
        ("published", "draft", False),
    ],
)
def test_campaign_moves(current, target, allowed):
    assert can_move(current, target) is allowed


@pytest.mark.parametrize(("received", "goal", "percent"), [(0, 100, 0), (50, 100, 50), (150, 100, 100), (5, 0, 0)])
def test_progress_percent(received, goal, percent):
    assert progress_percent(received, goal) == percent


@pytest.mark.parametrize(
    ("text", "gateway"),
    [
        ("TRSF E-BANKING CR 2211/FTSCY PT MIDTRANS", "midtrans"),
        ("SKN PT. SINAR DIGITAL TERDEPAN SETTLEMENT", "xendit"),
        ("xendit payout 22/11", "xendit"),
        ("Lingkaran-Sandbox payout", "sandbox"),
        ("MIDTRANS XENDIT", None),  # names two: finance decides
        ("TRF TANPA BERITA", None),
    ],
)
def test_a_payout_line_is_known_by_the_gateways_name(text, gateway):
    from lingkaran.funding.domain.payouts import payout_gateway

    assert payout_gateway(text) == gateway


@pytest.mark.parametrize(
    ("amount", "fee", "held", "fits"),
    [(100, 0, 100, True), (100, 1, 100, False), (99, 1, 100, True), (0, 0, 100, False), (10, -1, 100, False)],
)
def test_a_payout_fits_what_is_in_clearing(amount, fee, held, fits):
    from lingkaran.funding.domain.payouts import payout_fits

    assert payout_fits(amount=amount, fee=fee, in_clearing=held) is fits
