"""``lingkaran agency submit BATCH``: submit an open payment batch to the agency (``--registrations``: a registration
batch) and print its outcome counts. Idempotent: a batch already submitted is only reported."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from lingkaran.protection.agency import services
from lingkaran.protection.agency.management.commands._common import acting_user, batch_by_key_or_id
from lingkaran.protection.agency.models import PaymentBatch, RegistrationBatch


class Command(BaseCommand):
    help = "Submit a payment batch (or, with --registrations, a registration batch) to the agency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch", help="The batch's key (or its number).")
        parser.add_argument("--registrations", action="store_true", help="The batch is a registration batch.")
        parser.add_argument("--as", dest="username", default="", help="Acting user (default: a system call).")

    def handle(self, *args, batch: str, registrations: bool, username: str, **options):
        actor = acting_user(username)
        if registrations:
            found = batch_by_key_or_id(RegistrationBatch, batch)
            summary = services.registration_batch_submit(batch_id=found.pk, actor=actor)
            self.stdout.write(
                f"{summary.key}: {summary.state}, {summary.requests} requests, {summary.registered} registered, "
                f"{summary.already_registered} already registered, {summary.rejected} refused, "
                f"{summary.pending} waiting"
            )
        else:
            found = batch_by_key_or_id(PaymentBatch, batch)
            summary = services.payment_batch_submit(batch_id=found.pk, actor=actor)
            self.stdout.write(
                f"{summary.key}: {summary.state}, {summary.lines} lines, {summary.accepted} accepted "
                f"(Rp {summary.accepted_amount}), {summary.rejected} refused, {summary.pending} waiting"
            )
        for reason, count in summary.reasons.items():
            self.stdout.write(f"  {reason}: {count}")
