"""ReportService over fakes: filing, numbering, who sees what, and the photo hand-off."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Services
from chalicelib.domain.errors import InvalidRequest, NotFound, StaleWrite
from chalicelib.domain.identity import Principal, principal_from_claims
from chalicelib.domain.tickets import LocationSource, Status, Ticket
from chalicelib.service.photos import PhotoOutcome
from chalicelib.service.reports import ReportService, SubmittedReport
from chalicelib.service.routing import Router
from tests.fakes import (
    FakePhotoStore,
    FakeTicketRepository,
    FakeUploadSigner,
    FixedClock,
    fake_services,
)
from tests.photos import jpeg

GAMBIR = {"lat": -6.1754, "lon": 106.8272}
JPEG = {"content_type": "image/jpeg", "content_length": 2_000_000}
SMALL_JPEG = jpeg(size=(64, 48))


@dataclass
class World:
    services: Services
    clock: FixedClock
    tickets: FakeTicketRepository
    signer: FakeUploadSigner
    store: FakePhotoStore

    @property
    def reports(self) -> ReportService:
        return self.services.reports


@pytest.fixture
def world() -> World:
    clock = FixedClock(datetime(2026, 12, 4, 9, 30, tzinfo=UTC))
    store = FakePhotoStore()
    services = fake_services(clock, store)
    # Same fakes, but a signer the test can inspect.
    signer = FakeUploadSigner()
    ids = (f"{n:032x}" for n in itertools.count(0xB0000000))
    services.reports = ReportService(
        tickets=services.tickets,
        tenants=services.tenants,
        uploads=signer,
        clock=clock,
        new_id=lambda: next(ids),
        router=Router(services.tenants, services.heads, clock),
    )
    assert isinstance(services.tickets, FakeTicketRepository)
    return World(
        services=services, clock=clock, tickets=services.tickets, signer=signer, store=store
    )


def citizen(sub: str = "citizen-1") -> Principal:
    return principal_from_claims({"sub": sub, "cognito:username": sub})


def body(**fields: Any) -> dict[str, Any]:
    report: dict[str, Any] = {"category": "sampah", "description": "Sampah menumpuk di pasar"}
    report.update(fields)
    return report


def stored(world: World, submitted: SubmittedReport) -> Ticket:
    ticket = world.tickets.get(submitted.ticket.tenant, submitted.ticket.ticket_id)
    assert ticket is not None
    return ticket


def photo_arrives(world: World, key: str, size: int | None = None) -> PhotoOutcome:
    """The upload lands in the bucket (a small JPEG without GPS) and its notification arrives."""
    world.store.objects.setdefault(key, SMALL_JPEG)
    return world.services.photos.uploaded(key, size)


def pending_key(world: World, submitted: SubmittedReport) -> str:
    pending = stored(world, submitted).pending_upload
    assert pending is not None
    return pending.key


@pytest.mark.parametrize(
    ("content_type", "extension"),
    [
        ("image/jpeg", "jpg"),
        ("image/heic", "heic"),
        ("image/webp", "webp"),
        ("image/png", "png"),
    ],
)
def test_report_with_declared_photo_awaits_it_under_a_scoped_key(
    world: World, content_type: str, extension: str
) -> None:
    declared = {"content_type": content_type, "content_length": 3_456_789}

    submitted = world.reports.submit("jakarta", citizen(), body(photo=declared))

    ticket = stored(world, submitted)
    assert ticket.status is Status.AWAITING_PHOTO
    assert ticket.pending_upload is not None
    key = ticket.pending_upload.key
    assert key.startswith(f"uploads/jakarta/{ticket.ticket_id}/")
    assert key.endswith(f".{extension}")
    assert [(i["key"], i["content_type"], i["max_bytes"]) for i in world.signer.issued] == [
        (key, content_type, 3_456_789)
    ]
    assert submitted.as_response()["upload"]["fields"]["key"] == key


def test_report_with_only_device_location_is_routed_at_once(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(location=GAMBIR))

    ticket = stored(world, submitted)
    assert ticket.status is Status.WAITING
    assert ticket.location is not None
    assert ticket.location.source is LocationSource.DEVICE
    assert ticket.assigned_unit == {
        "id": "kelurahan:31.71.01.1001",
        "name": "Kelurahan Gambir",
        "type": "kelurahan",
    }
    assert [e.to_status for e in ticket.timeline] == [Status.LOCATING, Status.WAITING]
    assert ticket.pending_upload is None
    assert world.signer.issued == []
    assert submitted.as_response()["upload"] is None
    assert submitted.as_response()["status"] == "waiting"


def test_report_without_photo_or_location_needs_location(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body())

    ticket = stored(world, submitted)
    assert ticket.status is Status.NEEDS_LOCATION
    assert ticket.location is None
    assert [(e.from_status, e.to_status) for e in ticket.timeline] == [
        (None, Status.NEEDS_LOCATION)
    ]


def test_report_records_reporter_and_version(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen("siti"), body())

    ticket = stored(world, submitted)
    assert ticket.reporter_id == "siti"
    assert ticket.version == 1


def test_invalid_report_stores_nothing(world: World) -> None:
    with pytest.raises(InvalidRequest):
        world.reports.submit("jakarta", citizen(), body(category="nope"))

    assert world.tickets.items == {}


def test_numbers_increase_per_tenant_per_local_day(world: World) -> None:
    first = world.reports.submit("jakarta", citizen(), body())
    second = world.reports.submit("jakarta", citizen(), body())
    world.clock.at = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # 00:30 WIB on 5 December

    next_day = world.reports.submit("jakarta", citizen(), body())

    assert first.ticket.number == "JKT-261204-0001"
    assert second.ticket.number == "JKT-261204-0002"
    assert next_day.ticket.number == "JKT-261205-0001"


def test_another_tenant_has_its_own_sequence_and_prefix(world: World) -> None:
    world.reports.submit("jakarta", citizen(), body())
    world.reports.submit("jakarta", citizen(), body())

    aceh = world.reports.submit(
        "banda-aceh", citizen(), body(category=_a_category(world, "banda-aceh"))
    )

    assert aceh.ticket.number == "BNA-261204-0001"
    assert aceh.ticket.tenant == "banda-aceh"


def _a_category(world: World, tenant: str) -> str:
    return world.reports.tenant(tenant).categories[0].code


def test_unknown_tenant_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        world.reports.submit("atlantis", citizen(), body())

    assert raised.value.code == "unknown_tenant"


def test_anonymous_view_is_public_without_flags_or_reporter(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen("reporter-sub-77"), body(photo=JPEG))

    view = world.reports.view("jakarta", submitted.ticket.ticket_id, None)

    assert view["ticket_id"] == submitted.ticket.ticket_id
    assert view["status"] == "awaiting_photo"
    assert "flags" not in view
    assert "upload_pending" not in view
    assert not {"reporter", "reporter_id"} & set(view)
    assert "reporter-sub-77" not in json.dumps(view)
    assert pending_key(world, submitted) not in json.dumps(view)


def test_reporter_gets_the_reporter_view(world: World) -> None:
    reporter = citizen("siti")
    submitted = world.reports.submit("jakarta", reporter, body(photo=JPEG))

    view = world.reports.view("jakarta", submitted.ticket.ticket_id, reporter)

    assert view["flags"] == []
    assert view["upload_pending"] is True


def test_another_citizen_gets_the_public_view(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen("siti"), body())

    view = world.reports.view("jakarta", submitted.ticket.ticket_id, citizen("budi"))

    assert "flags" not in view


def test_staff_of_the_tenant_get_the_staff_view(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen("siti"), body())
    validator = principal_from_claims(
        {"sub": "val-1", "cognito:groups": ["validators"], "custom:tenant": "jakarta"}
    )

    view = world.reports.view("jakarta", submitted.ticket.ticket_id, validator)

    assert view["flags"] == []
    assert "actor_id" in view["timeline"][0]


@pytest.mark.parametrize(
    "ticket_id",
    ["0" * 32, "ZZZZ" * 8, "../../../etc/passwd", "", "A0000000" * 4],
    ids=["unknown-hex", "not-hex", "path", "empty", "uppercase"],
)
def test_view_of_a_ticket_that_does_not_exist_is_not_found(world: World, ticket_id: str) -> None:
    world.reports.submit("jakarta", citizen(), body())

    with pytest.raises(NotFound):
        world.reports.view("jakarta", ticket_id, None)


def test_ticket_of_one_tenant_is_not_found_through_another(world: World) -> None:
    reporter = citizen()
    submitted = world.reports.submit("jakarta", reporter, body())

    with pytest.raises(NotFound):
        world.reports.view("banda-aceh", submitted.ticket.ticket_id, reporter)


def test_photo_upload_routes_the_ticket_by_its_device_location_once(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(photo=JPEG, location=GAMBIR))
    key = pending_key(world, submitted)

    first = photo_arrives(world, key, 1_999_000)
    second = photo_arrives(world, key, 1_999_000)

    assert first is PhotoOutcome.ACCEPTED
    assert second is PhotoOutcome.DUPLICATE
    ticket = stored(world, submitted)
    assert ticket.status is Status.WAITING
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["name"] == "Kelurahan Gambir"
    assert [(p.key, p.size) for p in ticket.photos] == [(key, 1_999_000)]
    assert [e.to_status for e in ticket.timeline] == [
        Status.AWAITING_PHOTO,
        Status.LOCATING,
        Status.WAITING,
    ]


def test_photo_upload_without_any_location_leaves_the_ticket_needing_one(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(photo=JPEG))

    photo_arrives(world, pending_key(world, submitted), 1_999_000)

    ticket = stored(world, submitted)
    assert ticket.status is Status.NEEDS_LOCATION
    assert ticket.assigned_unit is None
    assert [e.to_status for e in ticket.timeline] == [
        Status.AWAITING_PHOTO,
        Status.LOCATING,
        Status.NEEDS_LOCATION,
    ]


def test_photo_for_an_unknown_ticket_is_ignored(world: World) -> None:
    key = f"uploads/jakarta/{'f' * 32}/report-0123456789ab.jpg"

    outcome = photo_arrives(world, key)

    assert outcome is PhotoOutcome.IGNORED


@pytest.mark.parametrize(
    "key",
    [
        "photos/jakarta/x.jpg",
        "uploads/jakarta/not-a-ticket/report-1.jpg",
        "uploads/Jakarta/{id}/report-1.jpg",
        "uploads/jakarta/{id}/sub/report-1.jpg",
        "uploads/jakarta/{id}/REPORT-1.JPG",
        "",
    ],
)
def test_photo_key_outside_the_scheme_is_ignored(world: World, key: str) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(photo=JPEG))

    outcome = photo_arrives(world, key.format(id=submitted.ticket.ticket_id))

    assert outcome is PhotoOutcome.IGNORED
    assert stored(world, submitted).status is Status.AWAITING_PHOTO


def test_photo_under_the_wrong_name_in_the_right_folder_is_ignored(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(photo=JPEG))
    key = f"uploads/jakarta/{submitted.ticket.ticket_id}/report-000000000000.png"
    assert key != pending_key(world, submitted)

    outcome = photo_arrives(world, key)

    assert outcome is PhotoOutcome.IGNORED
    ticket = stored(world, submitted)
    assert ticket.status is Status.AWAITING_PHOTO
    assert ticket.photos == []


def test_photo_save_that_meets_a_stale_write_is_retried(world: World) -> None:
    submitted = world.reports.submit("jakarta", citizen(), body(photo=JPEG))
    key = pending_key(world, submitted)
    world.tickets.fail_next_save = StaleWrite("x")

    outcome = photo_arrives(world, key)

    assert outcome is PhotoOutcome.ACCEPTED
    ticket = stored(world, submitted)
    assert ticket.status is Status.NEEDS_LOCATION
    assert len(ticket.photos) == 1
    assert ticket.version == 2


def test_mine_lists_only_the_callers_tickets_of_that_tenant_newest_first(world: World) -> None:
    siti, budi = citizen("siti"), citizen("budi")
    oldest = world.reports.submit("jakarta", siti, body(description="satu"))
    world.clock.advance(minutes=5)
    world.reports.submit("jakarta", budi, body(description="punya budi"))
    world.clock.advance(minutes=5)
    world.reports.submit("banda-aceh", siti, body(category=_a_category(world, "banda-aceh")))
    world.clock.advance(minutes=5)
    newest = world.reports.submit("jakarta", siti, body(description="dua"))

    page = world.reports.mine("jakarta", siti, limit=20, cursor=None)

    assert [i["ticket_id"] for i in page["items"]] == [
        newest.ticket.ticket_id,
        oldest.ticket.ticket_id,
    ]
    assert page["cursor"] is None
    assert all("flags" in i for i in page["items"])


def test_mine_pages_with_the_cursor(world: World) -> None:
    siti = citizen("siti")
    filed = []
    for n in range(3):
        filed.append(world.reports.submit("jakarta", siti, body(description=f"laporan {n}")))
        world.clock.advance(minutes=1)

    first = world.reports.mine("jakarta", siti, limit=2, cursor=None)
    second = world.reports.mine("jakarta", siti, limit=2, cursor=first["cursor"])

    assert [i["description"] for i in first["items"]] == ["laporan 2", "laporan 1"]
    assert first["cursor"] is not None
    assert [i["description"] for i in second["items"]] == ["laporan 0"]
    assert second["cursor"] is None
