"""Phone numbers and names: pure normalisation used for storage, display and duplicate detection."""

from __future__ import annotations

import re
import unicodedata

_DIGITS = re.compile(r"\D")
# Honorifics and titles that differ between lists of the same person (Pemda list vs KTP vs field form).
_TITLES = {
    "H",
    "HJ",
    "HAJI",
    "HAJJAH",
    "DR",
    "DRS",
    "DRA",
    "IR",
    "ST",
    "SE",
    "SH",
    "SPD",
    "SAG",
    "SKOM",
    "AMD",
    "BPK",
    "BAPAK",
    "IBU",
    "SDR",
    "SDRI",
    "TN",
    "NY",
    "NN",
    "ALM",
    "ALMH",
    # academic degrees written with dots (S.Pd, S.E., M.Si.) are compared without them
    "KH",
    "PROF",
    "DRG",
    "SKM",
    "SKEP",
    "SSOS",
    "SIP",
    "SPDI",
    "SHI",
    "SSI",
    "SP",
    "AMK",
    "MM",
    "MSI",
    "MPD",
    "MH",
    "MT",
    "MAG",
    "MKES",
}


class PhoneError(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """``0812-3456-7890``, ``62812…``, ``+62 812…`` -> ``+628123456789``. Raises PhoneError when not Indonesian."""
    text = str(raw).strip()
    if not text:
        return ""
    digits = _DIGITS.sub("", text)
    if text.startswith("+") and not digits.startswith("62"):
        raise PhoneError("phone_not_indonesian")
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    elif digits.startswith("8"):
        national = digits
    else:
        raise PhoneError("phone_invalid")
    national = national.lstrip("0")
    if not 8 <= len(national) <= 12:
        raise PhoneError("phone_length")
    return "+62" + national


def mask_phone(phone: str) -> str:
    if len(phone) < 8:
        return "•" * len(phone)
    return phone[:6] + "•" * (len(phone) - 9) + phone[-3:]


def normalise_name(raw: str) -> str:
    """Upper-case ASCII words without titles or punctuation: ``Hj. Siti Aminah, S.Pd`` -> ``SITI AMINAH``."""
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode()
    text = text.replace("'", "").replace("`", "")  # Ma'ruf and Maruf are one name
    words: list[str] = []
    for token in re.split(r"[\s,;]+", text):
        # A dotted degree is one title (S.Pd -> SPD), not the words S and PD; a token such as Hj.Siti still loses Hj.
        compact = re.sub(r"[^A-Za-z]", "", token).upper()
        if not compact or compact in _TITLES:
            continue
        words.extend(w for w in re.sub(r"[^A-Za-z]+", " ", token).upper().split() if w not in _TITLES)
    return " ".join(words)


def clean_name(raw: str) -> str:
    """The name as shown: single spaces, no control characters; refuses nothing (that is the caller's rule)."""
    return " ".join(str(raw).split())
