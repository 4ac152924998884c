"""Matching an uploaded list's NIKs to workers: one set query through the NIK blind index whatever the number of
rows, only the workers the user may see, and the HMACs equal to the registry's own."""

from __future__ import annotations

import pytest

from lingkaran.core import crypto
from lingkaran.protection.domain.nik_list import MAX_ROWS
from lingkaran.protection.selectors_nik_list import nik_matches
from lingkaran.registry.selectors import PURPOSE_NIK
from tests.factories import UserFactory
from tests.web.test_sponsorship_pages import staff, verified  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_one_query_for_the_whole_list(staff, verified, django_assert_num_queries):  # noqa: F811
    workers = verified(3)
    niks = [f"64090117089{n:05d}" for n in range(1, MAX_ROWS + 1)]  # a list as long as a file may be
    with django_assert_num_queries(1):
        found = nik_matches(staff["finance"], niks)
    assert {nik: r.worker_id for nik, r in found.items()} == {
        "6409011708900001": workers[0].pk,
        "6409011708900002": workers[1].pk,
        "6409011708900003": workers[2].pk,
    }
    first = found["6409011708900001"]
    assert (first.status, first.nik_masked, first.region_code) == ("verified", workers[0].nik_masked, "64.09.01.2020")
    assert workers[0].nik_index == crypto.blind_index("6409011708900001", purpose=PURPOSE_NIK)
    assert nik_matches(staff["finance"], []) == {}


def test_workers_outside_the_users_scope_are_not_found(staff, verified):  # noqa: F811
    verified(1)
    elsewhere = UserFactory(role="field_agent", regions=["33.74"])
    assert nik_matches(elsewhere, ["6409011708900001"]) == {}
    here = UserFactory(role="field_agent", regions=["64.09"])
    assert list(nik_matches(here, ["6409011708900001"])) == ["6409011708900001"]
