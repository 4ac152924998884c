"""The monthly cycle on two real Celery workers over Redis gives exactly the books of a single-process run.

Two ``celery worker`` processes (concurrency 1 each) and the ``lingkaran cycle run`` command run as separate
processes against the local Redis (a database number of their own, emptied before and after) and this test's
PostgreSQL database. The command sends the month's chunks, one per province, as a chord; the workers take them and
the worker that ends the last chunk finishes the cycle. The test then compares lines, months, chunks, the cycle's
totals, the entries (keys, totals, content hashes), balances and reservations with a single-process run of the same
world, and reads from the result backend which worker ran each chunk: both did.

Needs Redis on 127.0.0.1:6379 (skipped without it, or failed with ``LINGKARAN_REQUIRE_SERVICES=1``) and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection, transaction

from lingkaran.funding import accounts
from lingkaran.ledger.selectors import verify
from lingkaran.ledger.services import transfer
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.models import ContributionLine, Cycle, CycleChunk
from lingkaran.protection.sponsorships import sponsor_directed
from lingkaran.registry.services import worker_decide
from tests.conftest import REQUIRE_SERVICES
from tests.factories import FunderFactory, RegionFactory
from tests.protection import test_cycle as base
from tests.protection.test_cycle import APR, PAY_DAY, _snapshot, assert_lines_tie_to_the_ledger
from tests.protection.test_cycle_postgres import _seeds  # noqa: F401 (autouse: occupations and tariffs re-seeded)

BROKER = os.environ.get("LINGKARAN_TEST_CYCLE_REDIS_URL", "redis://127.0.0.1:6379/14")
NODES = ("cycle-a", "cycle-b")

people = base.people  # the same fixtures as the single-process tests
world = base.world

pytestmark = [
    pytest.mark.services,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# More provinces than the base world's two, so that the chunks are spread over both workers: (NIK, desa).
MORE_WORKERS = (
    ("3171011708900011", "31.71.01.1001"),
    ("3171011708900012", "31.71.01.1001"),
    ("5171011708900013", "51.71.01.1001"),
    ("7371011708900014", "73.71.01.1001"),
    ("1271011708900015", "12.71.01.1001"),
    ("6371011708900016", "63.71.01.1001"),
)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _test_database_url() -> str:
    """The PostgreSQL database this test writes to (pytest-django's ``test_…`` database), as a URL."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _environment(tmp_path) -> dict[str, str]:
    """What the worker and command processes run with: the real settings, the broker, this test's database. No
    ``CELERY_RESULT_BACKEND``: the settings default it to the Redis broker, and the chord that finishes the cycle
    needs it, so the test also proves that the command process sends through the configured Celery app."""
    inherited = {k: v for k, v in os.environ.items() if k != "CELERY_RESULT_BACKEND"}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "lingkaran.config.settings",
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": _test_database_url(),
        "LINGKARAN_VAR_DIR": str(tmp_path),
        "LINGKARAN_AGENCY": "simulator",
    }


@pytest.fixture
def client_app():
    if not _redis_up():
        if REQUIRE_SERVICES:
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 and LINGKARAN_REQUIRE_SERVICES=1")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    client = Celery("cycle-test-client", broker=BROKER, backend=BROKER)
    client.backend.client.flushdb()  # the test's own Redis database: no message or result of an earlier run
    yield client
    client.backend.client.flushdb()
    client.close()


@pytest.fixture
def celery_workers(client_app, tmp_path):
    """Two worker processes, concurrency 1 each, named ``cycle-a@…`` and ``cycle-b@…``; both answer a ping first."""
    environment = _environment(tmp_path)
    processes = []
    logs = []
    for node in NODES:
        log = open(tmp_path / f"{node}.log", "w+b")  # noqa: SIM115 (closed below)
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "lingkaran.config.celery",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-n",
                    f"{node}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                ],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        deadline = time.monotonic() + 90
        answered: set[str] = set()
        while time.monotonic() < deadline and len(answered) < len(NODES):
            for reply in client_app.control.ping(timeout=1.0):
                answered.update(name.split("@", 1)[0] for name in reply)
            if any(p.poll() is not None for p in processes):
                break
        if len(answered) < len(NODES):
            output = b"\n".join(log.seek(0) or log.read() for log in logs).decode(errors="replace")
            pytest.fail(f"the Celery workers did not start (answered: {sorted(answered)}):\n{output[-4000:]}")
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


