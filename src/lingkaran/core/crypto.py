"""Personal data at rest: AES-256-GCM field encryption and keyed HMAC blind indexes (UU PDP 27/2022).

Ciphertext text form: ``<key id>$<base64(nonce ‖ ciphertext ‖ tag)>``. The key id says which key of
``LINGKARAN_DATA_KEYS`` sealed it, so keys can be rotated: new values use the first (current) key, old values stay
readable with the older keys until ``lingkaran keys rotate`` re-seals them. Each value is bound to its column through
the GCM associated data (``purpose``), so a ciphertext moved to another column does not decrypt.

A blind index is HMAC-SHA256 over ``purpose:value`` with ``LINGKARAN_BLIND_INDEX_KEY``: equal values give equal
indexes (exact lookup, uniqueness), and the value cannot be recovered from it without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class DecryptionError(Exception):
    pass


@lru_cache(maxsize=8)
def _ciphers(keys: tuple[tuple[str, bytes], ...]) -> dict[str, AESGCM]:
    return {key_id: AESGCM(key) for key_id, key in keys}


def _keyring() -> tuple[str, dict[str, AESGCM]]:
    keys = tuple(settings.DATA_KEYS.items())
    return keys[0][0], _ciphers(keys)


def current_key_id() -> str:
    return next(iter(settings.DATA_KEYS))


def encrypt(value: str, *, purpose: str) -> str:
    if value is None or value == "":
        return ""
    key_id, ciphers = _keyring()
    nonce = os.urandom(12)
    sealed = ciphers[key_id].encrypt(nonce, value.encode(), purpose.encode())
    return f"{key_id}${base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str) -> str:
    if not token:
        return ""
    key_id, sep, body = token.partition("$")
    _current, ciphers = _keyring()
    if not sep or key_id not in ciphers:
        raise DecryptionError(f"no key {key_id!r} in LINGKARAN_DATA_KEYS for this value")
    raw = base64.b64decode(body)
    try:
        return ciphers[key_id].decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except InvalidTag:
        raise DecryptionError("the value does not decrypt: wrong key or altered data") from None


def key_id_of(token: str) -> str:
    return token.partition("$")[0] if token else ""


class BlindIndexer:
    """Computes blind indexes fast: the HMAC key schedule is done once and copied per value (bulk imports)."""

    def __init__(self, key: bytes | None = None):
        self._base = hmac.new(key if key is not None else settings.BLIND_INDEX_KEY, digestmod=hashlib.sha256)

    def __call__(self, value: str, *, purpose: str) -> str:
        h = self._base.copy()
        h.update(f"{purpose}:{value}".encode())
        return h.hexdigest()


def blind_index(value: str, *, purpose: str) -> str:
    return BlindIndexer()(value, purpose=purpose)
