"""Key rotation for the registry's encrypted columns and blind indexes (``lingkaran keys rotate|reindex``).

``data_keys_rotate`` re-seals every value still sealed with an older key of ``LINGKARAN_DATA_KEYS`` with the current
(first) key; ``blind_indexes_rebuild`` recomputes the NIK and phone indexes with the current
``LINGKARAN_BLIND_INDEX_KEY``. Both walk the table in primary-key order, in chunks of ``chunk_size`` rows, each chunk
in its own short transaction with the rows locked (``select_for_update``), so an interrupted run can simply be
started again: a value already sealed with the current key (or an index already right) is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Q

from lingkaran.core import crypto
from lingkaran.core.audit import audit_record
from lingkaran.registry.models import Heir, Worker
from lingkaran.registry.services import PURPOSE_ADDRESS, PURPOSE_HEIR, PURPOSE_NIK, PURPOSE_PHONE

# Every encrypted column of the registry, with the purpose its values are bound to.
ENCRYPTED_COLUMNS: list[tuple[type[models.Model], dict[str, str]]] = [
    (Worker, {"nik_encrypted": PURPOSE_NIK, "phone_encrypted": PURPOSE_PHONE, "address_encrypted": PURPOSE_ADDRESS}),
    (Heir, {"details_encrypted": PURPOSE_HEIR}),
]

CHUNK_SIZE = 2000

Progress = Callable[[str], None]


@dataclass
class RotationResult:
    key_id: str
    rows_examined: dict[str, int] = field(default_factory=dict)
    rows_changed: dict[str, int] = field(default_factory=dict)
    values_resealed: dict[str, int] = field(default_factory=dict)


def _stale_q(current: str, columns) -> Q:
    q = Q()
    for column in columns:
        q |= ~Q(**{f"{column}__startswith": f"{current}$"}) & ~Q(**{column: ""})
    return q


def data_keys_rotate(*, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None) -> RotationResult:
    """Re-seal every value sealed with an older key into the current key. Idempotent; audited."""
    current = crypto.current_key_id()
    result = RotationResult(key_id=current)
    for model, columns in ENCRYPTED_COLUMNS:
        label = model._meta.label_lower
        examined = changed = resealed = 0
        stale = model._base_manager.filter(_stale_q(current, columns))
        total = stale.count()
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    stale.select_for_update().filter(pk__gt=last_pk).order_by("pk").only("pk", *columns)[:chunk_size]
                )
                if not rows:
                    break
                dirty = []
                for row in rows:
                    touched = False
                    for column, purpose in columns.items():
                        token = getattr(row, column)
                        if token and crypto.key_id_of(token) != current:
                            plain = crypto.decrypt(token, purpose=purpose)
                            setattr(row, column, crypto.encrypt(plain, purpose=purpose))
                            resealed += 1
                            touched = True
                    if touched:
                        dirty.append(row)
                model._base_manager.bulk_update(dirty, list(columns), batch_size=500)
                examined += len(rows)
                changed += len(dirty)
                last_pk = rows[-1].pk
            if progress:
                progress(f"{label}: {examined}/{total} rows re-sealed")
        result.rows_examined[label] = examined
        result.rows_changed[label] = changed
        result.values_resealed[label] = resealed
    audit_record(
        actor=None,
        action="keys.rotate",
        object_type="core.data_key",
        object_id=current,
        details={"key_id": current, "rows": result.rows_changed, "values": result.values_resealed},
    )
    return result


@dataclass
class ReindexResult:
    rows_examined: int = 0
    rows_changed: int = 0


def blind_indexes_rebuild(*, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None) -> ReindexResult:
    """Recompute every worker's NIK and phone blind index with the current index key. Idempotent; audited."""
    indexer = crypto.BlindIndexer()
    result = ReindexResult()
    total = Worker._base_manager.count()
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Worker._base_manager.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "nik_encrypted", "nik_index", "phone_encrypted", "phone_index")[:chunk_size]
            )
            if not rows:
                break
            dirty = []
            for row in rows:
                nik_index = indexer(crypto.decrypt(row.nik_encrypted, purpose=PURPOSE_NIK), purpose=PURPOSE_NIK)
                phone = crypto.decrypt(row.phone_encrypted, purpose=PURPOSE_PHONE)
                phone_index = indexer(phone, purpose=PURPOSE_PHONE) if phone else ""
                if (row.nik_index, row.phone_index) != (nik_index, phone_index):
                    row.nik_index, row.phone_index = nik_index, phone_index
                    dirty.append(row)
            Worker._base_manager.bulk_update(dirty, ["nik_index", "phone_index"], batch_size=500)
            result.rows_examined += len(rows)
            result.rows_changed += len(dirty)
            last_pk = rows[-1].pk
        if progress:
            progress(f"registry.worker: {result.rows_examined}/{total} rows indexed")
    audit_record(
        actor=None,
        action="keys.reindex",
        object_type="core.blind_index_key",
        details={"rows_examined": result.rows_examined, "rows_changed": result.rows_changed},
    )
    return result
