"""The reconciliation API: a month's exceptions (with filters and the actions recorded) and an action about one,
through the same service as the reconciliation page: append-only, once per exception and action, refusals as
problem+json with stable codes that write nothing. Money staff read; operators and finance act; auditors only read;
funders and other roles get 403. On the cycles API's world (tests/api/test_cycle_api.py): April 2027 paid, the wage
earner's line rejected."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lingkaran.core.models import AuditEvent
from lingkaran.protection import cycle as cycle_services
from lingkaran.protection.agency.models import MembershipStatus, SimulatorParticipant
from lingkaran.protection.models import ReconciliationAction
from tests.api import test_cycle_api as cycle_api
from tests.api.test_cycle_api import APR, MONTHLY

pytestmark = pytest.mark.django_db
URL = "/api/v1/cycles/2027-04/exceptions"

# The cycles API's world: four workers, the fourth a wage earner the agency refuses; April 2027 paid by a company.
people, world, pay_day = cycle_api.people, cycle_api.world, cycle_api.pay_day


@pytest.fixture
def paid(people, world, pay_day):
    cycle_services.cycle_run(month=APR, actor=people["finance"], today=date(2027, 4, 3))
    first = world["workers"][0]
    participant = SimulatorParticipant.objects.get(nik_index=first.nik_index)
    # The agency, in May, shows nothing paid after March: our confirmed April did not reach the membership.
    MembershipStatus.objects.update_or_create(
        kpj_number=participant.kpj_number,
        defaults={
            "nik_index": first.nik_index,
            "state": "grace",
            "as_of": date(2027, 5, 1),
            "last_paid_month": date(2027, 3, 1),
            "source": "simulator",
        },
    )
    return world


def _post(client, body: dict):
    return client.post(f"{URL}/actions", data=json.dumps(body), content_type="application/json")


def test_staff_read_the_months_exceptions_with_filters(bearer, people, paid):
    client, _token, _plain = bearer(people["auditor"])
    body = json.loads(client.get(URL).content)
    assert body["count"] == 2
    by_kind = {item["kind"]: item for item in body["items"]}
    rejected, inactive = by_kind["rejected"], by_kind["paid_inactive"]
    wage_earner, first = paid["workers"][3], paid["workers"][0]
    assert (rejected["worker_id"], rejected["amount"], rejected["reason"], rejected["state"]) == (
        wage_earner.pk,
        MONTHLY,
        "not_registered",
        "open",
    )
    assert rejected["reason_text"]
    assert rejected["ledger_posted"] is True
    assert rejected["ledger_key"].startswith("cycle:2027-04:64:return:")
    assert rejected["worker_nik_masked"] == wage_earner.nik_masked != wage_earner.nik_index
    assert (inactive["worker_id"], inactive["agency_state"], inactive["agency_last_paid"]) == (
        first.pk,
        "grace",
        "2027-03",
    )
    assert inactive["funder"] == "PT Peduli Ojek"
    only = json.loads(client.get(f"{URL}?kind=rejected").content)
    assert [item["kind"] for item in only["items"]] == ["rejected"]
    assert json.loads(client.get(f"{URL}?state=resolved").content)["count"] == 0


def test_an_action_is_recorded_once_and_resolves_the_exception(bearer, people, paid):
    client, _token, _plain = bearer(people["operator"])
    wage_earner = paid["workers"][3]
    escalate = {"kind": "rejected", "worker_id": wage_earner.pk, "action": "escalate", "note": "Cek ke kantor cabang"}
    first = _post(client, escalate)
    assert first.status_code == 201, first.content
    assert json.loads(first.content)["created"] is True
    again = _post(client, escalate)
    assert again.status_code == 200
    assert json.loads(again.content)["created"] is False
    resolve = {"kind": "rejected", "worker_id": wage_earner.pk, "action": "resolve", "note": "Pekerja penerima upah"}
    done = json.loads(_post(client, resolve).content)
    assert (done["action"], done["recorded_by"], done["note"]) == (
        "resolve",
        people["operator"].username,
        resolve["note"],
    )
    assert ReconciliationAction.objects.filter(worker=wage_earner).count() == 2
    assert AuditEvent.objects.filter(action="protection.reconciliation_action").count() == 2
    item = json.loads(client.get(f"{URL}?state=resolved").content)["items"][0]
    assert (item["kind"], item["state"], [a["action"] for a in item["actions"]]) == (
        "rejected",
        "resolved",
        ["escalate", "resolve"],
    )


def test_refusals_are_problems_that_write_nothing(bearer, people, paid, assert_problem):
    finance, _token, _plain = bearer(people["finance"])
    auditor, _token2, _plain2 = bearer(people["auditor"])
    wage_earner, second = paid["workers"][3], paid["workers"][1]
    assert_problem(_post(finance, {"kind": "rejected", "worker_id": wage_earner.pk, "action": "resolve"}), 422,
                   "reconciliation_note_required")  # fmt: skip
    assert_problem(_post(finance, {"kind": "rejected", "worker_id": second.pk, "action": "escalate"}), 404,
                   "reconciliation_not_found")  # fmt: skip
    assert_problem(_post(finance, {"kind": "lost", "worker_id": second.pk, "action": "escalate"}), 422, "invalid_input")
    assert_problem(_post(auditor, {"kind": "rejected", "worker_id": wage_earner.pk, "action": "escalate"}), 403,
                   "forbidden")  # fmt: skip
    assert_problem(finance.get("/api/v1/cycles/2027-05/exceptions"), 404, "not_found")
    assert_problem(finance.get("/api/v1/cycles/May/exceptions"), 422, "invalid_input")
    assert not ReconciliationAction.objects.exists()
    _post(finance, {"kind": "rejected", "worker_id": wage_earner.pk, "action": "resolve", "note": "Selesai"})
    assert_problem(_post(finance, {"kind": "rejected", "worker_id": wage_earner.pk, "action": "escalate"}), 409,
                   "reconciliation_resolved")  # fmt: skip
    assert ReconciliationAction.objects.count() == 1


@pytest.mark.parametrize("role", ["funder", "field_agent", "verifier"])
def test_funders_and_other_roles_get_403(bearer, people, paid, assert_problem, role):
    from tests.factories import UserFactory

    client, _token, _plain = bearer(people.get(role) or UserFactory(role=role))
    assert_problem(client.get(URL), 403, "forbidden")
    body = {"kind": "rejected", "worker_id": paid["workers"][3].pk, "action": "escalate"}
    assert_problem(_post(client, body), 403, "forbidden")
    assert not ReconciliationAction.objects.exists()
