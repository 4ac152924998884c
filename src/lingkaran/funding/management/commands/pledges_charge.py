"""``lingkaran pledges_charge``: create this month's donation and payment link for every monthly pledge that is due.

Run it daily (cron or Celery beat: task ``funding.recurring_charge_due``). Safe to run any number of times.
"""

from django.core.management.base import BaseCommand

from lingkaran.funding.services import recurring_charge_due


class Command(BaseCommand):
    help = "Create the payment links of monthly pledges that are due today."

    def handle(self, *args, **options):
        intents = recurring_charge_due()
        self.stdout.write(f"{len(intents)} monthly payment link(s) created")
