"""Benchmark: the monthly contribution cycle on PostgreSQL against a bare ``INSERT … SELECT`` of the same lines.

    flock /tmp/bench.lock .venv/bin/python bench/cycle.py --write                  # 100,000 then 1,000,000 workers
    flock /tmp/bench.lock .venv/bin/python bench/cycle.py --workers 20000          # a quick run
    .venv/bin/python bench/cycle.py --database-url postgres://postgres@127.0.0.1:5432/lk_bench_cycle

For each size, in one process:

1. Drops and creates the database (``--database-url``; its name must contain ``bench``, ``DATABASE_URL`` is not
   read), migrates it and loads the Kemendagri regions from ``../shared/data/wilayah/wilayah.csv`` (read in place).
2. Builds the world set-based (``INSERT … SELECT`` and ``COPY``): ``--workers`` verified workers in real desa codes of
   every province, sorted by region so that each funder's request covers neighbouring villages; one funder and one
   request per ``--per-request`` workers (CSR, APBD, zakat and donations; one request in five with JHT); the rows
   ``sponsorships_commit`` writes (one ``Sponsorship`` per worker, one ``SponsoredMonth`` per worker-month of a
   three-month block from ``--month``, reservation key ``sponsor:{request}:{YYYY-MM}``, amounts from the tariff
   rules of each month) and, through the ledger service, each funder's pool funded and one reservation per request
   and month (``reservation_create``), exactly as a commit leaves them. The agency simulator knows the workers as
   BPU participants with KPJ numbers (its own Luhn-checked numbers), except 1 % never registered (their lines come
   back ``not_registered``) and 0.5 % registered only after the month (``month_before_registration``).
3. Times the floor: the same number of contribution rows, ``INSERT … SELECT`` from the same reserved months, workers
   and sponsorships into a plain table of the contribution line's columns (no index, no constraint). Then the writes
   no cycle that does what the issue asks can avoid, each one bare statement into copies of the real tables with
   their indexes (``required_writes``): the lines, the batch sent to the agency, the agency's answers, and the
   sponsored months marked paid (rolled back).
4. Times ``cycle_run`` for the month, chunks in process (one per province), with the time of every step (bill;
   per chunk submit, the simulator answering, read and post; finish) and of the heaviest SQL statements, and the
   peak resident memory of the process during the run (``VmHWM``, reset just before).
5. Checks: the exact counts of lines confirmed and rejected per reason, the amounts against the reserved months,
   every month paid or rejected, the payable account at 0 and ``ledger verify`` clean; otherwise exits 1.

Goals (issue 5): cycle ≤ 3× the bare insert, growth from 100k to 1M at most 12×, peak memory ≤ 2 GiB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WILAYAH = REPO.parent / "shared" / "data" / "wilayah" / "wilayah.csv"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lk_bench_cycle"
MARK_BEGIN = "<!-- bench:cycle -->"
MARK_END = "<!-- /bench:cycle -->"
BLOCK_MONTHS = 3
INCOMES = (1_000_000, 1_000_000, 1_000_000, 2_000_000, 3_500_000)  # declared incomes, cycled per worker
# Request r's funding source: r % 10 → source (funder kind).
SOURCES = ("csr",) * 5 + ("apbd",) * 2 + ("zakat",) + ("donation",) * 2
FUNDER_KIND = {"csr": "company", "apbd": "local_government", "zakat": "zakat_body", "donation": "individual"}
NOT_REGISTERED_EVERY = 100  # worker i with i % 100 == 0 never registered with the agency
LATE_EVERY = 200  # worker i with i % 200 == 1 registered after the month
WORLD_TABLES = (
    "registry_region",
    "registry_worker",
    "funding_funder",
    "protection_sponsorship",
    "protection_sponsoredmonth",
    "agency_simulatorparticipant",
    "ledger_account",
    "ledger_balance",
    "ledger_journalentry",
    "ledger_leg",
    "ledger_reservation",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--per-request", type=int, default=1000, help="workers per funder request")
    parser.add_argument("--month", default="2026-12")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--write", action="store_true", help="record the figures in docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument(
        "--auto-explain",
        type=int,
        metavar="MS",
        help="log the plan of every cycle statement slower than MS to the PostgreSQL server log (auto_explain)",
    )
    parser.add_argument(
        "--analyze-all",
        action="store_true",
        help="analyse every table before the cycle, the empty cycle tables too (a database analysed before its first "
        "cycle); by default only the tables the world filled, as autovacuum would",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size in this process
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Database -------------------------------------------------------------------------------------------------------


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


def setup_django(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["LINGKARAN_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "lingkaran.config.settings"
    os.environ["LINGKARAN_AGENCY"] = "simulator"
    os.environ.setdefault("LINGKARAN_LOG_LEVEL", "WARNING")
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def run(statement: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(statement: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def vm_hwm_mib() -> float:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def reset_peak() -> bool:
    """Reset the process's peak resident set (``VmHWM``) so that what follows is measured alone (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- The world ------------------------------------------------------------------------------------------------------


