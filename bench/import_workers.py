"""Benchmark: import 1,000,000 synthetic workers into PostgreSQL against a raw ``COPY`` of the same file.

    .venv/bin/python bench/import_workers.py                 # 1,000,000 rows (about 10 minutes on 2 cores)
    .venv/bin/python bench/import_workers.py --rows 50000    # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lingkaran_bench .venv/bin/python bench/import_workers.py

What it does, in one process:

1. Creates the database when missing, migrates it, loads the Kemendagri regions from ``../shared/data/wilayah/
   wilayah.csv`` (read in place, never copied into the repository) and empties the worker tables.
2. Writes ``--rows`` synthetic rows (valid NIKs for real kecamatan codes, desa codes of that kecamatan; 2 % invalid,
   1 % repeating an earlier NIK) as a CSV into a temporary directory.
3. Times the floor: ``COPY`` of that CSV into a bare table with the same columns as text, no index.
4. Times ``import_create`` (hash, content check, storage, header, row count) and ``import_run`` (validation, blind
   index, dedup by NIK within the file and against the database, AES-GCM encryption, ``COPY`` into the worker table
   with all its indexes, row-level problems), accept-valid mode, with ``--processes`` worker processes.
5. Checks the counts, then times 1,000 NIK lookups through the blind index (``selectors.worker_by_nik``).
6. Prints the figures and, with ``--write``, records them in ``docs/benchmarks.md``.

Goals (issue 3): import ≤ 3× the COPY time, peak memory ≤ 1 GiB, NIK lookup p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for validation and encryption")
    parser.add_argument("--chunk", type=int, default=None, help="rows per chunk (default: importing.CHUNK_ROWS)")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV (its path is printed)")
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


def raw_copy(path: Path) -> tuple[float, int]:
    """The floor: the same CSV into a bare table of text columns, no index, one COPY."""
    from django.db import connection

    from lingkaran.registry.domain.sample_rows import HEADER

    columns = ", ".join(f'"{name}" text' for name in HEADER)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_workers")
        cursor.execute(f"CREATE TABLE bench_raw_workers ({columns})")
    started = time.perf_counter()
    statement = "COPY bench_raw_workers FROM STDIN WITH (FORMAT csv, HEADER true)"
    with connection.cursor() as cursor, path.open("rb") as handle, cursor.cursor.copy(statement) as copy:
        while block := handle.read(1 << 20):
            copy.write(block)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw_workers")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_workers")
    return elapsed, copied


def _copy_in(table: str, columns: str, dump: Path) -> None:
    from django.db import connection

    statement = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, dump.open("rb") as handle, cursor.cursor.copy(statement) as copy:
        while block := handle.read(1 << 20):
            copy.write(block)


def lean_floor(columns: str, dump: Path) -> float:
    """The schema floor with a leaner index set (a proposal, measured on a clone): without the ``varchar_pattern_ops``
    twins that only serve ``LIKE 'x%'`` on columns never searched that way (all but ``region_code``) and without
    ``name_key`` alone (the ``(name_key, birth_date)`` index covers it); foreign keys kept."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_worker_lean")
        cursor.execute("CREATE TABLE bench_worker_lean (LIKE registry_worker INCLUDING ALL)")
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bench_worker_lean'")
        for name, definition in cursor.fetchall():
            pattern_twin = "varchar_pattern_ops" in definition and "(region_code " not in definition
            if pattern_twin or definition.endswith("(name_key)"):
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'registry_worker'::regclass AND contype = 'f'"
        )
        for name, definition in cursor.fetchall():
            definition = definition.replace("registry_worker(id)", "bench_worker_lean(id)")
            cursor.execute(f'ALTER TABLE bench_worker_lean ADD CONSTRAINT "lean_{name[:50]}" {definition}')
    started = time.perf_counter()
    with transaction.atomic():
        _copy_in("bench_worker_lean", columns, dump)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_worker_lean")
    return elapsed


def schema_floor(workdir: Path) -> tuple[float, float, float]:
    """The same rows, already validated and encrypted, COPYed back into ``registry_worker`` (its indexes and its
    deferred foreign-key checks included): what the database alone needs for this schema. And, for comparison, into
    a clone with the same indexes but no foreign keys."""
    from django.db import connection, transaction

    from lingkaran.registry.importing import WORKER_COLUMNS

    dump = workdir / "workers.copy"
    columns = ", ".join(WORKER_COLUMNS)
    statement = f"COPY (SELECT {columns} FROM registry_worker) TO STDOUT"
    with connection.cursor() as cursor, dump.open("wb") as handle, cursor.cursor.copy(statement) as copy:
        for block in copy:
            handle.write(block)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_worker_clone")
        cursor.execute("CREATE TABLE bench_worker_clone (LIKE registry_worker INCLUDING ALL)")
    started = time.perf_counter()
    _copy_in("bench_worker_clone", columns, dump)
    clone_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_worker_clone")
    lean_seconds = lean_floor(columns, dump)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_worker CASCADE")
    started = time.perf_counter()
    with transaction.atomic():
        _copy_in("registry_worker", columns, dump)
    floor_seconds = time.perf_counter() - started  # with the commit, where the deferred foreign keys are checked
    dump.unlink()
    return floor_seconds, clone_seconds, lean_seconds


