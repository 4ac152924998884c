"""Payment intake: gateway notifications in, money posted once.

``intake_receive`` is what the webhook view calls, quickly:

1. Every notification is stored in the inbox (``GatewayEvent``) first, raw body and headers kept. Verified ones are
   unique on (gateway, event key), so duplicates collapse there; unverifiable ones (forged signature, wrong token,
   malformed, too large) are kept under ``unverified:<sha256 of the body>`` and never processed.
2. The answer: 413 too large, 400 malformed, 401 forged or wrong token, 404 unknown order (after storing), 200
   otherwise; processing goes to a Celery task (``funding.process_gateway_event``), eager by default.

``intake_process`` (the task) is idempotent and safe to run twice, or twenty times at once:

1. A notification that lies behind the intent's state (a ``pending`` after ``settled``) is recorded and ignored.
2. The gateway's status API is asked before money moves; the notification is a trigger, not the authority.
3. Under a lock on the intent, the forward-only state machine decides; a settled amount that is not exactly the
   intent's puts the intent in the review queue and posts nothing; a settlement posts the ledger entry and issues
   the receipt in the same transaction, which also marks the event processed (if another delivery of the same event
   did that first, the transaction is rolled back: it would change nothing).

Every refusal writes one line to the ``lingkaran.funding`` log.

It is built to be cheap per notification, because a gateway's bursts arrive at the web workers: the inbox write is
one upsert committed on its own (which also says whether the event is new or already processed), the event and its
intent are read in one query, the only lock is the intent's, and the SQL of the statements on this path is written
once per process rather than compiled by the ORM on every call (the ORM's compiling cost more CPU than the database
spent on these statements). The settlement keeps the rows every settlement shares (the ledger's balances and the
receipt counter) for as short a time as it can (``settlement.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from lingkaran.funding import accounts, gateways
from lingkaran.funding.domain.intents import FINAL_UNPAID, PAID, RANK, Decision, PaymentState, decide, is_stale
from lingkaran.funding.domain.notifications import whole_rupiah
from lingkaran.funding.models import GatewayEvent, PaymentIntent
from lingkaran.funding.services import settlement
from lingkaran.funding.services._common import logger

SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-callback-token"}
MAX_HEADERS = 60


@dataclass(frozen=True)
class IntakeResult:
    http_status: int
    outcome: str
    event_id: int | None = None


class StatusNotConfirmed(Exception):
    """The gateway's status API does not (yet) show what the notification says: try again later."""


def _stored_headers(headers) -> dict:
    kept = {}
    for name, value in list(headers.items())[:MAX_HEADERS]:
        key = str(name).lower()
        kept[key] = "[redacted]" if key in SENSITIVE_HEADERS else str(value)[:500]
    return kept


def _body_text(raw_body: bytes) -> str:
    """The body as stored: exactly the text received. Bytes that are not UTF-8, and NUL (which PostgreSQL text
    cannot hold), only occur in malformed bodies; they are kept as backslash escapes."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return raw_body.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return text.replace("\x00", "\\x00")


def _peek_order_id(raw_body: bytes) -> str:
    """The order id a rejected notification claims, for the log and the inbox only (never trusted)."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    value = data.get("order_id") or data.get("external_id") or ""
    return str(value)[:100]


@dataclass(frozen=True)
class StoredEvent:
    """What the inbox holds for a notification just received."""

    id: int
    created: bool  # first delivery of this event
    processed: bool
    outcome: str


@dataclass(frozen=True)
class EventRow:
    """A verified event and its intent (found by order id and gateway), as processing reads them."""

    id: int
    gateway: str
    verified: bool
    processed_at: object
    outcome: str
    order_id: str
    transaction_id: str
    status: str
    gateway_status: str
    gross_amount: str
    intent_id: int | None
    intent_state: str | None
    intent_reference: str | None


