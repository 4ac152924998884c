"""The review queue, resolved through its pages: a finance officer accepts what the gateway collected (posted once,
with a receipt), returns it to the payer through the gateway (nothing posted; the gateway's refund notification
does not bring it back), records a refund made at the gateway directly, or closes it with a note. Every decision
needs a note and an explicit confirmation, is audited, keeps the ledger balanced, and posts nothing the second
time it is clicked; readers see the page but cannot act."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from lingkaran.core.models import AuditEvent
from lingkaran.funding import sandbox_server
from lingkaran.funding.models import Donation, PaymentIntent, Receipt, Refund, ReviewResolution, SandboxPayment
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.web.funding_helpers import start

pytestmark = pytest.mark.django_db


def pool(campaign) -> str:
    return f"liability:pool:campaign:{campaign.pk}"


@pytest.fixture
def mismatch(campaign, pay):
    """A payment whose gateway collected Rp 40.000 for a Rp 50.400 donation: held for review, nothing posted."""
    intent = start(campaign, 50_400)
    SandboxPayment.objects.filter(order_id=intent.order_id).update(amount=40_000)
    intent = pay(intent, channel="qris")
    assert intent.in_review
    assert intent.state == "pending"
    assert JournalEntry.objects.count() == 0
    return intent


@pytest.fixture
def paid_after_expiry(campaign, django_capture_on_commit_callbacks):
    """A payment that expired here (the payer took too long) and was then paid at the gateway anyway."""
    from django.test import Client

    from tests.funding.conftest import hosted_page_path

    intent = start(campaign, 50_400)
    browser, path = Client(), hosted_page_path(intent)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(path, {"channel": "qris"})
    PaymentIntent.objects.filter(pk=intent.pk).update(state="expired")
    Donation.objects.filter(pk=intent.donation_id).update(state="expired")
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(path, {"action": "pay"})
    intent.refresh_from_db()
    assert intent.in_review
    assert intent.state == "expired"
    return intent


def decide(client, intent, action, *, amount="", note="Dicek di dasbor gateway", confirm=True, capture=None):
    data = {f"{action}-note": note}
    if amount:
        data[f"{action}-amount"] = amount
    if confirm:
        data[f"{action}-confirm"] = "on"
    if capture is None:
        return client.post(f"/money/review/{intent.pk}/{action}/", data)
    with capture(execute=True):
        return client.post(f"/money/review/{intent.pk}/{action}/", data)


def test_finance_accepts_the_collected_amount_once(client, login, people, campaign, mismatch):
    login(people["finance"])
    page = client.get(f"/money/review/{mismatch.pk}/")
    assert page.status_code == 200
    assert page.context["reported"] == 40_000
    assert set(page.context["review_forms"]) == {"accept", "return", "close"}
    assert "Rp 40.000" in page.content.decode()

    response = decide(client, mismatch, "accept", amount="40.000")
    assert response.status_code == 302
    assert response["Location"] == "/money/review/"
    mismatch.refresh_from_db()
    donation = Donation.objects.get(pk=mismatch.donation_id)
    assert (mismatch.state, mismatch.amount, mismatch.settled_amount, mismatch.in_review) == (
        "settled",
        40_000,
        40_000,
        False,
    )
    assert (donation.state, donation.amount) == ("settled", 40_000)
    assert Receipt.objects.get(donation=donation).amount == 40_000
    assert ledger.balance_of(pool(campaign)) == 40_000
    assert ledger.balance_of("asset:clearing:sandbox") == 40_000
    assert ledger.verify().clean
    resolution = ReviewResolution.objects.get()
    assert (resolution.action, resolution.expected_amount, resolution.amount, resolution.decided_by) == (
        "accept",
        50_400,
        40_000,
        people["finance"],
    )
    event = AuditEvent.objects.get(action="funding.review_accept")
    assert (event.details["expected"], event.details["accepted"]) == (50_400, 40_000)

    # A second click (a double submit) finds it resolved: nothing posts twice.
    again = decide(client, mismatch, "accept", amount="40.000")
    assert again.status_code == 302
    assert JournalEntry.objects.count() == 1
    assert ReviewResolution.objects.count() == 1
    assert list(client.get("/money/review/").context["page"]) == []
    # The resolved payment keeps its history page, without decisions.
    history = client.get(f"/money/review/{mismatch.pk}/")
    assert history.status_code == 200
    assert history.context["review_forms"] == {}
    assert [r.action for r in history.context["resolutions"]] == ["accept"]


def test_a_decision_needs_a_note_a_confirmation_and_the_gateways_amount(client, login, people, mismatch):
    login(people["finance"])
    response = decide(client, mismatch, "accept", amount="40.000", confirm=False)
    assert response.status_code == 422
    assert response.context["review_forms"]["accept"].errors["confirm"]
    response = decide(client, mismatch, "accept", amount="40.000", note="")
    assert response.status_code == 422
    assert response.context["review_forms"]["accept"].errors["note"]
    # The officer confirms an amount the gateway does not report: refused with both amounts, nothing moves.
    response = decide(client, mismatch, "accept", amount="50.400")
    assert response.status_code == 409
    errors = " ".join(response.context["review_forms"]["accept"].non_field_errors())
    assert "Rp 40.000" in errors
    assert "Rp 50.400" in errors
    mismatch.refresh_from_db()
    assert (mismatch.in_review, mismatch.state, mismatch.amount) == (True, "pending", 50_400)
    assert JournalEntry.objects.count() == 0
    assert ReviewResolution.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="funding.review_").exists()


def test_a_payment_after_expiry_is_accepted_through_review(client, login, people, campaign, paid_after_expiry):
    login(people["finance"])
    response = decide(client, paid_after_expiry, "accept", amount="50.400")
    assert response.status_code == 302
    paid_after_expiry.refresh_from_db()
    assert (paid_after_expiry.state, paid_after_expiry.settled_amount) == ("settled", 50_400)
    assert ledger.balance_of(pool(campaign)) == 50_400
    assert Receipt.objects.filter(donation_id=paid_after_expiry.donation_id).exists()
    assert ledger.verify().clean


def test_finance_returns_a_payment_to_the_payer_through_the_gateway(
    client, login, people, paid_after_expiry, django_capture_on_commit_callbacks
):
    login(people["finance"])
    response = decide(client, paid_after_expiry, "return", amount="50.400", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    paid_after_expiry.refresh_from_db()
    assert (paid_after_expiry.state, paid_after_expiry.returned_amount, paid_after_expiry.in_review) == (
        "expired",
        50_400,
        False,
    )
    resolution = ReviewResolution.objects.get()
    assert resolution.action == "return"
    assert resolution.gateway_state == "done"
    assert resolution.gateway_reference  # the gateway's refund id
    gateway_side = SandboxPayment.objects.get(order_id=paid_after_expiry.order_id)
    assert (gateway_side.status, gateway_side.refunded_amount) == ("refund", 50_400)
    # The gateway's refund notification arrived and changed nothing: not back in the queue, nothing posted.
    paid_after_expiry.refresh_from_db()
    assert not paid_after_expiry.in_review
    assert JournalEntry.objects.count() == 0
    assert AuditEvent.objects.filter(action="funding.review_return").count() == 1


def test_returning_an_open_payment_cancels_its_donation(
    client, login, people, mismatch, django_capture_on_commit_callbacks
):
    login(people["finance"])
    response = decide(client, mismatch, "return", amount="40.000", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    mismatch.refresh_from_db()
    assert (mismatch.state, mismatch.returned_amount, mismatch.in_review) == ("cancelled", 40_000, False)
    assert Donation.objects.get(pk=mismatch.donation_id).state == "cancelled"
    assert SandboxPayment.objects.get(order_id=mismatch.order_id).refunded_amount == 40_000
    assert JournalEntry.objects.count() == 0


def test_a_refund_made_at_the_gateway_directly_is_recorded(
    client, login, people, campaign, pay, django_capture_on_commit_callbacks
):
    intent = pay(start(campaign, 50_400), channel="dana")
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_server.refund(order_id=intent.order_id, refund_key="dasbor-1", amount=10_000, reason="di dasbor")
    intent.refresh_from_db()
    assert intent.in_review
    assert intent.state == "settled"
    login(people["finance"])
    page = client.get(f"/money/review/{intent.pk}/")
    assert set(page.context["review_forms"]) == {"record_refund", "close"}
    assert page.context["reported"] == 10_000
    response = decide(client, intent, "record_refund", amount="10.000")
    assert response.status_code == 302
    intent.refresh_from_db()
    assert (intent.state, intent.refunded_amount, intent.in_review) == ("partially_refunded", 10_000, False)
    refund = Refund.objects.get()
    assert (refund.state, refund.gateway_state, refund.amount) == ("executed", "done", 10_000)
    assert ledger.balance_of(pool(campaign)) == 40_400
    assert ledger.verify().clean
    assert decide(client, intent, "record_refund", amount="10.000").status_code == 302
    assert Refund.objects.count() == 1


def test_a_return_the_gateway_cannot_make_is_left_to_finance(
    client, login, people, campaign, pay, django_capture_on_commit_callbacks
):
    intent = start(campaign, 50_400)
    SandboxPayment.objects.filter(order_id=intent.order_id).update(amount=60_000)
    intent = pay(intent)  # into a BCA virtual account, which the gateway cannot refund
    login(people["finance"])
    response = decide(client, intent, "return", amount="60.000", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    resolution = ReviewResolution.objects.get()
    assert (resolution.gateway_state, resolution.gateway_reference) == ("manual", "")
    assert resolution.gateway_error
    page = client.get(f"/money/review/{intent.pk}/")
    assert resolution.get_gateway_state_display() in page.content.decode()
    assert SandboxPayment.objects.get(order_id=intent.order_id).refunded_amount == 0


def test_closing_with_a_note_posts_nothing(client, login, people, mismatch):
    login(people["finance"])
    response = decide(client, mismatch, "close", note="Selisih dikembalikan lewat transfer manual")
    assert response.status_code == 302
    mismatch.refresh_from_db()
    assert (mismatch.in_review, mismatch.state) == (False, "pending")
    assert JournalEntry.objects.count() == 0
    event = AuditEvent.objects.get(action="funding.review_close")
    assert event.details["note"] == "Selisih dikembalikan lewat transfer manual"
    assert ReviewResolution.objects.get().action == "close"


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_readers_see_the_review_but_cannot_decide(role, client, login, make_user, mismatch):
    login(make_user(role))
    page = client.get(f"/money/review/{mismatch.pk}/")
    assert page.status_code == 200
    assert page.context["can_manage"] is False
    for action, amount in (("accept", "40.000"), ("return", "40.000"), ("close", "")):
        assert decide(client, mismatch, action, amount=amount).status_code == 403
    mismatch.refresh_from_db()
    assert mismatch.in_review
    assert JournalEntry.objects.count() == 0
    assert ReviewResolution.objects.count() == 0


def test_other_roles_and_other_payments_are_refused(client, login, make_user, people, mismatch, settled):
    login(make_user("verifier"))
    assert client.get(f"/money/review/{mismatch.pk}/").status_code == 403
    client.logout()
    login(people["finance"])
    paid = settled(50_400)
    assert client.get(f"/money/review/{paid.pk}/").status_code == 404  # never in review
    assert decide(client, paid, "close").status_code == 404
    assert client.post(f"/money/review/{mismatch.pk}/refund_all/", {}).status_code == 404


def test_the_english_page_formats_the_refusal_the_english_way(client, login, people, mismatch):
    login(people["finance"], language="en")
    response = decide(client, mismatch, "accept", amount="50,400")
    assert response.status_code == 409
    with translation.override("en"):
        expected = gettext(
            "The gateway reports %(reported)s collected, not %(amount)s. Check the amount and confirm again."
        ) % {"reported": "Rp 40,000", "amount": "Rp 50,400"}
    assert expected in " ".join(response.context["review_forms"]["accept"].non_field_errors())
