"""Which notifications a ticket change produces (pure domain, no SNS)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from chalicelib.domain.notifications import Audience, notifications_for
from chalicelib.domain.tickets import Channel, Location, LocationSource, Status, Ticket

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
GAMBIR = {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"}
AREA = {"kelurahan": {"code": "31.71.01.1001", "name": "Gambir"}}


def filed(status: Status = Status.AWAITING_PHOTO) -> Ticket:
    ticket = Ticket(
        tenant="jakarta",
        ticket_id="ab" * 16,
        number="JKT-261204-0001",
        status=status,
        category="sampah",
        description="Sampah",
        channel=Channel.JAKI,
        private=True,
        reporter_id="reporter-sub",
        created_at=T0,
        updated_at=T0,
    )
    ticket.transition(status, at=T0)
    return ticket


def routed(ticket: Ticket) -> Ticket:
    after = copy.deepcopy(ticket)
    after.assign(
        unit=GAMBIR,
        area=AREA,
        location=Location(-6.1754, 106.8272, LocationSource.DEVICE),
        at=T0 + timedelta(minutes=1),
    )
    return after


def test_new_routed_report_tells_the_unit_and_the_reporter() -> None:
    ticket = routed(filed(Status.LOCATING))

    sent = notifications_for(None, ticket, base_url="https://crm.example")

    assert [(n.audience, n.message["status"]) for n in sent] == [
        (Audience.UNIT, "waiting"),
        (Audience.REPORTER, "waiting"),
    ]
    unit = sent[0]
    assert unit.attributes == {"tenant": "jakarta", "unit": GAMBIR["id"], "type": "ticket.assigned"}
    assert unit.message["link"] == f"https://crm.example/v1/jakarta/tickets/{ticket.ticket_id}"
    assert "reporter_id" not in unit.message
    assert sent[1].attributes["reporter"] == "reporter-sub"
    assert unit.event_id == sent[1].event_id == f"{ticket.ticket_id}:1"


def test_internal_steps_are_not_told_to_the_reporter() -> None:
    before = filed(Status.AWAITING_PHOTO)
    after = copy.deepcopy(before)
    after.transition(Status.LOCATING, at=T0)

    assert notifications_for(before, after, base_url="") == []


def test_only_the_entries_a_write_added_are_notified() -> None:
    before = routed(filed(Status.LOCATING))

    again = notifications_for(before, copy.deepcopy(before), base_url="")

    assert again == []


def test_rejection_is_told_to_the_reporter_only() -> None:
    before = filed(Status.LOCATING)
    after = copy.deepcopy(before)
    after.reject("outside_jurisdiction", "outside Jakarta", at=T0)

    sent = notifications_for(before, after, base_url="")

    assert [(n.audience, n.message["status"]) for n in sent] == [(Audience.REPORTER, "rejected")]
    assert sent[0].message["note"] == "outside Jakarta"