def villages() -> list[str]:
    with WILAYAH.open(encoding="utf-8") as handle:
        return [row[0] for row in csv.reader(handle) if row and row[0].count(".") == 3]


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def build_world(workers: int, per_request: int, month: date, log, analyze_all: bool = False) -> dict:
    """Everything ``sponsorships_commit`` would have left for ``workers`` verified workers, set-based."""
    from django.db import transaction

    from lingkaran.core.db import copy_rows
    from lingkaran.core.models import User
    from lingkaran.funding import accounts
    from lingkaran.ledger.services import reservation_create, transfer
    from lingkaran.protection import selectors as tariff_selectors
    from lingkaran.protection.agency.domain.kpj import simulator_kpj
    from lingkaran.protection.agency.models import SimulatorCounter
    from lingkaran.protection.sponsorships import _open_reserved, _reservation_key
    from lingkaran.registry.services import regions_load

    started = time.perf_counter()
    regions_load(WILAYAH)
    log(f"regions loaded in {time.perf_counter() - started:.1f} s")
    user = User.objects.create_user(username="bench", password=None, role="finance", full_name="Bench Finance")
    codes = villages()
    occupations = fetch(
        "SELECT o.code, g.sector FROM registry_occupation o JOIN registry_occupationgroup g ON g.code = o.group_id "
        "ORDER BY o.code"
    )
    months = [add_months(month, k) for k in range(BLOCK_MONTHS)]
    rules = tariff_selectors.tariff_rules(first_month=months[0], last_month=months[-1])
    table = rules.in_force(month).table
    requests = -(-workers // per_request)
    started = time.perf_counter()
    with transaction.atomic():
        run("CREATE TEMP TABLE bench_village (n integer PRIMARY KEY, code text NOT NULL) ON COMMIT DROP")
        copy_rows("bench_village", ("n", "code"), enumerate(codes))
        run("CREATE TEMP TABLE bench_occupation (n integer PRIMARY KEY, code text, sector text) ON COMMIT DROP")
        copy_rows("bench_occupation", ("n", "code", "sector"), ((i, c, s) for i, (c, s) in enumerate(occupations)))
        run("CREATE TEMP TABLE bench_income (n integer PRIMARY KEY, income integer, nominal bigint) ON COMMIT DROP")
        copy_rows(
            "bench_income",
            ("n", "income", "nominal"),
            ((i, v, table.bracket_for(v).nominal) for i, v in enumerate(INCOMES)),
        )
        run(
            "CREATE TEMP TABLE bench_price (income integer, sector text, package text, source text, month date, "
            "amount bigint, PRIMARY KEY (income, sector, package, source, month)) ON COMMIT DROP"
        )
        copy_rows(
            "bench_price",
            ("income", "sector", "package", "source", "month", "amount"),
            (
                (
                    income,
                    sector,
                    package,
                    source,
                    m,
                    rules.amount_due(
                        month=m, declared_income=income, sector=sector, package=package, source=source
                    ).total,
                )
                for income in sorted(set(INCOMES))
                for sector in ("transport", "other")
                for package in ("jkk_jkm", "jkk_jkm_jht")
                for source in sorted(set(SOURCES))
                for m in months
            ),
        )
        # Funders (one per request) and their kinds.
        run(
            """
            INSERT INTO funding_funder (name, kind, region_code, contact_name, contact_email, contact_phone, address,
                                        tax_number, created_at)
            SELECT 'Bench funder ' || r, CASE (CAST(%(sources)s AS text[]))[(r %% 10) + 1]
                       WHEN 'csr' THEN 'company' WHEN 'apbd' THEN 'local_government'
                       WHEN 'zakat' THEN 'zakat_body' ELSE 'individual' END,
                   CASE WHEN (CAST(%(sources)s AS text[]))[(r %% 10) + 1] = 'apbd' THEN '00' ELSE '' END, '', '', '', '', '', now()
            FROM generate_series(0, %(requests)s - 1) r ORDER BY r
            """,
            {"sources": list(SOURCES), "requests": requests},
        )
        # Workers, numbered in region order: request r takes workers r * per_request + 1 … (neighbouring villages).
        run(
            """
            INSERT INTO registry_worker
                (id, nik_encrypted, nik_index, nik_masked, full_name, name_key, birth_date, sex, phone_encrypted,
                 phone_index, phone_masked, address_encrypted, region_code, region_id, declared_income,
                 dtsen_decile, has_disability, is_elderly, is_female_head, on_extreme_poverty_list, zakat_eligible,
                 kpj_number, status, rejection_reason, source, created_at, updated_at, nominated_by_id,
                 occupation_id)
            SELECT ROW_NUMBER() OVER (ORDER BY v.code, g), 'bench', md5('nik:' || g), '************' || (g %% 10000),
                   'Pekerja ' || g, 'pekerja ' || g, DATE '1975-01-01' + (g %% 9000), CASE WHEN g %% 2 = 0 THEN 'F'
                   ELSE 'M' END, '', '', '', '', v.code, v.code, i.income, 1 + g %% 10, false, false, false, false,
                   g %% 3 = 0, '', 'verified', '', 'import', now(), now(), %(user)s, o.code
            FROM generate_series(1, %(workers)s) g
            JOIN bench_village v ON v.n = (CAST(g AS bigint) * 7919 + g / 7) %% %(villages)s
            JOIN bench_occupation o ON o.n = g %% %(occupations)s
            JOIN bench_income i ON i.n = g %% %(incomes)s
            """,
            {
                "workers": workers,
                "villages": len(codes),
                "occupations": len(occupations),
                "incomes": len(INCOMES),
                "user": user.pk,
            },
        )
        run("SELECT setval(pg_get_serial_sequence('registry_worker', 'id'), %s)", [workers])
        log(f"{workers:,} workers in {time.perf_counter() - started:.1f} s")
        # The simulator's participants (KPJ numbers of its own series), then the workers' KPJ numbers.
        registered = [i for i in range(1, workers + 1) if i % NOT_REGISTERED_EVERY]
        run("CREATE TEMP TABLE bench_kpj (worker_id bigint PRIMARY KEY, seq bigint, kpj text) ON COMMIT DROP")
        copy_rows(
            "bench_kpj",
            ("worker_id", "seq", "kpj"),
            ((wid, seq, simulator_kpj(seq)) for seq, wid in enumerate(registered, start=1)),
        )
        run(
            """
            INSERT INTO agency_simulatorparticipant
                (kpj_number, nik_index, sequence, segment, registered_month, income_nominal, with_jht, sector,
                 created_at)
            SELECT k.kpj, w.nik_index, k.seq, 'BPU',
                   CASE WHEN w.id %% %(late)s = 1 THEN %(late_month)s ELSE DATE '2026-01-01' END,
                   i.nominal, ((w.id - 1) / %(per)s) %% 5 = 0, o.sector, now()
            FROM bench_kpj k
            JOIN registry_worker w ON w.id = k.worker_id
            JOIN (SELECT DISTINCT income, nominal FROM bench_income) i ON i.income = w.declared_income
            JOIN bench_occupation o ON o.code = w.occupation_id
            ORDER BY k.seq
            """,
            {"late": LATE_EVERY, "late_month": add_months(month, 1), "per": per_request},
        )
        run("UPDATE registry_worker w SET kpj_number = k.kpj FROM bench_kpj k WHERE k.worker_id = w.id")
        SimulatorCounter.objects.update_or_create(pk=1, defaults={"last_sequence": len(registered)})
        log(f"agency participants in {time.perf_counter() - started:.1f} s")
        # Requests: funder, source, package; then the rows sponsorships_commit writes.
        run(
            """
            CREATE TEMP TABLE bench_request ON COMMIT DROP AS
            SELECT r, f.id AS funder_id, (CAST(%(sources)s AS text[]))[(r %% 10) + 1] AS source,
                   CASE WHEN r %% 5 = 0 THEN 'jkk_jkm_jht' ELSE 'jkk_jkm' END AS package,
                   'liability:pool:funder:' || f.id AS pool, 'bench:' || lpad(r::text, 6, '0') AS request_key
            FROM generate_series(0, %(requests)s - 1) r
            JOIN funding_funder f ON f.name = 'Bench funder ' || r
            """,
            {"sources": list(SOURCES), "requests": requests},
        )
        price_of = """
            (SELECT SUM(p.amount) FROM bench_price p WHERE p.income = w.declared_income AND p.sector = o.sector
               AND p.package = q.package AND p.source = q.source)"""
        run(
            f"""
            INSERT INTO protection_sponsorship
                (worker_id, kind, source, funder_id, agreement_id, campaign_id, pool, package, start_month, months,
                 total, request_key, run_id, state, created_by_id, created_at)
            SELECT w.id, 'directed', q.source, q.funder_id, NULL, NULL, q.pool, q.package, %(month)s, %(months)s,
                   {price_of}, q.request_key, NULL, 'active', %(user)s, now()
            FROM registry_worker w
            JOIN bench_occupation o ON o.code = w.occupation_id
            JOIN bench_request q ON q.r = (w.id - 1) / %(per)s
            ORDER BY w.id
            """,
            {"month": month, "months": BLOCK_MONTHS, "user": user.pk, "per": per_request},
        )
        run(
            """
            INSERT INTO protection_sponsoredmonth (worker_id, month, sponsorship_id, amount, reservation_key, state)
            SELECT s.worker_id, p.month, s.id, p.amount, 'sponsor:' || s.request_key || ':' || to_char(p.month, 'YYYY-MM'),
                   'reserved'
            FROM protection_sponsorship s
            JOIN registry_worker w ON w.id = s.worker_id
            JOIN bench_occupation o ON o.code = w.occupation_id
            JOIN bench_price p ON p.income = w.declared_income AND p.sector = o.sector AND p.package = s.package
                              AND p.source = s.source
            ORDER BY s.id, p.month
            """
        )
        log(f"sponsorships and sponsored months in {time.perf_counter() - started:.1f} s")
        per_month = fetch(
            """
            SELECT q.request_key, q.pool, q.funder_id, m.month, SUM(m.amount)
            FROM protection_sponsoredmonth m
            JOIN protection_sponsorship s ON s.id = m.sponsorship_id
            JOIN bench_request q ON q.request_key = s.request_key
            GROUP BY q.request_key, q.pool, q.funder_id, m.month ORDER BY q.request_key, m.month
            """
        )
    # Through the ledger, as a commit does: each pool funded, one reservation per request and month.
    started = time.perf_counter()
    bank = accounts.open_bank()
    needed: dict[tuple[str, int], int] = defaultdict(int)
    for _key, pool, funder_id, _m, amount in per_month:
        needed[(pool, funder_id)] += int(amount)
    for (pool, funder_id), amount in sorted(needed.items()):
        accounts.open_pool(target="funder", funder_id=funder_id)
        transfer(key=f"bench:fund:{funder_id}", source=bank, target=pool, amount=amount, effective_on=month)
    held = {}
    for request_key, pool, _funder_id, m, amount in per_month:
        if pool not in held:
            held[pool] = _open_reserved(pool)
        reservation_create(
            key=_reservation_key(request_key, m),
            pool=pool,
            held_in=held[pool],
            amount=int(amount),
            effective_on=month,
            description=f"directed {request_key} {m:%Y-%m}",
            metadata={"request": request_key, "month": f"{m:%Y-%m}", "workers": per_request},
        )
    log(f"{len(needed):,} pools funded and {len(per_month):,} reservations in {time.perf_counter() - started:.1f} s")
    # Statistics for the tables the world filled, as autovacuum would gather after such loads. The cycle's own
    # tables stay as a new installation has them before its first cycle: empty and never analysed.
    for table in () if analyze_all else WORLD_TABLES:
        run(f"VACUUM ANALYZE {table}")
    if analyze_all:
        run("VACUUM ANALYZE")
    return {"requests": requests, "reservations": len(per_month)}


# --- Statement timing -----------------------------------------------------------------------------------------------


class StatementClock:
    """A Django execute wrapper: wall time per SQL statement shape (literals and numbers folded)."""

    def __init__(self):
        self.totals: dict[str, list] = defaultdict(lambda: [0, 0.0])

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = re.sub(r"\s+", " ", sql).strip()
            shape = re.sub(r"'[^']*'", "'…'", shape)
            shape = re.sub(r"\b\d+\b", "N", shape)
            entry = self.totals[shape[:160]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    def top(self, count: int = 20) -> list[tuple[str, int, float]]:
        rows = sorted(self.totals.items(), key=lambda item: -item[1][1])[:count]
        return [(shape, n, seconds) for shape, (n, seconds) in rows]


# --- One size -------------------------------------------------------------------------------------------------------


def floor(month: date) -> tuple[float, int]:
    from django.db import transaction

    run("DROP TABLE IF EXISTS bench_line")
    run("CREATE TABLE bench_line (LIKE protection_contributionline)")
    started = time.perf_counter()
    with transaction.atomic():
        rows = run(
            """
            INSERT INTO bench_line
                (id, cycle_id, chunk_id, worker_id, month, amount, kind, funding_source, sponsorship_id,
                 sponsored_month_id, pool, reservation_key, state, reason, reason_text, agency_reference)
            SELECT m.id, 1, CAST(SUBSTR(w.region_code, 1, 2) AS bigint), m.worker_id, m.month, m.amount, 'sponsored',
                   s.source, s.id, m.id, s.pool, m.reservation_key, 'due', '', '', ''
            FROM protection_sponsoredmonth m
            JOIN registry_worker w ON w.id = m.worker_id
            JOIN protection_sponsorship s ON s.id = m.sponsorship_id
            WHERE m.month = %s AND m.state = 'reserved'
            """,
            [month],
        )
    elapsed = time.perf_counter() - started
    run("DROP TABLE bench_line")
    return elapsed, rows


def required_writes(month: date) -> dict[str, float]:
    """The writes any cycle doing what issue 5 asks cannot avoid, each as one bare statement into copies of the real
    tables with their indexes and constraints (``LIKE … INCLUDING ALL``; no triggers, no foreign keys), timed:

    * ``lines``: a line per worker-month, into the line table with the unique index that keeps one line per
      worker-month (the issue's "never two funders on the same worker-month", by a database constraint);
    * ``batch``: the payment batch sent to the agency, a row per line (what the adapter submits);
    * ``outcomes``: the agency's answer per line;
    * ``months``: coverage, each sponsored worker-month marked paid (an UPDATE of the real table, rolled back).
    """
    from django.db import transaction

    copies = {
        "bench_req_line": "protection_contributionline",
        "bench_req_submitted": "agency_submittedline",
        "bench_req_outcome": "agency_lineoutcome",
    }
    for copy, table in copies.items():
        run(f"DROP TABLE IF EXISTS {copy}")
        run(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
    timings: dict[str, float] = {}

    def timed(name: str, statement: str, params=None) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            run(statement, params)
        timings[name] = time.perf_counter() - started

    timed(
        "lines",
        """
        INSERT INTO bench_req_line
            (id, cycle_id, chunk_id, worker_id, month, amount, kind, funding_source, sponsorship_id,
             sponsored_month_id, cofunding_id, pool, reservation_key, state, reason, reason_text, agency_reference)
        SELECT m.id, 1, CAST(SUBSTR(w.region_code, 1, 2) AS bigint), m.worker_id, m.month, m.amount, 'sponsored',
               s.source, s.id, m.id, NULL, s.pool, m.reservation_key, 'due', '', '', ''
        FROM protection_sponsoredmonth m
        JOIN registry_worker w ON w.id = m.worker_id
        JOIN protection_sponsorship s ON s.id = m.sponsorship_id
        WHERE m.month = %s AND m.state = 'reserved'
        """,
        [month],
    )
    timed(
        "batch",
        """
        INSERT INTO bench_req_submitted (id, batch_id, line_id, nik_index, kpj_number, month, amount, government_funded)
        SELECT c.id, c.chunk_id, c.id, w.nik_index, w.kpj_number, c.month, c.amount, c.funding_source = 'apbd'
        FROM bench_req_line c JOIN registry_worker w ON w.id = c.worker_id
        """,
    )
    columns = [
        row[0]
        for row in fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'agency_lineoutcome' "
            "ORDER BY ordinal_position"
        )
    ]
    values = {
        "submitted_id": "l.id",
        "batch_id": "l.batch_id",
        "result": "'accepted'",
        "reason": "''",
        "reason_text": "''",
        "kpj_number": "l.kpj_number",
        "agency_amount": "l.amount",
        "agency_reference": "'BPJS-' || l.id",
        "file_import_id": "NULL",
        "decided_at": "now()",
    }
    unknown = [name for name in columns if name not in values]
    if unknown:
        raise SystemExit(f"bench: agency_lineoutcome has columns this floor does not fill: {unknown}")
    timed(
        "outcomes",
        f"INSERT INTO bench_req_outcome ({', '.join(columns)}) "
        f"SELECT {', '.join(values[name] for name in columns)} FROM bench_req_submitted l",
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            run(
                "UPDATE protection_sponsoredmonth SET state = 'paid' WHERE month = %s AND state = 'reserved'",
                [month],
            )
            timings["months"] = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    for copy in copies:
        run(f"DROP TABLE {copy}")
    return timings


class _RollBack(Exception):
    """Leaves the timed UPDATE of the real sponsored months undone."""


def measure(
    workers: int,
    per_request: int,
    month: date,
    url: str,
    log,
    auto_explain: int | None = None,
    analyze_all: bool = False,
) -> dict:
    from django.db import connection

    from lingkaran.ledger.selectors import balance_of, verify
    from lingkaran.protection import cycle as cycle_services
    from lingkaran.protection.agency import simulator
    from lingkaran.protection.domain import cycle as rules
    from lingkaran.protection.models import ContributionLine

    started = time.perf_counter()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    world = build_world(workers, per_request, month, log, analyze_all)
    built = time.perf_counter() - started
    expected_not_registered = workers // NOT_REGISTERED_EVERY
    expected_late = sum(1 for i in range(1, workers + 1) if i % LATE_EVERY == 1 and i % NOT_REGISTERED_EVERY)
    reserved_total = fetch(
        "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM protection_sponsoredmonth WHERE month = %s", [month]
    )[0]

    floor_seconds, floor_rows = floor(month)
    log(f"floor: {floor_rows:,} rows INSERT … SELECT in {floor_seconds:.2f} s")
    required = required_writes(month)
    log(f"required writes, bare: {required} ({sum(required.values()) / floor_seconds:.2f}× the floor)")

    # The cycle, in process, with the time of every step.
    steps: dict[str, float] = defaultdict(float)
    answering = [0.0]
    original = simulator.SimulatorAdapter.submit_payments

    def timed_submit(self, batch, *, now):
        begun = time.perf_counter()
        try:
            return original(self, batch, now=now)
        finally:
            answering[0] += time.perf_counter() - begun

    simulator.SimulatorAdapter.submit_payments = timed_submit
    mark = [time.perf_counter()]

    def after_step(name: str) -> None:
        now = time.perf_counter()
        steps[name] += now - mark[0]
        mark[0] = now

    if auto_explain is not None:
        run("LOAD 'auto_explain'")
        run("SELECT set_config('auto_explain.log_min_duration', %s, false)", [str(auto_explain)])
        run("SET auto_explain.log_nested_statements = on")
    clock = StatementClock()
    peak_reset = reset_peak()
    rss_before = vm_hwm_mib()
    started = time.perf_counter()
    mark[0] = started
    with connection.execute_wrapper(clock):
        summary = cycle_services.cycle_run(
            month=month, today=date(month.year, month.month, 3), tasks=False, after_step=after_step
        )
    elapsed = time.perf_counter() - started
    steps["summary"] += time.perf_counter() - mark[0]
    peak = vm_hwm_mib()
    simulator.SimulatorAdapter.submit_payments = original
    steps["submit"] -= answering[0]
    steps["answer"] = answering[0]
    log(f"cycle: {summary.lines:,} lines in {elapsed:.1f} s ({elapsed / floor_seconds:.2f}× the floor)")

    started = time.perf_counter()
    report = verify()
    verify_seconds = time.perf_counter() - started
    states = dict(
        fetch("SELECT state, COUNT(*) FROM protection_sponsoredmonth WHERE month = %s GROUP BY state", [month])
    )
    problems = []
    expected_rejected = expected_not_registered + expected_late
    if summary.state != "done":
        problems.append(f"cycle state {summary.state}")
    if summary.lines != workers or reserved_total[0] != workers or floor_rows != workers:
        problems.append(f"lines {summary.lines}, reserved {reserved_total[0]}, floor {floor_rows}")
    if summary.confirmed != workers - expected_rejected or summary.rejected != expected_rejected:
        problems.append(f"confirmed {summary.confirmed}, rejected {summary.rejected}")
    wanted_reasons = {"not_registered": expected_not_registered, "month_before_registration": expected_late}
    if summary.reasons != {k: v for k, v in wanted_reasons.items() if v}:
        problems.append(f"reasons {summary.reasons}")
    if summary.total != reserved_total[1] or summary.confirmed_amount + summary.rejected_amount != summary.total:
        problems.append(f"amounts {summary.total} vs reserved {reserved_total[1]}")
    if states != {k: v for k, v in {"paid": summary.confirmed, "rejected": summary.rejected}.items() if v}:
        problems.append(f"months {states}")
    if balance_of(rules.PAYABLE) != 0:
        problems.append(f"payable {balance_of(rules.PAYABLE)}")
    if not report.clean:
        problems.append(f"ledger verify: {report}")
    confirmed_lines = ContributionLine.objects.filter(month=month, state="confirmed").count()
    if confirmed_lines != summary.confirmed:
        problems.append("confirmed lines")
    chunks = len(summary.chunks)
    return {
        "workers": workers,
        "requests": world["requests"],
        "reservations": world["reservations"],
        "chunks": chunks,
        "built": built,
        "floor": floor_seconds,
        "required": required,
        "cycle": elapsed,
        "steps": dict(steps),
        "peak_mib": peak,
        "peak_reset": peak_reset,
        "rss_before_mib": rss_before,
        "confirmed": summary.confirmed,
        "rejected": summary.rejected,
        "reasons": summary.reasons,
        "total": summary.total,
        "confirmed_amount": summary.confirmed_amount,
        "rejected_amount": summary.rejected_amount,
        "verify_seconds": verify_seconds,
        "entries": report.entries,
        "clean": report.clean,
        "statements": clock.top(),
        "problems": problems,
    }


def one(args) -> int:
    url = args.database_url
    month = date.fromisoformat(args.month + "-01")

    def log(text: str) -> None:
        print(f"[{args.one:,}] {text}", file=sys.stderr, flush=True)

    recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="lk-bench-cycle-") as var_dir:
        setup_django(url, Path(var_dir))
        result = measure(args.one, args.per_request, month, url, log, args.auto_explain, args.analyze_all)
        for shape, count, seconds in result["statements"]:
            log(f"{seconds:8.2f} s {count:6,} × {shape[:150]}")
        from django.db import connection

        connection.close()
    if not args.keep:
        drop_database(url)
    Path(args.out).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 1 if result["problems"] else 0


# --- The report -----------------------------------------------------------------------------------------------------

STEP_NAMES = (
    ("bill", "bill: lines and chunks (`INSERT … SELECT`)"),
    ("submit", "submit: batches filled and checked (without the answers)"),
    ("answer", "the simulator answering the batches"),
    ("read", "read: outcomes onto lines and months"),
    ("post", "post: the ledger per pool and reservation"),
    ("finish", "finish: the cycle's totals"),
    ("summary", "the summary printed by the command"),
)


REQUIRED_NAMES = (
    ("lines", "the lines, into the line table with its indexes (one line per worker-month)"),
    ("batch", "the payment batch to the agency, a row per line"),
    ("outcomes", "the agency's answer per line"),
    ("months", "coverage: every sponsored worker-month marked paid (`UPDATE`)"),
)


def section(results: list[dict], month: str) -> str:
    def fmt(seconds: float) -> str:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"

    sizes = [r["workers"] for r in results]
    header = " | ".join(f"{n:,} workers" for n in sizes)
    lines = [
        MARK_BEGIN,
        "## Monthly contribution cycle (`bench/cycle.py`)",
        "",
        f"The cycle of {month} (`cycle_run`, chunks in process, the simulator as agency) for every size, each in a "
        "fresh database: verified workers in real desa codes of every province, one funder request per 1,000 "
        "workers (CSR, APBD, zakat, donations; one in five with JHT), three-month blocks reserved through the ledger "
        "as `sponsorships_commit` leaves them; 1 % of the workers never registered with the agency and 0.5 % "
        f"registered after the month. Run on {date.today().isoformat()}.",
        "",
        f"| measure | {header} | goal |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]

    def row(label: str, values: list[str], goal: str = "") -> None:
        lines.append(f"| {label} | " + " | ".join(values) + f" | {goal} |")

    row("floor: bare `INSERT … SELECT` of the lines", [fmt(r["floor"]) for r in results])
    row(
        "**`cycle_run`** (bill, every chunk, finish)",
        [f"**{fmt(r['cycle'])}**" for r in results],
    )
    row(
        "cycle ÷ floor",
        [f"**{r['cycle'] / r['floor']:.1f}×**" for r in results],
        "≤ 3× (" + ", ".join("met" if r["cycle"] <= 3 * r["floor"] else "not met" for r in results) + ")",
    )
    if all("required" in r for r in results):
        for key, label in REQUIRED_NAMES:
            row(f"required, bare: {label}", [fmt(r["required"][key]) for r in results])
        row(
            "**required writes together ÷ floor**",
            [f"**{sum(r['required'].values()) / r['floor']:.1f}×**" for r in results],
        )
        row(
            "cycle ÷ required writes together",
            [f"{r['cycle'] / sum(r['required'].values()):.1f}×" for r in results],
        )
    for key, label in STEP_NAMES:
        row(
            f"— {label}",
            [f"{fmt(r['steps'].get(key, 0.0))} ({r['steps'].get(key, 0.0) / r['cycle']:.0%})" for r in results],
        )
    row(
        "chunks (provinces) / reservations posted",
        [f"{r['chunks']} / {r['reservations'] // BLOCK_MONTHS:,}" for r in results],
    )
    row("lines confirmed / rejected", [f"{r['confirmed']:,} / {r['rejected']:,}" for r in results])
    row("rejected by reason", [", ".join(f"{k} {v:,}" for k, v in sorted(r["reasons"].items())) for r in results])
    row("amount billed / confirmed (Rp)", [f"{r['total']:,} / {r['confirmed_amount']:,}" for r in results])
    row(
        "`ledger verify` afterwards",
        [
            f"clean ({r['entries']:,} entries, {fmt(r['verify_seconds'])})" if r["clean"] else "NOT clean"
            for r in results
        ],
        "clean",
    )
    row(
        "peak RSS during the cycle",
        [f"{r['peak_mib']:,.0f} MiB" for r in results],
        "≤ 2 GiB (" + ", ".join("met" if r["peak_mib"] <= 2048 else "not met" for r in results) + ")",
    )
    row("building the world (not measured)", [fmt(r["built"]) for r in results])
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large["cycle"] / small["cycle"]
        floor_growth = large["floor"] / small["floor"]
        lines += [
            "",
            f"Growth from {small['workers']:,} to {large['workers']:,} workers: the cycle **{growth:.1f}×** "
            f"(goal ≤ 12×: {'met' if growth <= 12 else 'not met'}), the floor {floor_growth:.1f}×.",
        ]
    largest = results[-1]
    lines += [
        "",
        f"Heaviest statements at {largest['workers']:,} workers (wall time in the benchmark process, all calls):",
        "",
        "| statement (shape) | calls | time |",
        "|---|---|---|",
    ]
    for shape, count, seconds in largest["statements"][:6]:
        text = shape[:110].replace("|", "\\|")
        lines.append(f"| `{text}…` | {count:,} | {fmt(seconds)} |")
    cpu = platform.processor() or platform.machine()
    lines += [
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, PostgreSQL on the same host, Python {platform.python_version()}. "
        "Peak RSS is the benchmark process's `VmHWM`, reset just before `cycle_run` (the PostgreSQL backend's memory "
        "is not in it). Checked in the same run: exact counts per reason, amounts equal to the reserved months, every "
        "month paid or rejected, the payable account back to 0, `ledger verify` clean.",
        "",
        "Reproduce: `flock /tmp/bench.lock .venv/bin/python bench/cycle.py --write`.",
        MARK_END,
    ]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = REPO / "docs" / "benchmarks.md"
    current = doc.read_text(encoding="utf-8")
    if MARK_BEGIN in current:
        head, rest = current.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1]
        current = head + text + tail
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    doc.write_text(current, encoding="utf-8")


def main(argv=None) -> int:
    args = parse_args(argv)
    if "bench" not in database_name(args.database_url):
        print("the benchmark database's name must contain 'bench'", file=sys.stderr)
        return 2
    if args.one:
        return one(args)
    results = []
    failed = False
    for workers in args.workers:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            # Each size in its own process: a fresh database, Django and peak memory.
            code = subprocess.call(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    str(workers),
                    "--out",
                    out.name,
                    "--per-request",
                    str(args.per_request),
                    "--month",
                    args.month,
                    "--database-url",
                    args.database_url,
                ]
                + (["--keep"] if args.keep else [])
                + (["--analyze-all"] if args.analyze_all else [])
                + (["--auto-explain", str(args.auto_explain)] if args.auto_explain is not None else [])
            )
            text = Path(out.name).read_text(encoding="utf-8")
        if not text:
            print(f"the run of {workers:,} workers failed (exit {code})", file=sys.stderr)
            return 1
        result = json.loads(text)
        if result["problems"]:
            print(f"FAIL at {workers:,} workers: {result['problems']}", file=sys.stderr)
            failed = True
        results.append(result)
    text = section(results, args.month)
    print(text)
    if args.write and not failed:
        write_docs(text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
