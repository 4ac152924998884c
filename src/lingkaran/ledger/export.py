"""Export the ledger as a Beancount file that an independent tool (``bean-check``) can verify.

Account codes (``liability:pool:campaign:12``) become Beancount names (``Liabilities:Pool:Campaign:12``); every
journal entry becomes a transaction in rupiah (``IDR``, whole numbers), debits positive and credits negative; at the
end a ``balance`` assertion per account states what our balance rows say, so ``bean-check`` fails if the file and our
balances disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from lingkaran.ledger.models import Account, Balance, JournalEntry, Leg

ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity", "income": "Income", "expense": "Expenses"}
_INVALID = re.compile(r"[^A-Za-z0-9-]")


def beancount_name(account: Account) -> str:
    parts = account.code.split(":")
    if parts and parts[0] in ROOTS:
        parts = parts[1:]
    components = []
    for part in parts or ["Main"]:
        clean = _INVALID.sub("-", part).strip("-") or "X"
        clean = clean[0].upper() + clean[1:]
        if not (clean[0].isupper() or clean[0].isdigit()):
            clean = "A" + clean
        components.append(clean)
    return ":".join([ROOTS[account.type], *components])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def beancount_lines() -> Iterator[str]:
    accounts = list(Account.objects.order_by("id"))
    names: dict[int, str] = {}
    used: set[str] = set()
    for account in accounts:
        name = beancount_name(account)
        if name in used:
            name = f"{name}-{account.pk}"
        used.add(name)
        names[account.pk] = name
    first = JournalEntry.objects.order_by("effective_on").values_list("effective_on", flat=True).first()
    last = JournalEntry.objects.order_by("-effective_on").values_list("effective_on", flat=True).first()
    opened_on = first or (accounts[0].created_at.date() if accounts else None)
    yield "; Lingkaran ledger export (Beancount). Amounts are whole rupiah."
    yield 'option "title" "Lingkaran ledger"'
    yield 'option "operating_currency" "IDR"'
    yield ""
    for account in accounts:
        yield f"{opened_on.isoformat()} open {names[account.pk]} IDR"
    yield ""
    legs_by_entry: dict[int, list[tuple[int, str, int]]] = {}
    entries = JournalEntry.objects.order_by("effective_on", "id")
    batch: list[JournalEntry] = []

    def flush(batch):
        ids = [e.pk for e in batch]
        legs_by_entry.clear()
        for entry_id, account_id, side, amount in (
            Leg.objects.filter(entry_id__in=ids).order_by("id").values_list("entry_id", "account_id", "side", "amount")
        ):
            legs_by_entry.setdefault(entry_id, []).append((account_id, side, amount))
        for entry in batch:
            yield f"{entry.effective_on.isoformat()} * {_quote(entry.description or entry.idempotency_key)}"
            yield f"  lk_entry: {_quote(str(entry.pk))}"
            yield f"  lk_key: {_quote(entry.idempotency_key)}"
            for account_id, side, amount in legs_by_entry.get(entry.pk, []):
                signed = amount if side == "D" else -amount
                yield f"  {names[account_id]}  {signed} IDR"
            yield ""

    for entry in entries.iterator(chunk_size=2000):
        batch.append(entry)
        if len(batch) >= 2000:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)
    if last is not None:
        check_on = last + timedelta(days=1)
        for row in Balance.objects.order_by("account_id"):
            yield f"{check_on.isoformat()} balance {names[row.account_id]}  {row.debit_total - row.credit_total} IDR"
