"""The audit log over the API: auditors and operators read it, with the same filters as the page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lingkaran.core.models import AuditEvent

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def auditor_api(make_user, bearer):
    api, _token, _plain = bearer(make_user("auditor", username="auditor"))
    return api


@pytest.fixture
def events(db):
    def add(action, when, actor_label="budi", **kwargs):
        return AuditEvent.objects.create(action=action, occurred_at=when, actor_label=actor_label, **kwargs)

    return [
        add("test.jan", datetime(2026, 1, 31, 23, 30, tzinfo=JAKARTA)),
        add(
            "test.feb",
            datetime(2026, 2, 1, 0, 30, tzinfo=JAKARTA),
            "siti",
            channel="web",
            object_type="core.user",
            object_id="7",
            object_label="Siti",
            ip_address="10.1.2.3",
            request_id="abc-123",
            details={"changes": {"role": ["worker", "verifier"]}},
        ),
        add("test.mar", datetime(2026, 3, 1, 9, 0, tzinfo=JAKARTA), "siti", channel="api"),
    ]


def actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["action"] for e in response.json()["items"]]


def test_one_event_has_every_field(auditor_api, events):
    response = auditor_api.get("/api/v1/audit-events?action=test.feb")
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert datetime.fromisoformat(item.pop("occurred_at")) == datetime(2026, 2, 1, 0, 30, tzinfo=JAKARTA)
    assert item == {
        "id": events[1].pk,
        "actor": "siti",
        "channel": "web",
        "action": "test.feb",
        "object_type": "core.user",
        "object_id": "7",
        "object_label": "Siti",
        "ip_address": "10.1.2.3",
        "request_id": "abc-123",
        "details": {"changes": {"role": ["worker", "verifier"]}},
    }


def test_newest_first_and_paginated(auditor_api, events):
    body = auditor_api.get("/api/v1/audit-events?action=test.&limit=2").json()
    assert [e["action"] for e in body["items"]] == ["test.mar", "test.feb"]
    assert (body["count"], body["next"]) == (3, 2)


def test_filters(auditor_api, events):
    assert actions(auditor_api.get("/api/v1/audit-events?actor=SIT")) == ["test.mar", "test.feb"]
    assert actions(auditor_api.get("/api/v1/audit-events?channel=api&action=test.")) == ["test.mar"]
    assert actions(auditor_api.get("/api/v1/audit-events?object_type=core.user&object_id=7")) == ["test.feb"]
    assert actions(auditor_api.get("/api/v1/audit-events?date_from=2026-02-01&date_to=2026-02-28")) == ["test.feb"]
    assert actions(auditor_api.get("/api/v1/audit-events?date_to=2026-01-31")) == ["test.jan"]
    assert actions(auditor_api.get("/api/v1/audit-events?date_from=2026-03-01&action=test.")) == ["test.mar"]


def test_bad_date_filter_is_422(auditor_api, assert_problem):
    body = assert_problem(auditor_api.get("/api/v1/audit-events?date_from=kemarin"), 422, "invalid_input")
    assert list(body["details"]["fields"]) == ["date_from"]


def test_operator_reads_the_audit_log_too(make_user, bearer, events):
    api, _token, _plain = bearer(make_user("operator"))
    assert actions(api.get("/api/v1/audit-events?action=test.")) == ["test.mar", "test.feb", "test.jan"]


def test_anonymous_gets_401(client, events, assert_problem):
    assert_problem(client.get("/api/v1/audit-events"), 401, "not_authenticated")


def test_reading_changes_nothing(auditor_api, events):
    before = list(AuditEvent.objects.values_list("pk", "action"))
    auditor_api.get("/api/v1/audit-events")
    assert list(AuditEvent.objects.values_list("pk", "action")) == before


def test_the_api_offers_no_way_to_change_the_log(auditor_api, make_user, bearer, events, assert_problem):
    operator_api, _token, _plain = bearer(make_user("operator"))
    for api in (auditor_api, operator_api):
        assert_problem(api.delete(f"/api/v1/audit-events/{events[0].pk}"), 404, "not_found")
        assert_problem(api.delete("/api/v1/audit-events"), 405, "method_not_allowed")
    assert AuditEvent.objects.filter(pk=events[0].pk, action="test.jan").exists()
