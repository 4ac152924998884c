import pytest

from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.services import AccountSpec, account_open

BANK = "asset:bank:operational"
POOL = "liability:pool:campaign:1"
POOL2 = "liability:pool:funder:2"
HELD = "liability:reserved:campaign:1"
AGENCY = "liability:payable:agency"
REFUNDS = "asset:refunds-outgoing"


@pytest.fixture
def accounts(db):
    specs = [
        AccountSpec(BANK, "Bank (operational)", AccountType.ASSET),
        AccountSpec(POOL, "Campaign 1 pool", AccountType.LIABILITY, is_trust=True),
        AccountSpec(POOL2, "Funder 2 pool", AccountType.LIABILITY, is_trust=True),
        AccountSpec(HELD, "Reserved for workers (campaign 1)", AccountType.LIABILITY, is_trust=True),
        AccountSpec(AGENCY, "Payable to BPJS Ketenagakerjaan", AccountType.LIABILITY, is_trust=True),
    ]
    return {spec.code: account_open(spec) for spec in specs}
