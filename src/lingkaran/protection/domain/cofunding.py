"""Pure rules of co-funding: how a worker-month's amount is split between the funders of an explicit split.

No Django, no clock. A split names two or more shares in basis points (1/100 of a percent) adding up to exactly
10,000. Every worker-month of the split is priced once, at the tariff of the month (``domain/tariffs.py``), and that
amount is divided by ``split_amount``: the shares always add up exactly to the month's amount (see the rounding rule
in docs/subsystems/protection-sponsorships.md, "Co-funding").
"""

from __future__ import annotations

from collections.abc import Sequence

from lingkaran.protection.domain.tariffs import FundingSource

WHOLE = 10_000  # basis points of the whole amount
MIN_SHARE_BP = 100  # a share is at least 1 %: every share of a real month is then at least one rupiah
MAX_SHARES = 5
GOVERNMENT = (FundingSource.APBN.value, FundingSource.APBD.value)


class SplitInvalid(ValueError):
    """The shares do not form a split: ``code`` says why (``too_few``, ``too_many``, ``share_too_small``,
    ``not_whole``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check_split(shares_bp: Sequence[int]) -> None:
    """Raise ``SplitInvalid`` unless 2..5 shares of at least 1 % each add up to exactly 100 %."""
    if len(shares_bp) < 2:
        raise SplitInvalid("too_few")
    if len(shares_bp) > MAX_SHARES:
        raise SplitInvalid("too_many")
    if any(not isinstance(s, int) or isinstance(s, bool) or s < MIN_SHARE_BP for s in shares_bp):
        raise SplitInvalid("share_too_small")
    if sum(shares_bp) != WHOLE:
        raise SplitInvalid("not_whole")


def split_amount(total: int, shares_bp: Sequence[int]) -> tuple[int, ...]:
    """Divide ``total`` rupiah between the shares, in the shares' order.

    The rule: each share first gets the whole rupiah of its exact part (``total × bp / 10,000``, rounded down); the
    rupiah left over (fewer than the number of shares) go one each to the shares with the largest remainders, the
    earlier share first when two remainders are equal. So the parts add up exactly to ``total``, no share is ever more
    than one rupiah from its exact part, and the same inputs always give the same parts."""
    check_split(shares_bp)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ValueError("total must be a whole number of rupiah, zero or more")
    floors = [total * bp // WHOLE for bp in shares_bp]
    remainders = [total * bp % WHOLE for bp in shares_bp]
    left = total - sum(floors)
    order = sorted(range(len(shares_bp)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return tuple(floors)


def pricing_source(sources: Sequence[str]) -> str:
    """The funding source a co-funded month is priced at: a government source (APBN, then APBD) when any share is
    paid from one, because PP 50/2025 gives no discount to contributions paid from the state or regional budget;
    otherwise the first share's source (every other source is discounted alike)."""
    for government in GOVERNMENT:
        if government in sources:
            return government
    return sources[0]
