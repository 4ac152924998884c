"""``lingkaran intake_sweep``: process gateway notifications that were stored but not processed (after a crash or a
status-API outage). Run it every few minutes (cron or Celery beat: task ``funding.intake_sweep``)."""

from django.core.management.base import BaseCommand

from lingkaran.funding.services import intake_sweep


class Command(BaseCommand):
    help = "Send stored, unprocessed gateway notifications to processing again."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=10)

    def handle(self, *args, **options):
        count = intake_sweep(older_than_minutes=options["older_than_minutes"])
        self.stdout.write(f"{count} notification(s) sent to processing")
