"""Funding's Celery tasks. Each loads by id, calls a service, and is safe to run twice.

With no broker (the embedded default) tasks run in-process; ``enqueue`` then stands in for a worker: a task that
fails in the end is logged, as a worker would, instead of failing the request that queued it. Retries back off
exponentially (1, 2, 4 … seconds, at most an hour); in-process they follow each other at once.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings

logger = logging.getLogger("lingkaran.funding")
MAX_BACKOFF = 3600


def backoff(retries: int) -> int:
    return min(MAX_BACKOFF, 2**retries)


def enqueue(task, *args) -> None:
    """Send a task to the workers; with no broker, run it here, retries included (one after the other)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(args=args)
        return
    retries = 0
    while True:
        try:
            task.apply(args=args, retries=retries, throw=True)
            return
        except Retry:
            retries += 1
        except Exception:
            logger.exception("task %s%r failed after %s attempts", task.name, args, retries + 1)
            return


def enqueue_event(event_id: int, known=None) -> None:
    """Queue the processing of a stored notification. With no broker it runs here, as ``enqueue`` would run
    ``process_gateway_event`` (the same attempts, log lines and retries), but called directly rather than through
    Celery's eager machinery, and with ``known`` (what the request that stored the event already read) for its first
    attempt: this runs once for every notification a gateway sends."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        process_gateway_event.apply_async(args=(event_id,))
        return
    from lingkaran.funding import gateways
    from lingkaran.funding.services.intake import StatusNotConfirmed, intake_process

    retries = 0
    while True:
        try:
            intake_process(event_id, known if retries == 0 else None)
            return
        except (gateways.GatewayRetryable, StatusNotConfirmed) as exc:
            logger.warning("event %s not processed yet (attempt %s): %s", event_id, retries + 1, exc)
            if retries >= process_gateway_event.max_retries + 1:
                logger.error(
                    "task %s%r failed after %s attempts: %s", process_gateway_event.name, (event_id,), retries + 1, exc
                )
                return
            retries += 1
        except Exception:
            logger.exception("task %s%r failed after %s attempts", process_gateway_event.name, (event_id,), retries + 1)
            return


@shared_task(bind=True, name="funding.process_gateway_event", max_retries=8, acks_late=True)
def process_gateway_event(self, event_id: int) -> str:
    from lingkaran.funding import gateways
    from lingkaran.funding.services.intake import StatusNotConfirmed, intake_process

    try:
        return intake_process(event_id)
    except (gateways.GatewayRetryable, StatusNotConfirmed) as exc:
        logger.warning("event %s not processed yet (attempt %s): %s", event_id, self.request.retries + 1, exc)
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None


@shared_task(name="funding.intake_sweep")
def intake_sweep() -> int:
    from lingkaran.funding.services.intake import intake_sweep as sweep
    from lingkaran.funding.services.refunds import refunds_check_accepted

    # Also refunds a gateway accepted whose end was never notified (asked at the gateway's refund API).
    return sweep() + refunds_check_accepted()


@shared_task(bind=True, name="funding.sandbox_deliver", max_retries=None, acks_late=True)
def sandbox_deliver(self, delivery_id: int) -> str:
    from lingkaran.funding import sandbox_server

    result = sandbox_server.delivery_attempt(delivery_id)
    if result == sandbox_server.RETRY:
        raise self.retry(countdown=backoff(self.request.retries))
    return result


@shared_task(bind=True, name="funding.refund_at_gateway", max_retries=8, acks_late=True)
def refund_at_gateway(self, refund_id: int) -> str:
    from lingkaran.funding import gateways
    from lingkaran.funding.services.refunds import refund_send_to_gateway

    try:
        return refund_send_to_gateway(refund_id)
    except gateways.GatewayRetryable as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None


@shared_task(bind=True, name="funding.review_return_at_gateway", max_retries=8, acks_late=True)
def review_return_at_gateway(self, resolution_id: int) -> str:
    """Give a payment returned from the review queue back to its payer at the gateway."""
    from lingkaran.funding import gateways
    from lingkaran.funding.services.review import review_return_send

    try:
        return review_return_send(resolution_id)
    except gateways.GatewayRetryable as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None


@shared_task(name="funding.recurring_charge_due")
def recurring_charge_due() -> int:
    """Daily: create this month's donation and payment link for every pledge that is due."""
    from lingkaran.funding.services.donations import recurring_charge_due as charge

    return len(charge())
