"""``lingkaran agency import confirmations FILE``, ``… import registrations FILE`` and ``… import status FILE``:
import a file the agency sent back. Valid rows are applied, the others reported (``--report OUT.csv`` or ``.xlsx``
writes the row-level report); the same file twice applies nothing. Exit status 0 when every row was applied or
already applied, 1 when rows had problems or the file was refused, 2 for usage errors."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lingkaran.protection.agency import files_out, services
from lingkaran.protection.agency.domain.files import KINDS
from lingkaran.protection.agency.management.commands._common import acting_user
from lingkaran.protection.agency.messages import problem_text
from lingkaran.protection.agency.models import FileImport


class Command(BaseCommand):
    help = "Import the agency's registration results, payment confirmations or membership status file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, default=None, help="Write the row-level report (.csv or .xlsx).")
        parser.add_argument("--as", dest="username", default="", help="Acting user (default: a system call).")

    def handle(self, *args, kind: str, file: Path, report: Path | None, username: str, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file", returncode=2)
        if report is not None and report.suffix.lower() not in {".csv", ".xlsx"}:
            raise CommandError("--report must end in .csv or .xlsx", returncode=2)
        actor = acting_user(username)
        record = services.agency_file_import(actor=actor, kind=kind, file_name=file.name, content=file.read_bytes())
        if record.state == FileImport.State.REFUSED:
            self.stderr.write(f"{file.name}: refused: {problem_text(record.refusal_code, record.refusal_params)}")
            sys.exit(1)
        self.stdout.write(
            f"{file.name} (import #{record.pk}): {record.total_rows} rows, {record.applied_count} applied, "
            f"{record.already_applied_count} already applied, {record.problem_rows} with problems"
        )
        if report is not None:
            exported = files_out.report_file(record, report.suffix.lower().lstrip("."))
            report.write_bytes(exported.content)
            self.stdout.write(f"report: {report} ({exported.rows} rows)")
        if record.problem_rows:
            sys.exit(1)
