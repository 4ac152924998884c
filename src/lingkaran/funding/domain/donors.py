"""Donors' personal data as the platform shows and finds it: pure functions, no Django.

A donor's name and e-mail are stored encrypted (``models.Donation``); what staff see by default is a masked form
(the first letter of each word of the name; the first letter of the e-mail's local part and its domain), and the full
value only through an audited reveal. E-mail addresses are found by a blind index over their normalised form, so
``Siti@Contoh.ID `` and ``siti@contoh.id`` are the same donor.
"""

from __future__ import annotations

import re

MASK = "*"
_SPACES = re.compile(r"\s+")


def normalise_email(email: str) -> str:
    """The form an e-mail address is indexed under: trimmed and lower-cased (the domain is case-insensitive, and
    people do not rely on a case-sensitive local part)."""
    return (email or "").strip().lower()


def normalise_name(name: str) -> str:
    """The form a name is indexed under for an exact search: single spaces, lower case."""
    return _SPACES.sub(" ", (name or "").strip()).lower()


def mask_name(name: str) -> str:
    """``Siti Aminah`` → ``S*** A*****``: enough to tell donors apart in a list, not enough to identify one."""
    words = _SPACES.split((name or "").strip())
    return " ".join(word[0] + MASK * (len(word) - 1) for word in words if word)


def mask_email(email: str) -> str:
    """``siti@contoh.id`` → ``s***@contoh.id``; an address without ``@`` is masked whole."""
    email = (email or "").strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email[0] + MASK * (len(email) - 1)
    return local[0] + MASK * max(3, len(local) - 1) + "@" + domain
