"""Build hook: compile the gettext catalogues (.po -> .mo) with Babel.

Django's own ``compilemessages`` needs GNU gettext's ``msgfmt``, which a fresh machine with only Python does not
have, so the catalogues are compiled here, in the build, for wheels and editable installs alike.
"""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in Path(self.root, "src", "lingkaran").glob("locale/*/LC_MESSAGES/*.po"):
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with po_path.with_suffix(".mo").open("wb") as mo_file:
                write_mo(mo_file, catalog)
            build_data["artifacts"].append(str(po_path.with_suffix(".mo").relative_to(self.root)))
