"""PostgreSQL only: two batches submitted at the same time for the same participant-month. The simulator answers
one after the other (its counter row is locked for the whole answer), so the month is paid once and the second
batch hears ``already_paid``, exactly as a single process would answer."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from lingkaran.protection.agency import services
from lingkaran.protection.agency.models import SimulatorPaidMonth
from lingkaran.protection.agency.services import PaymentLineInput
from tests.agency.helpers import FULL, NOW, month, outcomes, participant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_batches_racing_for_the_same_month_pay_it_once():
    anna = participant("anna", month(2027, 1))
    batch_ids = []
    for key in ("first", "second"):
        batch = services.payment_batch_open(key=key, today=month(2027, 1))
        services.payment_lines_add(batch_id=batch.pk, lines=[PaymentLineInput(1, month(2027, 1), FULL, anna)])
        batch_ids.append(batch.pk)
    holding = threading.Event()
    errors: list[BaseException] = []
    waited: list[float] = []

    def first():
        try:
            with transaction.atomic():
                services.payment_batch_submit(batch_id=batch_ids[0], now=NOW)
                holding.set()
                time.sleep(0.6)  # still holding the simulator's lock
        except BaseException as exc:
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    def second():
        holding.wait(10)
        started = time.monotonic()
        try:
            services.payment_batch_submit(batch_id=batch_ids[1], now=NOW)
        except BaseException as exc:
            errors.append(exc)
        finally:
            waited.append(time.monotonic() - started)
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert waited[0] > 0.3  # the second answer waited for the first to commit
    assert outcomes("first") == {1: ""}
    assert outcomes("second") == {1: "already_paid"}
    assert SimulatorPaidMonth.objects.count() == 1
