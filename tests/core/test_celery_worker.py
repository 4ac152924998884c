"""A real Celery worker on the local Redis runs a task sent by the platform (CI has Redis; locally it may skip)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest
from celery import Celery

from tests.conftest import REQUIRE_SERVICES

BROKER = os.environ.get("LINGKARAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.services


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def worker(tmp_path):
    if not _redis_up():
        if REQUIRE_SERVICES:
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 and LINGKARAN_REQUIRE_SERVICES=1")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BROKER,
        "DJANGO_SETTINGS_MODULE": "lingkaran.config.settings",
        "LINGKARAN_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/worker.sqlite3",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lingkaran.config.celery",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_task_runs_in_a_separate_worker_process(worker):
    process, queue = worker
    client = Celery("test-client", broker=BROKER, backend=BROKER)
    nonce = uuid.uuid4().hex
    result = client.send_task("core.probe", args=[nonce], queue=queue)
    answer = result.get(timeout=60)
    assert answer["nonce"] == nonce
    assert answer["pid"] == process.pid
    assert answer["pid"] != os.getpid()
