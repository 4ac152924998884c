"""``lingkaran pools enrol --as USER [--campaign ID] [--as-of YYYY-MM-DD]``: let campaign pools enrol workers.

Each published campaign (or the one named) enrols the next eligible workers, a whole block each, while its pool can
pay for one (``protection.sponsorships.pool_enrol``). Safe to run again: a retry reserves nothing new. Meant for a
daily schedule and for after a large donation."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lingkaran.core.errors import DomainError
from lingkaran.funding.models import Campaign
from lingkaran.protection.agency.management.commands._common import acting_user
from lingkaran.protection.sponsorships import pool_enrol


class Command(BaseCommand):
    help = "Let campaign pools enrol workers in whole blocks while they can pay for one."

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="the operator or finance user acting")
        parser.add_argument("--campaign", type=int, help="only this campaign (id)")
        parser.add_argument(
            "--as-of", dest="as_of", help="the day to enrol as of (default today); blocks start the next month"
        )

    def handle(self, *args, username: str, campaign: int | None, as_of: str | None, **options):
        actor = acting_user(username)
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)", returncode=2) from None
        campaigns = Campaign.objects.filter(state=Campaign.State.PUBLISHED).order_by("pk")
        if campaign is not None:
            campaigns = Campaign.objects.filter(pk=campaign)
            if not campaigns.exists():
                raise CommandError(f"no campaign {campaign}", returncode=2)
        total = 0
        for item in campaigns:
            try:
                enrolled = pool_enrol(campaign=item, as_of=day, by=actor)
            except DomainError as exc:
                raise CommandError(f"campaign {item.pk}: {exc.code}: {exc.message}", returncode=1) from None
            total += len(enrolled)
            self.stdout.write(f"campaign {item.pk} ({item.slug}): {len(enrolled)} worker(s) enrolled")
        self.stdout.write(f"{total} worker(s) enrolled in all")
