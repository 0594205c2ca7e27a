"""What to tell whom when a ticket changes: derived from the timeline entries a write added.

The tickets table's stream delivers each change at least once, so every notification carries
an `event_id` ("{ticket}:{timeline index}") that subscribers use to drop duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chalicelib.domain.tickets import STATUS_LABELS, Status, Ticket

# Platform-internal steps a reporter is not told about.
SILENT_FOR_REPORTER = frozenset({Status.AWAITING_PHOTO, Status.LOCATING})


class Audience(StrEnum):
    UNIT = "unit"
    REPORTER = "reporter"


@dataclass(frozen=True, slots=True)
class Notification:
    audience: Audience
    event_id: str
    message: dict[str, Any]
    attributes: dict[str, str] = field(default_factory=dict)


def notifications_for(before: Ticket | None, after: Ticket, *, base_url: str) -> list[Notification]:
    start = len(before.timeline) if before is not None else 0
    found: list[Notification] = []
    for index in range(start, len(after.timeline)):
        event = after.timeline[index]
        event_id = f"{after.ticket_id}:{index}"
        common = {
            "tenant": after.tenant,
            "ticket_id": after.ticket_id,
            "number": after.number,
            "category": after.category,
            "status": event.to_status.value,
            "at": event.at.isoformat(),
            "event_id": event_id,
        }
        if event.to_status is Status.WAITING or (
            event.unit and event.to_status in (Status.COORDINATION, Status.DISPOSITION)
        ):
            unit = after.assigned_unit or {}
            found.append(
                Notification(
                    audience=Audience.UNIT,
                    event_id=event_id,
                    message={
                        **common,
                        "type": "ticket.assigned",
                        "unit": unit,
                        "area": after.area,
                        "link": f"{base_url}/v1/{after.tenant}/tickets/{after.ticket_id}",
                    },
                    attributes={
                        "tenant": after.tenant,
                        "unit": str(unit.get("id", "")),
                        "type": "ticket.assigned",
                    },
                )
            )
        if event.to_status not in SILENT_FOR_REPORTER:
            label_id, label_en = STATUS_LABELS[event.to_status]
            found.append(
                Notification(
                    audience=Audience.REPORTER,
                    event_id=event_id,
                    message={
                        **common,
                        "type": "ticket.status_changed",
                        "status_label": {"id": label_id, "en": label_en},
                        "reporter_id": after.reporter_id,
                        "note": event.note,
                        "link": f"{base_url}/v1/{after.tenant}/reports/{after.ticket_id}",
                    },
                    attributes={
                        "tenant": after.tenant,
                        "reporter": after.reporter_id,
                        "type": "ticket.status_changed",
                    },
                )
            )
    found.extend(_clock_notifications(before, after, base_url))
    return found


def _clock_notifications(before: Ticket | None, after: Ticket, base_url: str) -> list[Notification]:
    """A reminder, or the red mark with its escalation, set on the current assignment."""
    current = after.current_assignment
    if current is None:
        return []
    index = len(after.assignments) - 1
    previous = before.assignments[index] if before and len(before.assignments) > index else None
    link = f"{base_url}/v1/{after.tenant}/tickets/{after.ticket_id}"
    common = {
        "tenant": after.tenant,
        "ticket_id": after.ticket_id,
        "number": after.number,
        "category": after.category,
        "unit": {"id": current.unit_id, "name": current.unit_name},
        "due_at": current.due_at.isoformat() if current.due_at else None,
        "link": link,
    }
    sent: list[Notification] = []

    def to_unit(unit: str, kind: str, suffix: str) -> None:
        event_id = f"{after.ticket_id}:a{index}:{suffix}"
        sent.append(
            Notification(
                audience=Audience.UNIT,
                event_id=event_id,
                message={**common, "type": kind, "event_id": event_id},
                attributes={"tenant": after.tenant, "unit": unit, "type": kind},
            )
        )

    if current.reminded and not (previous and previous.reminded):
        to_unit(current.unit_id, "ticket.due_soon", "reminder")
    if current.overdue_at is not None and not (previous and previous.overdue_at):
        to_unit(current.unit_id, "ticket.overdue", "overdue")
        if current.escalated_to:
            to_unit(current.escalated_to, "ticket.escalated", "escalated")
    return sent
