"""``lingkaran keys rotate``: re-seal personal data still sealed with an older key into the current key.

Put the new key first in ``LINGKARAN_DATA_KEYS`` (keep the old ones after it), run this, then drop the old keys.
Chunks of 2,000 rows, each in its own transaction; safe to interrupt and run again.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.core.crypto import DecryptionError
from lingkaran.registry import keys


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column still sealed with an older key into the current data key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=keys.CHUNK_SIZE, help="Rows per transaction.")

    def handle(self, *args, chunk_size: int, **options):
        verbose = options["verbosity"] > 0
        try:
            result = keys.data_keys_rotate(
                chunk_size=max(1, chunk_size),
                progress=(lambda line: self.stdout.write(f"  {line}")) if verbose else None,
            )
        except DecryptionError as exc:
            raise CommandError(
                f"{exc}; keep every old key in LINGKARAN_DATA_KEYS until rotation ends", returncode=1
            ) from None
        for label, rows in result.rows_changed.items():
            self.stdout.write(
                f"{label}: {rows} rows re-sealed ({result.values_resealed[label]} values) "
                f"of {result.rows_examined[label]} sealed with an older key"
            )
        self.stdout.write(self.style.SUCCESS(f"Every encrypted value is now sealed with key {result.key_id!r}."))
