"""Gateway payouts on the bank statement, through the pages: a line that names a gateway and fits what it still holds
moves that money from its clearing account into the trust bank account; anything else waits for finance, who matches
it by hand with the fee the gateway kept. The bank page shows, per gateway, what is still in clearing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lingkaran.core.models import AuditEvent
from lingkaran.funding.models import BankStatementImport, BankStatementLine
from lingkaran.ledger import selectors as ledger
from lingkaran.ledger.models import JournalEntry

pytestmark = pytest.mark.django_db

CLEARING = "asset:clearing:sandbox"


def statement(rows) -> bytes:
    lines = ["Tanggal;Referensi;Keterangan;Jumlah"] + [";".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def upload(client, name: str, content: bytes):
    return client.post("/money/bank/", {"file": SimpleUploadedFile(name, content, "text/csv")})


@pytest.fixture
def collected(settled):
    """Rp 151.200 collected by the sandbox gateway for two donations."""
    settled(50_400)
    settled(100_800)
    assert ledger.balance_of(CLEARING) == 151_200


def test_a_payout_naming_the_gateway_moves_clearing_to_the_bank(client, login, people, collected):
    day = timezone.localdate().strftime("%d/%m/%Y")
    content = statement([[day, "FT2611220001", "TRSF CR LINGKARAN SANDBOX PAYOUT", "100.000,00 CR"]])
    login(people["finance"])
    response = upload(client, "mutasi.csv", content)
    assert response.status_code == 302
    line = BankStatementLine.objects.get()
    assert (line.state, line.gateway, line.fee) == ("matched", "sandbox", 0)
    entry = JournalEntry.objects.get(pk=line.ledger_entry_id)
    assert entry.idempotency_key == f"bank:{line.line_hash}"
    assert ledger.balance_of(CLEARING) == 51_200
    assert ledger.balance_of("asset:bank:trust") == 100_000
    assert ledger.verify().clean

    page = client.get("/money/bank/")
    (row,) = page.context["clearing"]
    assert (row.gateway, row.collected, row.paid_out, row.fees, row.in_clearing, row.payouts) == (
        "sandbox",
        151_200,
        100_000,
        0,
        51_200,
        1,
    )
    assert 'id="clearing-sandbox"' in page.content.decode()

    # The same lines again (an overlapping export) post nothing.
    entries = JournalEntry.objects.count()
    upload(client, "mutasi-lagi.csv", content + b"\n")
    assert BankStatementImport.objects.latest("pk").duplicates == 1
    assert JournalEntry.objects.count() == entries
    assert ledger.balance_of(CLEARING) == 51_200


def test_a_payout_larger_than_what_the_gateway_holds_is_not_matched(client, login, people, collected):
    day = timezone.localdate().strftime("%d/%m/%Y")
    login(people["finance"])
    upload(client, "mutasi.csv", statement([[day, "", "LINGKARAN SANDBOX PAYOUT", "200.000,00 CR"]]))
    line = BankStatementLine.objects.get()
    assert (line.state, line.gateway) == ("unmatched", "sandbox")
    assert "151200" in line.note
    assert ledger.balance_of(CLEARING) == 151_200
    assert not ledger.balances("asset:bank:")


def test_finance_matches_a_payout_by_hand_with_the_fee_kept(client, login, people, collected):
    day = timezone.localdate().strftime("%d/%m/%Y")
    login(people["finance"])
    upload(client, "mutasi.csv", statement([[day, "SKN 2211", "PENERIMAAN TRANSFER", "150.000,00 CR"]]))
    line = BankStatementLine.objects.get()
    assert line.state == "unmatched"
    # More than the gateway holds, with the fee: refused, nothing moves.
    response = client.post(f"/money/bank/lines/{line.pk}/payout/", {"gateway": "sandbox", "fee": "5.000"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.state == "unmatched"
    assert ledger.balance_of(CLEARING) == 151_200
    response = client.post(f"/money/bank/lines/{line.pk}/payout/", {"gateway": "sandbox", "fee": "1.200"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.state, line.gateway, line.fee) == ("matched", "sandbox", 1_200)
    assert ledger.balance_of(CLEARING) == 0
    assert ledger.balance_of("asset:bank:trust") == 150_000
    assert ledger.balance_of("expense:gateway_fees:sandbox") == 1_200
    assert ledger.verify().clean
    event = AuditEvent.objects.get(action="funding.bank_line_payout")
    assert (event.details["gateway"], event.details["amount"], event.details["fee"]) == ("sandbox", 150_000, 1_200)
    (row,) = client.get("/money/bank/").context["clearing"]
    assert (row.paid_out, row.fees, row.in_clearing) == (150_000, 1_200, 0)
    # Matched already: a second click changes nothing.
    client.post(f"/money/bank/lines/{line.pk}/payout/", {"gateway": "sandbox", "fee": "0"})
    assert ledger.balance_of("asset:bank:trust") == 150_000


@pytest.mark.parametrize("role", ["auditor", "operator"])
def test_readers_cannot_match_payouts(role, client, login, make_user, people, collected):
    from lingkaran.funding import services

    day = timezone.localdate().strftime("%d/%m/%Y")
    services.bank_statement_import(
        actor=people["finance"], filename="a.csv", content=statement([[day, "", "TANPA BERITA", "100.000,00 CR"]])
    )
    line = BankStatementLine.objects.get()
    login(make_user(role))
    assert client.get("/money/bank/").context["clearing"][0].in_clearing == 151_200
    assert client.post(f"/money/bank/lines/{line.pk}/payout/", {"gateway": "sandbox"}).status_code == 403
    line.refresh_from_db()
    assert line.state == "unmatched"
    assert ledger.balance_of(CLEARING) == 151_200
