"""Background tasks of the registry. Each loads by id, calls a service, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from lingkaran.core import context


@shared_task(name="registry.import_run", acks_late=True)
def import_run_task(batch_id: int) -> dict:
    """Run (or resume) an import. A finished batch is left as it is; a second delivery while the first is still
    running takes the batch over chunk-wise, so no row is imported twice (see ``importing.import_run``)."""
    from lingkaran.registry.importing import import_run

    with context.acting("task"):
        batch = import_run(batch_id=batch_id)
    return {
        "batch": batch.pk,
        "state": batch.state,
        "processed": batch.processed_rows,
        "created": batch.created_count,
        "existing": batch.existing_count,
        "invalid": batch.invalid_count,
        "duplicate_in_file": batch.duplicate_in_file_count,
    }
