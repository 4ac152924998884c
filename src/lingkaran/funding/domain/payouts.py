"""Gateway payouts on the trust bank account's statement: pure rules, no Django.

Money a gateway collects for us is posted into ``asset:clearing:{gateway}`` when the donation settles. Some days later
the gateway pays what it holds (less its fees, and less any refunds it made) into the trust bank account, and the
bank statement shows one incoming line for many donations. That line carries the gateway's name, or its company's
(Xendit pays as PT Sinar Digital Terdepan), in its reference or description; banks shorten and re-case those texts,
so names are compared after ``references.normalize``.

A payout line is recognised when it names exactly one gateway and its amount (plus any fee finance states) is no
more than what is still in that gateway's clearing account: it then moves ``clearing → bank`` (and the fee
``clearing → expense``). Anything else stays unmatched for finance, who can match it by hand.
"""

from __future__ import annotations

from lingkaran.funding.domain.references import normalize

# How each gateway's payouts are named on an Indonesian bank statement.
PAYOUT_NAMES: dict[str, tuple[str, ...]] = {
    "midtrans": ("MIDTRANS",),
    "xendit": ("XENDIT", "SINAR DIGITAL TERDEPAN"),
    "sandbox": ("LINGKARAN SANDBOX",),
}
GATEWAYS = tuple(PAYOUT_NAMES)


def payout_gateway(text: str) -> str | None:
    """The one gateway a statement line's text names, or None (no gateway, or more than one)."""
    flat = normalize(text)
    named = {gateway for gateway, names in PAYOUT_NAMES.items() if any(normalize(n) in flat for n in names)}
    return named.pop() if len(named) == 1 else None


def payout_fits(*, amount: int, fee: int, in_clearing: int) -> bool:
    """Whether a payout of ``amount`` (with ``fee`` kept by the gateway) can come out of what is in clearing."""
    return amount > 0 and fee >= 0 and amount + fee <= in_clearing
