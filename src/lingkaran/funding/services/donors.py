"""Donors' personal data leaving the database in full: an audited act, never the default.

Staff pages and exports show donors masked (``domain/donors.py``). The full name and e-mail address of one donation's
donor are shown to a finance officer or an operator who asks for them (``donation_reveal_donor``, for a refund by
hand or a question from the donor), and a full export of many donors is an operator's act
(``donations_export_personal``, ``Capability.EXPORT_PERSONAL_DATA``). Each writes one audit row, with the reason,
before anything is shown.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from lingkaran.core import crypto
from lingkaran.core.access import can, require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Forbidden
from lingkaran.funding.models import (
    PURPOSE_DONATION_EMAIL,
    PURPOSE_DONATION_NAME,
    PURPOSE_PLEDGE_EMAIL,
    PURPOSE_PLEDGE_NAME,
    Donation,
    RecurringDonation,
)


def may_reveal_donors(user) -> bool:
    """Money staff who act on donations (finance) and operators; not auditors, not funders."""
    return can(user, Capability.VIEW_MONEY) and (
        can(user, Capability.MANAGE_MONEY) or can(user, Capability.REVEAL_PERSONAL_DATA)
    )


def donation_reveal_donor(*, actor, donation: Donation, reason: str = "") -> dict:
    """The full name and e-mail address the donor gave, for one donation. Audited."""
    require(actor, Capability.VIEW_MONEY)
    if not may_reveal_donors(actor):
        raise Forbidden(details={"capability": Capability.REVEAL_PERSONAL_DATA.value})
    revealed = {"name": donation.donor_name, "email": donation.donor_email}
    audit_record(
        actor=actor,
        action="funding.donor_reveal",
        target=donation,
        details={"fields": ["name", "email"], "reason": (reason or "").strip()[:200]},
    )
    return revealed


def donations_export_personal(*, actor, count: int, filters: dict) -> None:
    """An operator exports donations with donors' full names and e-mail addresses: allowed and audited here, before
    the first row is written."""
    require(actor, Capability.EXPORT_PERSONAL_DATA)
    audit_record(
        actor=actor,
        action="funding.donations_export_personal",
        object_type="funding.donation",
        details={"rows": count, "filters": {k: str(v) for k, v in filters.items() if v}},
    )


# --- Keys: re-sealing and re-indexing the donor columns ---------------------------------------------------------------
# ``lingkaran keys rotate`` and ``lingkaran keys reindex`` call these for funding's columns (beside the registry's).

SEALED_COLUMNS = [
    (Donation, {"donor_name_encrypted": PURPOSE_DONATION_NAME, "donor_email_encrypted": PURPOSE_DONATION_EMAIL}),
    (RecurringDonation, {"donor_name_encrypted": PURPOSE_PLEDGE_NAME, "donor_email_encrypted": PURPOSE_PLEDGE_EMAIL}),
]
CHUNK_SIZE = 2000


def _chunks(queryset, fields: list[str], chunk_size: int):
    """Rows in primary-key order, ``chunk_size`` at a time, each chunk locked in its own short transaction (so an
    interrupted run can simply be started again)."""
    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                queryset.select_for_update().filter(pk__gt=last).order_by("pk").only("pk", *fields)[:chunk_size]
            )
            if not rows:
                return
            yield rows
            last = rows[-1].pk


def donor_keys_rotate(*, chunk_size: int = CHUNK_SIZE) -> dict[str, int]:
    """Re-seal every donor value sealed with an older data key with the current one. Idempotent; audited.
    Returns the number of values re-sealed per table."""
    current = crypto.current_key_id()
    resealed: dict[str, int] = {}
    for model, columns in SEALED_COLUMNS:
        stale = Q()
        for column in columns:
            stale |= ~Q(**{f"{column}__startswith": f"{current}$"}) & ~Q(**{column: ""})
        count = 0
        for rows in _chunks(model.objects.filter(stale), list(columns), chunk_size):
            for row in rows:
                for column, purpose in columns.items():
                    token = getattr(row, column)
                    if token and crypto.key_id_of(token) != current:
                        setattr(row, column, crypto.encrypt(crypto.decrypt(token, purpose=purpose), purpose=purpose))
                        count += 1
            model.objects.bulk_update(rows, list(columns), batch_size=500)
        resealed[model._meta.label_lower] = count
    audit_record(
        actor=None, action="keys.rotate", object_type="funding.donor", object_id=current, details={"values": resealed}
    )
    return resealed


def donor_indexes_rebuild(*, chunk_size: int = CHUNK_SIZE) -> int:
    """Recompute the donors' blind indexes with the current index key. Idempotent; audited. Returns how many rows
    changed."""
    changed = 0
    for model in (Donation, RecurringDonation):
        fields = ["donor_name_encrypted", "donor_email_encrypted", "donor_email_index"]
        if model is Donation:
            fields.append("donor_name_index")
        for rows in _chunks(model.objects.all(), fields, chunk_size):
            dirty = []
            for row in rows:
                before = [getattr(row, f) for f in fields if f.endswith("_index")]
                row.donor_email = row.donor_email  # writing the property recomputes its index
                if model is Donation:
                    row.donor_name = row.donor_name
                if [getattr(row, f) for f in fields if f.endswith("_index")] != before:
                    dirty.append(row)
            model.objects.bulk_update(dirty, fields, batch_size=500)
            changed += len(dirty)
    audit_record(actor=None, action="keys.reindex", object_type="funding.donor", details={"rows_changed": changed})
    return changed


# --- Self-service sign-up for individual donors -----------------------------------------------------------------------


def donor_signup(*, full_name: str, email: str, password: str, language: str = "id"):
    """An individual donor creates their own account (role ``funder``, with no funder organisation: it may do nothing
    but give and see its own donations). The e-mail address is the user name. Donations made before with the same
    address appear in the donor's dashboard where e-mail addresses link donations (``selectors.links_by_email``).
    Audited (``user.create`` by core, and ``funding.donor_signup``)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.utils.translation import gettext as _

    from lingkaran.core.domain.roles import RoleName
    from lingkaran.core.errors import InvalidInput
    from lingkaran.core.models import User
    from lingkaran.core.services import user_create
    from lingkaran.funding.domain.donors import normalise_email
    from lingkaran.funding.services._common import field_error

    email = normalise_email(email)
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise field_error("full_name", _("Enter your name."))
    try:
        validate_email(email)
    except ValidationError:
        raise field_error("email", _("Enter a valid e-mail address.")) from None
    taken = _("An account with this e-mail address exists already: log in instead.")
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise field_error("email", taken)
    with transaction.atomic():
        try:
            user = user_create(
                username=email, password=password, role=RoleName.FUNDER, full_name=full_name, email=email,
                language=language if language in ("id", "en") else "id",
            )  # fmt: skip
        except InvalidInput as exc:
            fields = exc.details.get("fields", {})
            if "username" in fields:
                raise field_error("email", taken) from None
            raise
        audit_record(actor=user, action="funding.donor_signup", target=user, details={"self_service": True})
    return user
