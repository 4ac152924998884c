"""Funders, agreements and invoices; campaigns, donations and monthly pledges; payment intents and the gateway inbox;
refunds, receipts and bank statements; and the tables of the built-in sandbox gateway.

Rules (docs/subsystems/funding.md): amounts are whole rupiah; a payment intent only moves forward (a pure rule in
``domain/intents.py`` and a trigger on both backends); every gateway notification is kept in ``GatewayEvent`` exactly
as received, unique per gateway event; receipts are numbered without gaps per year; money itself lives in the ledger,
which these tables point at by entry id only (the ledger knows nothing of funding).

Donors' names and e-mail addresses are personal data: stored sealed (``core.crypto``, AES-GCM bound to the column),
with keyed blind indexes for exact lookups (an e-mail address links a donor's donations to their account and their
yearly statement). The models read and write them through the ``donor_name`` and ``donor_email`` properties; staff
pages show the masked forms, and the full values only through an audited reveal (``services/donors.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.core import crypto
from lingkaran.funding.domain.donors import mask_email, mask_name, normalise_email, normalise_name
from lingkaran.funding.validators import validate_campaign_image


class PaymentStateChoices(models.TextChoices):
    """``domain.intents.PaymentState`` with labels (a test keeps the two in step)."""

    CREATED = "created", _("Created")
    PENDING = "pending", _("Waiting for payment")
    SETTLED = "settled", _("Paid")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


class Funder(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company (CSR)")
        LOCAL_GOVERNMENT = "local_government", _("Local government (APBD)")
        ZAKAT_BODY = "zakat_body", _("Zakat body (BAZNAS/LAZ)")
        INSTITUTION = "institution", _("Other institution")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region_code = models.CharField(
        _("region code"),
        max_length=13,
        blank=True,
        help_text=_("For a local government: the region it governs."),
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.TextField(_("address"), blank=True)
    tax_number = models.CharField(_("tax number (NPWP)"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="funding_funder_name_kind_unique"),
            models.CheckConstraint(
                condition=~models.Q(kind="local_government") | ~models.Q(region_code=""),
                name="funding_funder_pemda_has_region",
                violation_error_code="pemda_region_required",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FunderMembership(models.Model):
    """A funder user belongs to exactly one funder; the team says what they do there."""

    class Team(models.TextChoices):
        REPORTING = "reporting", _("Programme / CSR team (reads reports)")
        FINANCE = "finance", _("Finance team (pays)")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="funder_membership")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="memberships")
    team = models.CharField(_("team"), max_length=20, choices=Team.choices, default=Team.REPORTING)

    def __str__(self) -> str:
        return f"{self.user} @ {self.funder}"


class Package(models.TextChoices):
    JKK_JKM = "jkk_jkm", _("JKK + JKM")
    JKK_JKM_JHT = "jkk_jkm_jht", _("JKK + JKM + JHT")


class Agreement(models.Model):
    """A cooperation agreement (PKS) with a funder: budget, term, package, and whom it pays for."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="agreements")
    number = models.CharField(_("agreement number"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    budget = models.BigIntegerField(_("budget (Rp)"))
    start_on = models.DateField(_("start"))
    end_on = models.DateField(_("end"))
    package = models.CharField(_("package"), max_length=12, choices=Package.choices, default=Package.JKK_JKM)
    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year (APBD)"), null=True, blank=True, help_text=_("For a local government: the APBD year.")
    )
    target_criteria = models.JSONField(
        _("target criteria"),
        default=dict,
        blank=True,
        help_text=_("regions, occupations, sex, vulnerability flags and number of workers"),
    )
    named_worker_ids = models.JSONField(_("named workers"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gt=0),
                name="funding_agreement_budget_positive",
                violation_error_code="amount_invalid",
            ),
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")),
                name="funding_agreement_term_valid",
                violation_error_code="agreement_term_invalid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Invoice(models.Model):
    """What a company or Pemda is asked to pay by bank transfer, with the reference that finds its payment."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    amount = models.BigIntegerField(_("amount (Rp)"))
    payment_reference = models.CharField(_("payment reference"), max_length=20, unique=True)
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    paid_amount = models.BigIntegerField(_("paid (Rp)"), default=0)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_invoice_amount_positive", violation_error_code="amount_invalid"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0, paid_amount__lte=F("amount")),
                name="funding_invoice_paid_within_amount",
                violation_error_code="invoice_overpaid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="open", paid_amount=0)
                    | Q(state="partially_paid", paid_amount__gt=0, paid_amount__lt=F("amount"))
                    | Q(state="paid", paid_amount=F("amount"))
                ),
                name="funding_invoice_state_matches_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self) -> int:
        return self.amount - self.paid_amount


class Campaign(models.Model):
    """A crowdfunding campaign. Drafted by an operator or a funder user; public only once an operator approves it."""

    class State(models.TextChoices):
        """``domain.campaigns.CampaignState`` with labels."""

        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=150)
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    story = models.TextField(_("story"))
    image = models.FileField(_("image"), upload_to="campaigns/%Y/", blank=True, max_length=200)
    target_regions = models.JSONField(_("target regions"), default=list, blank=True)
    target_occupations = models.JSONField(_("target occupations"), default=list, blank=True)
    goal_workers = models.PositiveIntegerField(_("goal: workers"))
    goal_months = models.PositiveSmallIntegerField(_("goal: months"))
    goal_amount = models.BigIntegerField(_("goal (Rp)"))
    end_on = models.DateField(_("end date"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(goal_amount__gt=0, goal_workers__gt=0, goal_months__gt=0),
                name="funding_campaign_goal_positive",
                violation_error_code="amount_invalid",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["published", "closed"]) | Q(approved_by__isnull=False),
                name="funding_campaign_public_is_approved",
                violation_error_code="campaign_not_approved",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        # The image's content is checked here rather than as a field validator, so migrations import no app code.
        if self.image and not getattr(self.image, "_committed", True):
            try:
                validate_campaign_image(self.image)
            except ValidationError as exc:
                raise ValidationError({"image": exc.messages}, code=exc.code) from None


# Purposes the sealed donor columns are bound to (a value moved to another column does not open), and those of
# their blind indexes (one per kind of value, so that a pledge's and a donation's e-mail index alike).
PURPOSE_DONATION_NAME = "funding.donation.donor_name"
PURPOSE_DONATION_EMAIL = "funding.donation.donor_email"
PURPOSE_PLEDGE_NAME = "funding.pledge.donor_name"
PURPOSE_PLEDGE_EMAIL = "funding.pledge.donor_email"
INDEX_DONOR_NAME = "funding.donor.name"
INDEX_DONOR_EMAIL = "funding.donor.email"


def email_index_of(email: str) -> str:
    """The blind index an e-mail address is found by (empty for no address)."""
    normalised = normalise_email(email)
    return crypto.blind_index(normalised, purpose=INDEX_DONOR_EMAIL) if normalised else ""


def name_index_of(name: str) -> str:
    normalised = normalise_name(name)
    return crypto.blind_index(normalised, purpose=INDEX_DONOR_NAME) if normalised else ""


def _sealed(name: str, purpose: str, index=None) -> property:
    """A personal value kept sealed in ``<name>_encrypted`` (and indexed in ``<name>_index``): reading opens it
    (once per sealed value), writing seals it and recomputes the index. Django accepts it as a constructor argument."""
    column, index_column = f"{name}_encrypted", f"{name}_index"

    def read(instance) -> str:
        token = getattr(instance, column)
        cache = instance.__dict__.setdefault("_opened", {})
        if name not in cache or cache[name][0] != token:
            cache[name] = (token, crypto.decrypt(token, purpose=purpose))
        return cache[name][1]

    def write(instance, value) -> None:
        value = "" if value is None else str(value)
        token = crypto.encrypt(value, purpose=purpose)
        setattr(instance, column, token)
        if index is not None:
            setattr(instance, index_column, index(value))
        instance.__dict__.setdefault("_opened", {})[name] = (token, value)

    return property(read, write, doc=f"The {name.replace('_', ' ')}, sealed in {column}.")


class Target(models.TextChoices):
    CAMPAIGN = "campaign", _("A campaign")
    FUNDER = "funder", _("A funder's pool")
    GENERAL = "general", _("The general pool")


def _target_consistent() -> Q:
    return (
        Q(target="campaign", campaign__isnull=False, funder__isnull=True)
        | Q(target="funder", funder__isnull=False, campaign__isnull=True)
        | Q(target="general", campaign__isnull=True, funder__isnull=True)
    )


class RecurringDonation(models.Model):
    """A monthly pledge. VA, QRIS and e-wallets cannot be debited automatically, so each month a new donation and
    payment link are created on ``day_of_month`` and the donor pays them (domain/recurring.py)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    donor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pledges")
    target = models.CharField(_("for"), max_length=10, choices=Target.choices)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="pledges")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, null=True, blank=True, related_name="pledges")
    amount = models.BigIntegerField(_("amount (Rp)"))
    day_of_month = models.PositiveSmallIntegerField(_("day of the month"))
    donor_name_encrypted = models.TextField(default="")
    donor_email_encrypted = models.TextField(default="", blank=True)
    donor_email_index = models.CharField(max_length=64, blank=True, db_index=True)
    is_anonymous = models.BooleanField(_("give anonymously"), default=False)
    purpose_note = models.CharField(_("purpose note"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    next_due_on = models.DateField(_("next payment link"))
    created_at = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_pledge_amount_positive", violation_error_code="amount_invalid"
            ),
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1, day_of_month__lte=28),
                name="funding_pledge_day_valid",
                violation_error_code="day_invalid",
            ),
            models.CheckConstraint(condition=_target_consistent(), name="funding_pledge_target_consistent"),
        ]

    donor_name = _sealed("donor_name", PURPOSE_PLEDGE_NAME)
    donor_email = _sealed("donor_email", PURPOSE_PLEDGE_EMAIL, index=email_index_of)

    def __str__(self) -> str:
        return f"pledge {self.pk} Rp{self.amount}/month"


