"""Protection models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lingkaran.protection.domain import tariffs as rules

# =====================================================================================================================
# Tariffs
#
# Versioned data with contribution months (domain.md 2.2): every version names its first month (``valid_from``), its
# last month (``valid_to``, inclusive; empty while still open) and the regulation it comes from. A month is stored as
# its first day. Versions of the same thing never overlap in time: migration 0001_tariffs installs triggers that
# refuse an overlapping INSERT or UPDATE (and a month that is not a first day), on PostgreSQL and on SQLite; the
# services check first and answer ``tariff_overlap``. The pure rules are in ``protection/domain/tariffs.py``.
# =====================================================================================================================


class Programme(models.TextChoices):
    JKK = rules.Programme.JKK.value, _("JKK (work accident)")
    JKM = rules.Programme.JKM.value, _("JKM (death)")
    JHT = rules.Programme.JHT.value, _("JHT (old-age savings)")


class Package(models.TextChoices):
    """The same values as ``funding.models.Package`` (a test keeps them in step)."""

    JKK_JKM = rules.Package.JKK_JKM.value, _("JKK + JKM")
    JKK_JKM_JHT = rules.Package.JKK_JKM_JHT.value, _("JKK + JKM + JHT")


class Sector(models.TextChoices):
    """An occupation's policy sector (``registry.OccupationGroup.Sector`` has the same values)."""

    TRANSPORT = rules.Sector.TRANSPORT.value, _("Transport")
    OTHER = rules.Sector.OTHER.value, _("Other")


class RuleSector(models.TextChoices):
    ALL = rules.ALL_SECTORS, _("All sectors")
    TRANSPORT = rules.Sector.TRANSPORT.value, _("Transport")
    OTHER = rules.Sector.OTHER.value, _("Other")


class FundingSource(models.TextChoices):
    APBN = rules.FundingSource.APBN.value, _("State budget (APBN)")
    APBD = rules.FundingSource.APBD.value, _("Regional budget (APBD)")
    CSR = rules.FundingSource.CSR.value, _("Company (CSR)")
    ZAKAT = rules.FundingSource.ZAKAT.value, _("Zakat")
    DONATION = rules.FundingSource.DONATION.value, _("Donations (crowdfunding)")
    SELF = rules.FundingSource.SELF.value, _("The worker (self-paid)")


