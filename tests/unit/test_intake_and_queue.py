"""Operator intake, the staff work queue and the period statistics, over fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Services
from chalicelib.domain.errors import InvalidRequest, NotAllowed
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.reports import OPERATOR_CHANNELS
from chalicelib.domain.tickets import Channel, LocationSource, Status
from chalicelib.service.views import Audience, ticket_view
from tests.fakes import FakeTicketRepository, FixedClock, fake_services
from tests.workflow_helpers import citizen, official, staff, validator

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
MONAS = {"lat": -6.1754, "lon": 106.8272}
GAMBIR = "kelurahan:31.71.01.1001"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
RECEIVED = "2026-12-04T08:15:00+07:00"
OPERATOR_CHANNEL_NAMES = [
    "twitter",
    "facebook",
    "email",
    "governor_social_media",
    "sms",
    "balai_warga",
    "kelurahan_office",
    "kecamatan_office",
    "mayor_office",
    "pendopo_balai_kota",
    "inspektorat",
    "lapor_1708",
]


@dataclass
class World:
    services: Services
    clock: FixedClock
    tickets: FakeTicketRepository

    def file(self, category: str = "sampah", *, who: Principal | None = None, **fields: Any) -> str:
        """A citizen's report from the app, at Monas unless told otherwise."""
        body = {"category": category, "description": "Laporan warga", "location": MONAS, **fields}
        submitted = self.services.reports.submit("jakarta", who or citizen(), body)
        return submitted.ticket.ticket_id

    def take(self, **fields: Any) -> str:
        return self.services.reports.intake(
            "jakarta", operator(), intake_body(**fields)
        ).ticket.ticket_id

    def change(self, ticket_id: str, to: Status, **fields: Any) -> None:
        self.clock.advance(minutes=1)
        ticket = self.tickets.get("jakarta", ticket_id)
        assert ticket is not None
        if to is Status.REJECTED:
            ticket.reject("spam", "iklan", at=self.clock.now())
        elif to is not ticket.status:
            ticket.transition(to, at=self.clock.now())
        for name, value in fields.items():
            setattr(ticket, name, value)
        self.tickets.save(ticket)


@pytest.fixture
def world() -> World:
    clock = FixedClock(NOW)
    services = fake_services(clock)
    assert isinstance(services.tickets, FakeTicketRepository)
    return World(services=services, clock=clock, tickets=services.tickets)


def operator(tenant: str = "jakarta") -> Principal:
    return staff(Role.OPERATOR, tenant=tenant)


