# The Celery app is loaded with Django so that @shared_task uses it (eager without a broker, the broker with one).
from lingkaran.config.celery import app as celery_app

__all__ = ["celery_app"]
