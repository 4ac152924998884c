"""The periodic work: Celery beat's schedule names real, registered tasks at the documented times; each scheduled task
runs through the Celery app and through its ``lingkaran`` command, and running it twice does no more than once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from celery.beat import Scheduler
from celery.schedules import crontab
from django.core.management import call_command
from django.utils import timezone

from lingkaran.config.celery import BEAT_SCHEDULE, app
from lingkaran.funding import services
from lingkaran.funding.models import Donation, GatewayEvent, RecurringDonation
from tests.funding.conftest import start


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()  # what a worker and beat do at start: autodiscover every app's tasks.py
    return set(app.tasks)


def test_the_schedule_names_registered_tasks():
    assert app.conf.beat_schedule == BEAT_SCHEDULE
    tasks = registered_tasks()
    names = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert names == {"funding.recurring_charge_due", "funding.intake_sweep"}
    assert names <= tasks


def test_pledges_are_charged_daily_and_the_inbox_swept_every_five_minutes():
    pledges = BEAT_SCHEDULE["funding.pledges_charge"]["schedule"]
    sweep = BEAT_SCHEDULE["funding.intake_sweep"]["schedule"]
    assert isinstance(pledges, crontab)
    assert isinstance(sweep, crontab)
    assert (pledges.hour, pledges.minute) == ({7}, {0})
    assert sweep.minute == set(range(0, 60, 5))
    assert str(app.conf.timezone) == "Asia/Jakarta"


def test_beat_loads_the_schedule():
    scheduler = Scheduler(app, lazy=True)
    scheduler.setup_schedule()
    assert {"funding.pledges_charge", "funding.intake_sweep"} <= set(scheduler.schedule)
    for name in ("funding.pledges_charge", "funding.intake_sweep"):
        assert scheduler.schedule[name].task in registered_tasks()


@pytest.fixture
def due_pledge(people, campaign, pay, donate):
    """An active monthly pledge whose next month is due today."""
    intent = pay(start(campaign, donor=people["donor"], recurring=True))
    assert intent.state == "settled"
    pledge = RecurringDonation.objects.get()
    # As if the first month had been paid a month ago: this month is due today.
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    Donation.objects.filter(recurring=pledge).update(period=last_month)
    RecurringDonation.objects.filter(pk=pledge.pk).update(next_due_on=today)
    return pledge


def test_the_scheduled_pledge_task_runs_and_twice_is_once(due_pledge):
    task = app.tasks["funding.recurring_charge_due"]
    assert task.apply().get() == 1
    assert task.apply().get() == 0
    assert Donation.objects.filter(recurring=due_pledge).count() == 2


def test_the_pledge_command_does_the_same(due_pledge):
    out = StringIO()
    call_command("pledges_charge", stdout=out)
    call_command("pledges_charge", stdout=out)
    assert Donation.objects.filter(recurring=due_pledge).count() == 2
    assert out.getvalue().splitlines()[0].startswith("1 ")


def test_the_scheduled_sweep_processes_what_was_left(people, campaign, pay, django_capture_on_commit_callbacks):
    intent = pay(start(campaign))
    event = GatewayEvent.objects.filter(order_id=intent.order_id, status="settled").get()
    # As if the processing had died: the event is waiting, and older than the sweep's ten minutes.
    GatewayEvent.objects.filter(pk=event.pk).update(
        processed_at=None, outcome="", received_at=timezone.now() - timedelta(minutes=11)
    )
    assert app.tasks["funding.intake_sweep"].apply().get() == 1
    event.refresh_from_db()
    assert event.outcome == "no_change"  # already settled: the replay changed nothing
    assert app.tasks["funding.intake_sweep"].apply().get() == 0
    out = StringIO()
    call_command("intake_sweep", stdout=out)
    assert out.getvalue().startswith("0 ")
    assert services.refundable_now(intent) == 50_400
