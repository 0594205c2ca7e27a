"""The photo queue's messages: S3 ObjectCreated notifications, delivered at least once.

Failures that are not the message's fault are reported per message (SQS partial batch
response), so SQS retries only those and, after maxReceiveCount, moves them to the DLQ.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.service.notifications import Notifier
from chalicelib.service.photos import PhotoOutcome, PhotoService

log = logging.getLogger(__name__)


def s3_objects(body: str) -> list[tuple[str, int | None]]:
    """(key, size) of every ObjectCreated record in one message body; [] for anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        log.warning("photo queue message is not JSON, dropped")
        return []
    if not isinstance(message, Mapping):
        return []
    # S3 sends {"Event": "s3:TestEvent"} when the notification is configured.
    records = message.get("Records")
    if not isinstance(records, list):
        return []
    objects: list[tuple[str, int | None]] = []
    for record in records:
        if not isinstance(record, Mapping):
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        obj = (record.get("s3") or {}).get("object") or {}
        key = obj.get("key")
        if isinstance(key, str) and key:
            size = obj.get("size")
            # Keys in S3 event notifications are URL-encoded (spaces as '+').
            objects.append((unquote_plus(key), size if isinstance(size, int) else None))
    return objects


def handle_photo_messages(
    records: Iterable[Mapping[str, Any]], photos: PhotoService
) -> dict[str, list[dict[str, str]]]:
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            for key, size in s3_objects(str(record.get("body", ""))):
                outcome = photos.uploaded(key, size)
                if outcome is not PhotoOutcome.ACCEPTED:
                    log.info("photo message: %s", outcome.value, extra={"key": key})
        except Exception:
            log.exception("photo message failed; SQS will retry it", extra={"id": message_id})
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def handle_photo_dead_letters(
    records: Iterable[Mapping[str, Any]], photos: PhotoService
) -> dict[str, list[dict[str, str]]]:
    """Messages the photo queue gave up on: their tickets are flagged for manual triage."""
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            for key, _ in s3_objects(str(record.get("body", ""))):
                photos.dead_lettered(key)
        except Exception:
            log.exception(
                "dead letter not triaged; it stays on the queue", extra={"id": message_id}
            )
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def handle_ticket_stream(
    records: Iterable[Mapping[str, Any]], notifier: Notifier
) -> dict[str, list[dict[str, str]]]:
    """Notify for each ticket change in stream order.

    On a failure the rest of the batch is not attempted: the stream retries from the failed
    record (ReportBatchItemFailures), so later records would otherwise be notified twice.
    """
    from chalicelib.adapters.dynamodb import ticket_from_stream_image

    for record in records:
        change = record.get("dynamodb") or {}
        sequence = str(change.get("SequenceNumber", ""))
        try:
            after = ticket_from_stream_image(change.get("NewImage"))
            if after is None:
                continue
            before = ticket_from_stream_image(change.get("OldImage"))
            notifier.ticket_changed(before, after)
        except Exception:
            log.exception(
                "ticket change not notified; the stream retries it", extra={"seq": sequence}
            )
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
