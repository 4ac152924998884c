"""PostgreSQL only: the monthly cycle under concurrency. Two runs of the same month: the second is refused while the
first holds the month's advisory lock, or waits for it and then finds nothing left to do. Two chunks processed at the
same time (as two Celery workers would) give the same books as one process."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.errors import CycleRunning
from lingkaran.protection.models import CycleChunk
from tests.protection import test_cycle as base
from tests.protection.test_cycle import APR, PAY_DAY, assert_april_is_paid, books

people = base.people  # the same fixtures as the SQLite tests
world = base.world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _seeds(transactional_db):
    """A transactional test that ran before may have flushed what migrations seed (occupations, tariffs): seed them
    again with the migrations' own idempotent functions."""
    import importlib

    from django.apps import apps

    importlib.import_module("lingkaran.registry.migrations.0002_occupations_and_append_only").seed(apps, None)
    importlib.import_module("lingkaran.protection.migrations.0001_tariffs").seed(apps, None)


def test_a_second_run_of_the_month_is_refused_or_waits(world):
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    refused: list[BaseException] = []
    finished: dict[str, float] = {}

    def hold(step: str) -> None:
        if step == "bill":
            holding.set()
            release.wait(20)

    def first():
        try:
            cycle_services.cycle_run(month=APR, today=PAY_DAY, after_step=hold)
        except BaseException as exc:
            errors.append(exc)
        finally:
            finished["first"] = time.monotonic()
            holding.set()
            connection.close()

    def waiting():
        try:
            cycle_services.cycle_run(month=APR, today=PAY_DAY, wait=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            finished["waiting"] = time.monotonic()
            connection.close()

    def impatient():
        try:
            cycle_services.cycle_run(month=APR, today=PAY_DAY)
        except CycleRunning as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    runner = threading.Thread(target=first)
    runner.start()
    assert holding.wait(20)
    other = threading.Thread(target=impatient)
    other.start()
    other.join(20)
    waiter = threading.Thread(target=waiting)
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # blocked on the month's lock
    release.set()
    runner.join(60)
    waiter.join(60)
    assert errors == []
    assert len(refused) == 1
    assert refused[0].details == {"month": "2027-04"}
    assert finished["waiting"] >= finished["first"]
    assert_april_is_paid(world)


def test_two_chunks_at_once_give_the_same_books_as_one_process(world):
    cycle = cycle_services.cycle_bill(month=APR)
    chunk_ids = list(cycle.chunks.values_list("pk", flat=True))
    assert len(chunk_ids) == 2
    start = threading.Barrier(len(chunk_ids))
    errors: list[BaseException] = []

    def work(chunk_id: int):
        try:
            start.wait(10)
            cycle_services.chunk_process(chunk_id=chunk_id, today=PAY_DAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in chunk_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert set(CycleChunk.objects.values_list("state", flat=True)) == {"posted"}
    cycle_services.cycle_finish(month=APR)
    assert_april_is_paid(world)
    before = books(world)
    cycle_services.cycle_run(month=APR, today=PAY_DAY)
    assert books(world) == before
