from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.core.management.base import BaseCommand

import lingkaran


class Command(BaseCommand):
    help = "Compile the gettext catalogues (.po -> .mo) with Babel; the build does the same. Needs no GNU gettext."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompile even when the .mo is newer.")

    def handle(self, *args, force, **options):
        root = Path(lingkaran.__file__).parent
        for po_path in sorted(root.glob("locale/*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            tmp = mo_path.with_suffix(".mo.tmp")
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            tmp.replace(mo_path)
            if options["verbosity"]:
                self.stdout.write(f"compiled {mo_path.relative_to(root)} ({len(catalog)} messages)")
