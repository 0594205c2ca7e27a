"""PhotoService over fakes: an uploaded original becomes a location, flags and a public copy."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from PIL import Image

from chalicelib.bootstrap import Services
from chalicelib.domain.geotag import HEAD, read_geotag
from chalicelib.domain.identity import principal_from_claims
from chalicelib.domain.location_policy import PHOTO_FAR_FROM_DEVICE, PHOTO_TAKEN_LONG_BEFORE
from chalicelib.domain.tickets import LocationSource, Status, Ticket
from chalicelib.events import handle_photo_dead_letters
from chalicelib.service.photos import (
    NOT_AN_IMAGE,
    PHOTO_PROCESSING_FAILED,
    PhotoOutcome,
)
from tests.fakes import FakePhotoStore, FakeTicketRepository, FixedClock, fake_services
from tests.photos import jpeg

EVENTS = Path(__file__).resolve().parents[1] / "events"
REPORTED_AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
GAMBIR = {"lat": -6.1754, "lon": 106.8272}
KOTA_TUA = {"lat": -6.1352, "lon": 106.8133}
KELURAHAN_GAMBIR = "kelurahan:31.71.01.1001"
DECLARED_JPEG = {"content_type": "image/jpeg", "content_length": 2_000_000}


class UnreadableStore(FakePhotoStore):
    """S3 answers HEAD but every GET fails (throttling, a network fault)."""

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        raise OSError("connection reset by peer")


@pytest.fixture
def store() -> FakePhotoStore:
    return FakePhotoStore()


@pytest.fixture
def services(store: FakePhotoStore) -> Services:
    return fake_services(FixedClock(REPORTED_AT), store=store)


@pytest.fixture
def tickets(services: Services) -> FakeTicketRepository:
    assert isinstance(services.tickets, FakeTicketRepository)
    return services.tickets


def file_report(
    services: Services,
    *,
    device: dict[str, float] | None = None,
    photo: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """File a report with a declared photo; (ticket_id, the key its photo is expected under)."""
    body: dict[str, Any] = {
        "category": "sampah",
        "description": "Sampah menumpuk di trotoar",
        "photo": photo or DECLARED_JPEG,
    }
    if device is not None:
        body["location"] = device
    submitted = services.reports.submit("jakarta", principal_from_claims({"sub": "siti"}), body)
    assert submitted.upload is not None
    assert submitted.ticket.status is Status.AWAITING_PHOTO
    return submitted.ticket.ticket_id, submitted.upload.fields["key"]


def stored(tickets: FakeTicketRepository, ticket_id: str) -> Ticket:
    found = tickets.get("jakarta", ticket_id)
    assert found is not None
    return found


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def dead_letter(key: str, message_id: str) -> dict[str, Any]:
    """The canned SQS record whose body is an S3 ObjectCreated event for `key`."""
    record: dict[str, Any] = json.loads(
        (EVENTS / "s3_object_created.json").read_text(encoding="utf-8")
    )["Records"][0]
    notification = json.loads(record["body"])
    notification["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    return {**record, "messageId": message_id, "body": json.dumps(notification)}


# --- located and routed ---------------------------------------------------------------------


def test_geotagged_photo_in_gambir_routes_to_gambir_and_flags_the_distant_device(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=KOTA_TUA)
    original = jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], size=(64, 48))
    store.upload(key, original)

    outcome = services.photos.uploaded(key, len(original))

    assert outcome is PhotoOutcome.ACCEPTED
    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.WAITING
    assert ticket.location is not None
    assert ticket.location.source is LocationSource.EXIF
    assert ticket.location.lat == pytest.approx(GAMBIR["lat"], abs=1e-6)
    assert ticket.location.lon == pytest.approx(GAMBIR["lon"], abs=1e-6)
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["id"] == KELURAHAN_GAMBIR
    assert PHOTO_FAR_FROM_DEVICE in ticket.flags


def test_accepted_photo_has_public_and_thumbnail_copies_published_under_its_ticket(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=KOTA_TUA)
    original = jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], size=(64, 48))
    store.upload(key, original)

    services.photos.uploaded(key, len(original))

    [photo] = stored(tickets, ticket_id).photos
    assert photo.key == key
    assert photo.size == len(original)
    assert photo.public_key is not None
    assert photo.thumbnail_key is not None
    assert photo.public_key.startswith(f"public/jakarta/{ticket_id}/")
    assert photo.thumbnail_key.startswith(f"public/jakarta/{ticket_id}/")
    assert photo.public_key != photo.thumbnail_key
    assert set(store.published) == {photo.public_key, photo.thumbnail_key}
    public = Image.open(io.BytesIO(store.published[photo.public_key]))
    assert public.format == "JPEG"
    assert dict(public.getexif()) == {}


def test_photo_without_gps_is_routed_by_the_device_location_without_flags(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, jpeg(size=(64, 48)))

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.ACCEPTED
    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.WAITING
    assert ticket.location is not None
    assert ticket.location.source is LocationSource.DEVICE
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["id"] == KELURAHAN_GAMBIR
    assert ticket.flags == []


def test_photo_without_gps_and_no_device_location_needs_a_location(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=None)
    store.upload(key, jpeg(size=(64, 48)))

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.ACCEPTED
    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.NEEDS_LOCATION
    assert ticket.location is None
    assert ticket.assigned_unit is None
    assert len(ticket.photos) == 1


def test_photo_taken_8_days_before_the_report_without_an_offset_is_flagged(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    # DateTimeOriginal with no OffsetTimeOriginal: local time in Jakarta.
    ticket_id, key = file_report(services, device=GAMBIR)
    taken_at = (REPORTED_AT - timedelta(days=8)).replace(tzinfo=None)
    store.upload(key, jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], taken_at=taken_at, size=(64, 48)))

    services.photos.uploaded(key)

    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.WAITING
    assert ticket.flags == [PHOTO_TAKEN_LONG_BEFORE]


# --- rejected -------------------------------------------------------------------------------


def test_png_uploaded_as_declared_jpeg_is_rejected_as_not_an_image_naming_png(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, png_bytes())

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.REJECTED
    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.REJECTED
    assert ticket.rejection is not None
    assert ticket.rejection.reason == NOT_AN_IMAGE
    assert "PNG" in ticket.rejection.message
    assert store.published == {}


def test_garbage_upload_is_rejected_as_not_an_image(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, b"GIF? no: just some bytes a broken client sent" * 50)

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.REJECTED
    ticket = stored(tickets, ticket_id)
    assert ticket.status is Status.REJECTED
    assert ticket.rejection is not None
    assert ticket.rejection.reason == NOT_AN_IMAGE
    assert ticket.assigned_unit is None
    assert store.published == {}


def test_jpeg_header_with_undecodable_body_is_rejected_as_not_an_image(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, jpeg(size=(64, 48))[:300])

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.REJECTED
    ticket = stored(tickets, ticket_id)
    assert ticket.rejection is not None
    assert ticket.rejection.reason == NOT_AN_IMAGE


# --- at-least-once delivery and failures ----------------------------------------------------


def test_same_upload_delivered_twice_changes_nothing_the_second_time(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=KOTA_TUA)
    store.upload(key, jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], size=(64, 48)))
    assert services.photos.uploaded(key) is PhotoOutcome.ACCEPTED
    before = stored(tickets, ticket_id)
    published = dict(store.published)
    bytes_read = store.bytes_read

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.DUPLICATE
    after = stored(tickets, ticket_id)
    assert after.version == before.version
    assert len(after.timeline) == len(before.timeline)
    assert after.flags == before.flags
    assert len(after.photos) == 1
    assert store.published == published
    assert store.bytes_read == bytes_read


def test_rejected_upload_delivered_again_is_a_duplicate(
    services: Services, tickets: FakeTicketRepository, store: FakePhotoStore
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, b"not an image" * 100)
    assert services.photos.uploaded(key) is PhotoOutcome.REJECTED
    version = stored(tickets, ticket_id).version

    outcome = services.photos.uploaded(key)

    assert outcome is PhotoOutcome.DUPLICATE
    assert stored(tickets, ticket_id).version == version


def test_read_error_propagates_so_sqs_retries_and_the_ticket_still_awaits_its_photo() -> None:
    store = UnreadableStore()
    services = fake_services(FixedClock(REPORTED_AT), store=store)
    assert isinstance(services.tickets, FakeTicketRepository)
    ticket_id, key = file_report(services, device=GAMBIR)
    store.upload(key, jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], size=(64, 48)))

    with pytest.raises(OSError, match="connection reset"):
        services.photos.uploaded(key)

    ticket = stored(services.tickets, ticket_id)
    assert ticket.status is Status.AWAITING_PHOTO
    assert ticket.photos == []
    assert ticket.rejection is None
    assert store.published == {}


@pytest.mark.parametrize(
    "key",
    [
        "uploads/jakarta/not-a-ticket-id/report-abcdef.jpg",
        "public/jakarta/000000000000000000000000a0000000/report-abcdef.jpg",
        "somewhere/else.jpg",
    ],
)
def test_upload_outside_the_key_scheme_is_ignored(services: Services, key: str) -> None:
    assert services.photos.uploaded(key) is PhotoOutcome.IGNORED


# --- dead letters ---------------------------------------------------------------------------


def test_dead_lettered_photo_flags_its_ticket_for_manual_triage_once(
    services: Services, tickets: FakeTicketRepository
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    assert services.photos.dead_lettered(key) is True
    first = stored(tickets, ticket_id)

    again = services.photos.dead_lettered(key)

    assert again is True
    second = stored(tickets, ticket_id)
    assert second.flags == [PHOTO_PROCESSING_FAILED]
    assert second.version == first.version
    assert second.status is Status.AWAITING_PHOTO


@pytest.mark.parametrize(
    "key",
    [
        "uploads/jakarta/xyz/report-abcdef.jpg",
        "public/jakarta/000000000000000000000000a0000000/report-abcdef.jpg",
        "",
    ],
)
def test_dead_letter_for_a_key_outside_the_scheme_returns_false(
    services: Services, key: str
) -> None:
    assert services.photos.dead_lettered(key) is False


def test_dead_letter_for_an_unknown_ticket_returns_false(services: Services) -> None:
    key = "uploads/jakarta/ffffffffffffffffffffffffffffffff/report-abcdef123456.jpg"

    assert services.photos.dead_lettered(key) is False


def test_dead_letter_queue_message_flags_the_ticket_and_reports_no_failure(
    services: Services, tickets: FakeTicketRepository
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)

    result = handle_photo_dead_letters([dead_letter(key, "dlq-1")], services.photos)

    assert result == {"batchItemFailures": []}
    assert stored(tickets, ticket_id).flags == [PHOTO_PROCESSING_FAILED]


def test_dead_letter_queue_message_that_fails_to_save_is_reported_for_retry(
    services: Services, tickets: FakeTicketRepository
) -> None:
    ticket_id, key = file_report(services, device=GAMBIR)
    tickets.fail_next_save = RuntimeError("DynamoDB is throttling")

    result = handle_photo_dead_letters([dead_letter(key, "dlq-1")], services.photos)

    assert result == {"batchItemFailures": [{"itemIdentifier": "dlq-1"}]}
    assert stored(tickets, ticket_id).flags == []


# --- ranged reads ---------------------------------------------------------------------------


def test_geotag_of_a_3000_by_2000_jpeg_is_read_from_at_most_64_kib(store: FakePhotoStore) -> None:
    # The helper's EXIF (GPS, camera) on a 6 MP noisy picture, so the file is megabytes long.
    exif = Image.open(io.BytesIO(jpeg(lat=GAMBIR["lat"], lon=GAMBIR["lon"], size=(8, 8))))
    big = io.BytesIO()
    Image.effect_noise((3000, 2000), 40).convert("RGB").save(
        big, "JPEG", exif=exif.info["exif"], quality=90
    )
    key = "uploads/jakarta/000000000000000000000000a0000000/report-abcdef123456.jpg"
    store.upload(key, big.getvalue())
    assert store.size(key) > 10 * HEAD

    geotag = read_geotag(
        lambda offset, length: store.read_range(key, offset, length), store.size(key)
    )

    assert geotag.problem is None
    assert geotag.lat == pytest.approx(GAMBIR["lat"], abs=1e-6)
    assert geotag.lon == pytest.approx(GAMBIR["lon"], abs=1e-6)
    assert store.bytes_read <= 64 * 1024
    assert geotag.bytes_read == store.bytes_read