def lookups(niks: list[str], count: int, seed: int) -> tuple[list[float], list[float]]:
    """Milliseconds per lookup of a random NIK: (1) the blind index alone — HMAC, then ``SELECT id … WHERE nik_index
    = %s``; (2) the page/API path, ``selectors.worker_by_nik`` (scope check, ORM, occupation and region joined)."""
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

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
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
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": f"{server.split()[0]} (shared_buffers {buffers}, synchronous_commit {sync}, same host)",
        "psycopg": psycopg.__version__,
    }


def max_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


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

    copy_seconds, copied = raw_copy(csv_path)
    log(f"COPY into a bare table: {copy_seconds:.2f} s ({copied:,} rows)")
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
        started = time.perf_counter()
        batch = importing.import_run(
            batch_id=batch.pk, progress=progress, find_duplicates=False, processes=args.processes, **kwargs
        )
        run_seconds = time.perf_counter() - started
    rss_self = max_rss_mib(resource.RUSAGE_SELF)
    rss_children = max_rss_mib(resource.RUSAGE_CHILDREN)
    expected = shape(args.rows)
    counts = (batch.created_count, batch.existing_count, batch.invalid_count, batch.duplicate_in_file_count)
    log(f"import_run: {run_seconds:.2f} s, state {batch.state}, created/existing/invalid/repeated = {counts}")
    ok = (
        batch.state == ImportBatch.State.DONE
        and batch.created_count == expected.valid_unique
        and batch.invalid_count == expected.invalid
        and batch.duplicate_in_file_count == expected.duplicates
        and Worker.objects.count() == expected.valid_unique
    )
    if not ok:
        log(f"COUNTS WRONG: expected {expected}")
    floor_seconds, clone_seconds, lean_seconds = schema_floor(workdir)
    log(
        f"COPY of the prepared rows into registry_worker: {floor_seconds:.2f} s "
        f"(into a clone without foreign keys: {clone_seconds:.2f} s; with a leaner index set: {lean_seconds:.2f} s)"
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
        "floor": floor_seconds,
        "clone": clone_seconds,
        "lean": lean_seconds,
        "create": create_seconds,
        "run": run_seconds,
        "ratio": ratio,
        "total_ratio": total_ratio,
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
        csv_path.unlink()
    return 0 if ok else 1


def write_docs(r: dict) -> None:
    m = r["machine"]
    created, existing, invalid, repeated = r["counts"]
    goal_time = "met" if r["ratio"] <= 3 else "not met"
    goal_memory = "met" if max(r["rss_self"], r["rss_children"]) <= 1024 else "not met"
    goal_lookup = "met" if r["p99"] < 5 else "not met"
    section = f"""{MARK_BEGIN}
## Worker import (`bench/import_workers.py`)

{r["rows"]:,} synthetic rows ({r["size_mib"]:.0f} MiB CSV; 2 % invalid, 1 % repeating an earlier NIK), accept-valid
mode, {r["processes"]} worker process(es) for validation and encryption, chunks of {r["chunk"]:,} rows. Run on
{time.strftime("%Y-%m-%d")}.

| measure | result | goal |
|---|---|---|
| raw `COPY` of the CSV into a bare text table | {r["copy"]:.1f} s | floor |
| `import_run` (validate, blind index, dedup, encrypt, `COPY` into `registry_worker`, problems) | {r["run"]:.1f} s | |
| ratio `import_run` / `COPY` | **{r["ratio"]:.1f}×** | ≤ 3× ({goal_time}) |
| `COPY` of the same rows, prepared, into `registry_worker` (indexes and deferred foreign keys) | {r["floor"]:.1f} s | the schema's floor |
| … into a clone of `registry_worker` with its indexes, without foreign keys | {r["clone"]:.1f} s | |
| … into a clone without the 7 redundant indexes (foreign keys kept) | {r["lean"]:.1f} s | proposal |
| ratio `import_run` / schema floor | {r["run"] / r["floor"]:.1f}× | |
| `import_create` (SHA-256, content and UTF-8 check, storage, header, row count) | {r["create"]:.1f} s | |
| ratio including `import_create` | {r["total_ratio"]:.1f}× | |
| peak RSS, importing process | {r["rss_self"]:.0f} MiB ({r["rss_before"]:.0f} MiB before the import) | ≤ 1 GiB ({goal_memory}) |
| peak RSS, largest worker process | {r["rss_children"]:.0f} MiB | |
| rows created / already registered / invalid / repeated | {created:,} / {existing:,} / {invalid:,} / {repeated:,} | exact |
| NIK lookup through the blind index (HMAC + indexed `SELECT`), {r["lookups"]:,} random NIKs | p50 {r["p50"]:.2f} ms, p99 **{r["p99"]:.2f} ms**, max {r["max"]:.2f} ms | p99 < 5 ms ({goal_lookup}) |
| the same through `selectors.worker_by_nik` (ORM, scope, occupation and region joined) | p50 {r["s50"]:.2f} ms, p99 {r["s99"]:.2f} ms, max {r["smax"]:.2f} ms | |

Machine: {m["cpu"]}, {m["memory"]} RAM, {m["os"]}; Python {m["python"]}, psycopg {m["psycopg"]};
PostgreSQL {m["postgres"]}.

Reproduce: `.venv/bin/python bench/import_workers.py --write` (`--rows 50000` for a quick run).
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
