"""The audit log page: filters, CSV download without formula injection, HTMX partial, paging."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lingkaran.core.models import AuditEvent
from lingkaran.core.services import user_create

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")


def event(action: str, when: datetime, actor_label: str = "sistem", **kwargs) -> AuditEvent:
    return AuditEvent.objects.create(action=action, occurred_at=when, actor_label=actor_label, **kwargs)


def shown_actions(response) -> list[str]:
    return [e.action for e in response.context["page"]]


@pytest.fixture
def auditor(make_user, login):
    user = make_user("auditor", username="auditor")
    login(user)
    return user


@pytest.fixture
def dated_events(db):
    return [
        event("test.before", datetime(2026, 1, 31, 23, 59, tzinfo=JAKARTA), "budi"),
        event("test.first", datetime(2026, 2, 1, 0, 0, tzinfo=JAKARTA), "budi"),
        event("test.middle", datetime(2026, 2, 14, 12, 0, tzinfo=JAKARTA), "siti"),
        event("test.last", datetime(2026, 2, 28, 23, 59, tzinfo=JAKARTA), "siti"),
        event("test.after", datetime(2026, 3, 1, 0, 1, tzinfo=JAKARTA), "budi"),
        event("other.thing", datetime(2026, 2, 10, 8, 0, tzinfo=JAKARTA), "budiman"),
    ]


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_auditors_and_operators_open_the_audit_log(role, client, make_user, login):
    login(make_user(role, username="pembaca"))
    response = client.get("/audit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<html lang="id">' in text
    assert 'id="audit-rows"' in text
    assert 'name="date_from"' in text
    assert 'name="date_to"' in text
    assert shown_actions(response) == ["user.login"]
    assert response.context["page"][0].actor_label == "pembaca"


def test_newest_entries_come_first(client, auditor, dated_events):
    response = client.get("/audit/?action=test.")
    assert shown_actions(response) == ["test.after", "test.last", "test.middle", "test.first", "test.before"]


def test_filter_by_date_range_uses_whole_days_in_jakarta_time(client, auditor, dated_events):
    response = client.get("/audit/?date_from=2026-02-01&date_to=2026-02-28&action=test.")
    assert response.status_code == 200
    assert shown_actions(response) == ["test.last", "test.middle", "test.first"]
    assert response.context["page"].paginator.count == 3


def test_filter_by_one_day(client, auditor, dated_events):
    response = client.get("/audit/?date_from=2026-02-14&date_to=2026-02-14")
    assert shown_actions(response) == ["test.middle"]


def test_filter_by_actor_matches_part_of_the_user_name(client, auditor, dated_events):
    response = client.get("/audit/?actor=siti")
    assert shown_actions(response) == ["test.last", "test.middle"]
    response = client.get("/audit/?actor=BUDI")
    assert shown_actions(response) == ["test.after", "other.thing", "test.first", "test.before"]


def test_filter_by_action_prefix(client, auditor, dated_events):
    response = client.get("/audit/?action=other")
    assert shown_actions(response) == ["other.thing"]
    response = client.get("/audit/?action=test.middle&actor=siti&date_from=2026-02-01")
    assert shown_actions(response) == ["test.middle"]
    response = client.get("/audit/?action=tidak.ada")
    assert shown_actions(response) == []


def test_filter_by_record_and_channel(client, auditor, make_user):
    target = make_user("worker")
    event("user.update", datetime(2026, 5, 1, tzinfo=JAKARTA), object_type="core.user", object_id=str(target.pk))
    event("user.update", datetime(2026, 5, 2, tzinfo=JAKARTA), object_type="core.user", object_id="0", channel="api")
    response = client.get(f"/audit/?object_type=core.user&object_id={target.pk}")
    assert [(e.object_id, e.channel) for e in response.context["page"]] == [(str(target.pk), "system")]
    response = client.get("/audit/?channel=api")
    assert [e.object_id for e in response.context["page"]] == ["0"]


def test_end_before_start_is_a_field_error(client, auditor, dated_events):
    response = client.get("/audit/?date_from=2026-03-01&date_to=2026-02-01")
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["date_to"]
    assert 'class="field-error"' in response.content.decode()


def test_htmx_request_returns_only_the_rows(client, auditor, dated_events):
    response = client.get("/audit/?actor=siti", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text
    assert "<body" not in text
    assert 'name="date_from"' not in text
    assert response.templates[0].name == "web/partials/audit_rows.html"
    assert "<code>test.last</code>" in text
    assert "<code>test.middle</code>" in text
    assert "<code>test.first</code>" not in text


def test_pages_of_fifty(client, auditor):
    for n in range(60):
        event(f"bulk.{n:02d}", datetime(2026, 6, 1, 0, n, tzinfo=JAKARTA))
    response = client.get("/audit/?action=bulk.")
    assert len(shown_actions(response)) == 50
    assert shown_actions(response)[0] == "bulk.59"
    response = client.get("/audit/?action=bulk.&page=2")
    assert shown_actions(response) == [f"bulk.{n:02d}" for n in range(9, -1, -1)]
    assert "action=bulk.&amp;page=1" in response.content.decode()


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    body = response.content
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_download_lists_the_filtered_entries(client, auditor, dated_events):
    rows = read_csv(client.get("/audit/?format=csv&actor=siti"))
    assert rows[0] == [
        "occurred_at",
        "actor",
        "channel",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "ip",
        "request_id",
    ]
    assert [(r[1], r[3]) for r in rows[1:]] == [("siti", "test.last"), ("siti", "test.middle")]
    assert datetime.fromisoformat(rows[1][0]) == datetime(2026, 2, 28, 23, 59, tzinfo=JAKARTA)


def test_csv_neutralises_spreadsheet_formulas(client, auditor):
    user_create(
        username="korban",
        password="Lingkar-Pelindung-77",
        role="worker",
        full_name='=HYPERLINK("http://jahat.example","klik")',
    )
    user_create(username="+6281234", password="Lingkar-Pelindung-77", role="worker", full_name="-2+3")
    event("user.view", datetime(2026, 7, 1, tzinfo=JAKARTA), actor_label="@jahat", object_label="\tTAB")
    rows = read_csv(client.get("/audit/?format=csv"))
    labels = {r[3]: r for r in rows[1:]}
    created = [r for r in rows[1:] if r[3] == "user.create"]
    assert sorted(r[6] for r in created) == ["'-2+3", '\'=HYPERLINK("http://jahat.example","klik")']
    assert labels["user.view"][1] == "'@jahat"
    assert labels["user.view"][6] == "'\tTAB"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_csv_download_is_refused_to_other_roles(client, make_user, login, dated_events):
    login(make_user("finance"))
    response = client.get("/audit/?format=csv")
    assert response.status_code == 403
    assert "text/csv" not in response["Content-Type"]
    assert b"test.middle" not in response.content
