"""``lingkaran workers import FILE``: import workers from a CSV or XLSX file, with progress on stderr.

``--mode all_or_nothing`` refuses the whole file when one row is bad; ``accept_valid`` (the default) imports the valid
rows and reports the others. ``--as USERNAME`` names the importing user (an operator or verifier), who becomes the
nominator; ``--report OUT.xlsx`` (or ``.csv``) writes the row-level report. Exit status 0 when the import is done, 1
when the file is refused or the import fails; usage errors are 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from lingkaran.core.models import User
from lingkaran.registry import importing, reports
from lingkaran.registry.models import ImportBatch


class Command(BaseCommand):
    help = "Import workers from a CSV or XLSX file (column mapping by header, row-level report, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV (UTF-8) or XLSX file.")
        parser.add_argument("--mode", choices=ImportBatch.Mode.values, default=ImportBatch.Mode.ACCEPT_VALID)
        parser.add_argument(
            "--source", choices=[str(s) for s in importing.SOURCES], default="import", help="Where the list comes from."
        )
        parser.add_argument("--as", dest="username", default="", help="Importing user (default: the only operator).")
        parser.add_argument("--report", type=Path, default=None, help="Write the row-level report (.xlsx or .csv).")
        parser.add_argument("--processes", type=int, default=None, help="Worker processes for validation/encryption.")
        parser.add_argument("--language", choices=["id", "en"], default=None, help="Language of the messages.")

    def handle(self, *args, file: Path, mode: str, source: str, username: str, report: Path | None, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file", returncode=2)
        if report is not None and report.suffix.lower() not in {".xlsx", ".csv"}:
            raise CommandError("--report must end in .xlsx or .csv", returncode=2)
        actor = self._actor(username)
        language = options["language"] or actor.language or "id"
        with translation.override(language):
            batch = importing.import_create(actor=actor, path=file, source=source, mode=mode)
            self._say(
                _("%(file)s: %(rows)s rows, %(format)s (import #%(batch)s)")
                % {
                    "file": batch.file_name,
                    "rows": batch.total_rows,
                    "format": batch.file_format or "?",
                    "batch": batch.pk,
                }
            )
            notice = importing.batch_notice(batch)
            if batch.state == ImportBatch.State.UPLOADED:
                if notice:
                    self._say(notice)
                batch = importing.import_run(
                    batch_id=batch.pk, progress=self._progress(), processes=options["processes"]
                )
                self.stderr.write("")
            self._summary(batch)
            if report is not None:
                content = reports.report_xlsx(batch) if report.suffix.lower() == ".xlsx" else reports.report_csv(batch)
                report.write_bytes(content)
                self._say(_("Report: %(path)s (%(rows)s rows)") % {"path": report, "rows": batch.problems.count()})
        if batch.state != ImportBatch.State.DONE:
            sys.exit(1)

    def _actor(self, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {username!r}", returncode=2)
            return user
        operators = list(User.objects.filter(role="operator", is_active=True)[:2])
        if len(operators) != 1:
            raise CommandError("name the importing user with --as USERNAME", returncode=2)
        return operators[0]

    def _progress(self):
        started = time.monotonic()
        last = [0.0]

        def show(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < 0.5 and done < total:
                return
            last[0] = now
            percent = int(100 * done / total) if total else 100
            rate = done / max(now - started, 1e-6)
            line = _("%(done)s/%(total)s rows (%(percent)s%%), %(rate)s rows/s") % {
                "done": done,
                "total": total,
                "percent": percent,
                "rate": int(rate),
            }
            self.stderr.write("\r" + line, ending="")
            self.stderr.flush()

        return show

    def _summary(self, batch: ImportBatch) -> None:
        state = batch.get_state_display()
        self._say(
            _(
                "%(state)s: %(created)s created, %(existing)s already registered, %(invalid)s invalid, "
                "%(duplicate)s repeated in the file (of %(total)s rows)"
            )
            % {
                "state": state,
                "created": batch.created_count,
                "existing": batch.existing_count,
                "invalid": batch.invalid_count,
                "duplicate": batch.duplicate_in_file_count,
                "total": batch.total_rows,
            }
        )
        notice = importing.batch_notice(batch)
        if notice and batch.state != ImportBatch.State.UPLOADED:
            self._say(notice)
        for problem in batch.problems.filter(row=0):
            self._say(f"  {importing.problem_message(problem)}")
        errors = batch.problems.filter(is_error=True).exclude(row=0)
        for problem in errors[:10]:
            where = _("row %(row)s") % {"row": problem.row} + (f", {problem.column}" if problem.column else "")
            self._say(f"  {where}: {importing.problem_message(problem)}")
        more = errors.count() - 10
        if more > 0:
            self._say("  " + _("… and %(count)s more (see --report)") % {"count": more})

    def _say(self, text: str) -> None:
        self.stdout.write(text)
