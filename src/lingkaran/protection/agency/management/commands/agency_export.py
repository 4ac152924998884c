"""``lingkaran agency export payments --batch KEY`` and ``lingkaran agency export registrations --batch KEY``: write
the file an officer uploads to the agency (CSV by default, ``--format xlsx``) to ``--output`` or to the current
folder under its own name. Only a file-exchange batch that was submitted has a file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from lingkaran.protection.agency import services
from lingkaran.protection.agency.management.commands._common import acting_user, batch_by_key_or_id
from lingkaran.protection.agency.models import PaymentBatch, RegistrationBatch


class Command(BaseCommand):
    help = "Write the payment file or the registration file of a file-exchange batch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["payments", "registrations"])
        parser.add_argument("--batch", required=True, help="The batch's key (or its number).")
        parser.add_argument("--format", dest="file_format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", type=Path, default=None, help="Where to write (default: its own name, here).")
        parser.add_argument("--as", dest="username", default="", help="Acting user (default: a system call).")

    def handle(self, *args, what: str, batch: str, file_format: str, output: Path | None, username: str, **options):
        actor = acting_user(username)
        if what == "payments":
            found = batch_by_key_or_id(PaymentBatch, batch)
            exported = services.payment_file_export(actor=actor, batch_id=found.pk, file_format=file_format)
        else:
            found = batch_by_key_or_id(RegistrationBatch, batch)
            exported = services.registration_file_export(actor=actor, batch_id=found.pk, file_format=file_format)
        target = output or Path(exported.filename)
        target.write_bytes(exported.content)
        self.stdout.write(f"{target}: {exported.rows} rows")
