"""``lingkaran tariffs load FILE [--language id|en]``: load the declared-income bracket table from a CSV file.

Format: ``valid_from,income_from,income_to,nominal,regulation[,source_url]`` (docs/subsystems/protection-tariffs.md).
All or nothing, idempotent: a file with any problem loads nothing and lists every problem with its line (exit status
1); loading the same file again changes nothing. A new version closes the one in force before it.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from lingkaran.protection import services
from lingkaran.protection.errors import TariffFileInvalid


class Command(BaseCommand):
    help = "Load the declared-income bracket table from a CSV file (all or nothing, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file: valid_from,income_from,income_to,nominal,regulation[,source_url]")
        parser.add_argument(
            "--language",
            choices=["id", "en"],
            default=settings.LANGUAGE_CODE[:2],
            help="Language of the messages (default: the platform's, Indonesian).",
        )

    def handle(self, *args, file: str, language: str, **options):
        with translation.override(language):
            try:
                result = services.bracket_table_load(actor=None, path=file)
            except FileNotFoundError:
                raise CommandError(f"{file}: no such file", returncode=1) from None
            except TariffFileInvalid as exc:
                problems = exc.details.get("problems") or []
                for problem in problems:
                    where = f"line {problem['line']}" if problem["line"] else "file"
                    column = f", {problem['column']}" if problem["column"] else ""
                    self.stderr.write(f"{where}{column}: {problem['message']} [{problem['code']}]")
                raise CommandError(f"{exc.message} ({len(problems)} problems) [{exc.code}]", returncode=1) from None
        self.stdout.write(
            f"{result.rows} brackets in the file: {len(result.added)} tables added, {len(result.replaced)} replaced, "
            f"{len(result.unchanged)} unchanged, {len(result.closed)} closed"
        )
        for version, first, last in result.gaps:
            self.stdout.write(
                f"warning: table {version}: incomes {first}–{last} are in no bracket (the one below applies)"
            )
