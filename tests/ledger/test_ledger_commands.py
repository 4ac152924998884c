"""`lingkaran ledger verify` and `lingkaran ledger export --format beancount`, checked by beancount's bean-check."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F

from lingkaran.ledger import services
from lingkaran.ledger.models import Balance
from tests.ledger.conftest import AGENCY, BANK, HELD, POOL, POOL2

DAY = date(2026, 11, 22)
BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def _books():
    services.transfer(
        key="d1", source=BANK, target=POOL, amount=100800, effective_on=date(2026, 1, 5), description='Donasi "Ibu Ani"'
    )
    services.transfer(key="d2", source=BANK, target=POOL2, amount=16800, effective_on=date(2026, 2, 1))
    services.reservation_create(key="block:1", pool=POOL, held_in=HELD, amount=50400, effective_on=date(2026, 2, 3))
    services.reservation_post(key="block:1", to_account=AGENCY, effective_on=date(2026, 2, 15))
    entry = services.transfer(key="d3", source=BANK, target=POOL2, amount=8400, effective_on=date(2026, 3, 1))
    services.entry_reverse(entry_id=entry.pk, key="refund:d3", effective_on=date(2026, 3, 2))


def test_verify_exits_zero_on_sound_books_and_one_on_a_difference(accounts):
    _books()
    call_command("ledger_verify")  # no SystemExit: clean
    Balance.objects.filter(account__code=POOL2).update(credit_total=F("credit_total") + 1, balance=F("balance") + 1)
    with pytest.raises(SystemExit) as caught:
        call_command("ledger_verify")
    assert caught.value.code == 1


def test_beancount_export_passes_bean_check_and_matches_our_balances(accounts, tmp_path):
    _books()
    out = tmp_path / "ledger.beancount"
    call_command("ledger_export", format="beancount", output=str(out))
    text = out.read_text()
    assert "Liabilities:Pool:Campaign:1  -100800 IDR" in text
    assert "balance Liabilities:Payable:Agency  -50400 IDR" in text
    assert "balance Assets:Bank:Operational  117600 IDR" in text
    result = subprocess.run([str(BEAN_CHECK), str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    # A file whose balances disagree with the transactions is refused by bean-check: the assertions carry weight.
    tampered = tmp_path / "tampered.beancount"
    tampered.write_text(
        text.replace("balance Assets:Bank:Operational  117600 IDR", "balance Assets:Bank:Operational  117601 IDR")
    )
    result = subprocess.run([str(BEAN_CHECK), str(tampered)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
