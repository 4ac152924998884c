"""The Celery application.

With no ``CELERY_BROKER_URL`` every task runs eagerly in the calling process (the embedded default); with a broker,
``lingkaran worker`` starts worker processes that take tasks from it.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lingkaran.config.settings")

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
)
app.autodiscover_tasks()
