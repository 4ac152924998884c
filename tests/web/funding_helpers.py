"""Fixtures and helpers for the money pages' tests (tests/web/test_funding_*.py, tests/api/test_funding_api.py).

Import the fixtures a test module uses (pytest registers imported fixtures, autouse ones included). Donations go
through the real flow: the donate page or ``donation_start``, then the sandbox gateway's hosted page, whose signed
notifications are delivered to ``/webhooks/sandbox`` in-process (their on-commit work is run at each step).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from lingkaran.funding import services
from lingkaran.funding.models import FunderMembership, PaymentIntent
from tests.factories import FunderFactory, UserFactory


@pytest.fixture(autouse=True)
def _predictable_sandbox(settings):
    """No duplicate or out-of-order deliveries unless a test asks for them."""
    settings.LINGKARAN_SANDBOX_DUPLICATE_PERCENT = 0
    settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = 0


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(role="operator", username="rina.operator", full_name="Rina Operator"),
        "finance": UserFactory(role="finance", username="budi.keuangan", full_name="Budi Keuangan"),
        "finance2": UserFactory(role="finance", username="sari.keuangan", full_name="Sari Keuangan"),
        "auditor": UserFactory(role="auditor", username="hendra.audit", full_name="Hendra Audit"),
        "donor": UserFactory(role="worker", username="nur.donatur", full_name="Nur Aisyah", email="nur@contoh.id"),
        "other_donor": UserFactory(role="worker", username="rudi.donatur", full_name="Rudi Hartanto"),
    }


@pytest.fixture
def funders(db):
    """Two company funders, each with a CSR user: ``{"own": (funder, user), "other": (funder, user)}``."""
    result = {}
    for key, name in (("own", "Bank Semen Peduli"), ("other", "PT Rahasia Lain")):
        funder = FunderFactory(name=name)
        user = UserFactory(role="funder", username=f"csr.{key}", full_name=f"CSR {name}")
        FunderMembership.objects.create(user=user, funder=funder, team="reporting")
        result[key] = (funder, user)
    return result


def make_campaign(author, *, title="Nelayan Penajam Terlindungi", approver=None, publish=True, **extra):
    campaign = services.campaign_create(
        actor=author,
        title=title,
        story="Enam bulan perlindungan untuk nelayan kecil di Penajam.",
        goal_workers=100,
        goal_months=6,
        goal_amount=5_040_000,
        end_on=timezone.localdate() + timedelta(days=60),
        target_regions=["64.09"],
        target_occupations=["nelayan"],
        **extra,
    )
    if publish:
        services.campaign_submit(actor=author, campaign=campaign)
        campaign = services.campaign_approve(actor=approver or author, campaign=campaign)
    return campaign


@pytest.fixture
def campaign(people):
    return make_campaign(people["operator"])


def start(campaign, amount=50_400, **kwargs) -> PaymentIntent:
    kwargs.setdefault("donor_name", "Siti Aminah")
    kwargs.setdefault("donor_email", "siti@contoh.id")
    return services.donation_start(target=services.DonationTarget.for_campaign(campaign), amount=amount, **kwargs)


@pytest.fixture
def pay(django_capture_on_commit_callbacks):
    """``pay(intent, channel="bca", action="pay")``: a payer's browser on the sandbox's hosted page."""

    def run(intent: PaymentIntent, *, channel: str = "bca", action: str = "pay") -> PaymentIntent:
        browser = Client()
        path = urlsplit(intent.payment_url).path
        assert browser.get(path).status_code == 200
        for data in ({"channel": channel}, {"action": action}):
            with django_capture_on_commit_callbacks(execute=True):
                response = browser.post(path, data)
            assert response.status_code == 302, response.content[:300]
        intent.refresh_from_db()
        return intent

    return run


@pytest.fixture
def settled(campaign, pay):
    """``settled(amount=50_400, **donation_start kwargs)`` -> a paid PaymentIntent for ``campaign`` (or ``target``)."""

    def run(amount: int = 50_400, target=None, **kwargs) -> PaymentIntent:
        intent = pay(start(target or campaign, amount=amount, **kwargs))
        assert intent.state == "settled", (intent.state, intent.review_reason)
        return intent

    return run


def donate_form(amount_choice="50400", **fields) -> dict:
    """The donate form's POST data (prefix ``donate``)."""
    data = {
        "amount_choice": amount_choice,
        "other_amount": "",
        "donor_name": "Siti Aminah",
        "donor_email": "siti@contoh.id",
        "purpose_note": "",
        "frequency": "once",
    }
    data.update(fields)
    if data.pop("is_anonymous", False):
        data["is_anonymous"] = "on"
    return {f"donate-{key}": value for key, value in data.items()}
