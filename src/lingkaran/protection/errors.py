"""Protection errors with stable codes (never reuse a code for another meaning)."""

from django.utils.translation import gettext_lazy as _

from lingkaran.core.errors import Conflict, DomainError, InvalidInput


class TariffOverlap(Conflict):
    code = "tariff_overlap"
    default_message = _("Another version of this tariff already covers some of these contribution months.")


class TariffNotInForce(DomainError):
    """No version of a needed tariff covers the month. ``details``: ``month`` (``YYYY-MM``) and ``missing``."""

    code = "tariff_not_in_force"
    http_status = 422
    default_message = _("No tariff is in force for this contribution month.")


class TariffFileInvalid(InvalidInput):
    """The bracket file has problems; nothing was loaded. ``details['problems']`` lists every one with its line,
    column, code and message."""

    code = "tariff_file_invalid"
    default_message = _("The bracket file has problems; nothing was loaded.")


class PoolInsufficient(Conflict):
    """The pool cannot pay for the whole committed block. ``details``: ``pool``, ``available``, ``needed``."""

    code = "pool_insufficient"
    default_message = _("There is not enough money in the pool for the whole block; nothing was reserved.")


class SponsorshipRefused(InvalidInput):
    """Some named workers cannot be sponsored by this funder. ``details``: ``not_verified`` (worker ids) and
    ``refused`` (worker id → reason codes of the allocation engine)."""

    code = "sponsorship_refused"
    default_message = _("Some of these workers cannot be sponsored by this funder; nothing was reserved.")


class WorkerMonthTaken(Conflict):
    """Another sponsorship already pays some of these worker-months. ``details``: ``workers``."""

    code = "worker_month_taken"
    default_message = _("Another funder already pays some of these workers for some of these months.")


class CycleNothingDue(InvalidInput):
    """No sponsored worker-month is reserved for the contribution month, so the cycle has nothing to bill.
    ``details``: ``month`` (``YYYY-MM``)."""

    code = "cycle_nothing_due"
    default_message = _("Nothing is due for this contribution month: no sponsored worker-month is reserved for it.")


class CycleRunning(Conflict):
    """Another run of the monthly cycle holds this month. ``details``: ``month`` (``YYYY-MM``)."""

    code = "cycle_running"
    default_message = _("The cycle for this month is already running elsewhere; try again when it has finished.")


class CycleLedgerMismatch(Conflict):
    """The lines of a reservation add up to more than the reservation holds; nothing of the chunk was posted.
    ``details``: ``reservation``, ``reserved``, ``billed``."""

    code = "cycle_ledger_mismatch"
    default_message = _("The contribution lines do not tie to their ledger reservation; nothing was posted.")


# --- Reconciliation (docs/subsystems/protection-reconciliation.md) ---------------------------------------------------

from lingkaran.core.errors import NotFound  # noqa: E402 - kept with the errors that use it (this file is append-only)


class ReconciliationNotFound(NotFound):
    """No such reconciliation exception for this month (it is computed; it may have gone since the page was shown).
    ``details``: ``kind``, ``worker``, ``month``."""

    code = "reconciliation_not_found"
    default_message = _("There is no such exception for this month any more.")


class ReconciliationResolved(Conflict):
    """The exception is already marked resolved; it takes no further action. ``details``: ``kind``, ``worker``,
    ``month``."""

    code = "reconciliation_resolved"
    default_message = _("This exception is already resolved.")


class ReconciliationNoteRequired(InvalidInput):
    """Marking an exception resolved needs a note saying why."""

    code = "reconciliation_note_required"
    default_message = _("Say in a note why this exception is resolved.")


# --- Co-funding (docs/subsystems/protection-sponsorships.md, "Co-funding") ------------------------------------------


class CoFundingInvalid(InvalidInput):
    """The shares do not form a co-funding split. ``details['reason']``: ``too_few`` (fewer than two shares),
    ``too_many`` (more than five), ``share_too_small`` (a share under 1 %), ``not_whole`` (the shares do not add up to
    100 %) or ``same_funder`` (one funder named twice)."""

    code = "cofunding_invalid"
    default_message = _(
        "The shares of a co-funding split must name two to five different funders, each at least 1 %, adding up to 100 %."
    )


# --- Lists of NIKs for a directed sponsorship (docs/subsystems/protection-sponsorships.md, "Ways in") ---------------


class NikListRefused(InvalidInput):
    """The uploaded file cannot be read as a list of NIKs; nothing was matched or reserved. ``details['reason']``:
    ``file_empty``, ``file_too_large`` (``limit_mb``), ``file_xls_old``, ``file_not_spreadsheet``,
    ``file_xlsx_invalid``, ``no_nik_column`` (``found``: the first row's cells), ``no_rows``, ``too_many_rows``
    (``limit``)."""

    code = "nik_list_refused"
    default_message = _("This file cannot be read as a list of NIKs; nothing was reserved.")


class NikListIncomplete(InvalidInput):
    """Some rows of the list do not match a worker this funder can sponsor, and the caller asked for the whole list
    or nothing. ``details``: ``counts`` (rows per outcome) and ``rows`` (the rows that keep it from being whole)."""

    code = "nik_list_incomplete"
    default_message = _(
        "Some rows of the list do not match a worker this funder can sponsor; nothing was reserved. Correct them, or "
        "sponsor only the matched workers."
    )
