import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lingkaran.cli import _redact


class Command(BaseCommand):
    help = "Check that the database, migrations and (when configured) the Celery broker and workers are usable."

    def add_arguments(self, parser):
        parser.add_argument("--worker-timeout", type=float, default=10.0)

    def handle(self, *args, worker_timeout, **options):
        connection.ensure_connection()
        self.stdout.write(f"database   ok  {connection.vendor} {_redact(settings.DATABASE_URL)}")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise CommandError(f"{len(pending)} migrations are not applied; run 'lingkaran migrate'")
        self.stdout.write("migrations ok")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("celery     eager (no CELERY_BROKER_URL): tasks run in-process")
            return
        from lingkaran.config.celery import app
        from lingkaran.core.tasks import probe

        # Reach the broker first: an unreachable one is then kombu's OperationalError, which the ``lingkaran`` command
        # reports in one line naming CELERY_BROKER_URL (sending straight away fails deep in the result backend).
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1)
        self.stdout.write("broker     ok")
        nonce = uuid.uuid4().hex
        result = probe.delay(nonce)
        try:
            answer = result.get(timeout=worker_timeout)
        except Exception as exc:
            raise CommandError(f"no Celery worker answered within {worker_timeout:g}s: {exc}") from None
        self.stdout.write(f"celery     ok  worker pid {answer['pid']} on {answer['host']}")
