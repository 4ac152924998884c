"""The allocation engine: table tests for priority and eligibility, Hypothesis properties for the run."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran.protection.domain.allocation import (
    Candidate,
    Criteria,
    Reason,
    Request,
    allocate,
    explain,
    month_add,
    refusals,
    score_of,
    within,
)
from lingkaran.protection.domain.tariffs import FundingSource

AS_OF = date(2026, 12, 1)
JAN = date(2027, 1, 1)


def worker(worker_id: int, **changes) -> Candidate:
    base = Candidate(
        worker_id=worker_id,
        region_code="32.73.01.1001",
        occupation="ojek",
        sector="transport",
        sex="M",
        decile=5,
        disability=False,
        elderly=False,
        female_head=False,
        extreme_poverty=False,
        zakat_eligible=False,
        verified_on=AS_OF,
        income=1_000_000,
        available_from=JAN,
    )
    return replace(base, **changes)


def request(key: str = "r1", **changes) -> Request:
    base = {
        "key": key,
        "source": FundingSource.CSR,
        "criteria": Criteria(),
        "start": JAN,
        "months": 6,
        "package": "jkk_jkm",
        "workers": 1,
    }
    base.update(changes)
    return Request(**base)


def flat_price(candidate: Candidate, req: Request) -> int:
    return 16_800 * req.months


def run(candidates, requests, gap=None):
    return allocate(candidates, requests, as_of=AS_OF, gap_points=gap or {}, price=flat_price)


@pytest.mark.parametrize(
    ("changes", "verified_on", "gap", "expected"),
    [
        ({}, AS_OF, {}, (6, 0, 0)),
        ({"decile": 1}, AS_OF, {}, (10, 0, 0)),
        ({"decile": 10}, AS_OF, {}, (1, 0, 0)),
        ({"decile": None}, AS_OF, {}, (0, 0, 0)),
        ({"decile": None, "extreme_poverty": True}, AS_OF, {}, (5, 0, 0)),
        ({"decile": None, "disability": True, "female_head": True, "elderly": True}, AS_OF, {}, (8, 0, 0)),
        ({}, date(2026, 9, 15), {}, (6, 3, 0)),
        ({}, date(2024, 1, 1), {}, (6, 12, 0)),  # waiting is capped
        ({}, date(2027, 3, 1), {}, (6, 0, 0)),  # verified after as_of counts as no waiting
        ({}, AS_OF, {"32.73": 7}, (6, 0, 7)),
        ({}, AS_OF, {"32.73": 25}, (6, 0, 10)),  # the gap is capped
        ({}, AS_OF, {"32.01": 7}, (6, 0, 0)),  # another regency's gap does not count
    ],
)
def test_score(changes, verified_on, gap, expected):
    score = score_of(worker(1, verified_on=verified_on, **changes), as_of=AS_OF, gap_points=gap)
    assert (score.vulnerability, score.waiting, score.gap) == expected
    assert score.total == sum(expected)


@pytest.mark.parametrize(
    ("changes", "request_changes", "expected"),
    [
        ({}, {}, []),
        ({}, {"source": FundingSource.ZAKAT}, [Reason.NOT_ZAKAT_ELIGIBLE]),
        ({"zakat_eligible": True}, {"source": FundingSource.ZAKAT}, []),
        ({}, {"source": FundingSource.APBD, "funder_region": "32.01"}, [Reason.OUTSIDE_FUNDER_REGION]),
        ({}, {"source": FundingSource.APBD, "funder_region": "32.73"}, []),
        ({}, {"criteria": Criteria(regions=("32.73.02",))}, [Reason.OUTSIDE_REGIONS]),
        ({}, {"criteria": Criteria(regions=("32.73.0",))}, [Reason.OUTSIDE_REGIONS]),  # a prefix is not an area
        ({}, {"criteria": Criteria(regions=("11", "32"))}, []),
        ({}, {"criteria": Criteria(occupations=("fisher",))}, [Reason.OCCUPATION_NOT_TARGETED]),
        ({}, {"criteria": Criteria(sectors=("other",))}, [Reason.SECTOR_NOT_TARGETED]),
        ({}, {"criteria": Criteria(sex="F")}, [Reason.SEX_NOT_TARGETED]),
        ({}, {"criteria": Criteria(max_decile=4)}, [Reason.DECILE_ABOVE_LIMIT]),
        ({"decile": None}, {"criteria": Criteria(max_decile=4)}, [Reason.DECILE_ABOVE_LIMIT]),
        ({"decile": 4}, {"criteria": Criteria(max_decile=4)}, []),
        ({}, {"criteria": Criteria(indicators=frozenset({"disability"}))}, [Reason.MISSING_INDICATOR]),
        ({"disability": True}, {"criteria": Criteria(indicators=frozenset({"disability"}))}, []),
        ({"available_from": date(2027, 2, 1)}, {}, [Reason.ALREADY_SPONSORED]),
        (
            {"sex": "F"},
            {"source": FundingSource.ZAKAT, "criteria": Criteria(sex="M", occupations=("fisher",))},
            [Reason.NOT_ZAKAT_ELIGIBLE, Reason.OCCUPATION_NOT_TARGETED, Reason.SEX_NOT_TARGETED],
        ),
    ],
)
def test_refusals(changes, request_changes, expected):
    assert refusals(worker(1, **changes), request(**request_changes)) == expected


def test_request_asks_for_workers_or_budget():
    with pytest.raises(ValueError, match="not both"):
        request(workers=None)
    with pytest.raises(ValueError, match="not both"):
        request(workers=3, budget=100_000)
    with pytest.raises(ValueError, match="one month"):
        request(months=0)


def test_priority_order_and_tie_breaks():
    candidates = [
        worker(1, decile=5),
        worker(2, decile=2),  # most vulnerable
        worker(3, decile=5, verified_on=date(2026, 11, 1)),  # 6 + 1 month waiting: ties with 4, waited longer
        worker(4, decile=4),
        worker(5, decile=5),  # ties with 1: the lower id first
    ]
    result = run(candidates, [request(workers=5)])
    assert [p.worker_id for p in result.outcome("r1").picks] == [2, 3, 4, 1, 5]
    assert result.order == (2, 3, 4, 1, 5)


def test_restricted_money_is_served_first_and_never_shares_a_month():
    candidates = [worker(1, zakat_eligible=True, decile=1), worker(2, decile=2), worker(3, zakat_eligible=True)]
    result = run(candidates, [request("a-csr", workers=2), request("z-zakat", source=FundingSource.ZAKAT, workers=2)])
    assert [p.worker_id for p in result.outcome("z-zakat").picks] == [1, 3]
    assert [p.worker_id for p in result.outcome("a-csr").picks] == [2]
    assert result.outcome("a-csr").shortfall == 1


def test_apbd_stays_in_its_region_even_when_criteria_are_wider():
    candidates = [worker(1, region_code="32.01.01.2001", decile=1), worker(2, region_code="32.73.01.1001")]
    result = run(
        candidates,
        [request(source=FundingSource.APBD, funder_region="32.73", criteria=Criteria(regions=("32",)), workers=2)],
    )
    assert [p.worker_id for p in result.outcome("r1").picks] == [2]


def test_budget_mode_takes_whole_blocks_in_priority_order():
    def price(candidate, req):
        return (26_800 if candidate.income >= 2_000_000 else 16_800) * req.months

    candidates = [
        worker(1, decile=1, income=2_000_000),  # 160,800 for 6 months
        worker(2, decile=2),  # 100,800
        worker(3, decile=3),  # 100,800
    ]
    result = allocate(candidates, [request(workers=None, budget=270_000)], as_of=AS_OF, gap_points={}, price=price)
    outcome = result.outcome("r1")
    assert [p.worker_id for p in outcome.picks] == [1, 2]
    assert outcome.spent == 261_600
    assert outcome.shortfall == 8_400
    explanation = explain(result, candidates[2], "r1", as_of=AS_OF, gap_points={}, price=price)
    assert explanation.reasons == (Reason.OVER_BUDGET,)


def test_a_later_block_that_does_not_overlap_may_take_the_same_worker():
    candidates = [worker(1)]
    result = run(
        candidates,
        [request("a", months=6), request("b", start=month_add(JAN, 6), months=6), request("c", months=3)],
    )
    assert result.outcome("a").worker_ids == {1}
    assert result.outcome("b").worker_ids == {1}
    assert result.outcome("c").worker_ids == frozenset()


def test_explanations():
    candidates = [worker(1, decile=1), worker(2, decile=3), worker(3, sex="F", decile=9), worker(4, decile=9)]
    result = run(candidates, [request("a", workers=1), request("b", workers=1, criteria=Criteria(sex="M"))])
    args = {"as_of": AS_OF, "gap_points": {}, "price": flat_price}
    assert explain(result, candidates[0], "a", **args).reasons == (Reason.CHOSEN,)
    assert explain(result, candidates[1], "a", **args).reasons == (Reason.LOWER_PRIORITY,)
    assert explain(result, candidates[0], "b", **args).reasons == (Reason.TAKEN_BY_EARLIER_REQUEST,)
    assert explain(result, candidates[0], "b", **args).taken_by == "a"
    assert explain(result, candidates[2], "b", **args).reasons == (Reason.SEX_NOT_TARGETED,)
    assert explain(result, candidates[3], "b", **args).rank == 4


def test_within():
    assert within("32.73.01.1001", "32")
    assert within("32.73.01.1001", "32.73.01.1001")
    assert not within("32.73.01.1001", "32.7")
    assert not within("32", "32.73")


# --- Properties ---------------------------------------------------------------------------------------------------

REGIONS = ("32.73.01.1001", "32.73.02.2001", "32.01.01.2001", "11.01.01.2001")
candidate_strategy = st.builds(
    Candidate,
    worker_id=st.integers(1, 10_000),
    region_code=st.sampled_from(REGIONS),
    occupation=st.sampled_from(("ojek", "fisher", "vendor")),
    sector=st.sampled_from(("transport", "other")),
    sex=st.sampled_from(("M", "F")),
    decile=st.none() | st.integers(1, 10),
    disability=st.booleans(),
    elderly=st.booleans(),
    female_head=st.booleans(),
    extreme_poverty=st.booleans(),
    zakat_eligible=st.booleans(),
    verified_on=st.dates(date(2025, 1, 1), date(2026, 12, 1)),
    income=st.sampled_from((1_000_000, 2_000_000, 3_500_000)),
    available_from=st.sampled_from((date(2026, 10, 1), JAN, date(2027, 4, 1))),
)
criteria_strategy = st.builds(
    Criteria,
    regions=st.lists(st.sampled_from(("32", "32.73", "32.73.01", "11")), max_size=2).map(tuple),
    occupations=st.lists(st.sampled_from(("ojek", "fisher")), max_size=1).map(tuple),
    sex=st.none() | st.sampled_from(("M", "F")),
    max_decile=st.none() | st.integers(1, 10),
)


@st.composite
def requests_strategy(draw):
    count = draw(st.integers(1, 5))
    out = []
    for index in range(count):
        source = draw(st.sampled_from(list(FundingSource)))
        by_budget = draw(st.booleans())
        out.append(
            Request(
                key=f"r{index}",
                source=source,
                criteria=draw(criteria_strategy),
                start=draw(st.sampled_from((JAN, date(2027, 4, 1)))),
                months=draw(st.integers(1, 12)),
                package="jkk_jkm",
                workers=None if by_budget else draw(st.integers(1, 20)),
                budget=draw(st.integers(16_800, 2_000_000)) if by_budget else None,
                funder_region=draw(st.sampled_from((None, "32.73"))) if source is FundingSource.APBD else None,
            )
        )
    return out


def income_price(candidate: Candidate, req: Request) -> int:
    return candidate.income // 100 * req.months + 6_800 * req.months


@settings(max_examples=150, deadline=None)
@given(st.lists(candidate_strategy, max_size=40, unique_by=lambda c: c.worker_id), requests_strategy(), st.randoms())
def test_run_properties(candidates, requests, rnd):
    gap = {"32.73": 4, "32.01": 9}
    result = allocate(candidates, requests, as_of=AS_OF, gap_points=gap, price=income_price)
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    again = allocate(shuffled, list(reversed(requests)), as_of=AS_OF, gap_points=gap, price=income_price)
    assert result == again  # deterministic, whatever the input order

    by_id = {c.worker_id: c for c in candidates}
    months_taken: dict[tuple[int, date], str] = {}
    for outcome in result.outcomes:
        req = outcome.request
        for pick in outcome.picks:
            assert refusals(by_id[pick.worker_id], req) == []
            assert pick.cost == income_price(by_id[pick.worker_id], req)
            for offset in range(req.months):
                month = month_add(req.start, offset)
                assert (pick.worker_id, month) not in months_taken, "two funders on one worker-month"
                months_taken[(pick.worker_id, month)] = req.key
        assert outcome.spent == sum(p.cost for p in outcome.picks)
        if req.budget is not None:
            assert outcome.spent + outcome.shortfall == req.budget
            assert outcome.spent <= req.budget
        else:
            assert len(outcome.picks) + outcome.shortfall == req.workers
        ranks = [p.rank for p in outcome.picks]
        assert ranks == sorted(ranks), "picks follow the priority order"
        for candidate in candidates:
            reasons = explain(result, candidate, req.key, as_of=AS_OF, gap_points=gap, price=income_price).reasons
            assert (reasons == (Reason.CHOSEN,)) == (candidate.worker_id in outcome.worker_ids)
            if reasons == (Reason.LOWER_PRIORITY,):
                # Passed over for priority only when the request was already full and ranked above this worker.
                assert req.workers is not None
                assert outcome.shortfall == 0
                assert result.order.index(candidate.worker_id) + 1 > ranks[-1]


def test_allocate_rejects_a_worker_listed_twice():
    with pytest.raises(ValueError, match="candidate once"):
        run([worker(1), worker(1)], [request()])


def test_many_requests_over_many_candidates_never_share_a_worker():
    """20,000 candidates and 50 overlapping requests: nobody is given twice."""
    rnd = random.Random(7)
    candidates = [
        worker(i, region_code=rnd.choice(REGIONS), decile=rnd.randint(1, 10), zakat_eligible=rnd.random() < 0.3)
        for i in range(1, 20_001)
    ]
    requests = [
        request(
            f"r{i:02}",
            source=rnd.choice(list(FundingSource)),
            workers=rnd.randint(10, 500),
            criteria=Criteria(regions=(rnd.choice(("32", "32.73", "11")),)),
        )
        for i in range(50)
    ]
    result = run(candidates, requests)
    taken = [p.worker_id for o in result.outcomes for p in o.picks]
    assert len(taken) == len(set(taken))
