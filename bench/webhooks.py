"""Benchmark: gateway notifications over HTTP into gunicorn and PostgreSQL, against pgbench on the same server.

    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py                      # 10,000 donations, 8 at a time
    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py --donations 2000     # a quick run
    flock /tmp/bench.lock .venv/bin/python bench/webhooks.py --write              # record in docs/benchmarks.md

What it does, in one run:

1. Creates a fresh database (``--database-url``, default ``lk_hook_bench``; its name must contain ``bench``, as it is
   dropped first; ``DATABASE_URL`` is not read, so a working database is never touched), migrates it, approves four
   campaigns (their trust pools opened), opens the sandbox clearing account, and creates ``--donations`` donations
   with multi-row INSERTs: each with its payment intent (``created``, payment link made) and the sandbox gateway's
   own record of the payment (``pending``: the payer picked a BCA virtual account).
2. pgbench TPC-B on the same PostgreSQL server, in its own database: initialised at ``--pgbench-scale``, run with as
   many clients as the load generator's concurrency for ``--pgbench-seconds``, once before and once after the load.
3. Starts the real server, ``lingkaran serve`` (gunicorn gthread, ``--workers`` default 2 × cores + 1, one thread
   each) with DEBUG off and explicit secrets, the built-in sandbox gateway and no Celery broker: each notification
   is processed in the request that delivers it, and the status API the intake asks before money moves is the
   sandbox's own, a real HTTP request in process (``gateways/sandbox.py``) answered by the served application's lean
   front door (``funding/wsgi.py``) from its table.
4. A load generator in a second process (asyncio, a fixed number of payments in flight) plays the gateway: for each
   payment the signed ``pending`` notification, then the payer pays (the sandbox's record becomes ``settlement``, in
   batches, on a connection of its own), then the signed ``settlement`` notification. 10 % of the payments have one
   notification delivered twice (half of them at the same time as the first delivery, half right after it); 5 % are
   out of order (``settlement`` first, the ``pending`` late). Bodies are signed as Midtrans does: ``signature_key`` =
   SHA-512(order_id + status_code + gross_amount + server key) over the exact strings sent.
5. Measures settled donations per second (settled in the database over the wall time of the load, and the steady
   rate between 10 % and 90 % settled), request latency percentiles, CPU per settled donation by process group,
   database transactions per settled donation, and how many backends wait on a lock (sampled once a second). Then
   the floor, in the same run: the same notifications, in the same order and concurrency from the same load
   generator, to a bare WSGI application under gunicorn (same workers, no Django) that keeps each body with one
   INSERT and answers 200 — the least a notification can cost here.
6. Checks, and exits 1 when anything is wrong: every donation and intent settled for its exact amount; exactly one
   journal entry per donation, under its business key, pointed at by the intent; receipts unique and gap-free
   (1 … N); ``ledger verify`` clean; every notification stored once and processed; every answer 200.
7. Prints the figures and, with ``--write``, records them between the ``bench:webhooks`` markers in
   ``docs/benchmarks.md`` (appended at the end the first time; the rest of the file is left alone).

Goal (issue 4): settled donations per second ≥ 25 % of pgbench's transactions per second, p99 < 100 ms, ledger
verify clean and every donation posted exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lk_hook_bench"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
CAMPAIGNS = 4
MARK_BEGIN = "<!-- bench:webhooks -->"
MARK_END = "<!-- /bench:webhooks -->"
GOAL_RATIO = 0.25
GOAL_P99_MS = 100.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and created; pgbench uses <name>_pgbench")
    parser.add_argument("--donations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="payments in flight, and pgbench's clients")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: 2 × cores + 1)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument("--pgbench-scale", type=int, default=None, help="default: max(10, concurrency)")
    parser.add_argument("--duplicate-percent", type=float, default=10.0)
    parser.add_argument("--out-of-order-percent", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the server log")
    args = parser.parse_args(argv)
    args.workers = args.workers or 2 * (os.cpu_count() or 1) + 1
    args.pgbench_scale = args.pgbench_scale or max(10, args.concurrency)
    if args.donations < 10 or args.concurrency < 1:
        parser.error("--donations must be at least 10 and --concurrency at least 1")
    return args


# --- The environment: what the server and this process run with ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(url: str, var_dir: Path, port: int) -> dict[str, str]:
    """Production-like settings: DEBUG off, every secret given (nothing generated), one allowed host, log level INFO.

    ``LINGKARAN_ENV`` stays ``development`` only because production refuses the sandbox gateway (it takes no real
    money) and the sandbox is what can confirm payments here without a network."""
    return {
        "DJANGO_SETTINGS_MODULE": "lingkaran.config.settings",
        "LINGKARAN_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "LINGKARAN_VAR_DIR": str(var_dir),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LINGKARAN_DATA_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "LINGKARAN_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LINGKARAN_SANDBOX_SERVER_KEY": "SB-Lingkaran-bench-" + secrets.token_hex(16),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LINGKARAN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LINGKARAN_GATEWAY": "sandbox",
        "LINGKARAN_LOG_LEVEL": "INFO",
    }


def setup_django(environment: dict[str, str]) -> None:
    os.environ.update(environment)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))


# --- Step 1: the data ----------------------------------------------------------------------------------------------


def prepare(count: int, public_url: str, log) -> list[tuple[str, int, str]]:
    """Migrate, approve the campaigns, open the clearing account, and create the donations set-based. Returns
    (order id, amount, the sandbox's transaction id) for each payment."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from lingkaran.core import context
    from lingkaran.core.models import User
    from lingkaran.funding import accounts, services
    from lingkaran.funding.domain.references import order_id
    from lingkaran.funding.models import Donation, PaymentIntent, SandboxPayment, Target

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    operator = User.objects.create_user(
        username="bench-operator", password=None, role="operator", full_name="Bench Operator"
    )
    campaign_ids = []
    with context.acting("command"):
        for number in range(1, CAMPAIGNS + 1):
            campaign = services.campaign_create(
                actor=operator,
                title=f"Perlindungan pekerja informal {number}",
                story="Iuran JKK dan JKM untuk pekerja bukan penerima upah.",
                goal_workers=1000,
                goal_months=6,
                goal_amount=100_800_000,
                end_on=timezone.localdate() + timedelta(days=90),
            )
            services.campaign_submit(actor=operator, campaign=campaign)
            services.campaign_approve(actor=operator, campaign=campaign)
            campaign_ids.append(campaign.pk)
        accounts.open_clearing("sandbox")

    started = time.perf_counter()
    today = timezone.localdate()
    base = public_url.rstrip("/")
    now = timezone.now()
    with transaction.atomic():
        # Donations to the four campaigns, amounts from Rp 10.000 to Rp 500.000 in steps of Rp 100; each with its
        # payment intent and the payment link the sandbox gave (the order id follows the donation's id), and the
        # sandbox's own record of the payment: the payer chose a BCA virtual account (pending). Multi-row INSERTs
        # through the ORM, so columns added later get their defaults.
        donations = Donation.objects.bulk_create(
            (
                Donation(
                    target=Target.CAMPAIGN,
                    campaign_id=campaign_ids[number % len(campaign_ids)],
                    donor_name=f"Donatur {number}",
                    donor_email=f"donatur{number}@example.id",
                    is_anonymous=number % 5 == 0,
                    amount=10_000 + (number * 7919 % 4901) * 100,
                    created_at=now,
                )
                for number in range(1, count + 1)
            ),
            batch_size=2000,
        )
        intents = []
        for donation in donations:
            token = secrets.token_urlsafe(24)
            intents.append(
                PaymentIntent(
                    donation_id=donation.pk,
                    order_id=order_id(today, f"{donation.pk:010X}"),
                    gateway=PaymentIntent.Gateway.SANDBOX,
                    amount=donation.amount,
                    gateway_reference=token,
                    payment_url=f"{base}/sandbox-gateway/pay/{token}/",
                    created_at=now,
                    updated_at=now,
                )
            )
        PaymentIntent.objects.bulk_create(intents, batch_size=2000)
        SandboxPayment.objects.bulk_create(
            (
                SandboxPayment(
                    order_id=intent.order_id,
                    token=intent.gateway_reference,
                    transaction_id=str(uuid.uuid4()),
                    amount=intent.amount,
                    status="pending",
                    payment_type="bank_transfer",
                    channel="bca",
                    va_number=f"12008{intent.donation_id:011d}",
                    customer_name=f"Donatur {intent.donation_id}",
                    item_name="Donation",
                    finish_url=f"{base}/donations/return/{intent.order_id}/",
                    created_at=now,
                    transaction_time=now,
                )
                for intent in intents
            ),
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        for table in ("funding_donation", "funding_paymentintent", "funding_sandboxpayment"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT order_id, amount, transaction_id FROM funding_sandboxpayment ORDER BY id")
        payments = [(order, int(amount), transaction) for order, amount, transaction in cursor.fetchall()]
    log(f"{count:,} donations, payment intents and sandbox payments created in {time.perf_counter() - started:.1f} s")
    return payments


# --- Step 2: pgbench -----------------------------------------------------------------------------------------------


def pgbench_init(url: str, scale: int) -> None:
    recreate_database(url)
    host, port, user = pg_params(url)
    subprocess.run(
        [PGBENCH, "-h", host, "-p", port, "-U", user, "-i", "-q", "-s", str(scale), database_name(url)],
        check=True,
        capture_output=True,
    )


def pgbench_run(url: str, clients: int, seconds: int) -> dict:
    host, port, user = pg_params(url)
    threads = min(clients, os.cpu_count() or 1)
    done = subprocess.run(
        [
            PGBENCH,
            "-h",
            host,
            "-p",
            port,
            "-U",
            user,
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(seconds),
            database_name(url),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    if not tps:
        raise SystemExit(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")
    return {
        "tps": float(tps.group(1)),
        "latency_ms": float(latency.group(1)) if latency else None,
        "clients": clients,
        "threads": threads,
        "seconds": seconds,
    }


def pg_params(url: str) -> tuple[str, str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", str(parts.port or 5432), parts.username or "postgres"


# --- Step 3: the server --------------------------------------------------------------------------------------------


def start_server(environment: dict[str, str], port: int, workers: int, threads: int, log_path: Path):
    command = [
        str(Path(sys.executable).parent / "lingkaran"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    handle = log_path.open("wb")
    server = subprocess.Popen(
        command, env={**os.environ, **environment}, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start-up; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit(f"the server did not answer within 60 s; see {log_path}")
    # Every worker loads the application lazily: touch them all so start-up is not measured as latency.
    for _ in range(workers * 3):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            sock.recv(64)
    return server


def stop_server(server) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    ticks = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks


# --- Step 4: the load generator (a separate process; no Django in it) ----------------------------------------------

STATUS_CODE = {"pending": "201", "settlement": "200"}


def notification(order_id: str, amount: int, transaction_id: str, status: str, server_key: str) -> bytes:
    """A Midtrans HTTP notification as the sandbox gateway sends it, signed over the exact strings in the body."""
    code = STATUS_CODE[status]
    gross = f"{amount}.00"
    body = {
        "transaction_time": "2026-11-22 10:15:04",
        "transaction_status": status,
        "transaction_id": transaction_id,
        "status_message": "midtrans payment notification",
        "status_code": code,
        "signature_key": hashlib.sha512(f"{order_id}{code}{gross}{server_key}".encode()).hexdigest(),
        "payment_type": "bank_transfer",
        "order_id": order_id,
        "merchant_id": "LINGKARAN-SANDBOX",
        "gross_amount": gross,
        "currency": "IDR",
        "fraud_status": "accept",
        "va_numbers": [{"bank": "bca", "va_number": "12008" + order_id[-10:]}],
    }
    if status == "settlement":
        body["settlement_time"] = "2026-11-22 10:17:31"
    return json.dumps(body).encode()


def scripts_for(payments, config) -> tuple[list[list[tuple]], dict]:
    """What the gateway does for each payment, in order. Steps: ``("send", kind, body)``, ``("twice", kind, body)``
    (two deliveries of one notification at the same time) and ``("pay", order_id)`` (the payer pays at the gateway)."""
    rng = random.Random(config["seed"])
    count = len(payments)
    duplicated = set(rng.sample(range(count), round(count * config["duplicate_percent"] / 100)))
    late = set(rng.sample(range(count), round(count * config["out_of_order_percent"] / 100)))
    scripts, shape = [], {"duplicated": len(duplicated), "out_of_order": len(late), "concurrent_twins": 0}
    for index, (order_id, amount, transaction_id) in enumerate(payments):
        pending = notification(order_id, amount, transaction_id, "pending", config["server_key"])
        settlement = notification(order_id, amount, transaction_id, "settlement", config["server_key"])
        if index in late:
            steps = [("pay", order_id), ("send", "settlement", settlement), ("send", "late_pending", pending)]
        else:
            steps = [("send", "pending", pending), ("pay", order_id), ("send", "settlement", settlement)]
        if index in duplicated:
            sends = [position for position, step in enumerate(steps) if step[0] == "send"]
            position = rng.choice(sends)
            _, kind, body = steps[position]
            if rng.random() < 0.5:
                steps[position] = ("twice", kind, body)
                shape["concurrent_twins"] += 1
            else:
                steps.insert(position + 1, ("send", "duplicate", body))
        scripts.append(steps)
    return scripts, shape


class Payers:
    """The payers paying at the gateway: the sandbox's record of each payment becomes ``settlement`` just before the
    gateway notifies it. Writes are batched on one connection of the gateway's own (``synchronous_commit`` off: the
    gateway's storage is not what is measured)."""

    def __init__(self, connection):
        self.connection = connection
        self.waiting: list[tuple[str, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None
        self.batches = 0

    async def pay(self, order_id: str) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((order_id, future))
        if self.flushing is None:
            self.flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    await self.connection.execute(
                        "UPDATE funding_sandboxpayment SET status = 'settlement', settlement_time = now() "
                        "WHERE order_id = ANY(%s) AND status = 'pending'",
                        [[order_id for order_id, _ in batch]],
                    )
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                self.batches += 1
                for _, future in batch:
                    future.set_result(None)
        finally:
            self.flushing = None


async def post(host: str, port: int, body: bytes) -> tuple[int, str, float]:
    """One delivery on a new connection, as a gateway makes it: (HTTP status, the answer's ``status``, seconds)."""
    request = (
        f"POST /webhooks/sandbox HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"User-Agent: Lingkaran-Bench-Gateway/1.0\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        status_line = await reader.readline()
        length = None
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        answer = await (reader.readexactly(length) if length is not None else reader.read())
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 else 0
    try:
        outcome = json.loads(answer).get("status", "")
    except ValueError:
        outcome = answer[:40].decode("latin-1")
    return status, outcome, elapsed


async def generate(config: dict) -> dict:
    import psycopg

    scripts, shape = scripts_for(config["payments"], config)
    host, port = "127.0.0.1", config["port"]
    connection = await psycopg.AsyncConnection.connect(config["database_url"], autocommit=True)
    await connection.execute("SET synchronous_commit = off")
    gateway_pid = connection.info.backend_pid
    payers = Payers(connection)
    latencies: dict[str, list[float]] = {}
    statuses: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    pending_scripts = iter(scripts)

    def record(kind: str, result: tuple[int, str, float]) -> None:
        status, outcome, elapsed = result
        latencies.setdefault(kind, []).append(elapsed)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    async def worker() -> None:
        for steps in pending_scripts:
            for step in steps:
                if step[0] == "pay":
                    await payers.pay(step[1])
                elif step[0] == "send":
                    record(step[1], await post(host, port, step[2]))
                else:
                    first, second = await asyncio.gather(post(host, port, step[2]), post(host, port, step[2]))
                    record(step[1], first)
                    record("duplicate", second)

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started_wall, started = time.time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(config["concurrency"])))
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    await connection.close()
    return {
        "started": started_wall,
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "outcomes": outcomes,
        "shape": shape,
        "requests": sum(len(values) for values in latencies.values()),
        "pay_batches": payers.batches,
        "gateway_pid": gateway_pid,
        "cpu": (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
    }


def generator_process(config: dict, pipe) -> None:
    try:
        pipe.send(asyncio.run(generate(config)))
    except BaseException as exc:
        pipe.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        pipe.close()


def run_load(config: dict, database_url: str, server_pid: int, log) -> dict:
    """Run the generator in its own process, sampling the settled count once a second meanwhile."""
    import psycopg

    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    monitor = psycopg.connect(database_url, autocommit=True)
    workers = children_of(server_pid)
    server_cpu_before = cpu_seconds([server_pid, *workers])
    busy_before, total_before = machine_busy()
    backend_sql = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )

    def backends() -> dict[int, float]:
        return {pid: cpu_seconds([pid]) for (pid,) in monitor.execute(backend_sql).fetchall()}

    # The server's connections come and go (kept 60 s): each backend's CPU is followed from the first sample that
    # sees it to the last one.
    first_seen = backends()
    last_seen = dict(first_seen)
    generator = context.Process(target=generator_process, args=(config, sending), name="webhook-load")
    generator.start()
    sending.close()
    samples, waiting = [], []
    result = None
    while result is None:
        if receiving.poll(1.0):
            result = receiving.recv()
            break
        settled = monitor.execute("SELECT count(*) FROM funding_donation WHERE state = 'settled'").fetchone()[0]
        samples.append((time.time(), settled))
        waiting.append(
            monitor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
        )
        for pid, cpu in backends().items():
            first_seen.setdefault(pid, 0.0)
            last_seen[pid] = cpu
        if len(samples) % 10 == 0:
            log(f"  {settled:,} settled after {len(samples)} s")
        if not generator.is_alive() and not receiving.poll(0.5):
            raise SystemExit("the load generator stopped without an answer")
    generator.join()
    busy_after, total_after = machine_busy()
    if "error" in result:
        raise SystemExit(f"the load generator failed: {result['error']}")
    result["server_cpu"] = cpu_seconds([server_pid, *workers]) - server_cpu_before
    for pid, cpu in backends().items():
        first_seen.setdefault(pid, 0.0)
        last_seen[pid] = cpu
    served = [pid for pid in last_seen if pid != result["gateway_pid"]]
    result["database_cpu"] = sum(last_seen[pid] - first_seen[pid] for pid in served)
    result["database_backends"] = len(served)
    result["machine_busy"] = (busy_after - busy_before) / max(total_after - total_before, 1e-9)
    settled = monitor.execute("SELECT count(*) FROM funding_donation WHERE state = 'settled'").fetchone()[0]
    samples.append((result["started"] + result["elapsed"], settled))
    result["samples"] = samples
    result["lock_waiters"] = statistics.fmean(waiting) if waiting else 0.0
    monitor.close()
    return result


# --- The floor: the least a notification can cost on this machine ---------------------------------------------------

_floor_connection = None


def floor_app(environ, start_response):
    """The floor's server: a bare WSGI application (no Django) that keeps each notification's body with one INSERT
    on a connection of its own and answers 200, as the cheapest possible inbox would. Served by gunicorn like the
    platform (same workers and threads), driven by the same load generator."""
    global _floor_connection
    import psycopg

    if _floor_connection is None:
        _floor_connection = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    _floor_connection.execute("INSERT INTO bench_floor_inbox (body) VALUES (%s)", [body.decode()])
    answer = b'{"status": "accepted"}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


async def floor_generate(config: dict) -> dict:
    bodies = iter(config["bodies"])
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    async def worker() -> None:
        for body in bodies:
            status, _outcome, elapsed = await post("127.0.0.1", config["port"], body)
            latencies.append(elapsed)
            statuses[str(status)] = statuses.get(str(status), 0) + 1

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(config["concurrency"])))
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "cpu": (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
    }


def floor_process(config: dict, pipe) -> None:
    try:
        pipe.send(asyncio.run(floor_generate(config)))
    finally:
        pipe.close()


def run_floor(url: str, bodies: list[bytes], args, log) -> dict:
    """Serve ``floor_app`` with gunicorn (the same workers and threads as the platform) and send it ``bodies``
    (the notifications of the main run, in the same order) from the load generator with the same concurrency."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor_inbox")
        conn.execute("CREATE TABLE bench_floor_inbox (id bigserial PRIMARY KEY, body text NOT NULL)")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(REPO / "bench"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "webhooks:floor_app",
    ]
    server = subprocess.Popen(
        command,
        env={**os.environ, "FLOOR_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the floor server did not start") from None
                time.sleep(0.2)
        workers = children_of(server.pid)
        server_cpu = cpu_seconds([server.pid, *workers])
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        generator = context.Process(
            target=floor_process,
            args=({"bodies": bodies, "port": port, "concurrency": args.concurrency}, sending),
            name="webhook-floor-load",
        )
        generator.start()
        sending.close()
        result = receiving.recv()
        generator.join()
        result["server_cpu"] = cpu_seconds([server.pid, *children_of(server.pid)]) - server_cpu
    finally:
        stop_server(server)
    with psycopg.connect(url, autocommit=True) as conn:
        stored = conn.execute("SELECT count(*) FROM bench_floor_inbox").fetchone()[0]
        conn.execute("DROP TABLE bench_floor_inbox")
    latencies = sorted(result.pop("latencies"))
    result.update(
        requests=len(bodies),
        stored=stored,
        rate=len(bodies) / result["elapsed"],
        p50=statistics.median(latencies) * 1000,
        p99=percentile(latencies, 0.99) * 1000,
    )
    log(
        f"floor: {len(bodies):,} notifications to a bare gunicorn + one INSERT in {result['elapsed']:.1f} s: "
        f"{result['rate']:.0f}/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms; CPU ms per request: "
        f"server {result['server_cpu'] * 1000 / len(bodies):.2f}, load generator "
        f"{result['cpu'] * 1000 / len(bodies):.2f}"
    )
    return result


# --- Step 5 and 6: figures and checks ------------------------------------------------------------------------------


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def steady_rate(samples: list[tuple[float, int]], total: int, started: float) -> float | None:
    """Settled per second between the moments 10 % and 90 % of the donations were settled (sampled once a second)."""
    points = [(started, 0), *samples]

    def crossing(target: int) -> float | None:
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if c0 < target <= c1:
                return t0 + (t1 - t0) * (target - c0) / (c1 - c0)
        return None

    low, high = crossing(int(total * 0.1)), crossing(int(total * 0.9))
    if low is None or high is None or high <= low:
        return None
    return (int(total * 0.9) - int(total * 0.1)) / (high - low)


def checks(payments: list[tuple[str, int, str]], load: dict) -> tuple[list[str], dict]:
    """Everything that must hold after the run; returns the problems found (none: clean) and the figures."""
    from django.db import connection

    from lingkaran.ledger import selectors as ledger

    count = len(payments)
    total = sum(amount for _, amount, _ in payments)
    problems: list[str] = []
    figures: dict = {}

    def one(sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    settled_donations = one("SELECT count(*) FROM funding_donation WHERE state = 'settled' AND settled_at IS NOT NULL")[
        0
    ]
    settled_intents = one(
        "SELECT count(*) FROM funding_paymentintent WHERE state = 'settled' AND settled_amount = amount "
        "AND NOT in_review AND settlement_entry_id IS NOT NULL"
    )[0]
    figures["settled"] = settled_donations
    if settled_donations != count or settled_intents != count:
        problems.append(f"settled: {settled_donations} donations and {settled_intents} intents of {count}")
    entries, entry_total = one(
        "SELECT count(*), coalesce(sum(total), 0) FROM ledger_journalentry WHERE idempotency_key LIKE 'donation:%'"
    )
    matched = one(
        """SELECT count(*) FROM funding_paymentintent AS i JOIN ledger_journalentry AS e
                  ON e.id = i.settlement_entry_id
                 AND e.idempotency_key = 'donation:sandbox:' || i.transaction_id || ':settled'
                 AND e.total = i.amount AND e.metadata ->> 'order_id' = i.order_id"""
    )[0]
    twice = one(
        """SELECT count(*) FROM (SELECT metadata ->> 'order_id' FROM ledger_journalentry
                                  WHERE idempotency_key LIKE 'donation:%' GROUP BY 1 HAVING count(*) <> 1) AS t"""
    )[0]
    figures["entries"] = entries
    if entries != count or int(entry_total) != total or matched != count or twice:
        problems.append(
            f"journal entries: {entries} for {count} donations (Rp {entry_total} of Rp {total}); {matched} under "
            f"their intent's key; {twice} orders posted other than once"
        )
    receipts, distinct_numbers, low, high, distinct_sequences, receipt_total = one(
        "SELECT count(*), count(DISTINCT number), min(sequence), max(sequence), count(DISTINCT (year, sequence)), "
        "coalesce(sum(amount), 0) FROM funding_receipt"
    )
    figures["receipts"] = receipts
    if not (receipts == distinct_numbers == distinct_sequences == count and low == 1 and high == count):
        problems.append(
            f"receipts: {receipts} ({distinct_numbers} distinct numbers, sequences {low}…{high}, "
            f"{distinct_sequences} distinct) for {count} donations"
        )
    if int(receipt_total) != total:
        problems.append(f"receipts total Rp {receipt_total}, donations Rp {total}")
    report = ledger.verify()
    figures["verify"] = {
        "clean": report.clean,
        "accounts": report.accounts,
        "entries": report.entries,
        "legs": report.legs,
    }
    if not report.clean:
        problems.append(f"ledger verify: {report}")
    clearing = ledger.balance_of("asset:clearing:sandbox")
    pools = sum(ledger.balances("liability:pool:campaign:").values())
    if clearing != total or pools != total:
        problems.append(f"balances: clearing Rp {clearing}, pools Rp {pools}, donations Rp {total}")
    events, verified, unprocessed, deliveries = one(
        "SELECT count(*), count(*) FILTER (WHERE verified), count(*) FILTER (WHERE processed_at IS NULL), "
        "coalesce(sum(deliveries), 0) FROM funding_gatewayevent"
    )
    figures["events"] = events
    if events != 2 * count or verified != events or unprocessed:
        problems.append(f"inbox: {events} events ({verified} verified, {unprocessed} unprocessed) for {count} payments")
    if int(deliveries) != load["requests"]:
        problems.append(f"inbox counted {deliveries} deliveries, {load['requests']} were sent")
    if set(load["statuses"]) != {"200"}:
        problems.append(f"HTTP answers: {load['statuses']}")
    return problems, figures


def database_counters(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        commits, rollbacks = conn.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return {"commits": commits, "rollbacks": rollbacks}


def machine(url: str) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
    memory = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import django
    import gunicorn

    return {
        "cpu": f"{os.cpu_count()} cores ({cpu})" if cpu else f"{os.cpu_count()} cores",
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": f"{server.split()[0]} (shared_buffers {buffers}, synchronous_commit {sync}, same host)",
        "psycopg": psycopg.__version__,
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    url = args.database_url
    if not url.startswith("postgres"):
        raise SystemExit("the benchmark runs on PostgreSQL: --database-url postgres://…")
    if "bench" not in database_name(url):
        raise SystemExit(f"{database_name(url)!r} would be dropped: give a database whose name contains 'bench'")
    pgbench_url = url.rsplit("/", 1)[0] + "/" + database_name(url) + "_pgbench"
    workdir = Path(tempfile.mkdtemp(prefix="lingkaran-bench-webhooks-"))
    port = free_port()
    environment = server_environment(url, workdir / "var", port)

    def log(text: str) -> None:
        print(text, flush=True)

    load_before = os.getloadavg()[0]
    recreate_database(url)
    setup_django(environment)
    payments = prepare(args.donations, environment["LINGKARAN_PUBLIC_URL"], log)
    from django.db import connections

    connections.close_all()

    log(f"pgbench: scale {args.pgbench_scale}, {args.concurrency} clients, {args.pgbench_seconds} s")
    pgbench_init(pgbench_url, args.pgbench_scale)
    before = pgbench_run(pgbench_url, args.concurrency, args.pgbench_seconds)
    log(f"  before the load: {before['tps']:.0f} tps (latency average {before['latency_ms']} ms)")

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    server = start_server(environment, port, args.workers, args.threads, workdir / "server.log")
    log(f"server: lingkaran serve on port {port}, {args.workers} worker(s) × {args.threads} thread(s)")
    config = {
        "payments": payments,
        "port": port,
        "server_key": environment["LINGKARAN_SANDBOX_SERVER_KEY"],
        "database_url": url,
        "concurrency": args.concurrency,
        "seed": args.seed,
        "duplicate_percent": args.duplicate_percent,
        "out_of_order_percent": args.out_of_order_percent,
    }
    counters_before = database_counters(url)
    try:
        load = run_load(config, url, server.pid, log)
    finally:
        stop_server(server)
    counters_after = database_counters(url)

    scripts, _shape = scripts_for(payments, config)
    bodies = [
        body
        for steps in scripts
        for step in steps
        if step[0] != "pay"
        for body in [step[2]] * (1 + (step[0] == "twice"))
    ]
    floor = run_floor(url, bodies, args, log)

    after = pgbench_run(pgbench_url, args.concurrency, args.pgbench_seconds)
    log(f"  pgbench after the load: {after['tps']:.0f} tps (latency average {after['latency_ms']} ms)")

    problems, figures = checks(payments, load)
    all_latencies = sorted(value * 1000 for values in load["latencies"].values() for value in values)
    settled = figures["settled"]
    rate = settled / load["elapsed"]
    steady = steady_rate(load["samples"], len(payments), load["started"])
    pgbench_tps = (before["tps"] + after["tps"]) / 2
    ratio = rate / pgbench_tps
    by_kind = {
        kind: {
            "count": len(values),
            "p50": statistics.median(values) * 1000,
            "p99": percentile(sorted(values), 0.99) * 1000,
        }
        for kind, values in sorted(load["latencies"].items())
    }
    result = {
        "donations": len(payments),
        "args": vars(args),
        "load": {key: value for key, value in load.items() if key not in ("latencies", "samples")},
        "rate": rate,
        "steady": steady,
        "pgbench_before": before,
        "pgbench_after": after,
        "pgbench_tps": pgbench_tps,
        "ratio": ratio,
        "p50": statistics.median(all_latencies),
        "p95": percentile(all_latencies, 0.95),
        "p99": percentile(all_latencies, 0.99),
        "max": all_latencies[-1],
        "by_kind": by_kind,
        "figures": figures,
        "problems": problems,
        "transactions_per_donation": (counters_after["commits"] - counters_before["commits"]) / max(settled, 1),
        "rollbacks": counters_after["rollbacks"] - counters_before["rollbacks"],
        "load_before": load_before,
        "machine": machine(url),
        "floor": floor,
    }
    report(result, log)
    if args.write:
        write_docs(result)
        log("recorded in docs/benchmarks.md")
    (workdir / "result.json").write_text(json.dumps(result, indent=2, default=str))
    log(f"figures in {workdir / 'result.json'}; server log {workdir / 'server.log'}")
    if not args.keep:
        drop_database(pgbench_url)
        drop_database(url)
    if problems:
        log("CHECKS FAILED:")
        for problem in problems:
            log(f"  - {problem}")
        return 1
    return 0


def report(r: dict, log) -> None:
    load = r["load"]
    settled = max(r["figures"]["settled"], 1)
    log(
        f"load: {load['requests']:,} notifications for {r['donations']:,} payments in {load['elapsed']:.1f} s "
        f"(shape {load['shape']}); answers {load['statuses']}; outcomes {load['outcomes']}"
    )
    steady = f"{r['steady']:.0f}/s" if r["steady"] else "n/a"
    log(
        f"settled: {r['figures']['settled']:,} → {r['rate']:.0f}/s (steady {steady}); pgbench {r['pgbench_tps']:.0f} "
        f"tps → ratio {r['ratio'] * 100:.1f} % (goal ≥ {GOAL_RATIO * 100:.0f} %)"
    )
    log(
        f"latency ms: p50 {r['p50']:.1f}, p95 {r['p95']:.1f}, p99 {r['p99']:.1f}, max {r['max']:.1f} "
        f"(goal p99 < {GOAL_P99_MS:.0f}); by kind: "
        + ", ".join(f"{k} n={v['count']} p50 {v['p50']:.1f} p99 {v['p99']:.1f}" for k, v in r["by_kind"].items())
    )
    log(
        f"CPU ms per settled donation: server {load['server_cpu'] * 1000 / settled:.2f}, PostgreSQL backends "
        f"{load['database_cpu'] * 1000 / settled:.2f}, load generator {load['cpu'] * 1000 / settled:.2f}; machine "
        f"busy {load['machine_busy'] * 100:.0f} %; {r['transactions_per_donation']:.1f} database transactions per "
        f"settled donation, {r['rollbacks']} rollbacks; {load['lock_waiters']:.1f} backends waiting on a lock "
        f"(mean of 1 s samples); load average {r['load_before']:.1f} before the run"
    )
    floor = r["floor"]
    per_donation = load["requests"] / max(r["donations"], 1)
    log(
        f"floor: {floor['rate']:.0f} notifications/s = {floor['rate'] / per_donation:.0f} donations/s at "
        f"{per_donation:.2f} notifications each = {floor['rate'] / per_donation / r['pgbench_tps'] * 100:.1f} % of "
        f"pgbench; the platform reaches {r['rate'] / (floor['rate'] / per_donation) * 100:.0f} % of the floor"
    )
    verify = r["figures"]["verify"]
    log(
        f"ledger verify: {'clean' if verify['clean'] else 'NOT CLEAN'} ({verify['accounts']} accounts, "
        f"{verify['entries']:,} entries, {verify['legs']:,} legs); receipts {r['figures']['receipts']:,}; "
        f"checks {'passed' if not r['problems'] else 'FAILED'}"
    )


def write_docs(r: dict) -> None:
    m, load, args, figures = r["machine"], r["load"], r["args"], r["figures"]
    settled = max(figures["settled"], 1)
    shape = load["shape"]
    before, after = r["pgbench_before"], r["pgbench_after"]
    verify = figures["verify"]
    ratio_goal = "met" if r["ratio"] >= GOAL_RATIO else "not met"
    p99_goal = "met" if r["p99"] < GOAL_P99_MS else "not met"
    checks_ok = not r["problems"]
    kinds = {
        "pending": "`pending`",
        "settlement": "`settlement`",
        "duplicate": "second delivery of a duplicate",
        "late_pending": "`pending` arriving after `settlement`",
    }
    by_kind = "; ".join(
        f"{label} {r['by_kind'][kind]['p50']:.0f} / {r['by_kind'][kind]['p99']:.0f} ms"
        for kind, label in kinds.items()
        if kind in r["by_kind"]
    )
    answers = ", ".join(f"{count:,} × {status}" for status, count in sorted(load["statuses"].items()))
    steady = f"{r['steady']:.1f}/s" if r["steady"] else "n/a"
    floor = r["floor"]
    per_donation = load["requests"] / r["donations"]
    floor_donations = floor["rate"] / per_donation
    section = f"""{MARK_BEGIN}
## Gateway notifications (`bench/webhooks.py`)

{r["donations"]:,} donations to {CAMPAIGNS} campaigns, paid through the built-in sandbox gateway: {load["requests"]:,}
signed Midtrans notifications over HTTP to `/webhooks/sandbox` from a load generator in a second process with
{args["concurrency"]} payments in flight; {shape["duplicated"]:,} payments (10 %) had one notification delivered twice
({shape["concurrent_twins"]:,} of them at the same time as the first delivery), {shape["out_of_order"]:,} (5 %) were
out of order (`settlement` first, the `pending` late). Server: `lingkaran serve`, {args["workers"]} gunicorn worker(s)
× {args["threads"]} thread(s), DEBUG off. Run on {time.strftime("%Y-%m-%d")}.

| measure | result | goal |
|---|---|---|
| pgbench TPC-B, scale {args["pgbench_scale"]}, {before["clients"]} clients, {before["threads"]} threads, {before["seconds"]} s: before / after the load | {before["tps"]:,.0f} / {after["tps"]:,.0f} tps (mean **{r["pgbench_tps"]:,.0f}**) | floor |
| settled donations per second (settled in the database ÷ wall time of the load) | **{r["rate"]:.1f}/s** ({figures["settled"]:,} in {load["elapsed"]:.1f} s; between 10 % and 90 % settled: {steady}) | |
| ratio settled donations/s ÷ pgbench tps | **{r["ratio"] * 100:.2f} %** | ≥ 25 % ({ratio_goal}) |
| notification latency p50 / p95 / p99 / max (all {load["requests"]:,}) | {r["p50"]:.0f} / {r["p95"]:.0f} / **{r["p99"]:.0f}** / {r["max"]:.0f} ms | p99 < 100 ms ({p99_goal}) |
| p50 / p99 by kind | {by_kind} | |
| HTTP answers; outcomes | {answers}; {", ".join(f"{k} {v:,}" for k, v in sorted(load["outcomes"].items()))} | all 2xx |
| `ledger verify` | {"clean" if verify["clean"] else "**NOT CLEAN**"} ({verify["accounts"]} accounts, {verify["entries"]:,} entries, {verify["legs"]:,} legs) | clean |
| posted exactly once | {figures["entries"]:,} journal entries for {r["donations"]:,} donations, one per business key, each the intent's; {figures["receipts"]:,} receipts numbered 1 … {figures["receipts"]:,}; {figures["events"]:,} inbox events, all processed | {"met" if checks_ok else "**NOT MET**"} |
| CPU per settled donation: web workers / PostgreSQL backends / load generator | {load["server_cpu"] * 1000 / settled:.1f} / {load["database_cpu"] * 1000 / settled:.1f} / {load["cpu"] * 1000 / settled:.1f} ms | |
| database transactions per settled donation; backends waiting on a lock (mean) | {r["transactions_per_donation"]:.1f}; {load["lock_waiters"]:.1f} | |
| machine busy during the load (all processes, other users included); load average before | {load["machine_busy"] * 100:.0f} %; {r["load_before"]:.1f} | |
| **floor**: the same {floor["requests"]:,} notifications to a bare gunicorn WSGI app ({args["workers"]} workers, no Django) that does one INSERT of the body each, same load generator and concurrency | {floor["rate"]:,.0f} notifications/s; p50 / p99 {floor["p50"]:.0f} / {floor["p99"]:.0f} ms; CPU per request: server {floor["server_cpu"] * 1000 / floor["requests"]:.2f} ms, load generator {floor["cpu"] * 1000 / floor["requests"]:.2f} ms | |
| the floor in donations ({per_donation:.2f} notifications each) ÷ pgbench; the platform ÷ the floor | {floor_donations:,.0f}/s = **{floor_donations / r["pgbench_tps"] * 100:.1f} %** of pgbench; the platform **{r["rate"] / floor_donations * 100:.0f} %** of the floor | |

Machine: {m["cpu"]}, {m["memory"]} RAM, {m["os"]}; Python {m["python"]}, Django {m["django"]}, gunicorn
{m["gunicorn"]}, psycopg {m["psycopg"]}; PostgreSQL {m["postgres"]}.

Settings: `LINGKARAN_ENV=development` (production refuses the sandbox gateway, the only one that can confirm payments
here without a network), `DEBUG=false`, every secret given in the environment, `ALLOWED_HOSTS=127.0.0.1,localhost`,
log level INFO, no Celery broker (each notification is processed in the request that delivers it, and the status API
is the sandbox's, a real HTTP request in process to the served application, answered by its lean front door from the
sandbox's own table). The same gunicorn also answers the webhooks through that front door (`funding/wsgi.py`). The load
generator's payer marks each sandbox payment paid just before its `settlement` notification, in batches, on its own
connection with `synchronous_commit` off (that is the gateway's storage, not the platform's).

Reproduce: `flock /tmp/bench.lock .venv/bin/python bench/webhooks.py --donations {r["donations"]} --concurrency
{args["concurrency"]} --write` (`--donations 2000 --pgbench-seconds 10` for a quick run).
{MARK_END}"""
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured by the scripts in `bench/`.\n"
    if MARK_BEGIN in text:
        head, rest = text.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1] if MARK_END in rest else ""
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