@pytest.fixture
def wide_world(world, people, register_worker):
    """The base world (two provinces, one worker the agency refuses) and a second company paying for six more
    workers in five more provinces, April to June 2027: seven chunks."""
    workers = []
    for nik, desa in MORE_WORKERS:
        parts = desa.split(".")
        for depth in range(1, 5):
            RegionFactory(code=".".join(parts[:depth]))
        worker = register_worker(people["operator"], nik=nik, region_code=desa)
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        workers.append(worker)
    from lingkaran.protection.agency import services as agency
    from lingkaran.protection.agency.services import RegistrationInput

    batch = agency.registration_batch_open(key="test:registrations:more", today=PAY_DAY.replace(year=2026, month=11))
    agency.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    assert agency.registration_batch_submit(batch_id=batch.pk).registered == len(workers)
    funder = FunderFactory(kind="company")
    pool = accounts.open_pool(target="funder", funder_id=funder.pk)
    transfer(key="test:fund:more", source=accounts.open_bank(), target=pool, amount=base.FUNDED, effective_on=APR)
    sponsor_directed(
        funder=funder, worker_ids=[w.pk for w in workers], start=APR, months=3, package="jkk_jkm", by=people["finance"]
    )
    return {**world, "more": workers}


def test_two_real_workers_on_redis_give_the_books_of_one_process(wide_world, celery_workers, client_app, tmp_path):
    class Undo(Exception):
        pass

    # The single-process run of the same world, rolled back.
    with pytest.raises(Undo), transaction.atomic():
        cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)
        in_process = _snapshot()
        raise Undo
    assert not ContributionLine.objects.exists()
    assert len(in_process["chunks"]) == 7

    # The command, in its own process, sends the chunks to the broker; the workers run them and finish the cycle.
    command = subprocess.run(
        [sys.executable, "-m", "lingkaran", "cycle", "run", "--month", "2027-04", "--today", PAY_DAY.isoformat()],
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert command.returncode == 0, command.stdout + command.stderr
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if Cycle.objects.filter(month=APR, state=Cycle.State.DONE).exists():
            break
        time.sleep(0.5)
    cycle = Cycle.objects.get(month=APR)
    assert cycle.state == Cycle.State.DONE, list(CycleChunk.objects.values_list("province", "state"))
    assert cycle.finished_at is not None  # finished by the chord's callback on a worker, not by a later run

    assert _snapshot() == in_process
    assert_lines_tie_to_the_ledger(APR)
    report = verify()
    assert report.clean, report

    # Who ran what, from the result backend: every chunk once, and both workers took some.
    backend = client_app.backend
    task_ids = [key.decode().split("celery-task-meta-", 1)[1] for key in backend.client.keys("celery-task-meta-*")]
    results = [backend.get_task_meta(task_id) for task_id in task_ids]
    chunk_runs = [r["result"] for r in results if r["status"] == "SUCCESS" and isinstance(r["result"], dict)]
    finished = [r["result"] for r in results if r["status"] == "SUCCESS" and r["result"] == "done"]
    assert sorted(run["chunk"] for run in chunk_runs) == sorted(CycleChunk.objects.values_list("pk", flat=True))
    assert {run["state"] for run in chunk_runs} == {"posted"}
    assert {run["worker"].split("@", 1)[0] for run in chunk_runs} == set(NODES)
    assert {run["pid"] for run in chunk_runs} == {p.pid for p in celery_workers}
    assert finished == ["done"]

    # Running the month again (in this process) changes nothing.
    cycle_services.cycle_run(month=APR, today=PAY_DAY, tasks=False)
    assert _snapshot() == in_process