class Donation(models.Model):
    """One gift (one-off, or one month of a pledge). Its state mirrors its payment intent's."""

    State = PaymentStateChoices

    target = models.CharField(_("for"), max_length=10, choices=Target.choices)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="donations")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, null=True, blank=True, related_name="donations")
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="donations"
    )
    donor_name_encrypted = models.TextField(default="")
    donor_name_index = models.CharField(max_length=64, blank=True, db_index=True)
    donor_email_encrypted = models.TextField(default="", blank=True)
    donor_email_index = models.CharField(max_length=64, blank=True, db_index=True)
    is_anonymous = models.BooleanField(
        _("give anonymously"), default=False, help_text=_("The name is hidden from the public, kept for operators.")
    )
    purpose_note = models.CharField(_("purpose note"), max_length=300, blank=True)
    amount = models.BigIntegerField(_("amount (Rp)"))
    recurring = models.ForeignKey(
        RecurringDonation, on_delete=models.PROTECT, null=True, blank=True, related_name="donations"
    )
    period = models.DateField(null=True, blank=True, help_text="For a pledge: the month this donation pays.")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=PaymentStateChoices.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="funding_donation_amount_positive",
                violation_error_code="amount_invalid",
            ),
            models.CheckConstraint(condition=_target_consistent(), name="funding_donation_target_consistent"),
            models.UniqueConstraint(
                fields=["recurring", "period"],
                condition=Q(recurring__isnull=False),
                name="funding_donation_one_per_pledge_month",
            ),
        ]

    donor_name = _sealed("donor_name", PURPOSE_DONATION_NAME, index=name_index_of)
    donor_email = _sealed("donor_email", PURPOSE_DONATION_EMAIL, index=email_index_of)

    def __str__(self) -> str:
        # No name here: this text is kept in the audit log as the record's label.
        return f"donation {self.pk} Rp{self.amount}"

    @property
    def public_name(self) -> str:
        return str(_("Anonymous")) if self.is_anonymous else self.donor_name

    @property
    def donor_name_masked(self) -> str:
        return mask_name(self.donor_name)

    @property
    def donor_email_masked(self) -> str:
        return mask_email(self.donor_email)


