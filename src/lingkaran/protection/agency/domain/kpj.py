"""KPJ numbers: the agency's 11-digit participant number (domain.md section 1).

The agency's own numbering scheme is not published, so a KPJ number from the agency is only checked for its shape:
11 digits. Spaces, dots and dashes that people type are dropped.

The simulator issues numbers of its own, deterministically and without repeats: ``9`` (simulator), the participant's
sequence number in 9 digits, and a Luhn check digit (ISO/IEC 7812-1, the check digit of payment cards) over the first
10 digits. Sequence 1 is ``90000000019``. The check digit catches every single mistyped digit and most swaps of two
neighbouring digits; ``is_simulator_kpj`` tells simulator numbers apart from anything typed by hand.
"""

from __future__ import annotations

import re

KPJ_LENGTH = 11
SIMULATOR_PREFIX = "9"
MAX_SIMULATOR_SEQUENCE = 999_999_999
_SEPARATORS = re.compile(r"[\s.\-]")


def normalise_kpj(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "")


def is_kpj(value: str) -> bool:
    """11 digits (ASCII only: other scripts' digits are refused)."""
    return len(value) == KPJ_LENGTH and value.isascii() and value.isdigit()


def luhn_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` pass the Luhn test."""
    if not (body.isascii() and body.isdigit()):
        raise ValueError(f"Luhn needs digits, got {body!r}")
    total = 0
    # From the right of the body: every first, third, … digit is doubled (the check digit will be the rightmost).
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def simulator_kpj(sequence: int) -> str:
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= MAX_SIMULATOR_SEQUENCE:
        raise ValueError(f"a simulator sequence is 1 to {MAX_SIMULATOR_SEQUENCE}, got {sequence!r}")
    body = f"{SIMULATOR_PREFIX}{sequence:09d}"
    return body + luhn_digit(body)


def is_simulator_kpj(value: str) -> bool:
    return is_kpj(value) and value.startswith(SIMULATOR_PREFIX) and luhn_digit(value[:-1]) == value[-1]


def simulator_sequence(value: str) -> int:
    if not is_simulator_kpj(value):
        raise ValueError(f"{value!r} is not a simulator KPJ number")
    return int(value[1:-1])
