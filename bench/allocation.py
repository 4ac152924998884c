"""Benchmark: the allocation engine over 1,000,000 eligible workers and 1,000 funders' criteria.

    .venv/bin/python bench/allocation.py                         # 1,000,000 workers, 1,000 requests
    .venv/bin/python bench/allocation.py --workers 100000 --requests 100
    .venv/bin/python bench/allocation.py --write                 # record the figures in docs/benchmarks.md

The engine is pure (``protection/domain/allocation.py``): this measures it alone, in one process, on synthetic
candidates placed in real desa codes read in place from ``../shared/data/wilayah/wilayah.csv``. The requests mix
what funders ask for: a province, a kabupaten or a kecamatan; some occupations or a sector; women only; a decile
limit; zakat money (only zakat-eligible workers) and APBD money (only the Pemda's own kabupaten); a number of
workers or a budget, blocks of 3 to 12 months. The price of a block is the lowest-bracket JKK + JKM (or + JHT) of each
month, with the PP 50/2025 halving for sources other than APBN/APBD in the shared window (the tariff rules the
database holds are exercised by the sponsorship tests; here the price function is a plain closure so that the
figure is the engine's).

Goal (issue 5): ≤ 60 s. Also checked: the same inputs shuffled give the same result, and no worker-month is given
twice.
"""

from __future__ import annotations

import argparse
import csv
import platform
import random
import resource
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from lingkaran.protection.domain.allocation import (  # noqa: E402
    Candidate,
    Criteria,
    Request,
    allocate,
    month_add,
)
from lingkaran.protection.domain.tariffs import FundingSource  # noqa: E402

WILAYAH = REPO.parent / "shared" / "data" / "wilayah" / "wilayah.csv"
MARK_BEGIN = "<!-- bench:allocation -->"
MARK_END = "<!-- /bench:allocation -->"
AS_OF = date(2026, 12, 1)
OCCUPATIONS = (
    ("ojek_pangkalan", "transport"),
    ("ojol", "transport"),
    ("kurir", "transport"),
    ("pedagang_kaki_lima", "other"),
    ("nelayan", "other"),
    ("petani", "other"),
    ("pemulung", "other"),
    ("buruh_bangunan", "other"),
)


def villages() -> list[str]:
    with WILAYAH.open(encoding="utf-8") as handle:
        return [row[0] for row in csv.reader(handle) if row and row[0].count(".") == 3]


