"""The database side of an import, in a thread of its own, so that it overlaps with reading and preparing rows.

An import has two kinds of work: Python work (reading the file, validating, blind indexes, AES-GCM, formatting COPY
lines, finding repeats in the file) and database work (the existence check, ``COPY``, index maintenance, foreign-key
checks, commit). Done in turn, the two add up; the database side alone is as long as the Python side, and the
process holding the connection would wait for it after every chunk. ``DatabaseThread`` runs a *consumer* — a function
that takes an iterator of chunks and does every database call of the run — in a second thread, while the calling
thread goes on producing the next chunks. The queue between them holds at most ``depth`` chunks, so memory stays flat.

The consumer uses the caller's own connection (Django's connections are per thread; this one is lent for the
duration, with ``inc_thread_sharing``), so it sees what the caller's transaction sees — the test suite's transaction
included — and ``transaction.atomic`` inside it nests as it would in the caller. While the thread runs, the calling
thread must not touch the database; once the ``with`` block ends, the connection is back.

The consumer runs in a copy of the caller's context (``contextvars``), so the audit log still knows who acts through
which channel, and with the caller's language and time zone (Django keeps those per thread). Errors cross over in
both directions:

* an exception in the consumer stops it; the caller's next ``put`` (or the end of the ``with`` block) raises it;
* an exception in the caller stops the consumer at the chunk it has reached: the chunks already queued are consumed,
  then the consumer's iterator raises ``Abandoned``, so an open ``transaction.atomic`` block rolls back.

When nothing was put at all, the consumer runs in the calling thread with an empty iterator (no thread is started).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone, translation

_END = object()
_ABANDON = object()


class Abandoned(Exception):
    """The producing side failed: the consumer stops (raised by its iterator after the chunks already queued)."""


class DatabaseThread:
    """``with DatabaseThread(consume) as writer: writer.put(chunk) …``; ``writer.result`` is what ``consume`` returned."""

    def __init__(self, consume: Callable[[Iterator], object], *, depth: int = 2, using: str = DEFAULT_DB_ALIAS):
        self.consume = consume
        self.using = using
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.result: object = None

    def __enter__(self) -> DatabaseThread:
        return self

    def put(self, chunk) -> None:
        """Queue one chunk; waits while the queue is full. Raises the consumer's error if it has stopped."""
        if self.thread is None:
            self._start()
        self._put(chunk)

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if self.thread is None:
            if exc_type is None:
                self.result = self.consume(iter(()))
            return False
        if exc_type is None:
            self._put(_END)
        else:
            self._put(_ABANDON, raise_error=False)
        self.thread.join()
        if exc_type is None and self.error is not None:
            raise self.error
        return False

    # --- inside -------------------------------------------------------------------------------------------------

    def _start(self) -> None:
        connection = connections[self.using]
        connection.ensure_connection()
        connection.inc_thread_sharing()
        context = contextvars.copy_context()
        here = (connection, translation.get_language(), timezone.get_current_timezone())
        self.thread = threading.Thread(target=context.run, args=(self._run, *here), name="lingkaran-import-db")
        self.thread.daemon = True
        self.thread.start()

    def _run(self, connection, language, zone) -> None:
        connections[self.using] = connection
        try:
            with translation.override(language), timezone.override(zone):
                self.result = self.consume(self._chunks())
        except BaseException as exc:  # handed to the calling thread, which raises it
            self.error = exc
        finally:
            del connections[self.using]
            connection.dec_thread_sharing()

    def _chunks(self) -> Iterator:
        while True:
            chunk = self.queue.get()
            if chunk is _END:
                return
            if chunk is _ABANDON:
                raise Abandoned()
            yield chunk

    def _put(self, item, *, raise_error: bool = True) -> None:
        while True:
            if not self.thread.is_alive():
                if raise_error and self.error is not None:
                    raise self.error
                return
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue
