"""The ticket state machine: labels, open/closed sets, the timeline and the photo hand-off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.tickets import (
    CLOSED_STATES,
    OPEN_STATES,
    STATUS_LABELS,
    SYSTEM,
    Channel,
    PendingUpload,
    PhotoKind,
    Status,
    Ticket,
    ticket_number,
)

FILED_AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
PHOTO_KEY = "uploads/jakarta/0123456789abcdef0123456789abcdef/report-abc123.jpg"


def new_ticket(**overrides: object) -> Ticket:
    fields: dict[str, object] = {
        "tenant": "jakarta",
        "ticket_id": "0123456789abcdef0123456789abcdef",
        "number": "JKT-261204-0001",
        "status": Status.AWAITING_PHOTO,
        "category": "sampah",
        "description": "Sampah menumpuk di depan pasar",
        "channel": Channel.JAKI,
        "private": True,
        "reporter_id": "citizen-1",
        "created_at": FILED_AT,
        "updated_at": FILED_AT,
    }
    fields.update(overrides)
    return Ticket(**fields)  # type: ignore[arg-type]


def awaiting_photo_ticket() -> Ticket:
    ticket = new_ticket(
        pending_upload=PendingUpload(
            key=PHOTO_KEY,
            content_type="image/jpeg",
            max_bytes=2_000_000,
            expires_at=FILED_AT + timedelta(minutes=15),
            kind=PhotoKind.REPORT,
        )
    )
    ticket.transition(Status.AWAITING_PHOTO, at=FILED_AT, note="report filed; photo expected")
    return ticket


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_an_indonesian_and_english_label(status: Status) -> None:
    label_id, label_en = STATUS_LABELS[status]

    assert label_id.strip()
    assert label_en.strip()


def test_crm_statuses_carry_crm_labels() -> None:
    assert STATUS_LABELS[Status.WAITING][0] == "Menunggu"
    assert STATUS_LABELS[Status.IN_PROGRESS][0] == "Proses"
    assert STATUS_LABELS[Status.FOLLOW_UP_REJECTED][0] == "TL Ditolak"
    assert STATUS_LABELS[Status.COMPLETED][0] == "Selesai"


def test_open_and_closed_states_partition_all_statuses() -> None:
    assert frozenset(Status) == OPEN_STATES | CLOSED_STATES
    assert not OPEN_STATES & CLOSED_STATES
    assert {Status.COMPLETED, Status.REJECTED} == CLOSED_STATES


def test_ticket_is_open_until_it_reaches_a_closed_state() -> None:
    assert new_ticket(status=Status.WAITING).is_open
    assert not new_ticket(status=Status.COMPLETED).is_open
    assert not new_ticket(status=Status.REJECTED).is_open


def test_transition_appends_exactly_one_timeline_event() -> None:
    ticket = awaiting_photo_ticket()
    later = FILED_AT + timedelta(minutes=3)

    ticket.transition(Status.LOCATING, at=later, actor_role=SYSTEM, note="photo received")

    assert len(ticket.timeline) == 2
    event = ticket.timeline[-1]
    assert event.from_status is Status.AWAITING_PHOTO
    assert event.to_status is Status.LOCATING
    assert event.actor_role == "system"
    assert event.at == later
    assert event.note == "photo received"
    assert ticket.status is Status.LOCATING
    assert ticket.updated_at == later


def test_first_transition_of_a_new_ticket_comes_from_nowhere() -> None:
    ticket = new_ticket(status=Status.NEEDS_LOCATION)

    ticket.transition(Status.NEEDS_LOCATION, at=FILED_AT)

    assert [(e.from_status, e.to_status) for e in ticket.timeline] == [
        (None, Status.NEEDS_LOCATION)
    ]


def test_illegal_transition_raises_conflict_and_changes_nothing() -> None:
    ticket = awaiting_photo_ticket()
    before_timeline = list(ticket.timeline)

    with pytest.raises(Conflict) as raised:
        ticket.transition(Status.COMPLETED, at=FILED_AT + timedelta(hours=1))

    assert raised.value.code == "invalid_transition"
    assert ticket.status is Status.AWAITING_PHOTO
    assert ticket.timeline == before_timeline
    assert ticket.updated_at == FILED_AT


def test_receive_photo_moves_awaiting_photo_to_locating() -> None:
    ticket = awaiting_photo_ticket()
    arrived = FILED_AT + timedelta(minutes=2)

    changed = ticket.receive_photo(PHOTO_KEY, at=arrived, size=1234)

    assert changed is True
    assert ticket.status is Status.LOCATING
    assert ticket.pending_upload is None
    assert [(p.key, p.kind, p.size) for p in ticket.photos] == [(PHOTO_KEY, PhotoKind.REPORT, 1234)]
    assert ticket.timeline[-1].from_status is Status.AWAITING_PHOTO
    assert ticket.timeline[-1].to_status is Status.LOCATING


def test_second_delivery_of_the_same_photo_changes_nothing() -> None:
    ticket = awaiting_photo_ticket()
    ticket.receive_photo(PHOTO_KEY, at=FILED_AT + timedelta(minutes=2))

    changed = ticket.receive_photo(PHOTO_KEY, at=FILED_AT + timedelta(minutes=5))

    assert changed is False
    assert len(ticket.timeline) == 2
    assert len(ticket.photos) == 1


def test_photo_under_a_key_that_is_not_pending_is_not_received() -> None:
    ticket = awaiting_photo_ticket()
    other_key = PHOTO_KEY.replace("report-abc123", "report-zzz999")

    changed = ticket.receive_photo(other_key, at=FILED_AT + timedelta(minutes=2))

    assert changed is False
    assert ticket.status is Status.AWAITING_PHOTO
    assert ticket.photos == []
    assert ticket.pending_upload is not None
    assert len(ticket.timeline) == 1


def test_ticket_number_is_prefix_local_day_and_four_digit_sequence() -> None:
    number = ticket_number("JKT", datetime(2026, 12, 4, 16, 0), 42)

    assert number == "JKT-261204-0042"
    assert re.fullmatch(r"[A-Z]{2,5}-\d{6}-\d{4}", number)
