"""Benchmark: import 1,000,000 synthetic workers into PostgreSQL against a raw ``COPY`` of the same file.

    flock /tmp/bench.lock .venv/bin/python bench/import_workers.py --write        # 1,000,000 rows (about 6 minutes)
    flock /tmp/bench.lock .venv/bin/python bench/import_workers.py --rows 50000   # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lingkaran_bench .venv/bin/python bench/import_workers.py

What it does, in one process:

1. Creates the database when missing, migrates it, loads the Kemendagri regions from ``../shared/data/wilayah/
   wilayah.csv`` (read in place, never copied into the repository) and empties the worker tables.
2. Writes ``--rows`` synthetic rows (valid NIKs for real kecamatan codes, desa codes of that kecamatan; 2 % invalid,
   1 % repeating an earlier NIK) as a CSV into a temporary directory.
3. Times the floor: ``COPY`` of that CSV into a bare table with the same columns as text, no index.
4. Times ``import_create`` (hash, content check, storage, header, row count) and ``import_run`` (validation, blind
   index, dedup by NIK within the file and against the database, AES-GCM encryption, ``COPY`` into the worker table,
   row-level problems), accept-valid mode, with ``--processes`` worker processes; records the CPU time of the
   importing process, of its worker processes and of its PostgreSQL backend, and how busy the whole machine was.
5. Takes the rows the import wrote and ``COPY``s them again: into a bare clone of the table (no index, no foreign
   key), into a clone with the indexes, into ``registry_worker`` itself, and into a bare clone whose indexes and
   foreign keys are built afterwards in bulk — where the database's time goes.
6. Measures the single-core CPU cost per row of each Python stage on a sample of the file.
7. Checks the counts, then times NIK lookups through the blind index (raw, and ``selectors.worker_by_nik``).
8. Prints the figures and, with ``--write``, records them in ``docs/benchmarks.md`` (between its markers).

Goals (issue 3): import ≤ 3× the COPY time, peak memory ≤ 1 GiB, NIK lookup p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WILAYAH = REPO.parent / "shared" / "data" / "wilayah" / "wilayah.csv"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lingkaran_bench"
TODAY = date(2026, 1, 1)
MARK_BEGIN = "<!-- bench:import_workers -->"
MARK_END = "<!-- /bench:import_workers -->"
STAGE_SAMPLE = 50_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes for validation and encryption (1: in the importing process, the fastest on 2 cores)",
    )
    parser.add_argument("--chunk", type=int, default=None, help="rows per chunk (default: importing.CHUNK_ROWS)")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with the CSV (path printed)")
    return parser.parse_args(argv)


def setup_django(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LINGKARAN_VAR_DIR", str(var_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lingkaran.config.settings")
    os.environ.setdefault("LINGKARAN_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare_database(log) -> None:
    from django.core.management import call_command
    from django.db import connection

    from lingkaran.core.models import User
    from lingkaran.registry.models import Region
    from lingkaran.registry.services import regions_load

    call_command("migrate", verbosity=0)
    if Region.objects.count() < 90_000:
        started = time.perf_counter()
        regions_load(WILAYAH)
        log(f"regions loaded in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        for table in ("bench_raw_workers", "bench_worker_bare", "bench_worker_indexed", "bench_worker_bulk"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute("TRUNCATE registry_worker, registry_importproblem, registry_importbatch CASCADE")
    if not User.objects.filter(username="bench").exists():
        User.objects.create_user(username="bench", password=None, role="operator", full_name="Bench Operator")


def region_lists() -> tuple[list[str], dict[str, list[str]]]:
    districts: list[str] = []
    villages: dict[str, list[str]] = {}
    with WILAYAH.open(encoding="utf-8") as handle:
        for code, _name in csv.reader(handle):
            parts = code.count(".")
            if parts == 2:
                districts.append(code)
            elif parts == 3:
                villages.setdefault(code.rsplit(".", 1)[0], []).append(code)
    return districts, villages


def write_csv(path: Path, rows: int, seed: int) -> list[str]:
    """The sample file; returns up to 5,000 valid NIKs (a reservoir sample) for the lookups."""
    from lingkaran.registry.domain import sample_rows as samples

    districts, villages = region_lists()
    rng = random.Random(seed)
    sample: list[str] = []
    pick = random.Random(seed + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(samples.HEADER)
        for index, row in enumerate(
            samples.sample_rows(rng, rows, districts=districts, villages=villages, today=TODAY)
        ):
            writer.writerow(row)
            if index % samples.INVALID_EVERY != samples.INVALID_AT:
                if len(sample) < 5000:
                    sample.append(row[0])
                else:
                    slot = pick.randrange(index + 1)
                    if slot < 5000:
                        sample[slot] = row[0]
    return sample


# --- CPU accounting -------------------------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (the PostgreSQL backend runs on this host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine since boot: busy is neither idle nor waiting for I/O; stolen
    is the time a virtual machine's cores were taken by the host for other guests (counted in busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - values[3] - values[4]) / ticks, values[7] / ticks


def own_cpu() -> tuple[float, float]:
    """(this process, its finished children) user + system CPU seconds."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wal_and_checkpoints() -> tuple[int, int]:
    """(WAL position in bytes, checkpoints so far) of the server."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, checkpoints_timed + checkpoints_req "
            "FROM pg_stat_bgwriter"
        )
        wal, checkpoints = cursor.fetchone()
    return int(wal), int(checkpoints)


def max_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


# --- Floors ---------------------------------------------------------------------------------------------------------


def raw_copy(path: Path) -> tuple[float, float, int]:
    """The floor: the same CSV into a bare table of text columns, no index, one COPY: (wall seconds, CPU seconds of
    the backend and of this process, rows)."""
    from django.db import connection

    from lingkaran.registry.domain.sample_rows import HEADER

    columns = ", ".join(f'"{name}" text' for name in HEADER)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_workers")
        cursor.execute(f"CREATE TABLE bench_raw_workers ({columns})")
        cursor.execute("CHECKPOINT")
    pid = backend_pid()
    cpu = process_cpu(pid) + sum(own_cpu())
    started = time.perf_counter()
    statement = "COPY bench_raw_workers FROM STDIN WITH (FORMAT csv, HEADER true)"
    with connection.cursor() as cursor, path.open("rb") as handle, cursor.cursor.copy(statement) as copy:
        while block := handle.read(1 << 20):
            copy.write(block)
    elapsed = time.perf_counter() - started
    cpu = process_cpu(pid) + sum(own_cpu()) - cpu
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw_workers")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_workers")
    return elapsed, cpu, copied


def _timed_copy(table: str, columns: str, dump: Path, *, after: list[str] = ()) -> tuple[float, float]:
    """``COPY`` the dump into ``table`` in one transaction (then run ``after``, then commit, where deferred
    foreign keys are checked): (wall seconds, backend CPU seconds)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # each measure starts without the previous one's dirty pages
    pid = backend_pid()
    cpu = process_cpu(pid)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with dump.open("rb") as handle, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
        for statement in after:
            cursor.execute(statement)
    return time.perf_counter() - started, process_cpu(pid) - cpu


