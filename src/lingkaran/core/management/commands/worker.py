from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start a Celery worker for the configured broker (CELERY_BROKER_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None, help="Worker processes (default: CPU count).")
        parser.add_argument("--queues", default="celery", help="Comma-separated queues to consume.")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, concurrency, queues, loglevel, **options):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "CELERY_BROKER_URL is not set: tasks run eagerly inside the web process and need no worker; "
                "set it (e.g. redis://127.0.0.1:6379/0) to run workers"
            )
        from lingkaran.config.celery import app

        argv = ["worker", f"--loglevel={loglevel}", f"--queues={queues}"]
        if concurrency:
            argv.append(f"--concurrency={concurrency}")
        app.worker_main(argv)
