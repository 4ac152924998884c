"""Writes for the registry."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from lingkaran.registry.domain.regions import parent_code, region_level
from lingkaran.registry.models import Region

CURRENT_CODE_LIST = "Kepmendagri 300.2.2-2138/2025"


@transaction.atomic
def regions_upsert(rows: Iterable[tuple[str, str]], *, code_list: str = CURRENT_CODE_LIST) -> int:
    """Insert or rename regions from ``(code, name)`` pairs, parents first. Returns how many rows were given."""
    ordered = sorted(((c.strip(), n.strip()) for c, n in rows), key=lambda r: (region_level(r[0]), r[0]))
    objs = [
        Region(
            code=c,
            name=n,
            level=region_level(c),
            parent_id=parent_code(c),
            code_list=code_list,
            is_current=True,
        )
        for c, n in ordered
    ]
    for level in (1, 2, 3, 4):
        batch = [o for o in objs if o.level == level]
        Region.objects.bulk_create(
            batch,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "code_list", "is_current"],
        )
    return len(objs)
