"""``lingkaran keys reindex``: recompute the NIK and phone blind indexes with the current LINGKARAN_BLIND_INDEX_KEY.

Run it after changing the index key (NIK lookups and duplicate checks find nothing until it has run). Chunks of 2,000
rows, each in its own transaction; safe to interrupt and run again.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.core.crypto import DecryptionError
from lingkaran.registry import keys


class Command(BaseCommand):
    help = "Recompute the NIK and phone blind indexes with the current LINGKARAN_BLIND_INDEX_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=keys.CHUNK_SIZE, help="Rows per transaction.")

    def handle(self, *args, chunk_size: int, **options):
        verbose = options["verbosity"] > 0
        try:
            result = keys.blind_indexes_rebuild(
                chunk_size=max(1, chunk_size),
                progress=(lambda line: self.stdout.write(f"  {line}")) if verbose else None,
            )
        except DecryptionError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rows_changed} of {result.rows_examined} workers re-indexed with the current key."
            )
        )