@functools.cache
def _upsert_sql(vendor: str, with_intent: bool = False) -> tuple[str, tuple]:
    """``INSERT … ON CONFLICT (gateway, event_key) DO UPDATE SET deliveries = deliveries + 1 RETURNING …`` over every
    column of the inbox, built once from the model (so a column added later is written with its default).
    ``with_intent`` (PostgreSQL): the same statement also finds the intent of the event's order (id, state, gateway
    reference)."""
    fields = tuple(field for field in GatewayEvent._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    table = quote(GatewayEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('gateway')}, {quote('event_key')}) "
        f"DO UPDATE SET {quote('deliveries')} = {table}.{quote('deliveries')} + 1 "
        f"RETURNING {quote('id')}, {quote('deliveries')}, {quote('processed_at')}, {quote('outcome')}"
    )
    if with_intent:
        sql = (
            f"WITH e AS ({sql}) SELECT e.*, i.{quote('id')}, i.{quote('state')}, i.{quote('gateway_reference')} "
            f"FROM e LEFT JOIN {quote(PaymentIntent._meta.db_table)} i "
            f"ON i.{quote('order_id')} = %s AND i.{quote('gateway')} = %s"
        )
    return sql, fields


def _store(gateway: str, event_key: str, raw_body: bytes, headers, **fields) -> StoredEvent:
    """Keep the notification in the inbox, or count one more delivery of the one already there.

    One statement, committed on its own: an upsert on the unique (gateway, event key), which also answers whether the
    event is new and whether it was processed already. (SQLite before 3.35 has no RETURNING: insert, and on the
    unique key's refusal count the delivery.)"""
    return _upsert(gateway, event_key, raw_body, headers, fields)[0]


def _upsert(gateway: str, event_key: str, raw_body: bytes, headers, fields: dict, *, intent_of: str | None = None):
    """``_store``, and with ``intent_of`` (an order id) also the intent's (id, state, gateway reference), or None:
    on PostgreSQL in the same statement."""
    event = GatewayEvent(
        gateway=gateway, event_key=event_key, raw_body=_body_text(raw_body), headers=_stored_headers(headers), **fields
    )
    if not connection.features.can_return_columns_from_insert:
        try:
            with transaction.atomic():
                event.save(force_insert=True)
            stored = StoredEvent(event.pk, True, False, "")
        except IntegrityError:
            rows = GatewayEvent.objects.filter(gateway=gateway, event_key=event_key)
            rows.update(deliveries=F("deliveries") + 1)
            event_id, processed_at, outcome = rows.values_list("pk", "processed_at", "outcome").get()
            stored = StoredEvent(event_id, False, processed_at is not None, outcome)
        return stored, (_intent_of(gateway, intent_of) if intent_of is not None else None)
    together = intent_of is not None and connection.vendor == "postgresql"
    sql, columns = _upsert_sql(connection.vendor, together)
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, intent_of, gateway] if together else values)
        row = cursor.fetchone()
    event_id, deliveries, processed_at, outcome = row[:4]
    stored = StoredEvent(event_id, deliveries == 1, processed_at is not None, outcome)
    if together:
        intent = tuple(row[4:7]) if row[4] is not None else None
    elif intent_of is not None:
        intent = _intent_of(gateway, intent_of)
    else:
        intent = None
    return stored, intent


def _record(event_id: int, outcome: str) -> bool:
    """Mark the event processed with ``outcome`` unless it is already; whether it was marked here."""
    with connection.cursor() as cursor:
        cursor.execute(_record_sql(connection.vendor), [timezone.now(), outcome, event_id])
        return cursor.rowcount == 1


@functools.cache
def _record_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(GatewayEvent._meta.db_table)} SET {quote('processed_at')} = %s, {quote('outcome')} = %s "
        f"WHERE {quote('id')} = %s AND {quote('processed_at')} IS NULL"
    )


@functools.cache
def _intent_of_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('id')}, {quote('state')}, {quote('gateway_reference')} "
        f"FROM {quote(PaymentIntent._meta.db_table)} WHERE {quote('order_id')} = %s AND {quote('gateway')} = %s"
    )


def _intent_of(gateway: str, order_id: str) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_intent_of_sql(connection.vendor), [order_id, gateway])
        return cursor.fetchone()


def _finish(event_id: int, outcome: str) -> str:
    _record(event_id, outcome)
    return outcome


