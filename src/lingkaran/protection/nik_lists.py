"""Sponsoring the workers an uploaded list of NIKs matched (``selectors_nik_list.nik_list_check``).

``nik_list_sponsor`` reserves through ``sponsor_directed`` (all or nothing over the matched workers, the same request
key: the same workers and block again reserve nothing more) and records the list in the audit trail (file name,
format, the rows per outcome). A list with rows that did not match is refused (``nik_list_incomplete``) unless the
caller accepts sponsoring the matched workers only, as the page's *Confirm* does after showing the row report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from lingkaran.core.access import require
from lingkaran.core.audit import audit_record
from lingkaran.core.domain.roles import Capability
from lingkaran.core.models import AuditEvent
from lingkaran.funding.models import Funder
from lingkaran.protection import sponsorships
from lingkaran.protection.errors import NikListIncomplete
from lingkaran.protection.models import Sponsorship

AUDIT_ACTION = "sponsorships.nik_list"


@dataclass(frozen=True)
class ListSummary:
    """What the confirmation needs of a checked list: the matched workers and what the report said."""

    file_name: str
    file_format: str
    counts: dict[str, int]
    blocking: int
    worker_ids: list[int]
    replayed: bool = False

    @classmethod
    def of(cls, report) -> ListSummary:
        return cls(
            report.file_name, report.file_format, dict(report.counts), report.blocking, list(report.worker_ids),
            report.replayed,
        )  # fmt: skip


def nik_list_sponsor(
    *,
    funder: Funder,
    summary: ListSummary,
    start: date,
    months: int,
    package: str,
    by,
    accept_partial: bool = False,
    blocking_rows: list[dict] | None = None,
) -> list[Sponsorship]:
    """Reserve the block for the list's matched workers. ``accept_partial``: the rows that did not match are left
    out (the caller has shown them); otherwise any such row refuses the list and nothing is reserved."""
    require(by, Capability.MANAGE_SPONSORSHIPS)
    if not summary.worker_ids or (summary.blocking and not accept_partial):
        raise NikListIncomplete(details={"counts": summary.counts, "rows": blocking_rows or []})
    with transaction.atomic():
        rows = sponsorships.sponsor_directed(
            funder=funder, worker_ids=summary.worker_ids, start=start, months=months, package=package, by=by
        )
        if rows and not AuditEvent.objects.filter(action=AUDIT_ACTION, object_id=rows[0].request_key).exists():
            audit_record(
                actor=by,
                action=AUDIT_ACTION,
                object_type="protection.sponsorship",
                object_id=rows[0].request_key,
                object_label=summary.file_name[:200],
                details={
                    "funder": funder.pk,
                    "file_name": summary.file_name[:200],
                    "file_format": summary.file_format,
                    "counts": summary.counts,
                    "workers": len(summary.worker_ids),
                    "start": f"{start:%Y-%m}",
                    "months": months,
                    "partial": bool(summary.blocking),
                },
            )
    return rows
