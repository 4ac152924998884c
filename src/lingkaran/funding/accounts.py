"""The ledger accounts funding posts to, by code. Opened on first use (``ledger.services.account_open`` is
idempotent); trust pools are liabilities that never go negative.

- ``asset:clearing:{gateway}``: money a gateway collected for us and has not yet paid out to the bank.
- ``asset:bank:trust``: the trust bank account (bank transfers from companies and Pemda land here).
- ``liability:pool:campaign:{id}``, ``liability:pool:funder:{id}``, ``liability:pool:general``: what is held in
  trust for workers, per campaign, per funder, and unearmarked.
"""

from __future__ import annotations

from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.services import AccountSpec, account_open

BANK_TRUST = "asset:bank:trust"
GENERAL_POOL = "liability:pool:general"


def clearing(gateway: str) -> str:
    return f"asset:clearing:{gateway}"


def campaign_pool(campaign_id: int) -> str:
    return f"liability:pool:campaign:{campaign_id}"


def funder_pool(funder_id: int) -> str:
    return f"liability:pool:funder:{funder_id}"


def pool_of(*, target: str, campaign_id: int | None, funder_id: int | None) -> str:
    if target == "campaign":
        return campaign_pool(campaign_id)
    if target == "funder":
        return funder_pool(funder_id)
    return GENERAL_POOL


def open_clearing(gateway: str) -> str:
    code = clearing(gateway)
    account_open(AccountSpec(code, f"Clearing at {gateway}", AccountType.ASSET))
    return code


def open_bank() -> str:
    account_open(AccountSpec(BANK_TRUST, "Trust bank account", AccountType.ASSET))
    return BANK_TRUST


def open_pool(*, target: str, campaign_id: int | None = None, funder_id: int | None = None, label: str = "") -> str:
    code = pool_of(target=target, campaign_id=campaign_id, funder_id=funder_id)
    owner = {"campaign": f"funding.campaign:{campaign_id}", "funder": f"funding.funder:{funder_id}"}.get(target, "")
    name = label or {"campaign": "Campaign pool", "funder": "Funder pool"}.get(target, "General pool")
    account_open(AccountSpec(code, name[:200], AccountType.LIABILITY, is_trust=True, owner=owner))
    return code
