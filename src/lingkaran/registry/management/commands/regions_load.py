"""``lingkaran regions load FILE [--code-list NAME]``: load the Kemendagri region list (``kode,nama`` CSV).

Adds new codes, renames changed ones, deletes codes no longer listed unless a record uses them (those stay, marked
not current). A refused file loads nothing and ends with one line on stderr and exit status 1.
"""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.registry import services


class Command(BaseCommand):
    help = "Load the Kemendagri region list from a kode,nama CSV file (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file with the header kode,nama (e.g. wilayah.csv).")
        parser.add_argument(
            "--code-list",
            default=services.CURRENT_CODE_LIST,
            help=f"Name of the code list stored with every region (default: {services.CURRENT_CODE_LIST}).",
        )

    def handle(self, *args, file: str, code_list: str, **options):
        started = time.monotonic()
        try:
            result = services.regions_load(file, code_list=code_list)
        except services.RegionFileError as exc:
            rows = exc.details.get("rows") or []
            first = f" (line {rows[0]}{f' and {len(rows) - 1} more' if len(rows) > 1 else ''})" if rows else ""
            raise CommandError(f"{exc.message}{first}", returncode=1) from None
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{result.rows} regions in the file: {result.added} added, {result.renamed} renamed, "
            f"{result.deleted} deleted, {result.retired} kept as no longer current ({seconds:.1f} s)"
        )
        if result.kept_in_use:
            shown = ", ".join(result.kept_in_use[:10])
            more = f" and {len(result.kept_in_use) - 10} more" if len(result.kept_in_use) > 10 else ""
            self.stdout.write(f"kept because records use them: {shown}{more}")
