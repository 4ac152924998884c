"""References people and banks carry around: order ids, invoice payment references, receipt numbers.

Banks shorten and re-case transfer descriptions and drop punctuation, so references are matched after
``normalize`` (upper case, letters and digits only). An invoice payment reference ends in a Luhn check digit, so a
mistyped reference does not match another invoice.
"""

from __future__ import annotations

import re
from datetime import date

ORDER_PREFIX = "LK"
INVOICE_PREFIX = "LKI"
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_INVOICE_REFERENCE = re.compile(INVOICE_PREFIX + r"[0-9]{10}")
_ORDER_ID = re.compile(ORDER_PREFIX + r"[0-9]{6}[0-9A-F]{10}")


def normalize(text: str) -> str:
    return _NOT_ALNUM.sub("", (text or "").upper())


def order_id(today: date, token: str) -> str:
    """``LK-261122-0A1B2C3D4E``: the day and ten random hex digits (Midtrans allows up to 50 characters)."""
    if not re.fullmatch(r"[0-9A-F]{10}", token):
        raise ValueError("the token must be ten upper-case hex digits")
    return f"{ORDER_PREFIX}-{today:%y%m%d}-{token}"


def luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(digits: str) -> bool:
    return bool(re.fullmatch(r"[0-9]+", digits)) and luhn_digit(digits[:-1]) == digits[-1]


def invoice_reference(nine_digits: str) -> str:
    """``LKI`` + nine digits + a Luhn check digit, e.g. ``LKI2600001234``."""
    if not re.fullmatch(r"[0-9]{9}", nine_digits):
        raise ValueError("an invoice reference is built from nine digits")
    return f"{INVOICE_PREFIX}{nine_digits}{luhn_digit(nine_digits)}"


def find_invoice_references(text: str) -> list[str]:
    """Valid invoice references inside free text (a bank line's reference or description), in order, once each."""
    found = []
    for match in _INVOICE_REFERENCE.findall(normalize(text)):
        if luhn_valid(match[len(INVOICE_PREFIX) :]) and match not in found:
            found.append(match)
    return found


def find_order_ids(text: str) -> list[str]:
    """Normalized order ids (``LK261122…``) inside free text."""
    found = []
    for match in _ORDER_ID.findall(normalize(text)):
        if match not in found:
            found.append(match)
    return found


def order_id_from_normalized(normalized: str) -> str:
    """``LK261122…`` (as found in a bank description) back to ``LK-261122-…``."""
    return f"{normalized[:2]}-{normalized[2:8]}-{normalized[8:]}"


def receipt_number(year: int, sequence: int) -> str:
    """``LK-2026-000123``: numbered without gaps within each year."""
    if sequence <= 0:
        raise ValueError("receipt numbers start at 1")
    return f"LK-{year}-{sequence:06d}"
