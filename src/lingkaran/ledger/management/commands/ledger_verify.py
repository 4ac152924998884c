import json
import sys

from django.core.management.base import BaseCommand

from lingkaran.ledger.selectors import verify


class Command(BaseCommand):
    help = "Recompute every balance from the journal legs and report any difference (exit status 1 when there is one)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        report = verify()
        if options["json"]:
            self.stdout.write(json.dumps(report.__dict__ | {"clean": report.clean}, indent=2))
        else:
            self.stdout.write(f"accounts {report.accounts}, entries {report.entries}, legs {report.legs}")
            for mismatch in report.balance_mismatches:
                self.stdout.write(
                    f"MISMATCH {mismatch['account']}: stored {mismatch['stored']}, from legs {mismatch['from_legs']}"
                )
            for entry in report.unbalanced_entries:
                self.stdout.write(f"UNBALANCED entry #{entry}")
            for entry in report.short_entries:
                self.stdout.write(f"FEWER THAN TWO LEGS entry #{entry}")
            for code in report.negative_trust:
                self.stdout.write(f"NEGATIVE trust account {code}")
            for code in report.missing_balance_rows:
                self.stdout.write(f"NO BALANCE ROW for {code}")
            self.stdout.write("ledger is consistent" if report.clean else "ledger has differences")
        if not report.clean:
            sys.exit(1)
