"""One contract, two implementations: the fake used by use-case tests and DynamoDB under moto."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters import dynamodb
from chalicelib.domain.areas import Outside
from chalicelib.domain.bundle import TenantBundle
from chalicelib.domain.errors import InvalidRequest, StaleWrite
from chalicelib.domain.geo import geohash
from chalicelib.domain.jurisdiction import Placement
from chalicelib.domain.ports import TenantDirectory, TicketRepository
from chalicelib.domain.tickets import (
    Assignment,
    Channel,
    Location,
    LocationSource,
    PendingUpload,
    Photo,
    PhotoKind,
    Rejection,
    Status,
    Ticket,
)
from tests.adapters.conftest import REGION, AwsStack
from tests.bundles import one_village, tiny_bundle, tiny_config
from tests.fakes import FakeTenantDirectory, FakeTicketRepository

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def make_ticket(tenant: str = "jakarta", reporter: str = "reporter-1", minutes: int = 0) -> Ticket:
    at = T0 + timedelta(minutes=minutes)
    ticket = Ticket(
        tenant=tenant,
        ticket_id=uuid.uuid4().hex,
        number=f"JKT-261204-{minutes:04d}",
        status=Status.AWAITING_PHOTO,
        category="sampah",
        description="Sampah menumpuk di Jalan Medan Merdeka",
        channel=Channel.JAKI,
        private=True,
        reporter_id=reporter,
        created_at=at,
        updated_at=at,
        device_location=Location(-6.1754, 106.8272, LocationSource.DEVICE, accuracy_m=12.5),
        pending_upload=PendingUpload(
            key="uploads/jakarta/x/report-1.jpg",
            content_type="image/jpeg",
            max_bytes=1234,
            expires_at=at + timedelta(minutes=15),
        ),
    )
    ticket.transition(Status.AWAITING_PHOTO, at=at, note="report filed")
    return ticket


MONAS = (-6.1754, 106.8272)


def routed_ticket(category: str, lat: float, lon: float, tenant: str = "jakarta") -> Ticket:
    """A ticket whose photo arrived and that went to a unit (status waiting)."""
    ticket = make_ticket(tenant=tenant)
    ticket.category = category
    assert ticket.pending_upload is not None
    ticket.receive_photo(ticket.pending_upload.key, at=T0 + timedelta(minutes=1))
    ticket.assign(
        unit={"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"},
        area={"kelurahan": {"code": "31.71.01.1001", "name": "Gambir"}},
        location=Location(lat, lon, LocationSource.DEVICE),
        at=T0 + timedelta(minutes=2),
        head="Lurah Gambir",
    )
    return ticket


class TicketRepositoryContract:
    @pytest.fixture
    def repo(self) -> TicketRepository:
        raise NotImplementedError

    def test_added_ticket_reads_back_with_every_field(self, repo: TicketRepository) -> None:
        ticket = make_ticket()
        ticket.photos.append(
            Photo(
                key="uploads/jakarta/x/report-0.jpg",
                kind=PhotoKind.REPORT,
                content_type="image/jpeg",
                received_at=T0,
                size=5000,
            )
        )
        ticket.flags.append("photo_far_from_device")
        ticket.area = {"kelurahan": {"code": "31.71.01.1001", "name": "Gambir"}}
        ticket.assigned_unit = {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir"}
        ticket.due_at = T0 + timedelta(days=6)
        ticket.rejection = Rejection(reason="spam", message="iklan")
        ticket.assignments.append(
            Assignment(
                unit_id="kelurahan:31.71.01.1001",
                unit_name="Kelurahan Gambir",
                unit_type="kelurahan",
                started_at=T0,
                head="Lurah Gambir",
                due_at=T0 + timedelta(days=6),
                ended_at=T0 + timedelta(days=1),
            )
        )

        repo.add(ticket)
        loaded = repo.get("jakarta", ticket.ticket_id)

        assert loaded is not None
        assert loaded.version == ticket.version is not None
        assert loaded == ticket

    def test_ticket_of_one_tenant_is_invisible_to_another(self, repo: TicketRepository) -> None:
        ticket = make_ticket(tenant="jakarta")
        repo.add(ticket)

        assert repo.get("banda-aceh", ticket.ticket_id) is None

    def test_adding_the_same_ticket_twice_is_refused(self, repo: TicketRepository) -> None:
        ticket = make_ticket()
        repo.add(ticket)

        with pytest.raises(StaleWrite):
            repo.add(make_ticket_with_id(ticket.ticket_id))

    def test_stale_write_is_refused_and_changes_nothing(self, repo: TicketRepository) -> None:
        ticket = make_ticket()
        repo.add(ticket)
        first = repo.get("jakarta", ticket.ticket_id)
        second = repo.get("jakarta", ticket.ticket_id)
        assert first is not None and second is not None

        first.receive_photo("uploads/jakarta/x/report-1.jpg", at=T0 + timedelta(minutes=1))
        repo.save(first)
        second.description = "overwritten?"
        with pytest.raises(StaleWrite):
            repo.save(second)

        stored = repo.get("jakarta", ticket.ticket_id)
        assert stored is not None
        assert stored.status is Status.LOCATING
        assert stored.description == ticket.description
        assert stored.version == first.version

    def test_reporter_listing_is_newest_first_and_pages_without_gaps(
        self, repo: TicketRepository
    ) -> None:
        reporter = f"reporter-{uuid.uuid4().hex[:8]}"
        mine = [make_ticket(reporter=reporter, minutes=m) for m in range(5)]
        for ticket in mine:
            repo.add(ticket)
        repo.add(make_ticket(reporter="someone-else"))
        repo.add(make_ticket(tenant="banda-aceh", reporter=reporter))

        seen: list[str] = []
        cursor = None
        for _ in range(10):
            page = repo.list_by_reporter("jakarta", reporter, limit=2, cursor=cursor)
            seen.extend(t.ticket_id for t in page.items)
            cursor = page.cursor
            if cursor is None:
                break

        assert seen == [t.ticket_id for t in reversed(mine)]

    def test_foreign_cursor_is_rejected(self, repo: TicketRepository) -> None:
        with pytest.raises(InvalidRequest):
            repo.list_by_reporter("jakarta", "r", limit=2, cursor="not-a-cursor!")

    def test_open_located_tickets_are_found_by_cell_and_category_only(
        self, repo: TicketRepository
    ) -> None:
        category = f"sampah_{uuid.uuid4().hex[:8]}"
        here = routed_ticket(category, *MONAS)
        other_category = routed_ticket("banjir", *MONAS)
        other_tenant = routed_ticket(category, *MONAS, tenant="banda-aceh")
        elsewhere = routed_ticket(category, -6.2, 106.9)
        closed = make_ticket()
        closed.category = category
        assert closed.pending_upload is not None
        closed.receive_photo(closed.pending_upload.key, at=T0 + timedelta(minutes=1))
        closed.location = Location(*MONAS, LocationSource.DEVICE)
        closed.reject("spam", "iklan", at=T0 + timedelta(minutes=2))
        unlocated = make_ticket()
        unlocated.category = category
        for ticket in (here, other_category, other_tenant, elsewhere, closed, unlocated):
            repo.add(ticket)

        found = repo.open_in_cells("jakarta", category, [geohash(*MONAS), "zzzzzz"])

        assert [t.ticket_id for t in found] == [here.ticket_id]
        assert found[0] == here

    def test_sequences_count_per_tenant_and_day(self, repo: TicketRepository) -> None:
        day = uuid.uuid4().hex[:6]

        numbers = [repo.next_sequence("jakarta", day) for _ in range(3)]
        other_tenant = repo.next_sequence("banda-aceh", day)
        other_day = repo.next_sequence("jakarta", day + "x")

        assert numbers == [1, 2, 3]
        assert other_tenant == 1
        assert other_day == 1


def bind_to(aws_stack: AwsStack) -> None:
    dynamodb.bind(
        tickets_table=aws_stack.outputs["TicketsTableName"],
        tenants_table=aws_stack.outputs["TenantsTableName"],
        sanctions_table=aws_stack.outputs["SanctionsTableName"],
        region=REGION,
        host=aws_stack.endpoint,
    )


def make_ticket_with_id(ticket_id: str) -> Ticket:
    ticket = make_ticket()
    ticket.ticket_id = ticket_id
    return ticket


class TestFakeTicketRepository(TicketRepositoryContract):
    @pytest.fixture
    def repo(self) -> TicketRepository:
        return FakeTicketRepository()


class TestDynamoTicketRepository(TicketRepositoryContract):
    @pytest.fixture
    def repo(self, aws_stack: AwsStack) -> TicketRepository:
        bind_to(aws_stack)
        return dynamodb.DynamoTicketRepository()

    def test_cursor_of_another_reporter_is_rejected(self, repo: TicketRepository) -> None:
        for minutes in range(3):
            repo.add(make_ticket(reporter="alice", minutes=minutes))
        page = repo.list_by_reporter("jakarta", "alice", limit=1, cursor=None)
        assert page.cursor is not None

        with pytest.raises(InvalidRequest):
            repo.list_by_reporter("jakarta", "mallory", limit=1, cursor=page.cursor)


class TenantDirectoryContract:
    @pytest.fixture
    def directory(self) -> TenantDirectory:
        raise NotImplementedError

    def test_stored_tenant_reads_back_and_is_listed(self, directory: TenantDirectory) -> None:
        bundle = tiny_bundle(revision=uuid.uuid4().hex[:16])

        directory.put(bundle)

        assert directory.get("maluku-utara") == bundle.tenant
        assert bundle.tenant in directory.all()
        assert directory.get("atlantis") is None

    def test_stored_bundle_comes_back_as_its_jurisdiction(self, directory: TenantDirectory) -> None:
        bundle = tiny_bundle(revision=uuid.uuid4().hex[:16])

        directory.put(bundle)
        jurisdiction = directory.jurisdiction("maluku-utara")

        expected = bundle.jurisdiction
        assert jurisdiction.tenant_name == "Provinsi Maluku Utara"
        assert jurisdiction.villages == expected.villages
        assert jurisdiction.units == expected.units
        assert jurisdiction.routing == {"lampu_jalan": "sudin-pu"}
        placed = jurisdiction.locate(0.785, 127.375)
        assert isinstance(placed, Placement)
        assert placed.village.code == "82.71.01.1001"
        assert isinstance(jurisdiction.locate(0.5, 127.0), Outside)


class TestFakeTenantDirectory(TenantDirectoryContract):
    @pytest.fixture
    def directory(self) -> TenantDirectory:
        return FakeTenantDirectory(bundles=[])


def renamed(revision: str, name: str) -> TenantBundle:
    boundaries = one_village()
    boundaries["features"][0]["properties"]["name"] = name
    return tiny_bundle(revision=revision, boundaries=boundaries)


def stored_area_codes(tenant: str, revision: str) -> list[str]:
    return [item.sk for item in dynamodb.AreaModel.query(f"AREAS#{tenant}#{revision}")]


class TestDynamoTenantDirectory(TenantDirectoryContract):
    @pytest.fixture
    def directory(self, aws_stack: AwsStack) -> TenantDirectory:
        bind_to(aws_stack)
        return dynamodb.DynamoTenantDirectory()

    def test_cached_directory_sees_an_update_after_its_ttl(self, aws_stack: AwsStack) -> None:
        bind_to(aws_stack)
        now = [0.0]
        reader = dynamodb.DynamoTenantDirectory(ttl_seconds=60, monotonic=lambda: now[0])
        writer = dynamodb.DynamoTenantDirectory()
        first, second = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
        writer.put(tiny_bundle(first, config=tiny_config(name="Provinsi Maluku Utara")))
        assert reader.get("maluku-utara") is not None

        writer.put(tiny_bundle(second, config=tiny_config(name="Maluku Utara (baru)")))
        cached = reader.get("maluku-utara")
        now[0] = 61.0
        fresh = reader.get("maluku-utara")

        assert cached is not None and cached.name == "Provinsi Maluku Utara"
        assert fresh is not None and fresh.name == "Maluku Utara (baru)"

    def test_new_revision_reaches_readers_after_their_ttl_and_the_old_areas_are_deleted(
        self, aws_stack: AwsStack
    ) -> None:
        bind_to(aws_stack)
        old, new = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
        now = [0.0]
        reader = dynamodb.DynamoTenantDirectory(ttl_seconds=60, monotonic=lambda: now[0])
        writer = dynamodb.DynamoTenantDirectory()
        writer.put(renamed(old, "Gamalama"))
        before = reader.jurisdiction("maluku-utara")

        writer.put(renamed(new, "Gamalama Baru"))
        cached = reader.jurisdiction("maluku-utara")
        now[0] = 61.0
        fresh = reader.jurisdiction("maluku-utara")

        assert before.villages["82.71.01.1001"].name == "Gamalama"
        assert cached.villages["82.71.01.1001"].name == "Gamalama"
        assert fresh.villages["82.71.01.1001"].name == "Gamalama Baru"
        assert fresh.unit("kelurahan:82.71.01.1001") is not None
        assert stored_area_codes("maluku-utara", old) == []
        assert stored_area_codes("maluku-utara", new) == ["82.71.01.1001"]

    def test_reader_holding_the_old_config_still_routes_right_after_a_new_revision(
        self, aws_stack: AwsStack
    ) -> None:
        # A container that read the tenant configs (GET /v1/tenants, say) but has not routed a
        # ticket of this tenant yet still holds the old revision for up to its TTL.
        bind_to(aws_stack)
        now = [0.0]
        reader = dynamodb.DynamoTenantDirectory(ttl_seconds=60, monotonic=lambda: now[0])
        writer = dynamodb.DynamoTenantDirectory()
        writer.put(renamed(uuid.uuid4().hex[:16], "Gamalama"))
        assert reader.get("maluku-utara") is not None
        now[0] = 10.0

        writer.put(renamed(uuid.uuid4().hex[:16], "Gamalama Baru"))
        jurisdiction = reader.jurisdiction("maluku-utara")

        assert isinstance(jurisdiction.locate(0.785, 127.375), Placement)