def intake_body(**fields: Any) -> dict[str, Any]:
    """A call-centre SMS about trash at Monas; a field given as None is left out."""
    body: dict[str, Any] = {
        "category": "sampah",
        "description": "Sampah menumpuk di pintu masuk Monas",
        "channel": "sms",
        "received_at": RECEIVED,
        "location": MONAS,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def view_for_staff(world: World, ticket_id: str) -> dict[str, Any]:
    return world.services.reports.staff_view("jakarta", ticket_id, validator())


# --- intake -----------------------------------------------------------------------------------


def test_operator_channels_are_the_twelve_crm_channels_besides_the_app() -> None:
    names = {c.value for c in OPERATOR_CHANNELS}

    assert names == set(OPERATOR_CHANNEL_NAMES)
    assert len(OPERATOR_CHANNEL_NAMES) == 12


@pytest.mark.parametrize("channel", OPERATOR_CHANNEL_NAMES)
def test_operator_intake_keeps_channel_and_received_time_and_routes_to_gambir(
    world: World, channel: str
) -> None:
    body = intake_body(channel=channel)

    submitted = world.services.reports.intake("jakarta", operator(), body)

    assert submitted.ticket.status is Status.WAITING
    stored = world.tickets.get("jakarta", submitted.ticket.ticket_id)
    assert stored is not None
    assert stored.channel is Channel(channel)
    assert stored.created_at == datetime.fromisoformat(RECEIVED)
    assert stored.status is Status.WAITING
    assert (stored.assigned_unit or {}).get("id") == GAMBIR
    assert stored.location is not None
    assert stored.location.source is LocationSource.OPERATOR
    view = view_for_staff(world, stored.ticket_id)
    assert view["channel"] == channel
    assert view["created_at"] == RECEIVED
    assert submitted.as_response()["status"] == "waiting"


def test_intake_received_at_a_utc_time_is_shown_in_jakarta_time(world: World) -> None:
    ticket_id = world.take(received_at="2026-12-04T01:15:00Z")

    view = view_for_staff(world, ticket_id)

    assert view["created_at"] == RECEIVED


def test_address_only_intake_waits_for_an_operator_with_the_address_visible_to_staff(
    world: World,
) -> None:
    address = "Jl. Medan Merdeka Barat No. 12, dekat halte Monas"

    ticket_id = world.take(location=None, address=address)

    view = view_for_staff(world, ticket_id)
    assert view["status"] == "needs_location"
    assert view["address"] == address
    assert view["location"] is None
    assert view["assigned_unit"] is None
    public = world.services.reports.view("jakarta", ticket_id, None)
    assert "address" not in public


def test_operator_lists_address_only_tickets_by_status(world: World) -> None:
    ticket_id = world.take(location=None, address="Jl. Medan Merdeka Barat")
    world.take()

    listed = world.services.staff.queue(
        "jakarta",
        operator(),
        status="needs_location",
        unit=None,
        overdue=None,
        limit=20,
        cursor=None,
    )

    assert [i["ticket_id"] for i in listed["items"]] == [ticket_id]


def test_operator_places_an_address_only_ticket_and_it_goes_to_the_unit(world: World) -> None:
    ticket_id = world.take(location=None, address="Jl. Medan Merdeka Barat")
    world.clock.advance(minutes=10)

    world.services.reports.set_location("jakarta", ticket_id, operator(), MONAS)

    view = view_for_staff(world, ticket_id)
    assert view["status"] == "waiting"
    assert view["location"]["source"] == "operator"
    assert view["assigned_unit"]["id"] == GAMBIR
    assert view["timeline"][-2]["actor_role"] == "operator"


def test_operator_of_another_tenant_cannot_place_a_jakarta_ticket(world: World) -> None:
    ticket_id = world.take(location=None, address="Jl. Medan Merdeka Barat")

    with pytest.raises(NotAllowed):
        world.services.reports.set_location("jakarta", ticket_id, operator("banda-aceh"), MONAS)

    stored = world.tickets.get("jakarta", ticket_id)
    assert stored is not None and stored.status is Status.NEEDS_LOCATION


@pytest.mark.parametrize(
    "who",
    [
        citizen(),
        operator("banda-aceh"),
        official(GAMBIR),
        validator(),
    ],
    ids=["citizen", "operator-of-banda-aceh", "official", "validator"],
)
def test_only_an_operator_of_the_tenant_may_enter_a_report(world: World, who: Principal) -> None:
    with pytest.raises(NotAllowed):
        world.services.reports.intake("jakarta", who, intake_body())

    assert world.tickets.items == {}


@pytest.mark.parametrize("channel", ["jaki", "open311", "whatsapp", "", None, 7])
def test_intake_from_the_app_open311_or_an_unknown_channel_is_invalid(
    world: World, channel: object
) -> None:
    body = intake_body()
    body["channel"] = channel

    with pytest.raises(InvalidRequest) as raised:
        world.services.reports.intake("jakarta", operator(), body)

    assert raised.value.field == "channel"
    assert world.tickets.items == {}


@pytest.mark.parametrize(
    "received_at",
    [
        "2026-12-04T08:15:00",  # no offset
        "2026-12-04T17:30:00+07:00",  # later today, in the future
        (NOW - timedelta(days=91)).isoformat(),  # older than 90 days
        "kemarin sore",
        None,
    ],
    ids=["no-offset", "future", "older-than-90-days", "not-a-time", "missing"],
)
def test_intake_with_a_bad_received_time_is_invalid(world: World, received_at: str | None) -> None:
    body = intake_body()
    body["received_at"] = received_at

    with pytest.raises(InvalidRequest) as raised:
        world.services.reports.intake("jakarta", operator(), body)

    assert raised.value.field == "received_at"


def test_intake_received_89_days_ago_is_accepted_into_its_own_month(world: World) -> None:
    received = (NOW - timedelta(days=89)).isoformat()

    ticket_id = world.take(received_at=received)

    stored = world.tickets.get("jakarta", ticket_id)
    assert stored is not None
    assert stored.created_at == NOW - timedelta(days=89)
    assert stored.month == "2026-09"


def test_intake_without_location_or_address_is_invalid(world: World) -> None:
    with pytest.raises(InvalidRequest) as raised:
        world.services.reports.intake("jakarta", operator(), intake_body(location=None))

    assert raised.value.field == "location"


@pytest.mark.parametrize("address", ["", "   ", "x" * 501, 42])
def test_intake_with_an_empty_long_or_non_text_address_is_invalid(
    world: World, address: object
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        world.services.reports.intake(
            "jakarta", operator(), intake_body(location=None, address=address)
        )

    assert raised.value.field == "address"


def test_intake_address_with_control_characters_is_invalid(world: World) -> None:
    # Descriptions and contact details refuse control characters; an address is shown to staff
    # the same way and must be held to the same rule.
    body = intake_body(location=None, address="Jl. Medan Merdeka\x00\x1b[2J Barat")

    with pytest.raises(InvalidRequest) as raised:
        world.services.reports.intake("jakarta", operator(), body)

    assert raised.value.field == "address"


def test_reporter_contact_is_kept_and_shown_to_staff_when_shared(world: World) -> None:
    contact = {"name": "Ibu Sari", "phone": "+6281234567890", "email": "sari@example.id"}

    ticket_id = world.take(share_identity=True, reporter=contact)

    stored = world.tickets.get("jakarta", ticket_id)
    assert stored is not None and stored.reporter_contact == contact
    assert view_for_staff(world, ticket_id)["reporter"] == contact
    assert "reporter" not in world.services.reports.view("jakarta", ticket_id, None)


@pytest.mark.parametrize("share", [False, None], ids=["share-false", "share-absent"])
def test_reporter_contact_is_dropped_unless_shared(world: World, share: bool | None) -> None:
    contact = {"name": "Ibu Sari", "phone": "+6281234567890"}

    ticket_id = world.take(share_identity=share, reporter=contact)

    stored = world.tickets.get("jakarta", ticket_id)
    assert stored is not None and stored.reporter_contact is None
    view = view_for_staff(world, ticket_id)
    assert view["reporter"] is None
    assert "Ibu Sari" not in repr(view)


def test_citizen_who_shares_identity_is_named_to_staff_but_never_publicly(world: World) -> None:
    sari = citizen("sari-sub-1")

    ticket_id = world.file(who=sari, share_identity=True)

    assert view_for_staff(world, ticket_id)["reporter"] == {"username": "sari-sub-1"}
    official_view = world.services.reports.staff_view("jakarta", ticket_id, official(GAMBIR))
    assert official_view["reporter"] == {"username": "sari-sub-1"}
    public = world.services.reports.view("jakarta", ticket_id, None)
    assert "reporter" not in public
    assert "sari-sub-1" not in repr(public)


def test_citizen_who_does_not_share_identity_is_hidden_from_staff(world: World) -> None:
    ticket_id = world.file(who=citizen("budi-sub-2"))

    view = view_for_staff(world, ticket_id)

    assert view["reporter"] is None
    assert "budi-sub-2" not in repr({k: v for k, v in view.items() if k != "timeline"})


def test_public_view_never_has_reporter_address_flags_or_feedback(world: World) -> None:
    ticket_id = world.take(
        location=None, address="Jl. Kebon Sirih", share_identity=True, reporter={"name": "Sari"}
    )
    ticket = world.tickets.get("jakarta", ticket_id)
    assert ticket is not None
    tenant = world.services.reports.tenant("jakarta")

    public = ticket_view(ticket, tenant, Audience.PUBLIC)

    assert not {"reporter", "address", "flags", "feedback"} & set(public)


# --- work queue -------------------------------------------------------------------------------


@dataclass
class Queue:
    gambir: list[str]
    sudin: list[str]


@pytest.fixture
def queue(world: World) -> Queue:
    """Three trash reports (Kelurahan Gambir) and two street lights (Sudin Bina Marga), all at
    Monas, a minute apart."""
    gambir, sudin = [], []
    for category in ["sampah", "lampu_jalan", "sampah", "lampu_jalan", "sampah"]:
        world.clock.advance(minutes=1)
        (gambir if category == "sampah" else sudin).append(world.file(category))
    return Queue(gambir=gambir, sudin=sudin)


def list_queue(world: World, who: Principal, **params: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "status": None,
        "unit": None,
        "overdue": None,
        "limit": 20,
        "cursor": None,
    }
    args.update(params)
    return world.services.staff.queue("jakarta", who, **args)


def ids(listing: dict[str, Any]) -> list[str]:
    return [item["ticket_id"] for item in listing["items"]]


def test_official_without_parameters_sees_only_their_units_tickets(
    world: World, queue: Queue
) -> None:
    listing = list_queue(world, official(GAMBIR))

    assert sorted(ids(listing)) == sorted(queue.gambir)
    assert {i["assigned_unit"]["id"] for i in listing["items"]} == {GAMBIR}
    # Newest change first within a status.
    assert ids(listing) == list(reversed(queue.gambir))


def test_official_naming_their_own_unit_sees_its_tickets(world: World, queue: Queue) -> None:
    listing = list_queue(world, official(GAMBIR), unit=GAMBIR)

    assert sorted(ids(listing)) == sorted(queue.gambir)


def test_official_asking_for_another_units_queue_is_refused(world: World, queue: Queue) -> None:
    with pytest.raises(NotAllowed):
        list_queue(world, official(GAMBIR), unit=SUDIN_BINA_MARGA_JP)


def test_official_filters_their_queue_by_status(world: World, queue: Queue) -> None:
    world.change(queue.gambir[0], Status.IN_PROGRESS)

    in_progress = list_queue(world, official(GAMBIR), status="in_progress")
    waiting = list_queue(world, official(GAMBIR), status="waiting")

    assert ids(in_progress) == [queue.gambir[0]]
    assert sorted(ids(waiting)) == sorted(queue.gambir[1:])


def test_unknown_status_is_invalid(world: World, queue: Queue) -> None:
    with pytest.raises(InvalidRequest) as raised:
        list_queue(world, validator(), status="menunggu")

    assert raised.value.field == "status"


def test_validator_must_name_a_status_or_a_unit(world: World, queue: Queue) -> None:
    with pytest.raises(InvalidRequest):
        list_queue(world, validator())


def test_validator_listing_waiting_tickets_sees_several_units(world: World, queue: Queue) -> None:
    listing = list_queue(world, validator(), status="waiting")

    assert sorted(ids(listing)) == sorted(queue.gambir + queue.sudin)
    assert {i["assigned_unit"]["id"] for i in listing["items"]} == {GAMBIR, SUDIN_BINA_MARGA_JP}


def test_validator_may_list_any_unit_of_the_tenant(world: World, queue: Queue) -> None:
    listing = list_queue(world, validator(), unit=SUDIN_BINA_MARGA_JP)

    assert sorted(ids(listing)) == sorted(queue.sudin)


def test_cursor_paging_returns_every_ticket_exactly_once(world: World, queue: Queue) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0

    while True:
        page = list_queue(world, validator(), status="waiting", limit=2, cursor=cursor)
        assert len(page["items"]) <= 2
        seen.extend(ids(page))
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == set(queue.gambir + queue.sudin)


@pytest.mark.parametrize(
    "who",
    [citizen(), staff(Role.VALIDATOR, tenant="banda-aceh"), operator("banda-aceh")],
    ids=["citizen", "validator-of-banda-aceh", "operator-of-banda-aceh"],
)
def test_non_staff_of_the_tenant_may_not_list_the_queue(
    world: World, queue: Queue, who: Principal
) -> None:
    with pytest.raises(NotAllowed):
        list_queue(world, who, status="waiting")


def test_overdue_filter_keeps_only_red_marked_tickets(world: World, queue: Queue) -> None:
    world.change(queue.gambir[1], Status.WAITING, overdue=True)

    overdue = list_queue(world, official(GAMBIR), overdue=True)
    on_time = list_queue(world, official(GAMBIR), overdue=False)

    assert ids(overdue) == [queue.gambir[1]]
    assert all(item["overdue"] for item in overdue["items"])
    assert sorted(ids(on_time)) == sorted([queue.gambir[0], queue.gambir[2]])


def test_queue_items_are_staff_views(world: World, queue: Queue) -> None:
    listing = list_queue(world, official(GAMBIR))

    item = listing["items"][0]
    assert {"reporter", "address", "flags", "feedback", "assignments"} <= set(item)


# --- statistics -------------------------------------------------------------------------------


def stats(world: World, who: Principal | None = None, **period: str) -> dict[str, Any]:
    today = world.clock.now().astimezone(world.services.reports.tenant("jakarta").zone).date()
    return world.services.staff.stats(
        "jakarta",
        who or validator(),
        start=period.get("start"),
        end=period.get("end"),
        today=today,
    )


def test_stats_count_by_status_channel_and_unit_with_the_apps_share(world: World) -> None:
    first = world.file("sampah")
    world.file("sampah")
    world.file("lampu_jalan")
    world.take(channel="sms")
    world.change(first, Status.REJECTED)

    result = stats(world, start="2026-12-01", end="2026-12-31")

    assert result["from"] == "2026-12-01"
    assert result["to"] == "2026-12-31"
    assert result["total"] == 4
    assert result["by_status"] == {"rejected": 1, "waiting": 3}
    assert result["by_channel"] == {"jaki": 3, "sms": 1}
    assert result["app_share"] == 0.75
    by_unit = {u["unit"]["id"]: u for u in result["by_unit"]}
    assert by_unit[GAMBIR]["tickets"] == 3
    assert by_unit[GAMBIR]["open"] == 2
    assert by_unit[GAMBIR]["unit"]["name"] == "Kelurahan Gambir"
    assert by_unit[SUDIN_BINA_MARGA_JP]["tickets"] == 1
    assert by_unit[SUDIN_BINA_MARGA_JP]["open"] == 1
    assert [u["unit"]["id"] for u in result["by_unit"]] == [GAMBIR, SUDIN_BINA_MARGA_JP]


def test_stats_period_follows_the_tenants_day_not_utc(world: World) -> None:
    world.clock.at = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 WIB, 31 December
    december = world.file()
    world.clock.at = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 WIB, 1 January
    january = world.file()

    in_december = stats(world, start="2026-12-01", end="2026-12-31")
    in_january = stats(world, start="2027-01-01", end="2027-01-31")

    assert in_december["total"] == 1
    assert in_january["total"] == 1
    stored = world.tickets.get("jakarta", january)
    assert stored is not None and stored.month == "2027-01"
    stored = world.tickets.get("jakarta", december)
    assert stored is not None and stored.month == "2026-12"


def test_stats_period_bounds_are_whole_local_days(world: World) -> None:
    world.clock.at = datetime(2026, 12, 9, 17, 0, tzinfo=UTC)  # 00:00 WIB, 10 December
    world.file()

    up_to_ninth = stats(world, start="2026-12-01", end="2026-12-09")
    from_tenth = stats(world, start="2026-12-10", end="2026-12-10")

    assert up_to_ninth["total"] == 0
    assert from_tenth["total"] == 1


def test_stats_without_a_period_cover_the_last_thirty_days_to_today(world: World) -> None:
    result = stats(world)

    assert result["to"] == "2026-12-04"
    assert result["from"] == "2026-11-05"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-12-10", "2026-12-01", "from"),
        ("2025-11-01", "2026-12-05", "from"),  # 400 days
        ("2026-13-01", "2026-12-31", "from"),
        ("2026-12-01", "31/12/2026", "to"),
        ("kemarin", "2026-12-31", "from"),
    ],
    ids=["from-after-to", "400-days", "month-13", "not-iso-to", "not-a-date"],
)
def test_stats_with_a_bad_period_are_invalid(
    world: World, start: str, end: str, field: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        stats(world, start=start, end=end)

    assert raised.value.field == field


def test_stats_accept_a_period_of_a_full_leap_year(world: World) -> None:
    # 366 days is the longest period: 2028 is a leap year.
    start, end = date(2028, 1, 1), date(2028, 12, 31)

    result = stats(world, start=start.isoformat(), end=end.isoformat())

    assert (end - start).days + 1 == 366
    assert result["total"] == 0


@pytest.mark.parametrize(
    "who",
    [citizen(), staff(Role.VALIDATOR, tenant="banda-aceh")],
    ids=["citizen", "validator-of-banda-aceh"],
)
def test_stats_are_for_staff_of_the_tenant_only(world: World, who: Principal) -> None:
    with pytest.raises(NotAllowed):
        stats(world, who, start="2026-12-01", end="2026-12-31")


def test_stats_of_an_empty_period_have_no_app_share(world: World) -> None:
    world.file()

    result = stats(world, start="2026-10-01", end="2026-10-31")

    assert result["total"] == 0
    assert result["app_share"] is None
    assert result["by_status"] == {}
    assert result["by_channel"] == {}
    assert result["by_unit"] == []


def test_stats_are_open_to_an_official(world: World) -> None:
    world.file()

    result = stats(world, official(GAMBIR), start="2026-12-01", end="2026-12-31")

    assert result["total"] == 1
