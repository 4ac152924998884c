import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from lingkaran.config import env
from lingkaran.core.errors import InvalidInput
from lingkaran.core.models import Role
from lingkaran.core.services import user_create


class Command(BaseCommand):
    help = "Create a programme operator account with full access (also a Django admin superuser)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help="Prefer the LINGKARAN_ADMIN_PASSWORD environment variable or the prompt; "
            "a password on the command line is visible to other users of the machine.",
        )

    def handle(self, *args, **options):
        password = options["password"] or env.get("LINGKARAN_ADMIN_PASSWORD")
        if not password:
            if not os.isatty(0):
                raise CommandError("no password: set LINGKARAN_ADMIN_PASSWORD or run in a terminal")
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("the two passwords differ")
        try:
            user = user_create(
                username=options["username"],
                password=password,
                role=Role.OPERATOR,
                full_name=options["full_name"],
                email=options["email"],
                is_superuser=True,
            )
        except InvalidInput as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.details["fields"].items())
            raise CommandError(problems) from None
        self.stdout.write(self.style.SUCCESS(f"Operator {user.username} created."))
