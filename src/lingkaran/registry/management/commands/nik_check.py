"""``lingkaran nik check NIK [--birth-date YYYY-MM-DD] [--sex M|F]``: decode and check a NIK offline.

Prints the decoded fields (with region names when the region list is loaded) and every error and warning in words.
Exit status 0 when the NIK is valid, 1 when it is not (a usage error is 2, as for every command). Nothing is stored.
"""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django.utils import timezone, translation

from lingkaran.registry import messages
from lingkaran.registry.selectors import NikLookup, nik_lookup


def _iso_date(text: str) -> date:
    return date.fromisoformat(text)


_iso_date.__name__ = "date (YYYY-MM-DD)"  # argparse names the type in its error message


class Command(BaseCommand):
    help = "Check and decode a NIK: region codes and names, birth date, sex, serial, errors and warnings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("nik", help="The 16-digit NIK (spaces and dots are ignored).")
        parser.add_argument("--birth-date", type=_iso_date, help="Declared birth date to cross-check (YYYY-MM-DD).")
        parser.add_argument("--sex", choices=["M", "F", "L", "P"], help="Declared sex to cross-check (M/L or F/P).")
        parser.add_argument("--language", choices=["id", "en"], default=None, help="Language of the messages.")

    def handle(self, *args, nik: str, birth_date: date | None, sex: str | None, language: str | None, **options):
        sex = {"L": "M", "P": "F"}.get(sex or "", sex)
        with translation.override(language or translation.get_language() or "id"):
            lookup, names_note = self._lookup(nik, birth_date, sex)
            self._print(lookup, names_note)
        if not lookup.check.is_valid:
            sys.exit(1)

    def _lookup(self, nik: str, birth_date: date | None, sex: str | None) -> tuple[NikLookup, str]:
        today = timezone.localdate()
        try:
            return nik_lookup(nik, today=today, birth_date=birth_date, sex=sex), ""
        except DatabaseError:
            # No database (or not migrated): the rules still apply; only the region names are missing.
            from lingkaran.registry.domain.nik import check_nik

            check = check_nik(nik, today=today, declared_birth_date=birth_date, declared_sex=sex)
            return NikLookup(check, {}), "(region names unavailable: the database is not ready)"

    def _print(self, lookup: NikLookup, names_note: str) -> None:
        check = lookup.check
        out = self.stdout.write
        out(f"NIK          {check.nik}")
        if check.district_code:
            for label, code in (
                ("province", check.province_code),
                ("regency", check.regency_code),
                ("district", check.district_code),
            ):
                name = lookup.region_names.get(code) or ("?" if not names_note else "")
                out(f"{label:<12} {code:<9} {name}".rstrip())
            if names_note:
                out(names_note)
            out(f"{'birth date':<12} {check.birth_date.isoformat() if check.birth_date else '-'}")
            out(f"{'sex':<12} {check.sex} ({messages.SEX_WORDS[check.sex]})")
            out(f"{'serial':<12} {check.serial}")
        for problem in check.errors:
            out(f"error [{problem.code}] {problem.field}: {messages.render(problem.code, problem.params)}")
        for problem in check.warnings:
            out(f"warning [{problem.code}] {problem.field}: {messages.render(problem.code, problem.params)}")
        if check.is_valid:
            out(self.style.SUCCESS("valid"))
        else:
            out(self.style.ERROR("invalid"))
