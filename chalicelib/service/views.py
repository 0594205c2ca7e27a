"""How a ticket looks to each audience (DESIGN.md section 9): public, reporter, staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import STATUS_LABELS, Ticket, TimelineEvent


class Audience(StrEnum):
    PUBLIC = "public"
    REPORTER = "reporter"
    STAFF = "staff"


def iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """Times are shown in the tenant's own zone, with the offset (2026-12-10T14:00:00+07:00)."""
    if moment is None:
        return None
    return moment.astimezone(zone).isoformat(timespec="seconds")


STAFF_ACTORS = frozenset({"official", "validator", "admin", "operator", "system"})


def _event(
    event: TimelineEvent, zone: ZoneInfo, audience: Audience, reporter_shared: bool
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "at": iso(event.at, zone),
        "from": event.from_status.value if event.from_status else None,
        "to": event.to_status.value,
        "actor_role": event.actor_role,
        "note": event.note,
    }
    if audience is Audience.STAFF:
        # Staff see which colleague acted; the reporter stays anonymous unless they opted in.
        visible = event.actor_role in STAFF_ACTORS or reporter_shared
        view["actor_id"] = event.actor_id if visible else None
        view["unit"] = event.unit
    return view


def ticket_view(
    ticket: Ticket, tenant: Tenant, audience: Audience, media_base_url: str = ""
) -> dict[str, Any]:
    zone = tenant.zone
    label_id, label_en = STATUS_LABELS[ticket.status]
    location = None
    if ticket.location is not None:
        location = {
            "lat": ticket.location.lat,
            "lon": ticket.location.lon,
            "source": ticket.location.source.value,
        }
    view: dict[str, Any] = {
        "ticket_id": ticket.ticket_id,
        "number": ticket.number,
        "tenant": ticket.tenant,
        "status": ticket.status.value,
        "status_label": {"id": label_id, "en": label_en},
        "category": ticket.category,
        "description": ticket.description,
        "channel": ticket.channel.value,
        "private": ticket.private,
        "location": location,
        "area": ticket.area,
        "assigned_unit": ticket.assigned_unit,
        "due_at": iso(ticket.due_at, zone),
        "overdue": ticket.overdue,
        "rejection": (
            {"reason": ticket.rejection.reason, "message": ticket.rejection.message}
            if ticket.rejection
            else None
        ),
        # Only EXIF-free public copies are ever linked; originals stay private.
        "photos": [
            {
                "url": f"{media_base_url}/{p.public_key}",
                "thumbnail_url": f"{media_base_url}/{p.thumbnail_key}",
                "kind": p.kind.value,
            }
            for p in ticket.photos
            if p.public_key and p.thumbnail_key
        ],
        "timeline": [
            _event(e, zone, audience, ticket.reporter_contact is not None) for e in ticket.timeline
        ],
        "created_at": iso(ticket.created_at, zone),
        "updated_at": iso(ticket.updated_at, zone),
        "version": ticket.version,
    }
    if audience is not Audience.PUBLIC:
        view["flags"] = list(ticket.flags)
        view["address"] = ticket.address
        # Who reported is shown only when the reporter chose to share it (JAKI's default: not).
        view["reporter"] = dict(ticket.reporter_contact) if ticket.reporter_contact else None
        view["feedback"] = (
            {"rating": ticket.feedback.rating, "comment": ticket.feedback.comment}
            if ticket.feedback
            else None
        )
    if audience is Audience.STAFF:
        view["assignments"] = [
            {
                "unit": {"id": a.unit_id, "name": a.unit_name, "type": a.unit_type},
                "head": a.head,
                "started_at": iso(a.started_at, zone),
                "due_at": iso(a.due_at, zone),
                "ended_at": iso(a.ended_at, zone),
            }
            for a in ticket.assignments
        ]
    if audience is Audience.REPORTER:
        view["upload_pending"] = ticket.pending_upload is not None
    return view
