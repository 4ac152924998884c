from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lingkaran import demo


class Command(BaseCommand):
    help = "Create the demo world (fixed seed). Running it again adds nothing new."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED)

    def handle(self, *args, seed, **options):
        if settings.PRODUCTION:
            raise CommandError("the demo creates accounts with a published password; it refuses to run in production")
        verbosity = options["verbosity"]
        demo.build(seed=seed, log=(lambda line: self.stdout.write(f"  {line}")) if verbosity else (lambda line: None))
        if verbosity:
            self.stdout.write(self.style.SUCCESS("Demo world ready."))
