"""``lingkaran intake sweep``: process gateway notifications that were stored but not processed (after a crash or a
status-API outage), and ask the gateway about refunds it accepted whose end was never notified. Run it every few
minutes (cron or Celery beat: task ``funding.intake_sweep``)."""

from django.core.management.base import BaseCommand

from lingkaran.funding.services import intake_sweep
from lingkaran.funding.services.refunds import refunds_check_accepted


class Command(BaseCommand):
    help = "Send stored, unprocessed gateway notifications to processing again; check refunds still in progress."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-minutes", type=int, default=10)
        parser.add_argument(
            "--refunds-older-than-minutes",
            type=int,
            default=60,
            help="Ask about refunds the gateway accepted at least this long ago (default 60).",
        )

    def handle(self, *args, **options):
        count = intake_sweep(older_than_minutes=options["older_than_minutes"])
        ended = refunds_check_accepted(older_than_minutes=options["refunds_older_than_minutes"])
        self.stdout.write(f"{count} notification(s) sent to processing; {ended} refund(s) found finished")
