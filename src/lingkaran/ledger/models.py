"""The general ledger: accounts, journal entries with legs, balances, two-phase reservations, accounting periods.

Rules (docs/subsystems/ledger.md): double entry in integer rupiah; entries and legs are append-only (triggers);
every entry balances (checked in Python and, on PostgreSQL, by a deferred constraint trigger at COMMIT); postings are
idempotent by key with a content hash; trust accounts never go negative (checked under row locks and by a CHECK
constraint on the balance row); balance rows change in the same transaction as the legs and always equal what the
legs add up to. The ledger knows nothing of the apps that post to it: an account's ``owner`` is an opaque reference.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.ledger.domain.posting import AccountType, Side


class Account(models.Model):
    code = models.CharField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=[(t.value, t.value) for t in AccountType])
    is_trust = models.BooleanField(
        default=False, help_text=_("Money held in trust for workers: the balance may never go below zero.")
    )
    owner = models.CharField(
        max_length=80, blank=True, db_index=True, help_text="Opaque reference, e.g. funding.campaign:12"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=[t.value for t in AccountType]), name="ledger_account_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(is_trust=False) | models.Q(type="liability"),
                name="ledger_trust_is_liability",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Balance(models.Model):
    """The running totals of one account, changed only together with the legs that explain them."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="balance")
    debit_total = models.BigIntegerField(default=0)
    credit_total = models.BigIntegerField(default=0)
    balance = models.BigIntegerField(default=0)
    normal_debit = models.BooleanField()
    must_not_go_negative = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(must_not_go_negative=False) | models.Q(balance__gte=0),
                name="ledger_trust_balance_not_negative",
                violation_error_code="pool_insufficient",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(normal_debit=True, balance=models.F("debit_total") - models.F("credit_total"))
                    | models.Q(normal_debit=False, balance=models.F("credit_total") - models.F("debit_total"))
                ),
                name="ledger_balance_matches_totals",
            ),
            models.CheckConstraint(
                condition=models.Q(debit_total__gte=0, credit_total__gte=0), name="ledger_totals_not_negative"
            ),
        ]


class JournalEntry(models.Model):
    append_only = True

    idempotency_key = models.CharField(max_length=200, unique=True)
    content_hash = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)
    effective_on = models.DateField(db_index=True, help_text=_("When it happened."))
    recorded_at = models.DateTimeField(default=timezone.now, help_text=_("When it was recorded."))
    total = models.BigIntegerField()
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [models.CheckConstraint(condition=models.Q(total__gt=0), name="ledger_entry_total_positive")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.idempotency_key}"


class Leg(models.Model):
    append_only = True

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="legs")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legs")
    side = models.CharField(max_length=1, choices=[(s.value, s.value) for s in Side])
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["entry_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_leg_amount_positive"),
            models.CheckConstraint(condition=models.Q(side__in=["D", "C"]), name="ledger_leg_side_valid"),
        ]


class Reservation(models.Model):
    """Money set aside from a pool for a committed purpose (a block of worker-months): pending → posted | voided."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    key = models.CharField(max_length=200, unique=True)
    pool = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    held_in = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reserve_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    settle_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_reservation_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(state="pending", settle_entry__isnull=True)
                | (~models.Q(state="pending") & models.Q(settle_entry__isnull=False)),
                name="ledger_reservation_settled_has_entry",
            ),
        ]


class Period(models.Model):
    """An accounting month. Once closed, no entry may take effect in it."""

    month = models.DateField(primary_key=True, help_text="First day of the month.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["month"]