def intake_receive(*, gateway: str, raw_body: bytes, headers, too_large: bool = False) -> IntakeResult:
    """Store one notification and answer it (see the module docstring)."""
    if too_large:
        digest = hashlib.sha256(raw_body).hexdigest()
        event = _store(gateway, f"unverified:too_large:{digest}", b"", headers, verification_error="body_too_large")
        logger.warning("webhook refused: gateway=%s status=413 reason=body_too_large event=%s", gateway, event.id)
        return IntakeResult(413, "body_too_large", event.id)
    try:
        verified = gateways.get(gateway).verify_notification(raw_body, headers)
    except gateways.NotificationRejected as exc:
        claimed = _peek_order_id(raw_body)
        event = _store(
            gateway,
            f"unverified:{hashlib.sha256(raw_body).hexdigest()}",
            raw_body,
            headers,
            verification_error=exc.code,
            order_id=claimed,
        )
        status = 400 if exc.code == "malformed" else 401
        logger.warning(
            "webhook refused: gateway=%s status=%s reason=%s order_id=%s event=%s%s",
            gateway,
            status,
            exc.code,
            claimed or "-",
            event.id,
            f" ({exc.detail})" if exc.detail else "",
        )
        return IntakeResult(status, exc.code, event.id)
    if verified.refund_reference:
        return _receive_refund(gateway, verified, raw_body, headers)
    fields = {
        "verified": True,
        "order_id": verified.order_id[:100],
        "transaction_id": verified.transaction_id[:100],
        "status": verified.state or "",
        "gateway_status": verified.gateway_status[:40],
        "gross_amount": verified.gross_amount[:30],
    }
    event, intent = _upsert(gateway, verified.event_key, raw_body, headers, fields, intent_of=verified.order_id)
    if intent is None:
        _finish(event.id, "unknown_order")
        logger.warning(
            "webhook refused: gateway=%s status=404 reason=unknown_order order_id=%s event=%s",
            gateway,
            verified.order_id,
            event.id,
        )
        return IntakeResult(404, "unknown_order", event.id)
    if event.processed:
        logger.info(
            "webhook replay: gateway=%s order_id=%s event=%s status=%s already processed (%s); nothing changes",
            gateway,
            verified.order_id,
            event.id,
            verified.gateway_status,
            event.outcome,
        )
        return IntakeResult(200, "duplicate", event.id)
    from lingkaran.funding import tasks

    # What processing reads first is known here: with no broker, it is handed over instead of read again.
    known = EventRow(
        event.id,
        gateway,
        True,
        None,
        "",
        **{name: fields[name] for name in _KNOWN},
        intent_id=intent[0],
        intent_state=intent[1],
        intent_reference=intent[2],
    )
    transaction.on_commit(functools.partial(tasks.enqueue_event, event.id, known))
    return IntakeResult(200, "accepted" if event.created else "accepted_again", event.id)


def _receive_refund(gateway: str, verified: gateways.VerifiedEvent, raw_body: bytes, headers) -> IntakeResult:
    """A notification that a refund the gateway was carrying out has ended: kept in the inbox under the payment's
    order id, answered, and processed (``refunds.refund_settle_from_gateway``) like any other event."""
    from lingkaran.funding import tasks
    from lingkaran.funding.services.refunds import refund_of_reference

    refund = refund_of_reference(verified.refund_reference, gateway)
    fields = {
        "verified": True,
        "order_id": refund.intent.order_id if refund is not None else "",
        "transaction_id": verified.transaction_id[:100],
        "status": "",
        "gateway_status": verified.gateway_status[:40],
        "gross_amount": verified.gross_amount[:30],
    }
    event = _store(gateway, verified.event_key, raw_body, headers, **fields)
    if refund is None:
        _finish(event.id, "unknown_refund")
        logger.warning(
            "webhook refused: gateway=%s status=404 reason=unknown_refund reference=%s event=%s",
            gateway,
            verified.refund_reference[:60],
            event.id,
        )
        return IntakeResult(404, "unknown_refund", event.id)
    if event.processed:
        logger.info("webhook replay: gateway=%s refund=%s event=%s already processed", gateway, refund.pk, event.id)
        return IntakeResult(200, "duplicate", event.id)
    transaction.on_commit(functools.partial(tasks.enqueue_event, event.id))
    return IntakeResult(200, "accepted" if event.created else "accepted_again", event.id)


