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
    return found
