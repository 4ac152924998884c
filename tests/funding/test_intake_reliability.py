"""Reliability of intake: a crash in the middle of processing leaves nothing half-written, and redelivery completes
it exactly once; on PostgreSQL, twenty simultaneous deliveries of one notification post once, and a worker process
killed after posting (before its commit) leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client

from lingkaran.funding import sandbox_server
from lingkaran.funding.models import GatewayEvent, PaymentIntent, Receipt, ReceiptCounter, SandboxPayment
from lingkaran.funding.services import settlement
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import hosted_page_path, start

REPO = Path(__file__).resolve().parents[2]


def settlement_notification(intent: PaymentIntent) -> bytes:
    """The payer paid at the sandbox, whose settlement notification has not been delivered yet: its exact body."""
    payment = SandboxPayment.objects.get(order_id=intent.order_id)
    payment.status = "settlement"
    payment.save(update_fields=["status"])
    body = sandbox_server.status_body(payment)
    body["status_message"] = "midtrans payment notification"
    return json.dumps(body).encode()


def pending_intent(campaign) -> PaymentIntent:
    intent = start(campaign)
    Client().post(hosted_page_path(intent), {"channel": "bca"})
    intent.refresh_from_db()
    assert intent.state == "pending"
    return intent


def nothing_posted(intent: PaymentIntent) -> None:
    intent.refresh_from_db()
    assert intent.state == "pending"
    assert intent.settled_amount == 0
    assert JournalEntry.objects.count() == 0
    assert Receipt.objects.count() == 0
    assert not ReceiptCounter.objects.filter(last_number__gt=0).exists()
    assert set(ledger.balances("liability:pool:").values()) <= {0}
    assert ledger.verify().clean


def posted_once(intent: PaymentIntent) -> None:
    intent.refresh_from_db()
    assert (intent.state, intent.settled_amount) == ("settled", 50_400)
    assert JournalEntry.objects.count() == 1
    assert Receipt.objects.get().number.endswith("-000001")
    assert ledger.verify().clean


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_posting_before_commit_leaves_nothing_and_redelivery_completes_once(
    campaign, monkeypatch, funding_log
):
    intent = pending_intent(campaign)
    body = settlement_notification(intent)
    real = settlement.receipt_issue

    def crash(donation, **kwargs):
        real(donation, **kwargs)  # the ledger entry and the receipt are written in the open transaction …
        raise MemoryError("worker died")  # … and the worker dies before the commit

    monkeypatch.setattr(settlement, "receipt_issue", crash)
    response = Client().post("/webhooks/sandbox", data=body, content_type="application/json")
    assert response.status_code == 200  # stored; the processing failed on its own
    nothing_posted(intent)
    event = GatewayEvent.objects.get(gateway_status="settlement")
    assert event.processed_at is None
    assert "task funding.process_gateway_event" in funding_log.text

    monkeypatch.setattr(settlement, "receipt_issue", real)
    again = Client().post("/webhooks/sandbox", data=body, content_type="application/json")
    assert again.json() == {"status": "accepted_again"}
    posted_once(intent)
    event.refresh_from_db()
    assert (event.outcome, event.deliveries) == ("settled", 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_deliveries_of_one_notification_post_once(campaign):
    intent = pending_intent(campaign)
    body = settlement_notification(intent)
    barrier = threading.Barrier(20)
    answers, errors = [], []

    def deliver():
        try:
            client = Client()
            barrier.wait()
            answers.append(client.post("/webhooks/sandbox", data=body, content_type="application/json").status_code)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answers == [200] * 20
    posted_once(intent)
    event = GatewayEvent.objects.get(gateway_status="settlement")
    assert event.deliveries == 20
    assert event.outcome == "settled"
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 50_400


CHILD = """
import os, sys, time
import django
django.setup()
from django.test import Client
from lingkaran.funding.services import settlement

real = settlement.receipt_issue

def posted_then_stuck(donation, **kwargs):
    receipt = real(donation, **kwargs)
    print("POSTED", receipt.number, flush=True)  # entry, states and receipt written; the transaction is still open
    time.sleep(120)

settlement.receipt_issue = posted_then_stuck
Client().post("/webhooks/sandbox", data=sys.stdin.buffer.read(), content_type="application/json")
print("NOT KILLED", flush=True)
"""


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_processing_leaves_nothing_and_redelivery_completes_once(campaign):
    intent = pending_intent(campaign)
    body = settlement_notification(intent)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lingkaran.config.settings_test",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(REPO),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    try:
        child.stdin.write(body)
        child.stdin.close()
        line = child.stdout.readline().decode()
        assert line.startswith("POSTED LK-"), line + child.stderr.read().decode()[-2000:]
        # The child holds the intent's row lock with the entry posted but not committed: nothing is visible here.
        assert JournalEntry.objects.count() == 0
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    nothing_posted(intent)
    event = GatewayEvent.objects.get(gateway_status="settlement")
    assert event.processed_at is None  # stored before processing started, so the redelivery finds it

    again = Client().post("/webhooks/sandbox", data=body, content_type="application/json")
    assert again.json() == {"status": "accepted_again"}
    posted_once(intent)
