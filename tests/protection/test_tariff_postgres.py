"""PostgreSQL: two writers adding overlapping tariff versions at the same moment. The second waits for the first one's
commit (the tariff advisory lock, taken by the services and by the triggers) and is then refused, whether it goes
through the service or around it with raw SQL."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lingkaran.protection import services
from lingkaran.protection.errors import TariffOverlap
from lingkaran.protection.models import ProgrammeRate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = date(2030, 1, 1)


def _first_writer(inside: threading.Event, release: threading.Event, errors: list) -> None:
    try:
        with transaction.atomic():
            services.programme_rate_add(actor=None, programme="jkk", valid_from=START, rate_bp=150, regulation="A")
            inside.set()
            release.wait(10)
    except Exception as exc:  # pragma: no cover - reported to the test
        errors.append(exc)
    finally:
        connection.close()


def _race(second) -> tuple[list, list, bool]:
    ProgrammeRate.objects.all().delete()
    inside, release = threading.Event(), threading.Event()
    first_errors: list = []
    second_outcome: list = []

    def second_writer():
        inside.wait(10)
        try:
            second()
            second_outcome.append("written")
        except Exception as exc:
            second_outcome.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=_first_writer, args=(inside, release, first_errors))
    b = threading.Thread(target=second_writer)
    a.start()
    b.start()
    assert inside.wait(10)
    b.join(0.5)
    waited = b.is_alive()  # still blocked on the lock while the first transaction is open
    release.set()
    a.join(10)
    b.join(10)
    return first_errors, second_outcome, waited


def test_the_service_makes_a_concurrent_writer_wait_then_refuses_it():
    def second():
        services.programme_rate_add(actor=None, programme="jkk", valid_from=START, rate_bp=200, regulation="B")

    first_errors, outcome, waited = _race(second)
    assert first_errors == []
    assert waited
    assert len(outcome) == 1
    assert isinstance(outcome[0], TariffOverlap)
    assert list(ProgrammeRate.objects.values_list("regulation", "rate_bp")) == [("A", 150)]


def test_the_trigger_makes_a_raw_concurrent_insert_wait_then_refuses_it():
    def second():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO protection_programmerate (programme, valid_from, valid_to, rate_bp, regulation, "
                "source_url, created_at) VALUES ('jkk', %s, NULL, 300, 'raw', '', %s)",
                [date(2031, 1, 1), timezone.now()],
            )

    first_errors, outcome, waited = _race(second)
    assert first_errors == []
    assert waited
    assert len(outcome) == 1
    assert isinstance(outcome[0], IntegrityError)
    assert "overlap" in str(outcome[0])
    assert list(ProgrammeRate.objects.values_list("regulation", flat=True)) == ["A"]
