"""The audit log is append-only in the database itself: a trigger refuses UPDATE and DELETE, through the ORM and
around it, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from lingkaran.core.audit import audit_record
from lingkaran.core.models import AuditEvent

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
REFUSED = "core_auditevent is append-only"


@pytest.fixture
def event(make_user):
    actor = make_user("operator", username="rina")
    return audit_record(actor=actor, action="user.update", target=actor, details={"changes": {"role": ["a", "b"]}})


def snapshot(pk):
    return AuditEvent.objects.filter(pk=pk).values().get()


def test_inserting_works_and_keeps_every_field(event):
    row = snapshot(event.pk)
    assert row["action"] == "user.update"
    assert row["actor_label"] == "rina"
    assert row["details"] == {"changes": {"role": ["a", "b"]}}


def test_queryset_update_is_refused(event):
    before = snapshot(event.pk)
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="user.nothing")
    assert snapshot(event.pk) == before


def test_saving_a_changed_instance_is_refused(event):
    before = snapshot(event.pk)
    event.actor_label = "orang-lain"
    event.details = {}
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        event.save()
    assert snapshot(event.pk) == before


def test_deleting_an_instance_is_refused(event):
    before = snapshot(event.pk)
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        event.delete()
    assert snapshot(event.pk) == before


def test_deleting_every_row_is_refused(event):
    audit_record(actor=None, action="system.start")
    count = AuditEvent.objects.count()
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditevent SET action = 'diubah' WHERE id = %s",
        "UPDATE core_auditevent SET occurred_at = occurred_at WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ],
)
def test_raw_sql_around_the_orm_is_refused(event, sql):
    before = snapshot(event.pk)
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert snapshot(event.pk) == before


def test_raw_sql_delete_of_the_whole_table_is_refused(event):
    count = AuditEvent.objects.count()
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    assert AuditEvent.objects.count() == count


def test_the_database_carries_the_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'core_auditevent'::regclass AND NOT tgisinternal"
            )
            assert [r[0] for r in cursor.fetchall()] == ["core_auditevent_append_only"]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_auditevent' ORDER BY name"
            )
            assert [r[0] for r in cursor.fetchall()] == ["core_auditevent_no_delete", "core_auditevent_no_update"]


def test_an_account_with_audit_history_cannot_be_deleted(event):
    with pytest.raises(ProtectedError), transaction.atomic():
        event.actor.delete()
    assert AuditEvent.objects.filter(pk=event.pk, actor__username="rina").exists()


def test_later_rows_still_go_in_after_a_refusal(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    later = AuditEvent.objects.create(action="system.after", occurred_at=WHEN)
    assert AuditEvent.objects.filter(pk__in=[event.pk, later.pk]).count() == 2
