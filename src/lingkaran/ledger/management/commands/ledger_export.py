import sys

from django.core.management.base import BaseCommand, CommandError

from lingkaran.ledger.export import beancount_lines


class Command(BaseCommand):
    help = "Export the ledger for auditors (Beancount format, checked by bean-check)."

    def add_arguments(self, parser):
        parser.add_argument("--format", default="beancount", choices=["beancount"])
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")

    def handle(self, *args, output, **options):
        if output:
            try:
                with open(output, "w", encoding="utf-8") as handle:
                    for line in beancount_lines():
                        handle.write(line + "\n")
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from None
            self.stderr.write(f"wrote {output}")
        else:
            for line in beancount_lines():
                sys.stdout.write(line + "\n")
