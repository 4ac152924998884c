"""A small continuation world: four verified ojek drivers in province 64 registered with the agency (the fourth is
covered as a wage earner, so the agency rejects its lines), a company pool and the bridge fund."""

from __future__ import annotations

from datetime import date

import pytest

from lingkaran.continuation.services import open_bridge_pool
from lingkaran.funding import accounts
from lingkaran.ledger.services import transfer
from lingkaran.protection.agency import services as agency
from lingkaran.protection.agency.services import RegistrationInput
from lingkaran.registry.services import worker_decide
from tests.factories import FunderFactory, UserFactory

APR, MAY, JUN, JUL = date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1), date(2027, 7, 1)
PAY_DAY = date(2027, 4, 3)
MONTHLY = 16_800  # JKK + JKM at Rp 1.000.000 declared income, after every PP 50/2025 window


def fund(pool: str, amount: int, key: str) -> None:
    transfer(key=key, source=accounts.open_bank(), target=pool, amount=amount, effective_on=date(2026, 11, 2))


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(role="operator"),
        "verifier": UserFactory(role="verifier"),
        "finance": UserFactory(role="finance"),
        "auditor": UserFactory(role="auditor"),
        "agent": UserFactory(role="field_agent", regions=["64.09"]),
        "far_agent": UserFactory(role="field_agent", regions=["33.74"]),
    }


@pytest.fixture
def world(people, register_worker, region_tree):
    niks = ["6409011708900001", "6409011708900002", "6409011708900003", "6409011708900004"]
    workers = []
    for nik in niks:
        worker = register_worker(people["operator"], nik=nik)
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        workers.append(worker)
    agency.simulator_wage_earner_add(actor=people["operator"], nik=niks[3], employer="PT Contoh")
    batch = agency.registration_batch_open(key="test:registrations", today=date(2026, 11, 2))
    agency.registration_requests_add(
        batch_id=batch.pk,
        requests=[RegistrationInput(worker_id=w.pk, income_nominal=1_000_000, sector="transport") for w in workers],
    )
    agency.registration_batch_submit(batch_id=batch.pk)
    company = FunderFactory(kind="company")
    pool = accounts.open_pool(target="funder", funder_id=company.pk)
    fund(pool, 1_000_000, "test:fund:company")
    return {"workers": workers, "company": company, "pool": pool, "bridge": open_bridge_pool()}
