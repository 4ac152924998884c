"""Protection's Celery tasks. Each loads by id, calls a service, and is safe to run twice.

``protection.cycle_chunk``: every step of one chunk of the monthly cycle (``cycle.chunk_process``). With no broker
(the embedded default) it runs in the calling process; with one, chunks of the same month run on several workers in
parallel and give the same result as a single-process run (each step locks its chunk row and posts under keys).

``protection.cycle_finish``: the cycle's totals and ``done`` (``cycle.cycle_finish``). ``chunks_send`` sends a month's
chunks as a chord whose callback is this task, so the cycle is finished by the worker that ends the last chunk,
without waiting for a later run; with a broker but no result backend (a chord needs one) the chunks are sent one by
one and the next ``cycle run`` finishes the month.
"""

from __future__ import annotations

import os
import socket
from datetime import date

from celery import chord, current_app, shared_task


@shared_task(name="protection.cycle_chunk", bind=True, acks_late=True)
def cycle_chunk(self, chunk_id: int, today: str) -> dict:
    """The chunk's state at the end, and the worker that ran it (``hostname`` is the worker's node name; the
    process id tells two workers of one host apart)."""
    from lingkaran.protection.cycle import chunk_process

    state = chunk_process(chunk_id=chunk_id, today=date.fromisoformat(today))
    return {
        "chunk": chunk_id,
        "state": state,
        "worker": self.request.hostname or socket.gethostname(),
        "pid": os.getpid(),
    }


@shared_task(name="protection.cycle_finish", acks_late=True)
def cycle_finish(month: str) -> str:
    """The chord's callback: the cycle's totals, ``done`` once every chunk is posted; its state."""
    from lingkaran.protection.cycle import cycle_finish as finish

    return finish(month=date.fromisoformat(month)).state


def chunks_send(*, month: date, chunk_ids: list[int], today: date):
    """Send the chunks of ``month`` to the workers. With a result backend: one chord, whose callback finishes the
    cycle when the last chunk ends (returned: the chord's result). Eager (no broker) or without a result backend:
    one task per chunk (eager tasks run here and now; the caller finishes the cycle). Never sends an empty chord."""
    app = current_app
    eager = app.conf.task_always_eager
    if not chunk_ids:
        return None
    if eager or not app.conf.result_backend:
        for chunk_id in chunk_ids:
            cycle_chunk.delay(chunk_id, today.isoformat())
        return None
    header = [cycle_chunk.s(chunk_id, today.isoformat()) for chunk_id in chunk_ids]
    return chord(header)(cycle_finish.si(month.isoformat()))