_KNOWN = ("order_id", "transaction_id", "status", "gateway_status", "gross_amount")


class _ProcessedMeanwhile(Exception):
    """Another delivery of the same event was processed while this one waited for the intent's lock."""


@functools.cache
def _event_and_intent_sql(vendor: str) -> str:
    """The event with its intent's id, state and gateway reference (found by order id and gateway), one query, in
    the order of ``EventRow``'s fields."""
    quote = connection.ops.quote_name
    return (
        f"SELECT e.{quote('id')}, e.{quote('gateway')}, e.{quote('verified')}, e.{quote('processed_at')}, "
        f"e.{quote('outcome')}, e.{quote('order_id')}, e.{quote('transaction_id')}, e.{quote('status')}, "
        f"e.{quote('gateway_status')}, e.{quote('gross_amount')}, i.{quote('id')}, i.{quote('state')}, "
        f"i.{quote('gateway_reference')} "
        f"FROM {quote(GatewayEvent._meta.db_table)} e LEFT JOIN {quote(PaymentIntent._meta.db_table)} i "
        f"ON i.{quote('order_id')} = e.{quote('order_id')} AND i.{quote('gateway')} = e.{quote('gateway')} "
        f"WHERE e.{quote('id')} = %s"
    )


def _event_row(event_id: int) -> EventRow | None:
    with connection.cursor() as cursor:
        cursor.execute(_event_and_intent_sql(connection.vendor), [event_id])
        row = cursor.fetchone()
    return EventRow(*row) if row is not None else None


def intake_process(event_id: int, known: EventRow | None = None) -> str:
    """Process one verified notification (see the module docstring). Returns the outcome recorded on the event.

    ``known``: the event and its intent as the request that stored it just read them (no broker: processed in that
    request); otherwise read here. Raises ``gateways.GatewayRetryable`` or ``StatusNotConfirmed`` when it should be
    tried again later."""
    event = known if known is not None and known.id == event_id else _event_row(event_id)
    if event is None or not event.verified:
        return "not_processable"
    if event.processed_at is not None:
        return event.outcome
    if event.intent_id is None:
        return _finish(event.id, "unknown_order")
    if gateways.is_refund_event(event.gateway_status):
        from lingkaran.funding.services.refunds import refund_settle_from_gateway

        outcome = refund_settle_from_gateway(
            gateway=event.gateway, refund_id=event.transaction_id, notified=event.gateway_status
        )
        return _finish(event.id, outcome)
    if not event.status:
        logger.warning(
            "notification ignored: order_id=%s event=%s gateway status %r is not one we act on",
            event.order_id,
            event.id,
            event.gateway_status,
        )
        return _finish(event.id, "status_unknown")
    if is_stale(event.intent_state, event.status):
        logger.warning(
            "notification ignored: order_id=%s event=%s says %s but the payment is already %s (out of order)",
            event.order_id,
            event.id,
            event.status,
            event.intent_state,
        )
        return _finish(event.id, "ignored_stale")

    # Ask the gateway before any money moves (network call: outside every transaction and lock).
    try:
        confirmed = gateways.get(event.gateway).get_status(event.order_id, event.intent_reference)
    except gateways.GatewayTerminal as exc:
        logger.warning("notification not confirmed: order_id=%s event=%s status API: %s", event.order_id, event.id, exc)
        return _finish(event.id, "unconfirmed")
    if confirmed.state is None:
        logger.warning(
            "notification not confirmed: order_id=%s event=%s status API says %r",
            event.order_id,
            event.id,
            confirmed.gateway_status,
        )
        return _finish(event.id, "status_unknown")
    if RANK[confirmed.state] < RANK[PaymentState(event.status)]:
        raise StatusNotConfirmed(
            f"order {event.order_id}: notification says {event.status}, status API says {confirmed.state}"
        )

    # Every change to a payment happens under the lock on its intent, so the intent's lock also serialises deliveries
    # of one event: the event is marked processed last, only if no other delivery did it meanwhile (then this
    # transaction changes nothing: it is rolled back).
    try:
        with transaction.atomic():
            intent = settlement.intent_lock(event.intent_id)
            outcome = _apply(intent, confirmed, event)
            if not _record(event.id, outcome):
                raise _ProcessedMeanwhile
    except _ProcessedMeanwhile:
        return GatewayEvent.objects.filter(pk=event.id).values_list("outcome", flat=True).get()
    return outcome