def floors(workdir: Path) -> dict:
    """Where the database's time goes, with the very rows the import wrote (already validated and encrypted)."""
    from django.db import connection

    from lingkaran.registry.importing import WORKER_COLUMNS

    dump = workdir / "workers.copy"
    columns = ", ".join(WORKER_COLUMNS)
    statement = f"COPY (SELECT {columns} FROM registry_worker) TO STDOUT"
    with connection.cursor() as cursor, dump.open("wb") as handle, cursor.cursor.copy(statement) as copy:
        for block in copy:
            handle.write(block)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'registry_worker'::regclass AND NOT indisprimary"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'registry_worker'::regclass AND contype = 'f'"
        )
        foreign_keys = cursor.fetchall()
        bare = "LIKE registry_worker INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY"
        cursor.execute(f"CREATE TABLE bench_worker_bare ({bare})")
        cursor.execute("ALTER TABLE bench_worker_bare ADD PRIMARY KEY (id)")
        cursor.execute("CREATE TABLE bench_worker_indexed (LIKE registry_worker INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE bench_worker_bulk ({bare})")
        cursor.execute("ALTER TABLE bench_worker_bulk ADD PRIMARY KEY (id)")
    result = {"indexes": len(indexes), "foreign_keys": len(foreign_keys)}
    result["bare"] = _timed_copy("bench_worker_bare", columns, dump)
    result["indexed"] = _timed_copy("bench_worker_indexed", columns, dump)
    # Indexes and foreign keys built after the data: what dropping and rebuilding them would give (the table's
    # owner only, with the table locked for the whole load; see docs/subsystems/registry-import.md).
    rebuild = [
        definition.replace(f"INDEX {name} ", f"INDEX bench_{name} ", 1).replace(
            " ON public.registry_worker ", " ON bench_worker_bulk "
        )
        for name, definition in indexes
    ]
    rebuild += [
        f"ALTER TABLE bench_worker_bulk ADD CONSTRAINT bench_{name[:50]} "
        + definition.replace("registry_worker(id)", "bench_worker_bulk(id)").replace(
            " DEFERRABLE INITIALLY DEFERRED", ""
        )
        for name, definition in foreign_keys
    ]
    result["bulk"] = _timed_copy("bench_worker_bulk", columns, dump, after=rebuild)
    with connection.cursor() as cursor:
        for table in ("bench_worker_bare", "bench_worker_indexed", "bench_worker_bulk"):
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute("TRUNCATE registry_worker CASCADE")
    result["schema"] = _timed_copy("registry_worker", columns, dump)
    dump.unlink()
    return result


