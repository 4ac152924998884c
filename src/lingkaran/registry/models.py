"""The worker registry: regions, occupations, workers, heirs, consent, verification, duplicates and imports.

Personal data (NIK, phone, address detail, heirs) is stored encrypted (``core.crypto``); NIK and phone also carry a
keyed blind index for exact lookup and uniqueness, and a masked form for display. Nothing here is ever shown in
full without going through ``registry.services.worker_reveal`` (which writes the audit row).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        REGENCY = 2, _("Regency / city")
        DISTRICT = 3, _("District (kecamatan)")
        VILLAGE = 4, _("Village (desa / kelurahan)")

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    code_list = models.CharField(
        _("code list"), max_length=60, help_text=_("The Kepmendagri list this code came from.")
    )
    is_current = models.BooleanField(_("in the current code list"), default=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="registry_region_level_name")]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=4), name="registry_region_level_range")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class OccupationGroup(models.Model):
    class Sector(models.TextChoices):
        TRANSPORT = "transport", _("Transport")
        OTHER = "other", _("Other")

    code = models.CharField(max_length=30, primary_key=True)
    name_id = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    sector = models.CharField(
        _("policy sector"),
        max_length=10,
        choices=Sector.choices,
        help_text=_("Decides which contribution discount window applies (PP 50/2025)."),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_id


class Occupation(models.Model):
    code = models.CharField(max_length=40, primary_key=True)
    group = models.ForeignKey(OccupationGroup, on_delete=models.PROTECT, related_name="occupations")
    name_id = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["group_id", "code"]

    def __str__(self) -> str:
        return self.name_id

    def label(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_id


class WorkerStatus(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another record")


class NominationSource(models.TextChoices):
    FIELD_AGENT = "field_agent", _("Field agent")
    FUNDER = "funder", _("Funder")
    PEMDA_LIST = "pemda_list", _("Local government list")
    ZAKAT_LIST = "zakat_list", _("Zakat body list")
    IMPORT = "import", _("File import")
    OPERATOR = "operator", _("Operator")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Worker(models.Model):
    """A worker in the registry.

    The table holds every worker of the programme (millions), and the bulk import writes into it, so each index is
    here because a query or a foreign-key check needs it (see "Indexes" in ``docs/subsystems/registry-import.md``):

    * ``nik_index`` unique: lookup by NIK, and what makes a NIK exist once;
    * ``phone_index`` (rows with a phone only): duplicate detection by phone;
    * ``(region_code, status)``: the region scope of field agents and the region filter (``= code`` or
      ``LIKE 'code.%'``), with the status filter inside the index;
    * ``region_code`` of verified workers only: the verified workers that sponsorship allocates and counts per
      region (an import adds none: its workers are nominated);
    * ``birth_date``: the birth-date block of duplicate detection;
    * ``(created_at, id)``: the default order of every list;
    * ``import_batch``: the workers of one import (duplicate detection after a run);
    * ``region``: deleting a retired region checks that no worker points to it;
    * ``merged_into`` and ``kpj_number`` (rows that have one only): the merged records of a survivor, a worker
      deleted while another points to it, and lookups by KPJ number.

    Text keys that are only compared for equality or by prefix use ``varchar_pattern_ops`` on PostgreSQL: byte-wise
    comparison (cheaper than the locale's) and ``LIKE 'x%'`` from the same index, so no ``_like`` twin is needed.
    ``occupation`` and ``nominated_by`` have no index: no query filters on them selectively, and occupations and users
    are never deleted while workers point to them (Django's PROTECT would refuse it anyway).
    """

    # Identity. The NIK is never stored in clear: ciphertext, blind index (unique) and masked form.
    nik_encrypted = models.TextField()
    nik_index = models.CharField(max_length=64)
    nik_masked = models.CharField(max_length=16)
    full_name = models.CharField(_("full name"), max_length=150)
    name_key = models.CharField(max_length=150, help_text="Normalised name for duplicate detection.")
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    # Contact and address.
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(max_length=16, blank=True)
    address_encrypted = models.TextField(blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workers",
        verbose_name=_("desa"),
        db_index=False,
    )
    region_code = models.CharField(
        max_length=13, help_text="Most precise known region: the desa, else the NIK's kecamatan."
    )
    # Work and welfare.
    occupation = models.ForeignKey(Occupation, on_delete=models.PROTECT, related_name="workers", db_index=False)
    declared_income = models.PositiveIntegerField(_("declared monthly income (Rp)"))
    dtsen_decile = models.PositiveSmallIntegerField(_("DTSEN welfare decile"), null=True, blank=True)
    dtsen_as_of = models.DateField(_("decile as of"), null=True, blank=True)
    has_disability = models.BooleanField(_("disability"), default=False)
    is_elderly = models.BooleanField(_("elderly"), default=False)
    is_female_head = models.BooleanField(_("female head of household"), default=False)
    on_extreme_poverty_list = models.BooleanField(_("on the extreme-poverty list (P3KE)"), default=False)
    zakat_eligible = models.BooleanField(_("zakat eligible (mustahik)"), default=False)
    # Agency and workflow.
    kpj_number = models.CharField(_("KPJ number"), max_length=11, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=WorkerStatus.choices, default=WorkerStatus.NOMINATED)
    rejection_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(_("nominated through"), max_length=20, choices=NominationSource.choices)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    import_batch = models.ForeignKey(
        "ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="workers", db_index=False
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["phone_index"],
                name="registry_worker_phone",
                condition=~models.Q(phone_index=""),
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["region_code", "status"],
                name="registry_worker_region_status",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["region_code"],
                name="registry_worker_verified",
                condition=models.Q(status="verified"),
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["birth_date"], name="registry_worker_birth_date"),
            models.Index(fields=["created_at", "id"], name="registry_worker_created"),
            models.Index(fields=["import_batch"], name="registry_worker_import_batch"),
            models.Index(fields=["region"], name="registry_worker_region", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["merged_into"],
                name="registry_worker_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
            models.Index(fields=["kpj_number"], name="registry_worker_kpj_number", condition=~models.Q(kpj_number="")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nik_index"],
                name="registry_worker_nik_unique",
                opclasses=["varchar_pattern_ops"],
                violation_error_code="nik_exists",
            ),
            models.CheckConstraint(
                condition=models.Q(dtsen_decile__isnull=True) | models.Q(dtsen_decile__gte=1, dtsen_decile__lte=10),
                name="registry_worker_decile_range",
                violation_error_code="decile_range",
            ),
            models.CheckConstraint(
                condition=models.Q(sex__in=["M", "F"]), name="registry_worker_sex_valid", violation_error_code="sex"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="registry_worker_rejection_has_reason",
                violation_error_code="rejection_reason_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.nik_masked})"


class Heir(models.Model):
    """An heir (ahli waris) for the death benefit. Everything but the relationship is encrypted as one JSON value."""

    class Relationship(models.TextChoices):
        SPOUSE = "spouse", _("Husband / wife")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Brother / sister")
        GRANDCHILD = "grandchild", _("Grandchild")
        OTHER = "other", _("Other (as named in a will)")

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="heirs")
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    details_encrypted = models.TextField()
    order = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["worker_id", "order", "id"]


class Consent(models.Model):
    """What the worker agreed to, when, how, and who collected it. Withdrawal is recorded, never erased."""

    class Purpose(models.TextChoices):
        REGISTRATION = "registration", _("Registration and sponsorship of BPJS Ketenagakerjaan contributions")
        AGENCY_SHARING = "agency_sharing", _("Sharing data with BPJS Ketenagakerjaan")
        FUNDER_REPORTING = "funder_reporting", _("Being shown (masked) to the funder who pays")
        CONTACT = "contact", _("Being contacted by phone or WhatsApp")

    class Method(models.TextChoices):
        PAPER = "paper", _("Signed paper form")
        DIGITAL = "digital", _("Digital signature / OTP")
        VERBAL = "verbal", _("Verbal, witnessed by the field agent")
        LIST = "list", _("Given to the list provider (Pemda, BAZNAS, company)")

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evidence = models.CharField(_("evidence reference"), max_length=200, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["worker_id", "purpose", "-given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="registry_consent_one_active_per_purpose",
            )
        ]


class VerificationDecision(models.Model):
    """One verifier decision on one worker. Append-only (trigger); the worker's status follows the latest."""

    append_only = True

    class Decision(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(_("reason"), max_length=300)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["worker_id", "-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="registry_decision_has_reason", violation_error_code="reason"
            )
        ]


class DuplicateCandidate(models.Model):
    """Two records that may be the same person, with a score and the evidence; a person decides."""

    class State(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not the same person")

    first = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    evidence = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-score", "found_at"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="registry_duplicate_pair_unique"),
            models.CheckConstraint(condition=models.Q(first__lt=models.F("second")), name="registry_duplicate_ordered"),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="registry_duplicate_score_range"),
        ]


class Merge(models.Model):
    """A merge: ``merged`` now points to ``survivor``; both keep their history; differing values are kept here."""

    append_only = True

    survivor = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="merges_in")
    merged = models.OneToOneField(Worker, on_delete=models.PROTECT, related_name="merge_out")
    conflicts = models.JSONField(default=dict)
    candidate = models.ForeignKey(DuplicateCandidate, on_delete=models.PROTECT, null=True, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)


class ImportBatch(models.Model):
    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: any bad row stops the whole file")
        ACCEPT_VALID = "accept_valid", _("Accept valid rows, report the others")

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused (nothing imported)")
        FAILED = "failed", _("Failed (nothing imported)")

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(max_length=5)
    stored_path = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=20, choices=NominationSource.choices, default=NominationSource.IMPORT)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ACCEPT_VALID)
    mapping = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    duplicate_in_file_count = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportProblem(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=60, blank=True)
    code = models.CharField(max_length=40)
    message_id = models.CharField(max_length=300)
    message_en = models.CharField(max_length=300)
    is_error = models.BooleanField(default=True)

    class Meta:
        ordering = ["batch_id", "row", "id"]
