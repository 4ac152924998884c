from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from lingkaran.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Prepare the database, build the demo world and serve it: the one command a newcomer runs."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Prepare everything, then stop.")

    def handle(self, *args, host, port, no_serve, **options):
        call_command("compilecatalogs", verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo", verbosity=1)
        url = f"http://{host}:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Lingkaran is ready at {url}"))
        self.stdout.write(f"Database: {settings.DATABASES['default']['NAME']}")
        self.stdout.write(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
        for username, role, description in DEMO_USERS:
            self.stdout.write(f"  {username:<18} {role:<12} {description}")
        self.stdout.write(f"API docs: {url}api/v1/docs")
        if not no_serve:
            self.stdout.write("Stop with Ctrl+C.")
            call_command("serve", host=host, port=port)
