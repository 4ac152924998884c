"""Receipts and yearly statements as PDF (fpdf2), in Indonesian or English.

The built-in PDF fonts cover Latin-1 only; names outside it are written with their closest Latin-1 form (``?`` for
what has none) rather than failing. Amounts are formatted per language: ``Rp 50.400`` / ``Rp 50,400``.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from lingkaran.core.domain.formatting import format_rupiah
from lingkaran.funding.domain.amounts import worker_months
from lingkaran.funding.domain.donors import mask_email, mask_name
from lingkaran.funding.models import Donation, Target
from lingkaran.funding.tickets import standard_ticket

BRAND = (11, 110, 79)


def _latin1(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).replace("\u2014", "-").replace("\u2013", "-")
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return text.encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_title(_latin1(title))
        self.set_author("Lingkaran")
        self.set_creator("Lingkaran")
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()
        self.set_text_color(*BRAND)
        self.set_font("helvetica", "B", 18)
        self.cell(0, 10, "Lingkaran", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font("helvetica", "B", 14)
        self.cell(0, 9, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def row(self, label: str, value: str) -> None:
        self.set_font("helvetica", "", 10)
        self.set_text_color(90, 90, 90)
        self.cell(55, 7, _latin1(label))
        self.set_text_color(0, 0, 0)
        self.set_font("helvetica", "B", 11)
        self.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, size: int = 10) -> None:
        self.set_font("helvetica", "", size)
        self.multi_cell(0, 5.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)


def _target_label(donation: Donation) -> str:
    if donation.target == Target.CAMPAIGN:
        return _("Campaign: %(title)s") % {"title": donation.campaign.title}
    if donation.target == Target.FUNDER:
        return _("Pool of %(name)s") % {"name": donation.funder.name}
    return _("Lingkaran general pool")


def protection_text(amount: int, on: date, language: str) -> str:
    """What a gift buys: ``Rp 50.400 = 6 months of JKK + JKM for one worker (Rp 8.400 a month)``."""
    ticket = standard_ticket(on)
    months = worker_months(amount, ticket)
    return _(
        "%(amount)s pays %(months)s worker-months of work-accident and death insurance (JKK + JKM) "
        "at %(ticket)s a month."
    ) % {
        "amount": format_rupiah(amount, language),
        "months": formats.number_format(months, use_l10n=True),
        "ticket": format_rupiah(ticket, language),
    }


def receipt_pdf(donation: Donation, language: str = "id", *, masked: bool = False) -> bytes:
    """The receipt of a settled donation. The donor's own receipt carries their name even when they gave
    anonymously (the name is hidden from the public only); a copy staff open (``masked``) shows the donor masked."""
    receipt = donation.receipt
    language = language if language in ("id", "en") else "id"
    with translation.override(language):
        issued = timezone.localtime(receipt.issued_at)
        pdf = _Document(_("Donation receipt"))
        pdf.row(_("Receipt number"), receipt.number)
        pdf.row(_("Date"), formats.date_format(issued.date(), "DATE_FORMAT"))
        name, email = donation.donor_name, donation.donor_email
        if masked:
            name, email = mask_name(name), mask_email(email)
        pdf.row(_("Received from"), name)
        if email:
            pdf.row(_("E-mail"), email)
        pdf.row(_("Amount"), format_rupiah(receipt.amount, language))
        pdf.row(_("For"), _target_label(donation))
        pdf.row(_("Payment"), donation.intent.order_id)
        if donation.purpose_note:
            pdf.row(_("Your note"), donation.purpose_note)
        if donation.is_anonymous:
            pdf.row(_("Shown publicly as"), _("Anonymous"))
        pdf.ln(4)
        pdf.paragraph(protection_text(receipt.amount, issued.date(), language), size=11)
        pdf.paragraph(
            _(
                "Lingkaran holds this money in trust until it pays BPJS Ketenagakerjaan contributions for "
                "vulnerable informal workers. Every rupiah is traceable to the worker-months it bought."
            )
        )
        return bytes(pdf.output())


def statement_pdf(statement: dict, language: str = "id") -> bytes:
    """A donor's yearly statement (from ``selectors.donor_statement``)."""
    language = language if language in ("id", "en") else "id"
    with translation.override(language):
        pdf = _Document(_("Donation statement %(year)s") % {"year": statement["year"]})
        pdf.row(_("Donor"), statement["donor_name"])
        pdf.row(_("Donations"), str(len(statement["lines"])))
        pdf.row(_("Total"), format_rupiah(statement["total"], language))
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 10)
        for width, heading in ((30, _("Date")), (40, _("Receipt")), (70, _("For")), (40, _("Amount"))):
            pdf.cell(width, 7, _latin1(heading), border="B")
        pdf.ln()
        pdf.set_font("helvetica", "", 10)
        for line in statement["lines"]:
            pdf.cell(30, 7, _latin1(formats.date_format(line["date"], "SHORT_DATE_FORMAT")))
            pdf.cell(40, 7, _latin1(line["receipt"]))
            pdf.cell(70, 7, _latin1(line["for"][:40]))
            pdf.cell(40, 7, _latin1(format_rupiah(line["amount"], language)), align="R")
            pdf.ln()
        if statement["refunded"]:
            pdf.ln(2)
            pdf.row(_("Refunded"), format_rupiah(statement["refunded"], language))
        pdf.ln(4)
        pdf.paragraph(protection_text(statement["total"], date(statement["year"], 12, 31), language))
        return bytes(pdf.output())