# --- The Python side, stage by stage --------------------------------------------------------------------------------


def stage_costs(path: Path, batch, rows: int = STAGE_SAMPLE) -> dict[str, float]:
    """Single-core CPU microseconds per row of each Python stage of the import, on the first ``rows`` rows of the
    file, chunk by chunk as the import does it, through the import's own code (``RowPreparer`` and its parts)."""
    from django.utils import timezone

    from lingkaran.registry import importing
    from lingkaran.registry.selectors import PURPOSE_NIK
    from lingkaran.registry.services import PURPOSE_PHONE

    validator = importing._validator(batch, batch.uploaded_by, TODAY)
    preparer = importing.RowPreparer(
        validator, source=batch.source, user_id=batch.uploaded_by_id, batch_id=batch.pk, copy_text=True
    )
    index, seal = preparer.indexer, preparer.sealer
    # A second preparer with its crypto stubbed out: the cost of the COPY line and the masks alone (the crypto is
    # measured on its own).
    formatter = importing.RowPreparer(
        validator, source=batch.source, user_id=batch.uploaded_by_id, batch_id=batch.pk, copy_text=True
    )
    formatter.sealer = lambda value, purpose: "k1$sealed"
    formatter.indexer = lambda value, *, purpose: "0" * 64
    names = (
        "read and parse the CSV",
        "validate (NIK, dates, codes, names, flags)",
        "HMAC-SHA256 blind indexes (NIK, phone)",
        "AES-256-GCM (NIK, phone, address) and base64",
        "COPY text line and masks",
        "repeats in the file (classify)",
    )
    seconds = dict.fromkeys(names, 0.0)
    seen: dict = {}
    count = 0
    now = timezone.now()
    now_text = now.isoformat()
    with path.open("rb") as handle, importing.open_rows(handle, "csv") as cells:
        numbered = importing.data_rows(cells, 1)
        while count < rows:
            started = time.process_time()
            chunk = [row for _i, row in zip(range(min(importing.CHUNK_ROWS, rows - count)), numbered, strict=False)]
            seconds[names[0]] += time.process_time() - started
            if not chunk:
                break
            count += len(chunk)
            started = time.process_time()
            clean = [validator.validate(row)[0] for _n, row in chunk]
            seconds[names[1]] += time.process_time() - started
            clean = [row for row in clean if row is not None]
            started = time.process_time()
            for row in clean:
                index(row.nik, purpose=PURPOSE_NIK)
                if row.phone:
                    index(row.phone, purpose=PURPOSE_PHONE)
            seconds[names[2]] += time.process_time() - started
            seal.reserve(3 * len(clean))
            started = time.process_time()
            for row in clean:
                seal(row.nik, b"n")
                seal(row.phone, b"p")
                seal(row.address, b"a")
            seconds[names[3]] += time.process_time() - started
            started = time.process_time()
            for row in clean:
                formatter._line(row, "0" * 64, now_text)
            seconds[names[4]] += time.process_time() - started
            prepared = preparer(chunk, encrypt=True, now=now)
            started = time.process_time()
            importing._classify(prepared, seen, "nik")
            seconds[names[5]] += time.process_time() - started
    return {name: value * 1e6 / max(count, 1) for name, value in seconds.items()}


