"""``lingkaran keys reindex``: recompute the blind indexes with the current LINGKARAN_BLIND_INDEX_KEY.

Run it after changing the index key (NIK lookups, duplicate checks and donor searches by e-mail or name find nothing
until it has run). It covers the workers' NIK and phone indexes and, through funding's service, the donors' e-mail and
name indexes. Chunks of 2,000 rows, each in its own transaction; safe to interrupt and run again.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.core.crypto import DecryptionError
from lingkaran.funding.services import donors
from lingkaran.registry import keys


class Command(BaseCommand):
    help = "Recompute the NIK, phone and donor blind indexes with the current LINGKARAN_BLIND_INDEX_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=keys.CHUNK_SIZE, help="Rows per transaction.")

    def handle(self, *args, chunk_size: int, **options):
        verbose = options["verbosity"] > 0
        progress = (lambda line: self.stdout.write(f"  {line}")) if verbose else None
        try:
            result = keys.blind_indexes_rebuild(chunk_size=max(1, chunk_size), progress=progress)
            donor_result = donors.donor_indexes_rebuild(chunk_size=max(1, chunk_size), progress=progress)
        except DecryptionError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(f"{result.rows_changed} of {result.rows_examined} workers re-indexed with the current key.")
        for label, rows in donor_result.rows_changed.items():
            self.stdout.write(f"{label}: {rows} of {donor_result.rows_examined[label]} rows re-indexed.")
        self.stdout.write(self.style.SUCCESS("Every blind index is now computed with the current key."))
