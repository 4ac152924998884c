"""Donors' personal data leaving the database in full: an audited act, never the default.

Staff pages and exports show donors masked (``domain/donors.py``). The full name and e-mail address of one donation's
donor are shown to a finance officer or an operator who asks for them (``donation_reveal_donor``, for a refund by
hand or a question from the donor), and a full export of many donors is an operator's act
(``donations_export_personal``, ``Capability.EXPORT_PERSONAL_DATA``). Each writes one audit row, with the reason,
before anything is shown.

Key changes reach the donor columns here too: ``donor_keys_rotate`` and ``donor_indexes_rebuild``, which
``lingkaran keys rotate`` and ``lingkaran keys reindex`` call after the registry's columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from lingkaran.core import context, crypto
from lingkaran.core.access import can, require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.errors import Forbidden
from lingkaran.core.ratelimit import count_attempt
from lingkaran.funding.errors import SignupRateLimited
from lingkaran.funding.models import (
    PURPOSE_DONATION_EMAIL,
    PURPOSE_DONATION_NAME,
    PURPOSE_PLEDGE_EMAIL,
    PURPOSE_PLEDGE_NAME,
    Donation,
    RecurringDonation,
    email_index_of,
    name_index_of,
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
# ``lingkaran keys rotate`` and ``lingkaran keys reindex`` call these for funding's columns, after the registry's. Both
# walk a table in primary-key order, ``chunk_size`` rows at a time, each chunk locked and written (one ``UPDATE`` per
# 500 rows) in its own short transaction, so an interrupted run can simply be started again: a value already sealed
# with the current key, or an index already right, is left alone.

SEALED_COLUMNS = [
    (Donation, {"donor_name_encrypted": PURPOSE_DONATION_NAME, "donor_email_encrypted": PURPOSE_DONATION_EMAIL}),
    (RecurringDonation, {"donor_name_encrypted": PURPOSE_PLEDGE_NAME, "donor_email_encrypted": PURPOSE_PLEDGE_EMAIL}),
]
# The blind indexes of each table: index column -> (sealed column, its purpose, the function that indexes a value).
INDEXED_COLUMNS = [
    (
        Donation,
        {
            "donor_email_index": ("donor_email_encrypted", PURPOSE_DONATION_EMAIL, email_index_of),
            "donor_name_index": ("donor_name_encrypted", PURPOSE_DONATION_NAME, name_index_of),
        },
    ),
    (RecurringDonation, {"donor_email_index": ("donor_email_encrypted", PURPOSE_PLEDGE_EMAIL, email_index_of)}),
]
CHUNK_SIZE = 2000

Progress = Callable[[str], None]


@dataclass
class DonorKeysResult:
    """Per table (``funding.donation``, ``funding.recurringdonation``): rows looked at, rows written, values
    re-sealed (rotation only)."""

    rows_examined: dict[str, int] = field(default_factory=dict)
    rows_changed: dict[str, int] = field(default_factory=dict)
    values_resealed: dict[str, int] = field(default_factory=dict)


def _walk(queryset, *, read: list[str], write: list[str], chunk_size: int, change, progress, label: str, verb: str):
    """Run ``change(rows)`` on every chunk of ``queryset``, locked, in its own transaction; ``change`` returns the
    rows to write (``write`` columns only). Returns (rows examined, rows written)."""
    model = queryset.model
    total = queryset.count()
    examined = changed = last = 0
    while True:
        with transaction.atomic():
            rows = list(queryset.select_for_update().filter(pk__gt=last).order_by("pk").only("pk", *read)[:chunk_size])
            if not rows:
                return examined, changed
            dirty = change(rows)
            if dirty:
                model._base_manager.bulk_update(dirty, write, batch_size=500)
        examined += len(rows)
        changed += len(dirty)
        last = rows[-1].pk
        if progress:
            progress(f"{label}: {examined}/{total} rows {verb}")


def donor_keys_rotate(*, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None) -> DonorKeysResult:
    """Re-seal every donor name and e-mail address sealed with an older data key with the current one (the first of
    ``LINGKARAN_DATA_KEYS``). Idempotent; audited (``keys.rotate`` on ``funding.donor``). A value no key opens stops
    the run with ``crypto.DecryptionError``; the chunks done before stay done."""
    current = crypto.current_key_id()
    result = DonorKeysResult()
    for model, columns in SEALED_COLUMNS:
        label = model._meta.label_lower
        stale = Q()
        for column in columns:
            stale |= ~Q(**{f"{column}__startswith": f"{current}$"}) & ~Q(**{column: ""})
        queryset = model._base_manager.filter(stale)
        resealed = 0

        def reseal(rows, columns=columns):
            nonlocal resealed
            dirty = []
            for row in rows:
                touched = False
                for column, purpose in columns.items():
                    token = getattr(row, column)
                    if token and crypto.key_id_of(token) != current:
                        setattr(row, column, crypto.encrypt(crypto.decrypt(token, purpose=purpose), purpose=purpose))
                        resealed += 1
                        touched = True
                if touched:
                    dirty.append(row)
            return dirty

        examined, changed = _walk(
            queryset, read=list(columns), write=list(columns), chunk_size=chunk_size, change=reseal,
            progress=progress, label=label, verb="re-sealed",
        )  # fmt: skip
        result.rows_examined[label] = examined
        result.rows_changed[label] = changed
        result.values_resealed[label] = resealed
    audit_record(
        actor=None,
        action="keys.rotate",
        object_type="funding.donor",
        object_id=current,
        details={"key_id": current, "rows": result.rows_changed, "values": result.values_resealed},
    )
    return result


def donor_indexes_rebuild(*, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None) -> DonorKeysResult:
    """Recompute the donors' e-mail and name blind indexes with the current ``LINGKARAN_BLIND_INDEX_KEY`` (opening
    each value with the data keys). Only the index columns are written. Idempotent; audited (``keys.reindex`` on
    ``funding.donor``)."""
    result = DonorKeysResult()
    for model, indexes in INDEXED_COLUMNS:
        label = model._meta.label_lower
        queryset = model._base_manager.all()

        def reindex(rows, indexes=indexes):
            dirty = []
            for row in rows:
                touched = False
                for index_column, (column, purpose, index_of) in indexes.items():
                    token = getattr(row, column)
                    index = index_of(crypto.decrypt(token, purpose=purpose)) if token else ""
                    if getattr(row, index_column) != index:
                        setattr(row, index_column, index)
                        touched = True
                if touched:
                    dirty.append(row)
            return dirty

        sealed = [column for column, _purpose, _index in indexes.values()]
        examined, changed = _walk(
            queryset, read=[*indexes, *sealed], write=list(indexes), chunk_size=chunk_size, change=reindex,
            progress=progress, label=label, verb="indexed",
        )  # fmt: skip
        result.rows_examined[label] = examined
        result.rows_changed[label] = changed
    audit_record(
        actor=None,
        action="keys.reindex",
        object_type="funding.donor",
        details={"rows_examined": result.rows_examined, "rows_changed": result.rows_changed},
    )
    return result


# --- Self-service sign-up for individual donors -----------------------------------------------------------------------

SIGNUP_LIMIT = 10  # attempts per window and client address (valid forms only: each one creates or probes an account)
SIGNUP_WINDOW_SECONDS = 3600


def donor_signup(*, full_name: str, email: str, password: str, language: str = "id", now: float | None = None):
    """An individual donor creates their own account (role ``funder``, with no funder organisation: it may do nothing
    but give and see its own donations). The e-mail address is the user name. Donations made before with the same
    address appear in the donor's dashboard where e-mail addresses link donations (``selectors.links_by_email``).
    Audited (``user.create`` by core, and ``funding.donor_signup``).

    Rate-limited like the public coverage check (``core.ratelimit``): at most ``SIGNUP_LIMIT`` attempts per
    ``SIGNUP_WINDOW_SECONDS`` from one client address, counted before anything is checked (so that neither accounts
    nor "address taken" answers can be farmed); beyond that ``SignupRateLimited`` (429, ``rate_limited``), audited
    once per refused attempt without the address asked for."""
    attempts = count_attempt(
        "donor-signup:ip",
        context.current().ip_address or "",
        window_seconds=SIGNUP_WINDOW_SECONDS,
        now=time.time() if now is None else now,
    )
    if attempts > SIGNUP_LIMIT:
        audit_record(
            actor=None,
            action="funding.donor_signup_limited",
            object_type="core.user",
            details={"attempts": attempts, "limit": SIGNUP_LIMIT, "window_seconds": SIGNUP_WINDOW_SECONDS},
        )
        raise SignupRateLimited(details={"retry_after_seconds": SIGNUP_WINDOW_SECONDS})
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
