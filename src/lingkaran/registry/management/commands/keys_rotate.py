"""``lingkaran keys rotate``: re-seal personal data still sealed with an older key into the current key.

Put the new key first in ``LINGKARAN_DATA_KEYS`` (keep the old ones after it), run this, then drop the old keys.
It covers the registry's columns (workers' NIK, phone and address; heirs' details) and, through funding's service,
the donors' names and e-mail addresses. Chunks of 2,000 rows, each in its own transaction; safe to interrupt and run
again.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.core.crypto import DecryptionError
from lingkaran.funding.services import donors
from lingkaran.registry import keys


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column still sealed with an older key into the current data key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=keys.CHUNK_SIZE, help="Rows per transaction.")

    def handle(self, *args, chunk_size: int, **options):
        verbose = options["verbosity"] > 0
        progress = (lambda line: self.stdout.write(f"  {line}")) if verbose else None
        try:
            result = keys.data_keys_rotate(chunk_size=max(1, chunk_size), progress=progress)
            donor_result = donors.donor_keys_rotate(chunk_size=max(1, chunk_size), progress=progress)
        except DecryptionError as exc:
            raise CommandError(
                f"{exc}; keep every old key in LINGKARAN_DATA_KEYS until rotation ends", returncode=1
            ) from None
        for outcome in (result, donor_result):
            for label, rows in outcome.rows_changed.items():
                self.stdout.write(
                    f"{label}: {rows} rows re-sealed ({outcome.values_resealed[label]} values) "
                    f"of {outcome.rows_examined[label]} sealed with an older key"
                )
        self.stdout.write(self.style.SUCCESS(f"Every encrypted value is now sealed with key {result.key_id!r}."))
