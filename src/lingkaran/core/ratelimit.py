"""Fixed-window attempt counters for public forms (the coverage check by NIK, donor sign-up), kept in Django's cache.

``count_attempt(scope, key, window_seconds=…, now=…)`` counts one attempt for ``key`` (a client address, a NIK's
blind index …) in the current window of ``scope`` and returns how many there have been in that window, this one
included; the caller compares it with its limit. Windows are aligned on multiples of ``window_seconds`` since the
epoch, so every process that shares the cache (Redis in production, see ``LINGKARAN_CACHE_URL``) counts the same.
With the in-memory default each process counts on its own (docs/operations.md, known limitations).
"""

from __future__ import annotations

from django.core.cache import cache


def _hit(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def count_attempt(scope: str, key: str, *, window_seconds: int, now: float) -> int:
    """Count one attempt of ``key`` in the current window of ``scope``; the attempts in this window so far."""
    window = int(now // window_seconds)
    return _hit(f"{scope}:{key or '-'}:{window}", window_seconds)
