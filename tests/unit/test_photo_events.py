"""The photo queue: S3 notifications arrive through SQS at least once, among other messages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from chalicelib.bootstrap import Services
from chalicelib.domain.identity import principal_from_claims
from chalicelib.domain.tickets import Status, Ticket
from chalicelib.events import handle_photo_messages, s3_objects
from tests.fakes import FakePhotoStore, FakeTicketRepository, fake_services
from tests.photos import jpeg

EVENTS = Path(__file__).resolve().parents[1] / "events"
JPEG = {"content_type": "image/jpeg", "content_length": 2_000_000}
MONAS = {"lat": -6.1754, "lon": 106.8272}
SMALL_JPEG = jpeg(size=(64, 48))


def canned(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def sqs_record(name: str) -> dict[str, Any]:
    record: dict[str, Any] = canned(name)["Records"][0]
    return record


def photo_message(key: str, message_id: str) -> dict[str, Any]:
    """The canned ObjectCreated message, pointed at `key` and encoded the way S3 encodes keys."""
    record = sqs_record("s3_object_created.json")
    notification = json.loads(record["body"])
    notification["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    record = copy.deepcopy(record)
    record["messageId"] = message_id
    record["body"] = json.dumps(notification)
    return record


@pytest.fixture
def store() -> FakePhotoStore:
    return FakePhotoStore()


@pytest.fixture
def services(store: FakePhotoStore) -> Services:
    return fake_services(store=store)


@pytest.fixture
def tickets(services: Services) -> FakeTicketRepository:
    assert isinstance(services.tickets, FakeTicketRepository)
    return services.tickets


def awaiting_photo(
    services: Services, store: FakePhotoStore, reporter: str = "citizen-1"
) -> tuple[str, str]:
    """File a report with a declared photo and upload it (a JPEG without GPS).

    Returns (ticket_id, the key its photo is expected under).
    """
    submitted = services.reports.submit(
        "jakarta",
        principal_from_claims({"sub": reporter}),
        {"category": "sampah", "description": "Sampah di got", "photo": JPEG, "location": MONAS},
    )
    assert submitted.upload is not None
    key = submitted.upload.fields["key"]
    store.upload(key, SMALL_JPEG)
    return submitted.ticket.ticket_id, key


def ticket(tickets: FakeTicketRepository, ticket_id: str) -> Ticket:
    found = tickets.get("jakarta", ticket_id)
    assert found is not None
    return found


def test_canned_notification_is_real_shaped() -> None:
    notification = json.loads(sqs_record("s3_object_created.json")["body"])

    record = notification["Records"][0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["s3"]["bucket"]["name"]
    assert record["s3"]["object"]["eTag"]


def test_url_encoded_key_is_decoded() -> None:
    body = sqs_record("s3_object_created.json")["body"]

    objects = s3_objects(body)

    assert objects == [
        (
            "uploads/jakarta/0123456789abcdef0123456789abcdef/report from Pasar Baru(1).jpg",
            1_843_221,
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(sqs_record("s3_test_event.json")["body"], id="s3-test-event"),
        pytest.param(sqs_record("sqs_body_not_json.json")["body"], id="not-json"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2]", id="json-list"),
        pytest.param('{"Records": "none"}', id="records-not-a-list"),
        pytest.param('{"Records": [42, {"eventName": "ObjectCreated:Put"}]}', id="no-s3-part"),
        pytest.param(
            json.dumps(
                {
                    "Records": [
                        {
                            "eventName": "ObjectRemoved:Delete",
                            "s3": {"object": {"key": "uploads/jakarta/x/report-1.jpg"}},
                        }
                    ]
                }
            ),
            id="object-removed",
        ),
    ],
)
def test_message_that_is_not_an_object_created_notification_yields_no_objects(body: str) -> None:
    assert s3_objects(body) == []


@pytest.mark.parametrize("name", ["s3_test_event.json", "sqs_body_not_json.json"])
def test_test_event_and_garbage_are_dropped_without_failure(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore, name: str
) -> None:
    ticket_id, _ = awaiting_photo(services, store)

    result = handle_photo_messages([sqs_record(name)], services.photos)

    assert result == {"batchItemFailures": []}
    assert ticket(tickets, ticket_id).status is Status.AWAITING_PHOTO


def test_photo_message_routes_the_ticket_to_the_unit_of_its_device_location(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = awaiting_photo(services, store)

    result = handle_photo_messages([photo_message(key, "m-1")], services.photos)

    assert result == {"batchItemFailures": []}
    moved = ticket(tickets, ticket_id)
    assert moved.status is Status.WAITING
    assert moved.assigned_unit is not None
    assert moved.assigned_unit["id"] == "kelurahan:31.71.01.1001"
    assert [(p.key, p.size) for p in moved.photos] == [(key, 1_843_221)]


def test_failing_message_is_reported_alone_and_the_rest_of_the_batch_is_processed(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    first_id, first_key = awaiting_photo(services, store, "siti")
    second_id, second_key = awaiting_photo(services, store, "budi")
    tickets.fail_next_save = RuntimeError("DynamoDB is throttling")

    result = handle_photo_messages(
        [photo_message(first_key, "m-fails"), photo_message(second_key, "m-ok")],
        services.photos,
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-fails"}]}
    assert ticket(tickets, first_id).status is Status.AWAITING_PHOTO
    assert ticket(tickets, second_id).status is Status.WAITING


def test_failed_message_succeeds_when_sqs_redelivers_it(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = awaiting_photo(services, store)
    tickets.fail_next_save = RuntimeError("DynamoDB is throttling")
    handle_photo_messages([photo_message(key, "m-1")], services.photos)

    result = handle_photo_messages([photo_message(key, "m-1")], services.photos)

    assert result == {"batchItemFailures": []}
    assert ticket(tickets, ticket_id).status is Status.WAITING


def test_same_message_twice_routes_the_ticket_once(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = awaiting_photo(services, store)
    message = photo_message(key, "m-1")

    first = handle_photo_messages([message], services.photos)
    second = handle_photo_messages([message, message], services.photos)

    assert first == second == {"batchItemFailures": []}
    moved = ticket(tickets, ticket_id)
    assert moved.status is Status.WAITING
    assert len(moved.photos) == 1
    assert [e.to_status for e in moved.timeline] == [
        Status.AWAITING_PHOTO,
        Status.LOCATING,
        Status.WAITING,
    ]
