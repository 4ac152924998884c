"""Fixtures for the money tests: people with each role, a published campaign, and helpers that drive the built-in
sandbox gateway through its hosted page, as a payer's browser would."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from lingkaran.funding import services
from lingkaran.funding.models import PaymentIntent, SandboxDelivery, SandboxPayment
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _predictable_sandbox(settings):
    """The sandbox's duplicates and out-of-order deliveries are off unless a test turns them on."""
    settings.LINGKARAN_SANDBOX_DUPLICATE_PERCENT = 0
    settings.LINGKARAN_SANDBOX_OUT_OF_ORDER_PERCENT = 0


class LogLines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def funding_log():
    """The ``lingkaran.funding`` log lines, INFO and above (that logger does not propagate to the root logger, where
    pytest's caplog listens)."""
    # The in-process sandbox calls import the WSGI application, whose django.setup() configures logging again and
    # so drops handlers added to child loggers; import it before adding ours.
    import lingkaran.config.wsgi  # noqa: F401

    logger = logging.getLogger("lingkaran.funding")
    lines, previous = LogLines(), logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(previous)


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(role="operator", username="operator1"),
        "finance": UserFactory(role="finance", username="finance1"),
        "finance2": UserFactory(role="finance", username="finance2"),
        "donor": UserFactory(role="worker", username="donor1", email="donor1@example.id"),
        "auditor": UserFactory(role="auditor", username="auditor1"),
    }


def make_campaign(operator, *, title="Ojek Penajam terlindungi", goal_amount=5_040_000, approve=True, **extra):
    campaign = services.campaign_create(
        actor=operator,
        title=title,
        story="Enam bulan perlindungan untuk pengemudi ojek pangkalan di Penajam.",
        goal_workers=100,
        goal_months=6,
        goal_amount=goal_amount,
        end_on=timezone.localdate() + timedelta(days=90),
        target_regions=["64.09"],
        target_occupations=["ojek_pangkalan"],
        **extra,
    )
    if approve:
        services.campaign_submit(actor=operator, campaign=campaign)
        campaign = services.campaign_approve(actor=operator, campaign=campaign)
    return campaign


@pytest.fixture
def campaign(people):
    return make_campaign(people["operator"])


def start(campaign, amount=50_400, **kwargs) -> PaymentIntent:
    kwargs.setdefault("donor_name", "Siti Aminah")
    kwargs.setdefault("donor_email", "siti@example.id")
    return services.donation_start(target=services.DonationTarget.for_campaign(campaign), amount=amount, **kwargs)


def hosted_page_path(intent: PaymentIntent) -> str:
    return urlsplit(intent.payment_url).path


def pay_on_hosted_page(client: Client, intent: PaymentIntent, channel: str = "bca", action: str = "pay"):
    """What the payer does: open the payment page, pick a channel, then pay (or let it expire, or cancel)."""
    path = hosted_page_path(intent)
    page = client.get(path)
    assert page.status_code == 200, page.content[:300]
    response = client.post(path, {"channel": channel})
    assert response.status_code == 302
    response = client.post(path, {"action": action})
    assert response.status_code == 302
    return client.get(path)


def sandbox_payment(intent: PaymentIntent) -> SandboxPayment:
    return SandboxPayment.objects.get(order_id=intent.order_id)


def deliveries(intent: PaymentIntent):
    return SandboxDelivery.objects.filter(payment__order_id=intent.order_id).order_by("id")


def receipt_sequence(number: str) -> int:
    match = re.fullmatch(r"LK-(\d{4})-(\d{6})", number)
    assert match, number
    return int(match.group(2))


@pytest.fixture
def pay(client, django_capture_on_commit_callbacks):
    """``pay(intent, action="pay")``: the payer goes through the sandbox's hosted page; the notifications the sandbox
    sends after each step are delivered (in tests without commits, the on-commit work is run at each step)."""

    def run(intent: PaymentIntent, *, channel: str = "bca", action: str = "pay") -> PaymentIntent:
        path = hosted_page_path(intent)
        for data in ({"channel": channel}, {"action": action}):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(path, data)
            assert response.status_code == 302, response.content[:300]
        intent.refresh_from_db()
        return intent

    return run


@pytest.fixture
def donate(campaign, pay):
    """``donate(amount)`` -> a settled PaymentIntent for ``campaign``, paid through the sandbox."""

    def run(amount: int = 50_400, target_campaign=None, **kwargs) -> PaymentIntent:
        intent = pay(start(target_campaign or campaign, amount=amount, **kwargs))
        assert intent.state == "settled", (intent.state, intent.review_reason)
        return intent

    return run
