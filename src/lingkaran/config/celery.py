"""The Celery application, and the schedule of the periodic work.

With no ``CELERY_BROKER_URL`` every task runs eagerly in the calling process (the embedded default); with a broker,
``lingkaran worker`` starts worker processes that take tasks from it, and one ``celery -A lingkaran.config.celery beat``
process sends the periodic tasks below at their times (docs/operations.md, "Periodic work"; cron lines that do the
same through the ``lingkaran`` command are given there too). Every scheduled task is safe to run twice, so a beat
that restarts, or a cron line that overlaps a run, does no harm.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lingkaran.config.settings")

# Times are Asia/Jakarta (``CELERY_TIMEZONE``).
BEAT_SCHEDULE = {
    # Monthly pledges: this month's donation and payment link on each pledge's day (``lingkaran pledges_charge``).
    "funding.pledges_charge": {
        "task": "funding.recurring_charge_due",
        "schedule": crontab(hour=7, minute=0),
    },
    # Gateway notifications stored but not processed (a crash, a status-API outage): ``lingkaran intake_sweep``.
    "funding.intake_sweep": {
        "task": "funding.intake_sweep",
        "schedule": crontab(minute="*/5"),
    },
}

app = Celery("lingkaran")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=3,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    beat_schedule=BEAT_SCHEDULE,
)
app.autodiscover_tasks()