# --- Lookups --------------------------------------------------------------------------------------------------------


def lookups(niks: list[str], count: int, seed: int) -> tuple[list[float], list[float]]:
    """Milliseconds per lookup of a random NIK: (1) the blind index alone — HMAC, then ``SELECT id … WHERE nik_index
    = %s``; (2) the page/API path, ``selectors.worker_by_nik`` (HMAC, scope, one ORM query for the whole row)."""
    from django.db import connection

    from lingkaran.core import crypto
    from lingkaran.core.models import User
    from lingkaran.registry.selectors import PURPOSE_NIK, worker_by_nik

    user = User.objects.get(username="bench")
    rng = random.Random(seed + 2)
    chosen = [rng.choice(niks) for _ in range(count)]
    worker_by_nik(user, chosen[0])  # warm the connection
    index_only, selector = [], []
    missing = 0
    with connection.cursor() as cursor:
        for nik in chosen:
            started = time.perf_counter()
            cursor.execute(
                "SELECT id FROM registry_worker WHERE nik_index = %s", [crypto.blind_index(nik, purpose=PURPOSE_NIK)]
            )
            found = cursor.fetchone()
            index_only.append((time.perf_counter() - started) * 1000)
            missing += found is None
    for nik in chosen:
        started = time.perf_counter()
        worker = worker_by_nik(user, nik)
        selector.append((time.perf_counter() - started) * 1000)
        missing += worker is None
    if missing:
        raise SystemExit(f"{missing} sampled NIKs were not found")
    return index_only, selector


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