class PaymentIntent(models.Model):
    """A request to a gateway to collect one donation. Forward-only (domain/intents.py; trigger in 0003)."""

    class Gateway(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (test)")
        MIDTRANS = "midtrans", "Midtrans"
        XENDIT = "xendit", "Xendit"
        BANK = "bank", _("Bank transfer")

    State = PaymentStateChoices

    donation = models.OneToOneField(Donation, on_delete=models.PROTECT, related_name="intent")
    order_id = models.CharField(max_length=50, unique=True)
    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    amount = models.BigIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=PaymentStateChoices.CREATED)
    gateway_reference = models.CharField(max_length=100, blank=True, help_text="Snap token or Xendit invoice id")
    payment_url = models.URLField(max_length=500, blank=True)
    transaction_id = models.CharField(max_length=100, blank=True, help_text="The gateway's id of the payment")
    settled_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    returned_amount = models.BigIntegerField(
        default=0,
        help_text="Collected by the gateway but never posted here, and returned to the payer from the review queue",
    )
    settlement_entry_id = models.BigIntegerField(null=True, blank=True, help_text="ledger.JournalEntry id")
    in_review = models.BooleanField(default=False, db_index=True)
    review_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_intent_amount_positive", violation_error_code="amount_invalid"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("settled_amount")),
                name="funding_intent_refund_within_settled",
                violation_error_code="refund_exceeds_settled",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["settled", "partially_refunded", "refunded"])
                | Q(settled_amount=F("amount"), settlement_entry_id__isnull=False),
                name="funding_intent_paid_equals_amount",
                violation_error_code="amount_mismatch",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["settled", "partially_refunded", "refunded"]) | Q(settled_amount=0),
                name="funding_intent_unpaid_has_no_money",
            ),
        ]

    def __str__(self) -> str:
        return self.order_id


