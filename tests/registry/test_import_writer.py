"""``DatabaseThread``: the database side of an import in a second thread, on the caller's connection — results,
errors in both directions, rollback when the producer fails, and the caller's context, language and transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.utils import translation

from lingkaran.core import context
from lingkaran.registry.import_writer import Abandoned, DatabaseThread
from lingkaran.registry.models import OccupationGroup

pytestmark = pytest.mark.django_db


def test_the_consumer_gets_every_chunk_in_order_in_another_thread():
    seen = []

    def consume(chunks):
        for chunk in chunks:
            seen.append((chunk, threading.current_thread().name))
        return len(seen)

    with DatabaseThread(consume, depth=1) as writer:
        for number in range(5):
            writer.put(number)
    assert writer.result == 5
    assert [chunk for chunk, _thread in seen] == [0, 1, 2, 3, 4]
    assert {thread for _chunk, thread in seen} == {"lingkaran-import-db"}


def test_nothing_put_runs_the_consumer_here_with_no_chunks():
    def consume(chunks):
        return list(chunks), threading.current_thread() is threading.main_thread()

    with DatabaseThread(consume) as writer:
        pass
    assert writer.result == ([], True)


def test_it_sees_the_callers_transaction_language_and_action_context():
    OccupationGroup.objects.create(code="uji", name_id="Uji", name_en="Test", sector="other")  # not committed

    def consume(chunks):
        found = []
        for _chunk in chunks:
            found.append(
                (
                    OccupationGroup.objects.filter(code="uji").exists(),
                    translation.get_language(),
                    context.current().channel,
                )
            )
        return found

    with context.acting("command"), translation.override("en"), DatabaseThread(consume) as writer:
        writer.put(1)
    assert writer.result == [(True, "en", "command")]


def test_an_error_in_the_consumer_reaches_the_producer():
    def consume(chunks):
        for chunk in chunks:
            if chunk == 2:
                raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError), DatabaseThread(consume, depth=1) as writer:
        for number in range(100):
            writer.put(number)
    assert number < 100  # the producer stopped early


def test_an_error_in_the_producer_rolls_the_consumer_back():
    consumed = []
    stopped = []

    def consume(chunks):
        try:
            with transaction.atomic():
                for chunk in chunks:
                    OccupationGroup.objects.create(code=f"g{chunk}", name_id="G", name_en="G", sector="other")
                    consumed.append(chunk)
        except Abandoned:
            stopped.append(True)
            raise

    with pytest.raises(ValueError, match="bad row"), DatabaseThread(consume) as writer:
        writer.put(1)
        writer.put(2)
        raise ValueError("bad row")
    assert consumed == [1, 2]  # what was queued is consumed, then the consumer stops
    assert stopped == [True]
    assert not OccupationGroup.objects.filter(code__in=["g1", "g2"]).exists()