class TariffVersion(models.Model):
    """What every tariff version has: its contribution months, its regulation, who recorded it and when."""

    valid_from = models.DateField(_("first contribution month"))
    valid_to = models.DateField(_("last contribution month"), null=True, blank=True)
    regulation = models.CharField(_("regulation"), max_length=200)
    source_url = models.URLField(_("source"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    def covers(self, month) -> bool:
        return rules.covers(self.valid_from, self.valid_to, month)


def _window_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
        name=name,
        violation_error_code="tariff_window_reversed",
    )


class ProgrammeRate(TariffVersion):
    """One version of one programme's price: ``rate_bp`` basis points of the bracket nominal, or ``flat_amount``."""

    programme = models.CharField(_("programme"), max_length=3, choices=Programme.choices)
    rate_bp = models.PositiveIntegerField(_("rate (basis points of the bracket nominal)"), null=True, blank=True)
    flat_amount = models.BigIntegerField(_("flat amount (Rp)"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "valid_from"]
        constraints = [
            _window_check("protection_rate_window"),
            models.CheckConstraint(
                condition=(Q(rate_bp__isnull=False, flat_amount__isnull=True, rate_bp__gte=1, rate_bp__lte=10_000))
                | Q(rate_bp__isnull=True, flat_amount__isnull=False, flat_amount__gt=0),
                name="protection_rate_rate_or_flat",
                violation_error_code="tariff_rate_invalid",
            ),
            models.CheckConstraint(
                condition=Q(programme__in=[p.value for p in rules.Programme]),
                name="protection_rate_programme_valid",
            ),
            models.UniqueConstraint(fields=["programme", "valid_from"], name="protection_rate_one_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_programme_display()} {self.valid_from:%Y-%m}"

    def to_rule(self) -> rules.ProgrammeRate:
        return rules.ProgrammeRate(
            programme=self.programme,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            regulation=self.regulation,
            rate_bp=self.rate_bp,
            flat_amount=self.flat_amount,
            id=self.pk,
        )


class BracketTable(TariffVersion):
    """One version of the declared-income bracket table (PP 44/2015 Lampiran II); its rows are ``IncomeBracket``.

    ``provisional`` marks a table known to be incomplete (the seed of verified points): a loaded file whose version
    starts in the same month replaces it instead of being refused."""

    provisional = models.BooleanField(_("provisional"), default=False)

    class Meta:
        ordering = ["valid_from"]
        constraints = [
            _window_check("protection_brackettable_window"),
            models.UniqueConstraint(fields=["valid_from"], name="protection_brackettable_one_start"),
        ]

    def __str__(self) -> str:
        return f"{_('Brackets')} {self.valid_from:%Y-%m}"

    def to_rule(self, brackets=None) -> rules.BracketTable:
        rows = brackets if brackets is not None else self.brackets.all()
        return rules.BracketTable(
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            regulation=self.regulation,
            brackets=tuple(rules.Bracket(b.income_from, b.income_to, b.nominal) for b in rows),
            provisional=self.provisional,
            id=self.pk,
        )


class IncomeBracket(models.Model):
    """Declared incomes ``income_from`` .. ``income_to`` (inclusive; empty: no upper end) billed at ``nominal``."""

    table = models.ForeignKey(BracketTable, on_delete=models.CASCADE, related_name="brackets")
    income_from = models.BigIntegerField(_("income from (Rp)"))
    income_to = models.BigIntegerField(_("income to (Rp)"), null=True, blank=True)
    nominal = models.BigIntegerField(_("nominal value (Rp)"))

    class Meta:
        ordering = ["table", "income_from"]
        constraints = [
            models.CheckConstraint(condition=Q(income_from__gte=0), name="protection_bracket_income_from_positive"),
            models.CheckConstraint(
                condition=Q(income_to__isnull=True) | Q(income_to__gte=models.F("income_from")),
                name="protection_bracket_range",
            ),
            models.CheckConstraint(condition=Q(nominal__gt=0), name="protection_bracket_nominal_positive"),
            models.UniqueConstraint(fields=["table", "income_from"], name="protection_bracket_one_start"),
        ]

    def __str__(self) -> str:
        return f"{self.income_from}–{self.income_to or ''}: {self.nominal}"


class DiscountRule(TariffVersion):
    """A discount of ``discount_bp`` basis points on JKK and/or JKM for a window of contribution months, for one
    policy sector or all, except contributions paid from the ``excluded_sources`` (PP 50/2025: APBN and APBD)."""

    discount_bp = models.PositiveIntegerField(_("discount (basis points)"))
    sector = models.CharField(_("sector"), max_length=10, choices=RuleSector.choices, default=RuleSector.ALL)
    applies_to_jkk = models.BooleanField(_("JKK discounted"), default=True)
    applies_to_jkm = models.BooleanField(_("JKM discounted"), default=True)
    excluded_sources = models.JSONField(_("funding sources excluded"), default=list, blank=True)

    class Meta:
        ordering = ["valid_from", "sector"]
        constraints = [
            _window_check("protection_discount_window"),
            models.CheckConstraint(
                condition=Q(discount_bp__gte=1, discount_bp__lte=10_000),
                name="protection_discount_percent",
                violation_error_code="tariff_discount_invalid",
            ),
            models.CheckConstraint(
                condition=Q(applies_to_jkk=True) | Q(applies_to_jkm=True), name="protection_discount_programme"
            ),
            models.CheckConstraint(
                condition=Q(sector__in=[s.value for s in RuleSector]), name="protection_discount_sector_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Discount')} {self.valid_from:%Y-%m} {self.sector}"

    @property
    def programmes(self) -> list[str]:
        return [p for p, on in ((Programme.JKK, self.applies_to_jkk), (Programme.JKM, self.applies_to_jkm)) if on]

    def to_rule(self) -> rules.DiscountRule:
        return rules.DiscountRule(
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            programmes=frozenset(self.programmes),
            discount_bp=self.discount_bp,
            sector=self.sector,
            excluded_sources=frozenset(self.excluded_sources or ()),
            regulation=self.regulation,
            id=self.pk,
        )


# =====================================================================================================================
# Sponsorships
#
# A funder's money committed to a worker's contribution months (``protection/sponsorships.py`` writes them). The
# ledger holds one reservation per request and month; per-worker detail lives here, not in the general ledger.
# =====================================================================================================================


class SponsorshipKind(models.TextChoices):
    DIRECTED = "directed", _("Directed (named workers)")
    CRITERIA = "criteria", _("By criteria")
    POOLED = "pooled", _("Pooled (campaign)")


class AllocationRun(models.Model):
    """One run of the allocation engine: what went in (a fingerprint and the parameters), what came out, and who ran
    it. A preview is kept too, so that what a person looked at before committing can be shown again."""

    class State(models.TextChoices):
        PREVIEW = "preview", _("Preview")
        COMMITTED = "committed", _("Committed")

    as_of = models.DateField(_("as of"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PREVIEW)
    inputs_sha256 = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class CoFunding(models.Model):
    """An explicit co-funding split: two or more funders (or campaigns) share every worker-month of a block, each
    paying ``share_bp`` basis points of the month's amount from its own pool (``CoFundingShare``).

    A co-funded worker-month is one ``SponsoredMonth`` (the claim, unique per worker and month) pointing here instead
    of at a sponsorship; its parts are ``SponsoredShare`` rows, one per share, each reserved from the share's pool.
    The month is priced once, at ``source`` (``domain.cofunding.pricing_source``), and divided by
    ``domain.cofunding.split_amount``."""

    request_key = models.CharField(max_length=120, unique=True)
    package = models.CharField(_("package"), max_length=12)
    start_month = models.DateField(_("first month"))
    months = models.PositiveSmallIntegerField(_("months"))
    source = models.CharField(_("priced as"), max_length=10, choices=FundingSource.choices)
    total = models.BigIntegerField(_("reserved (Rp)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_month", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(months__gte=1, months__lte=60), name="protection_cofunding_months_range"
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="protection_cofunding_total_positive"),
        ]

    def __str__(self) -> str:
        return f"{_('Co-funding')} #{self.pk}"


class CoFundingShare(models.Model):
    """One funder's (or campaign's) part of a co-funding split, in basis points of every month's amount."""

    cofunding = models.ForeignKey(CoFunding, on_delete=models.PROTECT, related_name="shares")
    position = models.PositiveSmallIntegerField(_("position"))
    funder = models.ForeignKey("funding.Funder", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    campaign = models.ForeignKey("funding.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pool = models.CharField(_("pool account"), max_length=80)
    source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    share_bp = models.PositiveIntegerField(_("share (basis points)"))
    total = models.BigIntegerField(_("reserved (Rp)"))

    class Meta:
        ordering = ["cofunding_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cofunding", "position"], name="protection_cofunding_share_position"),
            models.UniqueConstraint(fields=["cofunding", "pool"], name="protection_cofunding_share_pool"),
            models.CheckConstraint(
                condition=models.Q(share_bp__gte=100, share_bp__lte=9_900), name="protection_cofunding_share_bp"
            ),
        ]

    @property
    def percent(self) -> str:
        whole, part = divmod(self.share_bp, 100)
        return f"{whole}" if not part else f"{whole},{part:02d}".rstrip("0")


class Sponsorship(models.Model):
    """One funder paying one worker's contributions for a block of contribution months, reserved up front.

    In a co-funding split each share has its own sponsorship per worker (``cofunding`` and ``share`` set): its
    ``total`` is that funder's part, its months are ``share_months``."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")

    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="sponsorships")
    kind = models.CharField(_("kind"), max_length=10, choices=SponsorshipKind.choices)
    source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    funder = models.ForeignKey(
        "funding.Funder", on_delete=models.PROTECT, null=True, blank=True, related_name="sponsorships"
    )
    agreement = models.ForeignKey(
        "funding.Agreement", on_delete=models.PROTECT, null=True, blank=True, related_name="sponsorships"
    )
    campaign = models.ForeignKey(
        "funding.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="sponsorships"
    )
    pool = models.CharField(_("pool account"), max_length=80)
    package = models.CharField(_("package"), max_length=12)
    start_month = models.DateField(_("first month"))
    months = models.PositiveSmallIntegerField(_("months"))
    total = models.BigIntegerField(_("reserved (Rp)"))
    request_key = models.CharField(max_length=120, help_text="The business request this block answers.")
    run = models.ForeignKey(AllocationRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    cofunding = models.ForeignKey(
        CoFunding, on_delete=models.PROTECT, null=True, blank=True, related_name="sponsorships"
    )
    share = models.ForeignKey(
        CoFundingShare, on_delete=models.PROTECT, null=True, blank=True, related_name="sponsorships"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_month", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request_key", "worker"], name="protection_sponsorship_once_per_request"),
            models.CheckConstraint(
                condition=models.Q(cofunding__isnull=True, share__isnull=True)
                | models.Q(cofunding__isnull=False, share__isnull=False),
                name="protection_sponsorship_share_of_split",
            ),
            models.CheckConstraint(
                condition=models.Q(months__gte=1, months__lte=60),
                name="protection_sponsorship_months_range",
                violation_error_code="months_range",
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="protection_sponsorship_total_positive"),
        ]
        indexes = [models.Index(fields=["funder", "state"], name="protection_sponsorship_funder")]


class SponsoredMonth(models.Model):
    """A worker-month a sponsorship (or a co-funding split) has committed to pay: the unit the monthly cycle bills
    and coverage counts, and the claim on the worker-month.

    The database allows one row per worker and contribution month, held either by one sponsorship or by one
    co-funding split (a CHECK: exactly one of the two; a trigger refuses changing either afterwards), so two funders
    can never pay the same month unless an explicit split says so. A co-funded month's ``reservation_key`` names the
    split's month (``cofund:{request}:{YYYY-MM}``); its parts, each reserved in the ledger, are ``SponsoredShare``."""

    class State(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        PAID = "paid", _("Paid to the agency")
        REJECTED = "rejected", _("Rejected by the agency")
        RELEASED = "released", _("Released to the pool")

    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("contribution month"))
    sponsorship = models.ForeignKey(
        Sponsorship, on_delete=models.PROTECT, null=True, blank=True, related_name="worker_months"
    )
    cofunding = models.ForeignKey(
        CoFunding, on_delete=models.PROTECT, null=True, blank=True, related_name="worker_months"
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    reservation_key = models.CharField(max_length=140)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RESERVED)
    # Set while a tariff change raised the month's price and the pool could not pay the difference: what the month
    # costs now. The cycle does not bill it until a re-pricing succeeds (docs: protection-sponsorships.md).
    price_due = models.BigIntegerField(_("price due now (Rp)"), null=True, blank=True)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "month"],
                name="protection_one_sponsor_per_worker_month",
                violation_error_code="worker_month_taken",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="protection_sponsored_month_amount"),
            models.CheckConstraint(
                condition=models.Q(sponsorship__isnull=False, cofunding__isnull=True)
                | models.Q(sponsorship__isnull=True, cofunding__isnull=False),
                name="protection_month_one_holder",
                violation_error_code="worker_month_taken",
            ),
        ]
        indexes = [models.Index(fields=["month", "state"], name="protection_month_state")]


class SponsoredShare(models.Model):
    """One share's part of a co-funded worker-month: the amount its funder pays, reserved in the ledger under
    ``reservation_key`` (``sponsor:{request}:s{position}:{YYYY-MM}``, per share and month). The parts of a month
    add up to its amount. A trigger refuses a part whose month is not held by the same split."""

    sponsored_month = models.ForeignKey(SponsoredMonth, on_delete=models.PROTECT, related_name="shares")
    cofunding = models.ForeignKey(CoFunding, on_delete=models.PROTECT, related_name="+")
    share = models.ForeignKey(CoFundingShare, on_delete=models.PROTECT, related_name="months")
    sponsorship = models.ForeignKey(Sponsorship, on_delete=models.PROTECT, related_name="share_months")
    amount = models.BigIntegerField(_("amount (Rp)"))
    reservation_key = models.CharField(max_length=140)

    class Meta:
        ordering = ["sponsored_month_id", "share_id"]
        constraints = [
            models.UniqueConstraint(fields=["sponsored_month", "share"], name="protection_share_once_per_month"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="protection_share_amount_positive"),
        ]
        indexes = [models.Index(fields=["reservation_key"], name="protection_share_reservation")]


class Repricing(models.Model):
    """One ledger reservation re-priced after a tariff change (``sponsorships.reserved_months_reprice``).

    ``applied``: the reservation was voided and its months reserved again at the new price under ``new_key``, so the
    difference came from (or went back to) the pool. ``short``: the pool could not pay a higher price; the months
    stay at the old price with ``price_due`` set and the cycle holds them back until a later re-pricing succeeds."""

    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        SHORT = "short", _("Pool short")

    month = models.DateField(_("contribution month"))
    reservation_key = models.CharField(max_length=200)
    new_key = models.CharField(max_length=200, blank=True)
    pool = models.CharField(_("pool account"), max_length=80)
    old_amount = models.BigIntegerField(_("reserved before (Rp)"))
    new_amount = models.BigIntegerField(_("due now (Rp)"))
    available = models.BigIntegerField(_("in the pool (Rp)"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    reason = models.CharField(_("reason"), max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month", "reservation_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation_key", "state", "new_amount"], name="protection_repricing_once"
            ),
            models.CheckConstraint(condition=Q(state__in=["applied", "short"]), name="protection_repricing_state"),
        ]

    @property
    def difference(self) -> int:
        return self.new_amount - self.old_amount


# =====================================================================================================================
# Monthly cycle
#
# One ``Cycle`` per contribution month bills every reserved ``SponsoredMonth`` of that month as a ``ContributionLine``
# (one live line per worker-month: billed once; a rejected one may be retried), split into ``CycleChunk`` rows by
# province and pass, each paid to
# the agency in its own batch and posted to the ledger per pool and reservation (``protection/cycle.py``;
# docs/subsystems/protection-cycle.md).
# =====================================================================================================================


class Cycle(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUBMITTED = "submitted", _("Waiting for the agency")
        DONE = "done", _("Done")

    month = models.DateField(_("contribution month"), unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    line_count = models.PositiveIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    confirmed_count = models.PositiveIntegerField(default=0)
    confirmed_amount = models.BigIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected_amount = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class CycleChunk(models.Model):
    """The lines of one province in one pass of a cycle: one agency payment batch, processed idempotently (a Celery
    task). Pass 1 is the month's first run; worker-months reserved (or resubmitted) after a province's batch went out
    go in a later pass of that province, with its own batch (``cycle:{YYYY-MM}:{province}:p{n}``)."""

    class State(models.TextChoices):
        BILLED = "billed", _("Billed")
        SUBMITTED = "submitted", _("Sent to the agency")
        ANSWERED = "answered", _("Answered by the agency")
        POSTED = "posted", _("Posted to the ledger")

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="chunks")
    province = models.CharField(_("province"), max_length=2)
    pass_number = models.PositiveSmallIntegerField(_("pass"), default=1)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.BILLED)
    batch = models.ForeignKey("agency.PaymentBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    line_count = models.PositiveIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    confirmed_amount = models.BigIntegerField(default=0)
    rejected_amount = models.BigIntegerField(default=0)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cycle_id", "province", "pass_number"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "province", "pass_number"], name="protection_chunk_once_per_pass"),
            models.CheckConstraint(condition=Q(pass_number__gte=1), name="protection_chunk_pass_positive"),
        ]

    @property
    def label(self) -> str:
        """``64`` for the first pass, ``64:p2`` for the second: the chunk's part of its batch and ledger keys."""
        return self.province if self.pass_number == 1 else f"{self.province}:p{self.pass_number}"


class ContributionLine(models.Model):
    """One worker-month billed by a cycle: what is paid, from which money, and what the agency answered."""

    class Kind(models.TextChoices):
        SPONSORED = "sponsored", _("Sponsored")
        CO_PAID = "co_paid", _("Co-paid")
        BRIDGED = "bridged", _("Bridged")
        SELF = "self", _("Self-paid")

    class State(models.TextChoices):
        DUE = "due", _("Due")
        SUBMITTED = "submitted", _("Sent to the agency")
        CONFIRMED = "confirmed", _("Confirmed by the agency")
        REJECTED = "rejected", _("Rejected by the agency")

    id = models.BigAutoField(primary_key=True)
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="lines", db_index=False)
    chunk = models.ForeignKey(CycleChunk, on_delete=models.PROTECT, related_name="lines")
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="+", db_index=False)
    month = models.DateField(_("contribution month"))
    amount = models.BigIntegerField(_("amount (Rp)"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SPONSORED)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    sponsorship = models.ForeignKey(Sponsorship, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sponsored_month = models.ForeignKey(
        SponsoredMonth, on_delete=models.PROTECT, null=True, blank=True, related_name="contribution_lines"
    )
    # A line billed again after the agency rejected ``retry_of`` and staff recorded "resubmit" (once its data was
    # fixed): a new line in a later pass, linked to the old one, which stays as it was.
    retry_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retry", verbose_name=_("retry of")
    )
    cofunding = models.ForeignKey(CoFunding, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pool = models.CharField(_("pool account"), max_length=120)
    reservation_key = models.CharField(max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DUE)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    reason_text = models.CharField(max_length=200, blank=True)
    agency_reference = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["cycle_id", "id"]
        constraints = [
            # A worker-month has at most one line that is not rejected: it is billed once, whatever runs; only a
            # rejected line may be followed by a retry (one, ``retry_of`` is unique).
            models.UniqueConstraint(
                fields=["worker", "month"],
                condition=~Q(state="rejected"),
                name="protection_line_once_per_worker_month",
                violation_error_code="billed",
            ),
            models.UniqueConstraint(
                fields=["sponsored_month"],
                condition=~Q(state="rejected"),
                name="protection_line_once_per_sponsored_month",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="protection_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(state="rejected") | Q(reason=""), name="protection_line_reason_only_when_rejected"
            ),
        ]
        indexes = [models.Index(fields=["cycle", "state"], name="protection_line_cycle_state")]


# =====================================================================================================================
# Reconciliation
#
# What we paid (confirmed ``ContributionLine`` rows) against what the agency reports (``MembershipStatus``,
# ``LineOutcome``), per worker-month. The exceptions are computed, not stored (``protection/reconciliation.py``); what
# staff decided about one is recorded here, append-only (docs/subsystems/protection-reconciliation.md).
# =====================================================================================================================


class ReconciliationAction(models.Model):
    """One decision about one reconciliation exception (kind, worker, month). Rows are only ever added; the same
    decision about the same exception is recorded once (a unique constraint), and a resolved exception takes none."""

    class Kind(models.TextChoices):
        PAID_INACTIVE = "paid_inactive", _("Paid, but not active at the agency")
        ACTIVE_UNPAID = "active_unpaid", _("Active at the agency, but not paid by us")
        REJECTED = "rejected", _("Rejected by the agency")

    class Action(models.TextChoices):
        RESUBMIT = "resubmit", _("Resubmit in the next cycle")
        ESCALATE = "escalate", _("Escalate to the branch office")
        RESOLVE = "resolve", _("Mark resolved")

    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("contribution month"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    line = models.ForeignKey(ContributionLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["month", "worker_id", "kind", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "worker", "month", "action"],
                name="protection_reconciliation_action_once",
                violation_error_code="reconciliation_action_recorded",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["paid_inactive", "active_unpaid", "rejected"]),
                name="protection_reconciliation_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(action__in=["resubmit", "escalate", "resolve"]),
                name="protection_reconciliation_action_valid",
            ),
        ]
        indexes = [models.Index(fields=["month", "kind"], name="protection_recon_month")]
