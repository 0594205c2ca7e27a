"""Ticket changes reach SNS through the tickets table's stream, at least once, deduplicable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import app as app_module
from chalicelib import bootstrap
from chalicelib.domain.identity import Principal, Role
from infra.local.stack import deliver_stream_batch
from tests.adapters.conftest import AwsStack
from tests.fakes import shipped_bundles

CITIZEN = Principal(subject="notif-citizen", username="warga", roles=frozenset({Role.CITIZEN}))
GAMBIR = "kelurahan:31.71.01.1001"
MONAS = {"lat": -6.1754, "lon": 106.8272}


def subscribe(aws_stack: AwsStack, topic: str, name: str, filter_policy: dict[str, Any]) -> str:
    sqs, sns = aws_stack.client("sqs"), aws_stack.client("sns")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=aws_stack.outputs[topic],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(filter_policy)},
    )
    return str(url)


def received(aws_stack: AwsStack, url: str) -> list[dict[str, Any]]:
    sqs = aws_stack.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            envelope = json.loads(message["Body"])
            messages.append(
                {
                    "body": json.loads(envelope["Message"]),
                    "attributes": {
                        k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                    },
                }
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def stream_records(aws_stack: AwsStack) -> list[dict[str, Any]]:
    streams = aws_stack.client("dynamodbstreams")
    arn = aws_stack.outputs["TicketsStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


@pytest.fixture
def wired(aws_stack: AwsStack, real_services: bootstrap.Services) -> Iterator[bootstrap.Services]:
    from chalicelib.adapters.sns import SnsPublisher
    from chalicelib.domain.notifications import Audience
    from chalicelib.service.notifications import Notifier

    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    topics = {
        Audience.UNIT: aws_stack.outputs["UnitNotificationsTopicArn"],
        Audience.REPORTER: aws_stack.outputs["ReporterNotificationsTopicArn"],
    }
    real_services.notifier = Notifier(
        SnsPublisher(aws_stack.client("sns"), topics), "https://api.example.go.id"
    )
    yield real_services


def test_routed_report_notifies_its_unit_and_its_reporter_once_per_change(
    aws_stack: AwsStack, wired: bootstrap.Services
) -> None:
    unit_queue = subscribe(
        aws_stack, "UnitNotificationsTopicArn", "gambir-inbox", {"unit": [GAMBIR]}
    )
    reporter_queue = subscribe(
        aws_stack, "ReporterNotificationsTopicArn", "reporter-push", {"reporter": [CITIZEN.subject]}
    )
    submitted = wired.reports.submit(
        "jakarta", CITIZEN, {"category": "sampah", "description": "Sampah", "location": MONAS}
    )
    ticket_id = submitted.ticket.ticket_id

    deliver_stream_batch(
        stream_records(aws_stack),
        app_module.on_ticket_changed,
        aws_stack.outputs["TicketsStreamArn"],
        dead_letter=pytest.fail,
    )

    to_unit = [m for m in received(aws_stack, unit_queue) if m["body"]["ticket_id"] == ticket_id]
    to_reporter = [
        m for m in received(aws_stack, reporter_queue) if m["body"]["ticket_id"] == ticket_id
    ]
    assert len(to_unit) == 1
    message = to_unit[0]["body"]
    assert message["type"] == "ticket.assigned"
    assert message["tenant"] == "jakarta"
    assert message["unit"]["id"] == GAMBIR
    assert message["category"] == "sampah"
    assert message["link"] == f"https://api.example.go.id/v1/jakarta/tickets/{ticket_id}"
    assert to_unit[0]["attributes"]["event_id"] == message["event_id"]
    assert [m["body"]["status"] for m in to_reporter] == ["waiting"]
    assert "reporter_id" not in message


def test_redelivered_stream_records_repeat_the_same_event_ids(
    aws_stack: AwsStack, wired: bootstrap.Services
) -> None:
    unit_queue = subscribe(
        aws_stack, "UnitNotificationsTopicArn", "gambir-dupes", {"unit": [GAMBIR]}
    )
    submitted = wired.reports.submit(
        "jakarta", CITIZEN, {"category": "sampah", "description": "Lagi", "location": MONAS}
    )
    records = [
        r
        for r in stream_records(aws_stack)
        if r["dynamodb"].get("NewImage", {}).get("ticket_id", {}).get("S")
        == submitted.ticket.ticket_id
    ]

    for _ in range(2):
        deliver_stream_batch(
            records,
            app_module.on_ticket_changed,
            aws_stack.outputs["TicketsStreamArn"],
            dead_letter=pytest.fail,
        )

    ids = [m["body"]["event_id"] for m in received(aws_stack, unit_queue)]
    assert len(ids) == 2
    assert len(set(ids)) == 1


def test_record_that_keeps_failing_goes_to_the_dead_letter_queue_and_the_rest_continue(
    aws_stack: AwsStack, wired: bootstrap.Services
) -> None:
    for text in ("satu", "dua"):
        wired.reports.submit(
            "jakarta", CITIZEN, {"category": "banjir", "description": text, "location": MONAS}
        )
    records = [
        r
        for r in stream_records(aws_stack)
        if r["dynamodb"].get("NewImage", {}).get("category", {}).get("S") == "banjir"
    ][-2:]
    failing_ticket = records[0]["dynamodb"]["NewImage"]["ticket_id"]["S"]
    published: list[str] = []

    class FlakyPublisher:
        def publish(self, notification: Any) -> None:
            if notification.event_id.startswith(failing_ticket):
                raise ConnectionError("SNS unreachable")
            published.append(notification.event_id)

    from chalicelib.service.notifications import Notifier

    wired.notifier = Notifier(FlakyPublisher(), "https://api.example.go.id")
    dead: list[str] = []

    result = deliver_stream_batch(
        records,
        app_module.on_ticket_changed,
        aws_stack.outputs["TicketsStreamArn"],
        dead_letter=dead.append,
    )

    assert result == {"delivered": 1, "dead_lettered": 1}
    assert published
    assert not any(p.startswith(failing_ticket) for p in published)
    assert len(dead) == 1
    assert (
        json.loads(dead[0])["record"]["dynamodb"]["SequenceNumber"]
        == records[0]["dynamodb"]["SequenceNumber"]
    )