class GatewayEvent(models.Model):
    """The intake inbox: every notification received, raw body and headers kept, unique per gateway event.

    Verified events carry the gateway's event key; unverifiable ones (bad signature or token, malformed, too large)
    are kept under ``unverified:<sha256 of the body>`` and never processed.
    """

    gateway = models.CharField(max_length=10)
    event_key = models.CharField(max_length=200)
    raw_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    verified = models.BooleanField(default=False)
    verification_error = models.CharField(max_length=40, blank=True)
    order_id = models.CharField(max_length=100, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="Our state for the gateway's status")
    gateway_status = models.CharField(max_length=40, blank=True)
    gross_amount = models.CharField(max_length=30, blank=True, help_text="As received")
    deliveries = models.PositiveIntegerField(default=1, help_text="How many times this event arrived")
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_key"], name="funding_gateway_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.event_key}"


class Refund(models.Model):
    """Money going back to a donor: requested by a finance officer with a reason; above the threshold a second
    person approves; executed as a ledger entry first, then at the gateway."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Waiting for a second approval")
        APPROVED = "approved", _("Approved")
        EXECUTED = "executed", _("Executed")
        REJECTED = "rejected", _("Rejected")

    class GatewayState(models.TextChoices):
        NOT_STARTED = "", _("Not started")
        PENDING = "pending", _("Sent to the gateway")
        DONE = "done", _("Refunded by the gateway")
        ACCEPTED = "accepted", _("Accepted by the gateway, in progress")
        MANUAL = "manual", _("To be transferred by finance")
        FAILED = "failed", _("Refused by the gateway")

    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount (Rp)"))
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.CharField(max_length=300, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    executed_at = models.DateTimeField(null=True, blank=True)
    ledger_entry_id = models.BigIntegerField(null=True, blank=True, help_text="ledger.JournalEntry id")
    gateway_state = models.CharField(max_length=10, choices=GatewayState.choices, default="", blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True)
    gateway_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="funding_refund_amount_positive", violation_error_code="amount_invalid"
            ),
            models.CheckConstraint(
                condition=~Q(state="executed") | Q(ledger_entry_id__isnull=False),
                name="funding_refund_executed_is_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of {self.intent_id}"


class ReviewResolution(models.Model):
    """How finance resolved a payment held for review (``services/review.py``, ``domain/review.py``). One row per
    resolution; an intent may be held and resolved more than once (a refund made at the gateway after acceptance)."""

    class Action(models.TextChoices):
        ACCEPT = "accept", _("Accepted and posted")
        RETURN = "return", _("Returned to the payer")
        RECORD_REFUND = "record_refund", _("Refund at the gateway recorded")
        CLOSE = "close", _("Closed with a note")

    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="review_resolutions")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    review_reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300)
    expected_amount = models.BigIntegerField(help_text="The intent's amount when it was held")
    amount = models.BigIntegerField(default=0, help_text="What was accepted, returned or recorded (0 when closed)")
    ledger_entry_id = models.BigIntegerField(null=True, blank=True, help_text="ledger.JournalEntry id")
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gateway_state = models.CharField(
        max_length=10, choices=Refund.GatewayState.choices, default=Refund.GatewayState.NOT_STARTED, blank=True
    )
    gateway_reference = models.CharField(max_length=100, blank=True)
    gateway_error = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & (Q(action="close", amount=0) | (~Q(action="close") & Q(amount__gt=0))),
                name="funding_review_amount_fits_action",
            ),
            models.CheckConstraint(
                condition=~Q(action__in=["accept", "record_refund"]) | Q(ledger_entry_id__isnull=False),
                name="funding_review_money_is_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.intent_id}"


class ReceiptCounter(models.Model):
    """The last receipt number used in a year. Locked while a receipt is issued, in the settlement's transaction, so
    numbers have no gaps: a rolled-back settlement rolls its number back too."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)