def _apply(intent: PaymentIntent, confirmed: gateways.GatewayStatus, event: EventRow) -> str:
    target = confirmed.state
    decision = decide(intent.state, target)
    if decision == Decision.SAME:
        return "no_change"
    if decision == Decision.IGNORE:
        if target in PAID and intent.state in FINAL_UNPAID:
            if target != PaymentState.SETTLED and intent.returned_amount:
                return "no_change"  # the refund of a payment returned from the review queue (services/review.py)
            settlement.hold_for_review(
                intent, f"paid at the gateway ({confirmed.gateway_status}) after it was {intent.state} here"
            )
            logger.warning(
                "payment held for review: order_id=%s paid at the gateway but %s here", intent.order_id, intent.state
            )
            return "review_paid_after_close"
        logger.warning(
            "notification ignored: order_id=%s event=%s would move the payment from %s back to %s",
            intent.order_id,
            event.id,
            intent.state,
            target,
        )
        return "ignored_backwards"
    if target == PaymentState.SETTLED:
        received = whole_rupiah(confirmed.gross_amount)
        notified = whole_rupiah(event.gross_amount)
        if received != intent.amount or notified != intent.amount:
            settlement.hold_for_review(
                intent,
                f"amount mismatch: expected {intent.amount}, status API says {confirmed.gross_amount}, "
                f"notification says {event.gross_amount}",
            )
            logger.warning(
                "payment held for review: order_id=%s amount mismatch expected=%s status_api=%s notification=%s; "
                "nothing posted",
                intent.order_id,
                intent.amount,
                confirmed.gross_amount,
                event.gross_amount,
            )
            return "amount_mismatch"
        transaction_id = confirmed.transaction_id or event.transaction_id or intent.order_id
        settlement.settle(
            intent,
            key=f"donation:{intent.gateway}:{transaction_id}:settled",
            source_account=accounts.clearing(intent.gateway),
            transaction_id=transaction_id,
        )
        return "settled"
    if target in (PaymentState.REFUNDED, PaymentState.PARTIALLY_REFUNDED):
        # Refunds made here move the intent before the gateway reports them (so they arrive as no_change). A refund
        # the gateway reports that was not made here needs a person.
        settlement.hold_for_review(intent, f"{confirmed.gateway_status} at the gateway, not made through Lingkaran")
        logger.warning("payment held for review: order_id=%s refunded at the gateway directly", intent.order_id)
        return "review_refund_outside"
    settlement.move(intent, target)
    return str(target)


def intake_sweep(*, older_than_minutes: int = 10) -> int:
    """Send verified, unprocessed events older than a few minutes to processing again (after a crash or an outage of
    the status API). Returns how many were sent."""
    from lingkaran.funding import tasks

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        GatewayEvent.objects.filter(verified=True, processed_at__isnull=True, received_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for event_id in ids:
        tasks.enqueue_event(event_id)
    return len(ids)


def intent_review_close(*, actor, intent: PaymentIntent, note: str) -> PaymentIntent:
    """Finance takes a payment out of the review queue once it is dealt with outside the automatic path (for
    example the wrong amount was returned to the payer at the gateway). Nothing is posted; the note is audited."""
    from django.utils.translation import gettext as _

    from lingkaran.core.access import require
    from lingkaran.core.audit import audit_record
    from lingkaran.core.domain.roles import Capability
    from lingkaran.funding.services._common import field_error

    require(actor, Capability.MANAGE_MONEY)
    note = (note or "").strip()
    if not note:
        raise field_error("note", _("Say how the payment was dealt with."))
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
        if not intent.in_review:
            return intent
        reason = intent.review_reason
        intent.in_review = False
        intent.updated_at = timezone.now()
        intent.save(update_fields=["in_review", "updated_at"])
        audit_record(
            actor=actor,
            action="funding.review_close",
            target=intent,
            details={"reason": reason, "note": note[:300]},
        )
    return intent
