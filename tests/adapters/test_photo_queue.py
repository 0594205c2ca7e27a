"""The photo queue end to end under moto: upload -> S3 event -> SQS -> the Lambda handler.

Delivery is at least once: a duplicate changes nothing, and a message that keeps failing for a
reason that is not its own ends up in the dead-letter queue after the template's maxReceiveCount.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import app as app_module
from chalicelib import bootstrap
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Status
from infra.local.stack import deliver_sqs_batch
from tests.adapters.conftest import AwsStack
from tests.fakes import SHARED, FixedClock, fake_services, shipped_bundles

CITIZEN = Principal(subject="citizen-sub-1", username="warga", roles=frozenset({Role.CITIZEN}))
JPEG = (SHARED / "data" / "photos" / "Canon_40D.jpg").read_bytes()


def drain(sqs: Any, url: str) -> None:
    # PurgeQueue is rate-limited to once a minute per queue; receive-and-delete is not.
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def queue(aws_stack: AwsStack) -> Iterator[dict[str, Any]]:
    sqs = aws_stack.client("sqs")
    for name in ("PhotoQueueUrl", "PhotoDeadLetterQueueUrl"):
        drain(sqs, aws_stack.outputs[name])
    yield {
        "sqs": sqs,
        "url": aws_stack.outputs["PhotoQueueUrl"],
        "arn": aws_stack.outputs["PhotoQueueArn"],
        "dlq": aws_stack.outputs["PhotoDeadLetterQueueUrl"],
    }


@pytest.fixture
def jakarta(real_services: bootstrap.Services) -> bootstrap.Services:
    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    return real_services


def upload(post: Any) -> None:
    response = requests.post(
        post.url, data=dict(post.fields), files={"file": ("p.jpg", JPEG, "image/jpeg")}, timeout=10
    )
    assert response.status_code == 204


def deliver(queue: dict[str, Any], **kwargs: Any) -> dict[str, int]:
    return deliver_sqs_batch(
        queue["sqs"], queue["url"], queue["arn"], app_module.on_photo_uploaded, **kwargs
    )


def test_uploaded_photo_routes_its_ticket_once_even_if_delivered_twice(
    jakarta: bootstrap.Services, queue: dict[str, Any], clock: FixedClock
) -> None:
    body = {
        "category": "sampah",
        "description": "Sampah di trotoar",
        "location": {"lat": -6.1754, "lon": 106.8272},
        "photo": {"content_type": "image/jpeg", "content_length": len(JPEG)},
    }
    submitted = jakarta.reports.submit("jakarta", CITIZEN, body)
    assert submitted.upload is not None
    upload(submitted.upload)
    first = queue["sqs"].receive_message(QueueUrl=queue["url"], WaitTimeSeconds=1)["Messages"][0]
    queue["sqs"].change_message_visibility(
        QueueUrl=queue["url"], ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    # The same notification delivered a second time, as SQS standard queues may do.
    queue["sqs"].send_message(QueueUrl=queue["url"], MessageBody=first["Body"])

    rounds = [deliver(queue), deliver(queue)]

    ticket = jakarta.tickets.get("jakarta", submitted.ticket.ticket_id)
    assert ticket is not None
    assert ticket.status is Status.WAITING
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["name"] == "Kelurahan Gambir"
    assert [e.to_status for e in ticket.timeline] == [
        Status.AWAITING_PHOTO,
        Status.LOCATING,
        Status.WAITING,
    ]
    assert sum(r["deleted"] for r in rounds) == 2
    leftover = queue["sqs"].receive_message(QueueUrl=queue["url"], WaitTimeSeconds=0)
    assert "Messages" not in leftover


def test_message_that_keeps_failing_lands_in_the_dead_letter_queue(
    aws_stack: AwsStack, queue: dict[str, Any]
) -> None:
    services = fake_services()

    def dynamodb_is_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("DynamoDB unreachable")

    services.tickets.get = dynamodb_is_down  # type: ignore[method-assign]
    bootstrap.override(services)
    key = "uploads/jakarta/0123456789abcdef0123456789abcdef/report-0123456789ab.jpg"
    event = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {"object": {"key": key}}}]}
    queue["sqs"].send_message(QueueUrl=queue["url"], MessageBody=json.dumps(event))

    try:
        rounds = [deliver(queue, wait_seconds=0, visibility_timeout=0) for _ in range(7)]
    finally:
        bootstrap.override(None)

    assert [r["received"] for r in rounds[:5]] == [1, 1, 1, 1, 1]
    assert all(r["deleted"] == 0 for r in rounds)
    dead = queue["sqs"].receive_message(QueueUrl=queue["dlq"], WaitTimeSeconds=1)["Messages"]
    assert json.loads(dead[0]["Body"]) == event