class Receipt(models.Model):
    donation = models.OneToOneField(Donation, on_delete=models.PROTECT, related_name="receipt")
    number = models.CharField(max_length=20, unique=True)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["year", "sequence"], name="funding_receipt_year_sequence")]

    def __str__(self) -> str:
        return self.number


class BankStatementImport(models.Model):
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64, unique=True)
    matched = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    outgoing = models.PositiveIntegerField(default=0, help_text="Outgoing lines, skipped")
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.filename


class BankStatementLine(models.Model):
    class State(models.TextChoices):
        MATCHED = "matched", _("Matched")
        UNMATCHED = "unmatched", _("Not matched")
        DUPLICATE = "duplicate", _("Already imported")

    statement = models.ForeignKey(BankStatementImport, on_delete=models.PROTECT, related_name="lines")
    row = models.PositiveIntegerField()
    booked_on = models.DateField()
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    line_hash = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_lines")
    intent = models.ForeignKey(
        PaymentIntent, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_lines"
    )
    gateway = models.CharField(
        max_length=10, blank=True, help_text="A gateway's payout: the gateway whose clearing account it empties"
    )
    fee = models.BigIntegerField(default=0, help_text="A payout: the fee the gateway kept, posted as an expense")
    ledger_entry_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["statement_id", "row"]
        constraints = [
            models.UniqueConstraint(
                fields=["line_hash"], condition=~Q(state="duplicate"), name="funding_bank_line_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_bank_line_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state="matched") | (Q(ledger_entry_id__isnull=False)),
                name="funding_bank_line_matched_is_posted",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & (Q(fee=0) | ~Q(gateway="")), name="funding_bank_line_fee_is_a_payouts"
            ),
        ]


# --- The built-in sandbox gateway's own tables (the "gateway side"; see gateways/sandbox.py) ------------------------


class SandboxPayment(models.Model):
    """A payment at the sandbox gateway, as the gateway would keep it. Midtrans status names."""

    order_id = models.CharField(max_length=50, unique=True)
    token = models.CharField(max_length=64, unique=True)
    transaction_id = models.CharField(max_length=36, unique=True)
    amount = models.BigIntegerField()
    status = models.CharField(max_length=20, default="created")
    payment_type = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=20, blank=True, help_text="bca, bni, bri, mandiri, qris, gopay, ovo, dana")
    va_number = models.CharField(max_length=30, blank=True)
    customer_name = models.CharField(max_length=150, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)
    item_name = models.CharField(max_length=100, blank=True)
    finish_url = models.CharField(max_length=500, blank=True)
    refunded_amount = models.BigIntegerField(default=0)
    refund_keys = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    transaction_time = models.DateTimeField(null=True, blank=True)
    settlement_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class SandboxDelivery(models.Model):
    """One notification the sandbox sends (a duplicate is a second row with the same body)."""

    class Kind(models.TextChoices):
        NORMAL = "normal", "normal"
        DUPLICATE = "duplicate", "duplicate"
        OUT_OF_ORDER = "out_of_order", "out of order"

    payment = models.ForeignKey(SandboxPayment, on_delete=models.CASCADE, related_name="deliveries")
    body = models.TextField()
    transaction_status = models.CharField(max_length=20)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NORMAL)
    held = models.BooleanField(default=False, help_text="Held back to arrive after a later status")
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