def machine() -> dict:
    import psycopg
    from django.db import connection

    settings = {}
    with connection.cursor() as cursor:
        for name in ("server_version", "shared_buffers", "max_wal_size", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    memory = ""
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    cpu = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": f"{os.cpu_count()} cores ({cpu})" if cpu else f"{os.cpu_count()} cores",
        "cores": os.cpu_count() or 1,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": (
            f"{settings['server_version'].split()[0]} (shared_buffers {settings['shared_buffers']}, max_wal_size "
            f"{settings['max_wal_size']}, synchronous_commit {settings['synchronous_commit']} — the import's "
            "chunks commit with it off, same host)"
        ),
        "psycopg": psycopg.__version__,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("the benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if not WILAYAH.is_file():
        raise SystemExit(f"{WILAYAH} is missing (the Kemendagri region list, read in place)")
    workdir = Path(tempfile.mkdtemp(prefix="lingkaran-bench-"))
    ensure_database(url)
    setup_django(url, workdir / "var")

    from django.db import connection

    from lingkaran.core import context
    from lingkaran.core.models import User
    from lingkaran.registry import importing
    from lingkaran.registry.domain.sample_rows import shape
    from lingkaran.registry.models import ImportBatch, Worker

    def log(text: str) -> None:
        print(text, flush=True)

    prepare_database(log)
    csv_path = workdir / "workers.csv"
    started = time.perf_counter()
    niks = write_csv(csv_path, args.rows, args.seed)
    size_mib = csv_path.stat().st_size / 1024 / 1024
    log(f"generated {args.rows:,} rows ({size_mib:.0f} MiB) in {time.perf_counter() - started:.1f} s: {csv_path}")

    # Three times, the median: on a shared machine one measure of a 2-second COPY moves a lot.
    copies = sorted(raw_copy(csv_path) for _ in range(3))
    copy_seconds, copy_cpu, copied = copies[1]
    log(
        f"COPY into a bare table: {copy_seconds:.2f} s, {copy_cpu:.2f} s CPU ({copied:,} rows; of three: "
        + ", ".join(f"{c[0]:.2f} s" for c in copies)
        + ")"
    )
    rss_before = max_rss_mib(resource.RUSAGE_SELF)

    user = User.objects.get(username="bench")
    with context.acting("command"):
        started = time.perf_counter()
        batch = importing.import_create(actor=user, path=csv_path, source="pemda_list")
        create_seconds = time.perf_counter() - started
        log(f"import_create: {create_seconds:.2f} s (state {batch.state}, {batch.total_rows:,} rows)")
        last = [0.0]

        def progress(done, total):
            now = time.perf_counter()
            if now - last[0] > 5 or done == total:
                last[0] = now
                log(f"  {done:,}/{total:,} ({100 * done // total} %) after {now - started:.0f} s")

        kwargs = {"chunk_rows": args.chunk} if args.chunk else {}
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        backend = backend_pid()
        self_before, children_before = own_cpu()
        backend_before, (machine_before, stolen_before) = process_cpu(backend), machine_cpu()
        wal_before, checkpoints_before = wal_and_checkpoints()
        started = time.perf_counter()
        batch = importing.import_run(
            batch_id=batch.pk, progress=progress, find_duplicates=False, processes=args.processes, **kwargs
        )
        run_seconds = time.perf_counter() - started
        self_after, children_after = own_cpu()
        cpu = {
            "main": self_after - self_before,
            "workers": children_after - children_before,
            "backend": process_cpu(backend) - backend_before,
        }
        machine_after, stolen_after = machine_cpu()
        cpu["machine"], cpu["stolen"] = machine_after - machine_before, stolen_after - stolen_before
        wal_after, checkpoints_after = wal_and_checkpoints()
        wal = {"bytes": wal_after - wal_before, "checkpoints": checkpoints_after - checkpoints_before}
    rss_self = max_rss_mib(resource.RUSAGE_SELF)
    rss_children = max_rss_mib(resource.RUSAGE_CHILDREN)
    expected = shape(args.rows)
    counts = (batch.created_count, batch.existing_count, batch.invalid_count, batch.duplicate_in_file_count)
    log(f"import_run: {run_seconds:.2f} s, state {batch.state}, created/existing/invalid/repeated = {counts}")
    log(
        "CPU during the run: importing process {main:.1f} s, worker processes {workers:.1f} s, PostgreSQL backend "
        "{backend:.1f} s; the whole machine {machine:.1f} s of {capacity:.1f} s ({stolen:.1f} s taken by the host)".format(
            **cpu, capacity=run_seconds * (os.cpu_count() or 1)
        )
    )
    ok = (
        batch.state == ImportBatch.State.DONE
        and batch.created_count == expected.valid_unique
        and batch.invalid_count == expected.invalid
        and batch.duplicate_in_file_count == expected.duplicates
        and Worker.objects.count() == expected.valid_unique
    )
    if not ok:
        log(f"COUNTS WRONG: expected {expected}")
    stages = stage_costs(csv_path, batch)
    log("Python stages, single-core µs per row: " + "; ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    floor = floors(workdir)
    log(
        "COPY of the prepared rows: bare clone {b[0]:.1f} s (backend {b[1]:.1f} s CPU); with the indexes "
        "{i[0]:.1f} s ({i[1]:.1f}); registry_worker {s[0]:.1f} s ({s[1]:.1f}); bulk-built {k[0]:.1f} s "
        "({k[1]:.1f})".format(b=floor["bare"], i=floor["indexed"], s=floor["schema"], k=floor["bulk"])
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_worker")
    index_only, selector = lookups(niks, args.lookups, args.seed)
    p50, p99, worst = percentiles(index_only)
    s50, s99, sworst = percentiles(selector)
    log(
        f"NIK lookup over {Worker.objects.count():,} workers: blind index p50 {p50:.2f} ms, p99 {p99:.2f} ms, max "
        f"{worst:.2f} ms; worker_by_nik p50 {s50:.2f} ms, p99 {s99:.2f} ms, max {sworst:.2f} ms"
    )
    ratio = run_seconds / copy_seconds
    total_ratio = (create_seconds + run_seconds) / copy_seconds
    log(
        f"ratio import_run / COPY = {ratio:.1f}× (with import_create {total_ratio:.1f}×); peak RSS: main process "
        f"{rss_self:.0f} MiB (before the import {rss_before:.0f} MiB), largest worker process {rss_children:.0f} MiB"
    )
    result = {
        "rows": args.rows,
        "size_mib": size_mib,
        "processes": args.processes,
        "chunk": args.chunk or importing.CHUNK_ROWS,
        "copy": copy_seconds,
        "copy_cpu": copy_cpu,
        "copies": [c[0] for c in copies],
        "create": create_seconds,
        "run": run_seconds,
        "ratio": ratio,
        "total_ratio": total_ratio,
        "cpu": cpu,
        "wal": wal,
        "stages": stages,
        "floor": floor,
        "rss_self": rss_self,
        "rss_before": rss_before,
        "rss_children": rss_children,
        "counts": counts,
        "p50": p50,
        "p99": p99,
        "max": worst,
        "s50": s50,
        "s99": s99,
        "smax": sworst,
        "lookups": args.lookups,
        "machine": machine(),
    }
    if args.write:
        write_docs(result)
        log("recorded in docs/benchmarks.md")
    if not args.keep:
        # The CSV and the copy import_create stored under the temporary var/ (each as large as the file).
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def section(r: dict) -> str:
    """The Markdown between the markers: the figures, where the time goes, and the floor on this machine."""
    m, cpu, floor, stages = r["machine"], r["cpu"], r["floor"], r["stages"]
    created, existing, invalid, repeated = r["counts"]
    per_row = 1e6 / max(created, 1)  # µs per created row
    goal_time = "met" if r["ratio"] <= 3 else "not met"
    goal_memory = "met" if max(r["rss_self"], r["rss_children"]) <= 1024 else "not met"
    goal_lookup = "met" if r["p99"] < 5 else "not met"
    cores = m["cores"]
    budget = 3 * r["copy"]
    python_us = sum(stages.values())
    python_seconds = python_us * r["rows"] / 1e6
    bare, indexed, schema, bulk = floor["bare"], floor["indexed"], floor["schema"], floor["bulk"]
    both_seconds = (python_seconds + schema[1]) / cores
    critical = max(cpu["main"], cpu["backend"])
    others = max(0.0, cpu["machine"] - cpu["stolen"] - cpu["main"] - cpu["workers"] - cpu["backend"])
    stage_rows = "\n".join(f"| {name} | {value:.1f} µs |" for name, value in stages.items())
    worker_rss = f"{r['rss_children']:.0f} MiB" if r["processes"] > 1 else "none (prepared in the importing process)"
    run_cpu = cpu["main"] + cpu["workers"] + cpu["backend"]
    copies = ", ".join(f"{c:.1f}" for c in r["copies"]) + " s"

    def against(seconds: float) -> str:
        return f"{seconds:.1f} s | {seconds / budget:.1f}×"

    return f"""{MARK_BEGIN}
## Worker import (`bench/import_workers.py`)

{r["rows"]:,} synthetic rows ({r["size_mib"]:.0f} MiB CSV; 2 % invalid, 1 % repeating an earlier NIK), accept-valid
mode, {r["processes"]} worker process(es) for validation and encryption (1 = in the importing process), the database
side in its own thread, chunks of {r["chunk"]:,} rows. Run on {time.strftime("%Y-%m-%d")}.

| measure | result | goal |
|---|---|---|
| raw `COPY` of the CSV into a bare text table (median of {copies}) | {r["copy"]:.1f} s ({r["copy_cpu"]:.1f} s CPU) | floor |
| `import_run` (validate, blind index, dedup, encrypt, `COPY` into `registry_worker`, problems) | {r["run"]:.1f} s ({run_cpu:.1f} s CPU) | |
| ratio `import_run` / `COPY` | **{r["ratio"]:.1f}×** | ≤ 3× ({goal_time}) |
| the same ratio in CPU seconds (less sensitive to what else the machine runs) | {run_cpu / r["copy_cpu"]:.1f}× | |
| `import_create` (SHA-256, content and UTF-8 check, storage, header, row count) | {r["create"]:.1f} s | |
| ratio including `import_create` | {r["total_ratio"]:.1f}× | |
| peak RSS, importing process | {r["rss_self"]:.0f} MiB ({r["rss_before"]:.0f} MiB before the import) | ≤ 1 GiB ({goal_memory}) |
| peak RSS, largest worker process | {worker_rss} | |
| rows created / already registered / invalid / repeated | {created:,} / {existing:,} / {invalid:,} / {repeated:,} | exact |
| NIK lookup through the blind index (HMAC + indexed `SELECT`), {r["lookups"]:,} random NIKs | p50 {r["p50"]:.2f} ms, p99 **{r["p99"]:.2f} ms**, max {r["max"]:.2f} ms | p99 < 5 ms ({goal_lookup}) |
| the same through `selectors.worker_by_nik` (HMAC, scope, one ORM query, no join) | p50 {r["s50"]:.2f} ms, p99 {r["s99"]:.2f} ms, max {r["smax"]:.2f} ms | |

Where the time goes (same run). CPU seconds during `import_run`:

| process | CPU | per created row |
|---|---|---|
| importing process (reading, Python stages, classification; the database thread's share) | {cpu["main"]:.1f} s | {cpu["main"] * per_row:.0f} µs |
| worker processes | {cpu["workers"]:.1f} s | {cpu["workers"] * per_row:.0f} µs |
| its PostgreSQL backend (`COPY`, {floor["indexes"]} secondary indexes, {floor["foreign_keys"]} foreign-key checks, WAL, commits) | {cpu["backend"]:.1f} s | {cpu["backend"] * per_row:.0f} µs |
| other programs on the machine (other users' work) | {others:.1f} s | |
| taken by the virtual machine's host (steal) | {cpu["stolen"]:.1f} s | |
| the machine's capacity ({cores} cores × {r["run"]:.1f} s) | {cores * r["run"]:.1f} s | |

During the run the server wrote {r["wal"]["bytes"] / 2**30:.2f} GiB of WAL ({r["wal"]["bytes"] / max(created, 1):.0f} bytes per
created row) and made {r["wal"]["checkpoints"]} checkpoint(s).

The database alone, taking the {created:,} rows the import wrote, already encrypted (one `COPY`, one commit):

| target | wall | backend CPU |
|---|---|---|
| bare clone of `registry_worker` (primary key only, no index, no foreign key) | {bare[0]:.1f} s ({bare[0] / r["copy"]:.1f}× the raw `COPY`) | {bare[1]:.1f} s |
| clone with the {floor["indexes"]} secondary indexes, no foreign key | {indexed[0]:.1f} s | {indexed[1]:.1f} s |
| `registry_worker` itself (indexes and deferred foreign keys): the schema's floor | {schema[0]:.1f} s | {schema[1]:.1f} s |
| bare clone, then the same indexes and foreign keys built in bulk (owner only, table locked) | {bulk[0]:.1f} s | {bulk[1]:.1f} s |

Python stages, single core, CPU per row (the first {STAGE_SAMPLE:,} rows of the file):

| stage | per row |
|---|---|
{stage_rows}
| **all Python stages** | **{python_us:.1f} µs** |

The floor on this machine, against the goal's budget of 3 × `COPY` = {budget:.1f} s:

| lower bound | seconds | × the budget |
|---|---|---|
| the Python stages alone: {python_us:.1f} µs × {r["rows"]:,} rows ÷ {cores} cores | {against(python_seconds / cores)} |
| the database alone: one import is one connection, so one backend on one core; the schema's floor above | {against(schema[1])} |
| … the same rows into a table without any index or foreign key (bare clone) | {against(bare[1])} |
| … with indexes and foreign keys built in bulk afterwards (owner only) | {against(bulk[1])} |
| Python and database together, perfectly spread over {cores} cores | {against(both_seconds)} |
| this run's critical path: the larger of the importing process and its backend (they overlap) | {against(critical)} |

Machine: {m["cpu"]}, {m["memory"]} RAM, {m["os"]}; Python {m["python"]}, psycopg {m["psycopg"]};
PostgreSQL {m["postgres"]}.

Reproduce: `flock /tmp/bench.lock .venv/bin/python bench/import_workers.py --write` (`--rows 50000` for a quick run).
{MARK_END}"""


def write_docs(r: dict) -> None:
    """Replace only the text between the markers (other benchmarks share the file)."""
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured by the scripts in `bench/`.\n"
    if MARK_BEGIN in text:
        head, rest = text.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1] if MARK_END in rest else ""
        text = head + section(r) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section(r) + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