def make_candidates(count: int, rng: random.Random, codes: list[str]) -> list[Candidate]:
    out = []
    for worker_id in range(1, count + 1):
        occupation, sector = rng.choice(OCCUPATIONS)
        out.append(
            Candidate(
                worker_id=worker_id,
                region_code=rng.choice(codes),
                occupation=occupation,
                sector=sector,
                sex=rng.choice("MF"),
                decile=rng.choice((None, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),
                disability=rng.random() < 0.05,
                elderly=rng.random() < 0.1,
                female_head=rng.random() < 0.08,
                extreme_poverty=rng.random() < 0.1,
                zakat_eligible=rng.random() < 0.3,
                verified_on=date(2025, rng.randint(1, 12), 1),
                income=rng.choice((1_000_000, 1_000_000, 1_500_000, 2_000_000)),
                available_from=AS_OF if rng.random() < 0.9 else month_add(AS_OF, rng.randint(1, 12)),
            )
        )
    return out


def make_requests(count: int, rng: random.Random, codes: list[str]) -> list[Request]:
    provinces = sorted({c[:2] for c in codes})
    regencies = sorted({c[:5] for c in codes})
    districts = sorted({c[:8] for c in codes})
    out = []
    for index in range(count):
        source = rng.choice(
            (FundingSource.CSR, FundingSource.CSR, FundingSource.APBD, FundingSource.ZAKAT, FundingSource.DONATION)
        )
        level = rng.random()
        regions = (
            (rng.choice(provinces),)
            if level < 0.3
            else (rng.choice(regencies),)
            if level < 0.8
            else (rng.choice(districts),)
            if level < 0.9
            else ()
        )
        funder_region = rng.choice(regencies) if source is FundingSource.APBD else None
        criteria = Criteria(
            regions=regions if funder_region is None else (funder_region,),
            occupations=tuple(o for o, _ in rng.sample(OCCUPATIONS, 2)) if rng.random() < 0.3 else (),
            sectors=("transport",) if rng.random() < 0.1 else (),
            sex="F" if rng.random() < 0.1 else None,
            max_decile=rng.choice((None, None, 4, 6)),
        )
        by_budget = rng.random() < 0.3
        months = rng.choice((3, 6, 6, 12))
        out.append(
            Request(
                key=f"r{index:05d}",
                source=source,
                criteria=criteria,
                start=month_add(AS_OF, rng.randint(0, 2)),
                months=months,
                package="jkk_jkm_jht" if rng.random() < 0.2 else "jkk_jkm",
                workers=None if by_budget else rng.randint(50, 2_000),
                budget=rng.randint(1, 300) * 100_000 if by_budget else None,
                funder_region=funder_region,
            )
        )
    return out


def price(candidate: Candidate, request: Request) -> int:
    total = 0
    nominal = 1_000_000 if candidate.income <= 1_000_000 else candidate.income
    for offset in range(request.months):
        month = month_add(request.start, offset)
        jkk, jkm = nominal // 100, 6_800
        if request.source not in (FundingSource.APBN, FundingSource.APBD) and date(2026, 4, 1) <= month <= date(
            2026, 12, 1
        ):
            jkk, jkm = -(-jkk // 2), -(-jkm // 2)
        total += jkk + jkm + (nominal * 2 // 100 if request.package == "jkk_jkm_jht" else 0)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    codes = villages()
    started = time.perf_counter()
    candidates = make_candidates(args.workers, rng, codes)
    requests = make_requests(args.requests, rng, codes)
    built = time.perf_counter() - started
    gaps = {c[:5]: rng.randint(0, 10) for c in codes}

    started = time.perf_counter()
    run = allocate(candidates, requests, as_of=AS_OF, gap_points=gaps, price=price)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    picks = sum(len(o.picks) for o in run.outcomes)
    given: dict[int, list[tuple[date, date]]] = {}
    for outcome in run.outcomes:
        req = outcome.request
        for pick in outcome.picks:
            end = month_add(req.start, req.months)
            for start, until in given.get(pick.worker_id, ()):
                if start < end and req.start < until:
                    print("FAIL: a worker-month was given twice", pick.worker_id, file=sys.stderr)
                    return 1
            given.setdefault(pick.worker_id, []).append((req.start, end))
    shuffled = list(candidates)
    random.Random(1).shuffle(shuffled)
    started = time.perf_counter()
    again = allocate(shuffled, list(reversed(requests)), as_of=AS_OF, gap_points=gaps, price=price)
    elapsed_again = time.perf_counter() - started
    same = again == run
    if not same:
        print("FAIL: the same inputs in another order gave another result", file=sys.stderr)
        return 1

    cpu = platform.processor() or platform.machine()
    lines = [
        MARK_BEGIN,
        "## Allocation engine (`bench/allocation.py`)",
        "",
        f"{args.workers:,} eligible workers in real desa codes, {args.requests:,} funders' requests (province, kabupaten "
        "or kecamatan; occupations, sector, sex, decile limit; zakat and APBD restrictions; counts and budgets; blocks "
        f"of 3–12 months). Run on {date.today().isoformat()}.",
        "",
        "| measure | result | goal |",
        "|---|---|---|",
        f"| `allocate` (score, rank, serve every request) | **{elapsed:.1f} s** | ≤ 60 s "
        f"({'met' if elapsed <= 60 else 'not met'}) |",
        f"| the same inputs shuffled, requests reversed | {elapsed_again:.1f} s, identical result | identical |",
        f"| workers picked / worker-months given twice | {picks:,} / 0 | 0 |",
        f"| building the synthetic inputs (not part of the goal) | {built:.1f} s | |",
        f"| peak RSS | {peak:,.0f} MiB | |",
        "",
        f"Machine: {cpu}, Python {platform.python_version()}, {platform.platform()}. The engine is pure Python in one "
        "process; loading the candidates from PostgreSQL is a separate, set-based query (`sponsorships.candidates`).",
        "",
        "Reproduce: `.venv/bin/python bench/allocation.py --write`.",
        MARK_END,
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = REPO / "docs" / "benchmarks.md"
        current = doc.read_text(encoding="utf-8")
        if MARK_BEGIN in current:
            head, rest = current.split(MARK_BEGIN, 1)
            tail = rest.split(MARK_END, 1)[1]
            current = head + text + tail
        else:
            current = current.rstrip("\n") + "\n\n" + text + "\n"
        doc.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
