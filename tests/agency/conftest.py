"""Fixtures of the agency tests: people in each role, verified workers in the registry, the adapter setting."""

from __future__ import annotations

import pytest
from django.test import override_settings

from lingkaran.registry.services import worker_decide
from tests.registry.helpers import nik_for, register


@pytest.fixture
def people(db, make_user):
    return {role: make_user(role) for role in ("operator", "finance", "auditor", "verifier", "field_agent", "funder")}


@pytest.fixture
def verified_worker(db, region_tree, people):
    """``verified_worker(serial, **fields)``: a worker registered by the operator and verified by the verifier; the
    worker and its NIK."""

    def make(serial: int, **fields):
        worker = register(people["operator"], source="operator", serial=serial, **fields)
        worker_decide(actor=people["verifier"], worker_id=worker.pk, decision="verified", reason="KTP checked")
        worker.refresh_from_db()
        return worker, nik_for(serial=serial)

    return make


@pytest.fixture
def file_exchange():
    """Batches opened inside this fixture use file exchange (``LINGKARAN_AGENCY=file``)."""
    with override_settings(LINGKARAN_AGENCY="file"):
        yield
