"""Protection's Celery tasks. Each loads by id, calls a service, and is safe to run twice.

``protection.cycle_chunk``: every step of one chunk of the monthly cycle (``cycle.chunk_process``). With no broker
(the embedded default) it runs in the calling process; with one, chunks of the same month run on several workers in
parallel and give the same result as a single-process run (each step locks its chunk row and posts under keys).
"""

from __future__ import annotations

from datetime import date

from celery import shared_task


@shared_task(name="protection.cycle_chunk", acks_late=True)
def cycle_chunk(chunk_id: int, today: str) -> str:
    from lingkaran.protection.cycle import chunk_process

    return chunk_process(chunk_id=chunk_id, today=date.fromisoformat(today))
