"""Bank transfers: invoices with payment references for companies and Pemda, and the statement import that matches
lines by reference and exact amount, posts them once, and lists what it cannot match (and what it saw before)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from lingkaran.core.errors import Forbidden
from lingkaran.funding import services
from lingkaran.funding.domain import bank_statements
from lingkaran.funding.errors import StatementUnreadable
from lingkaran.funding.models import BankStatementImport, BankStatementLine, Funder, Invoice
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry
from tests.funding.conftest import start

# --- Reading exports (pure) -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1.250.000,00", (1_250_000, "")),
        ("1,250,000.00", (1_250_000, "")),
        ("1250000", (1_250_000, "")),
        ("50.400", (50_400, "")),
        ("50,400", (50_400, "")),
        ("50400.00", (50_400, "")),
        ("Rp 50.400", (50_400, "")),
        ("3,000,000.00 CR", (3_000_000, "in")),
        ("15,000.00 DB", (15_000, "out")),
        ("-15.000", (15_000, "out")),
        ("(15.000)", (15_000, "out")),
        ("50.400,50", None),
        ("50.40", None),
        ("12.34.56", None),
        ("abc", None),
        ("", None),
        ("٥٠٤٠٠", None),
    ],
)
def test_amounts_in_indonesian_and_english_notation(text, parsed):
    assert bank_statements.parse_amount(text) == parsed


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("22/11/2026", date(2026, 11, 22)),
        ("22-11-2026", date(2026, 11, 22)),
        ("22.11.2026", date(2026, 11, 22)),
        ("22/11/26", date(2026, 11, 22)),
        ("2026-11-22", date(2026, 11, 22)),
        ("2026-11-22 10:15:00", date(2026, 11, 22)),
        ("31/02/2026", None),
        ("PEND", None),
    ],
)
def test_dates(text, day):
    assert bank_statements.parse_date(text) == day


BCA_STYLE = """\ufeffNo. Rekening,: 0123456789
Nama,: YAYASAN LINGKARAN AMANAH
Periode,: 01/11/2026 - 30/11/2026
Tanggal Transaksi,Keterangan,Cabang,Jumlah,Saldo
20/11/2026,TRSF E-BANKING CR {ref} PT MAJU,0000,"3,000,000.00 CR","3,000,000.00"
21/11/2026,BIAYA ADM,0000,15000.00 DB,"2,985,000.00"
21/11/2026,SETORAN TUNAI TANPA BERITA,0000,"100,000.00 CR","3,085,000.00"
"""

MANDIRI_STYLE = """Tanggal;No. Referensi;Keterangan;Debit;Kredit
20/11/2026;{ref};PEMBAYARAN APBD PPU;;1.500.000,00
21/11/2026;;TRANSFER KELUAR;250.000,00;
"""


def test_a_bca_style_export_with_preamble_and_cr_db_marks():
    parsed = bank_statements.parse_statement(BCA_STYLE.format(ref="LKI2600001234"))
    assert [(line.booked_on, line.amount) for line in parsed.lines] == [
        (date(2026, 11, 20), 3_000_000),
        (date(2026, 11, 21), 100_000),
    ]
    assert parsed.outgoing == 1
    assert parsed.lines[0].description.startswith("TRSF E-BANKING CR LKI2600001234")
    assert parsed.errors == []


def test_a_mandiri_style_export_with_semicolons_and_debit_credit_columns():
    parsed = bank_statements.parse_statement(MANDIRI_STYLE.format(ref="LKI2600001234"))
    assert [(line.amount, line.reference) for line in parsed.lines] == [(1_500_000, "LKI2600001234")]
    assert parsed.outgoing == 1


def test_identical_lines_in_one_file_are_told_apart_and_found_again():
    text = "Tanggal,Jumlah,Keterangan\n20/11/2026,50000,SUMBANGAN\n20/11/2026,50000,SUMBANGAN\n"
    first = bank_statements.parse_statement(text)
    again = bank_statements.parse_statement(text)
    assert len({line.line_hash for line in first.lines}) == 2
    assert [line.line_hash for line in first.lines] == [line.line_hash for line in again.lines]


def test_bad_rows_are_reported_with_their_row_number():
    parsed = bank_statements.parse_statement("Tanggal,Jumlah\n20/11/2026,50000\nkemarin,100\n21/11/2026,12.5\n")
    assert [line.amount for line in parsed.lines] == [50_000]
    assert [row for row, _message in parsed.errors] == [3, 4]


def test_a_file_without_a_date_and_amount_header_is_unreadable():
    with pytest.raises(bank_statements.StatementUnreadable):
        bank_statements.parse_statement("nama,alamat\nBudi,Penajam\n")


# --- Invoices and the import (database) -----------------------------------------------------------------------------


@pytest.fixture
def pemda_invoice(people):
    finance = people["finance"]
    funder = services.funder_create(
        actor=finance, name="Pemkab Penajam Paser Utara", kind=Funder.Kind.LOCAL_GOVERNMENT, region_code="64.09"
    )
    year = timezone.localdate().year
    agreement = services.agreement_create(
        actor=finance,
        funder=funder,
        number=f"PKS/{year}/PPU/001",
        title="Perlindungan pekerja rentan APBD",
        budget=3_000_000,
        start_on=date(year, 1, 1),
        end_on=date(year, 12, 31),
        fiscal_year=year,
        target_criteria={"regions": ["64.09"], "workers": 15_000},
    )
    services.agreement_activate(actor=finance, agreement=agreement)
    return services.invoice_issue(
        actor=finance, agreement=agreement, amount=3_000_000, due_on=timezone.localdate() + timedelta(days=30)
    )


def test_an_invoice_carries_a_reference_the_import_can_find(pemda_invoice):
    assert pemda_invoice.payment_reference.startswith("LKI")
    assert len(pemda_invoice.payment_reference) == 13
    assert pemda_invoice.state == "open"


def test_import_matches_by_reference_and_exact_amount_and_lists_the_rest(people, pemda_invoice):
    content = BCA_STYLE.format(ref=pemda_invoice.payment_reference).encode()
    statement = services.bank_statement_import(actor=people["finance"], filename="bca-nov.csv", content=content)
    assert (statement.matched, statement.unmatched, statement.duplicates, statement.outgoing) == (1, 1, 0, 1)
    matched = statement.lines.get(state="matched")
    assert matched.invoice == pemda_invoice
    entry = JournalEntry.objects.get(pk=matched.ledger_entry_id)
    assert entry.idempotency_key == f"bank:{matched.line_hash}"
    pemda_invoice.refresh_from_db()
    assert (pemda_invoice.state, pemda_invoice.paid_amount) == ("paid", 3_000_000)
    funder_pool = f"liability:pool:funder:{pemda_invoice.agreement.funder_id}"
    assert ledger.balance_of(funder_pool) == 3_000_000
    assert ledger.balance_of("asset:bank:trust") == 3_000_000
    unmatched = statement.lines.get(state="unmatched")
    assert (unmatched.amount, unmatched.note) == (100_000, "no payment reference")
    from lingkaran.funding import selectors

    assert list(selectors.bank_lines_unmatched(people["finance"])) == [unmatched]
    assert ledger.verify().clean


def test_importing_the_same_file_again_changes_nothing(people, pemda_invoice):
    content = BCA_STYLE.format(ref=pemda_invoice.payment_reference).encode()
    first = services.bank_statement_import(actor=people["finance"], filename="a.csv", content=content)
    again = services.bank_statement_import(actor=people["finance"], filename="a-again.csv", content=content)
    assert again.pk == first.pk
    assert BankStatementImport.objects.count() == 1
    assert JournalEntry.objects.count() == 1


def test_an_overlapping_export_marks_lines_seen_before_as_duplicates(people, pemda_invoice):
    content = BCA_STYLE.format(ref=pemda_invoice.payment_reference)
    services.bank_statement_import(actor=people["finance"], filename="a.csv", content=content.encode())
    overlapping = content + '22/11/2026,SUMBANGAN HAMBA ALLAH,0000,"25,000.00 CR","3,110,000.00"\n'
    second = services.bank_statement_import(actor=people["finance"], filename="b.csv", content=overlapping.encode())
    assert (second.matched, second.unmatched, second.duplicates) == (0, 1, 2)
    duplicate = second.lines.filter(state="duplicate").first()
    assert duplicate.note.startswith("already imported: statement")
    assert JournalEntry.objects.count() == 1
    pemda_invoice.refresh_from_db()
    assert pemda_invoice.paid_amount == 3_000_000


def test_a_partial_payment_then_the_rest(people, pemda_invoice):
    ref = pemda_invoice.payment_reference
    first = f"Tanggal,Referensi,Jumlah\n01/12/2026,{ref},1.000.000\n"
    services.bank_statement_import(actor=people["finance"], filename="1.csv", content=first.encode())
    pemda_invoice.refresh_from_db()
    assert (pemda_invoice.state, pemda_invoice.paid_amount) == ("partially_paid", 1_000_000)
    second = f"Tanggal,Referensi,Jumlah\n05/12/2026,{ref},2.000.000\n"
    services.bank_statement_import(actor=people["finance"], filename="2.csv", content=second.encode())
    pemda_invoice.refresh_from_db()
    assert (pemda_invoice.state, pemda_invoice.paid_amount) == ("paid", 3_000_000)


def test_more_than_the_invoice_owes_is_not_matched(people, pemda_invoice, funding_log):
    text = f"Tanggal,Referensi,Jumlah\n01/12/2026,{pemda_invoice.payment_reference},3.000.001\n"
    statement = services.bank_statement_import(actor=people["finance"], filename="x.csv", content=text.encode())
    assert (statement.matched, statement.unmatched) == (0, 1)
    line = statement.lines.get()
    assert line.invoice == pemda_invoice  # the suspected invoice is shown to finance
    assert "more than invoice" in line.note
    assert JournalEntry.objects.count() == 0
    assert "bank line not matched" in funding_log.text


def test_a_mistyped_reference_matches_nothing(people, pemda_invoice):
    ref = pemda_invoice.payment_reference
    wrong = ref[:-1] + str((int(ref[-1]) + 1) % 10)
    text = f"Tanggal,Keterangan,Jumlah\n01/12/2026,TRF {wrong},3.000.000\n"
    statement = services.bank_statement_import(actor=people["finance"], filename="x.csv", content=text.encode())
    assert statement.unmatched == 1
    assert JournalEntry.objects.count() == 0


def test_finance_can_match_an_unmatched_line_by_hand(people, pemda_invoice):
    text = "Tanggal,Keterangan,Jumlah\n01/12/2026,TRF PEMKAB PPU TANPA KODE,3.000.000\n"
    statement = services.bank_statement_import(actor=people["finance"], filename="x.csv", content=text.encode())
    line = statement.lines.get()
    line = services.bank_line_match(actor=people["finance"], line=line, invoice=pemda_invoice)
    assert line.state == "matched"
    pemda_invoice.refresh_from_db()
    assert pemda_invoice.state == "paid"


def test_a_transfer_quoting_a_payment_intent_settles_it_with_a_receipt(people, campaign):
    intent = start(campaign, amount=250_000, gateway="bank")
    assert intent.payment_url == ""  # paid by bank transfer, no gateway page
    text = f"Tanggal,Keterangan,Jumlah\n01/12/2026,DONASI {intent.order_id.replace('-', ' ')},250.000\n"
    statement = services.bank_statement_import(actor=people["finance"], filename="x.csv", content=text.encode())
    assert statement.matched == 1
    intent.refresh_from_db()
    assert intent.state == "settled"
    assert intent.donation.receipt.number.startswith("LK-")
    assert ledger.balance_of(f"liability:pool:campaign:{campaign.pk}") == 250_000


def test_only_finance_imports_and_unreadable_files_are_refused(people):
    with pytest.raises(Forbidden):
        services.bank_statement_import(actor=people["operator"], filename="x.csv", content=b"Tanggal,Jumlah\n")
    with pytest.raises(StatementUnreadable):
        services.bank_statement_import(actor=people["finance"], filename="x.csv", content=b"nama,alamat\nBudi,PPU\n")
    assert BankStatementImport.objects.count() == 0
    assert BankStatementLine.objects.count() == 0
    assert Invoice.objects.count() == 0
