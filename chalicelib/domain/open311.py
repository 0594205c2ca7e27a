"""Open311 GeoReport v2 (JSON): how our tenants, categories and tickets look to its clients.

jurisdiction_id is the tenant; a service is a category; a service request is a ticket. Field
names are the spec's. Only what the public view shows is exposed: no reporter, no flags.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.geo import coordinates_problem
from chalicelib.domain.reports import MAX_DESCRIPTION, printable_text
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import CLOSED_STATES, STATUS_LABELS, Ticket

MAX_ADDRESS = 500
MAX_URL = 2_000


@dataclass(frozen=True, slots=True)
class Open311Submission:
    service_code: str
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    media_url: str | None
    attributes: dict[str, str]
    contact: dict[str, str]


def service_list(tenant: Tenant) -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.code,
            "service_name": c.name_id,
            "description": c.description_id or c.name_en,
            "metadata": False,
            "type": "realtime",
            "keywords": c.name_en.lower(),
            "group": tenant.name,
        }
        for c in tenant.categories
    ]


def service_definition(tenant: Tenant, code: str) -> dict[str, Any]:
    # No category needs extra attributes yet: the definition says so in the spec's shape.
    return {"service_code": code, "attributes": []}


def open311_status(ticket: Ticket) -> str:
    return "closed" if ticket.status in CLOSED_STATES else "open"


def _utc(moment: datetime | None, tenant: Tenant) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(tenant.zone).isoformat(timespec="seconds")


def request_view(ticket: Ticket, tenant: Tenant, media_base_url: str) -> dict[str, Any]:
    category = tenant.category(ticket.category)
    label_id, _ = STATUS_LABELS[ticket.status]
    note = ticket.rejection.message if ticket.rejection else label_id
    area = ticket.area or {}
    address = ticket.address
    if address is None and area:
        parts = (area.get("kelurahan"), area.get("kecamatan"), area.get("kota"))
        address = ", ".join(part["name"] for part in parts if part)
    photos = [p for p in ticket.photos if p.public_key]
    return {
        "service_request_id": ticket.ticket_id,
        "status": open311_status(ticket),
        "status_notes": note,
        "service_name": category.name_id if category else ticket.category,
        "service_code": ticket.category,
        "description": ticket.description,
        "agency_responsible": (ticket.assigned_unit or {}).get("name"),
        "service_notice": None,
        "requested_datetime": _utc(ticket.created_at, tenant),
        "updated_datetime": _utc(ticket.updated_at, tenant),
        "expected_datetime": _utc(ticket.due_at, tenant),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": ticket.location.lat if ticket.location else None,
        "long": ticket.location.lon if ticket.location else None,
        "media_url": f"{media_base_url}/{photos[0].public_key}" if photos else ticket.media_url,
        "token": ticket.number,
    }


def parse_submission(form: Mapping[str, str], tenant: Tenant) -> Open311Submission:
    def text(name: str, limit: int) -> str | None:
        value = form.get(name)
        if value is None or not value.strip():
            return None
        if len(value) > limit or not printable_text(value):
            raise InvalidRequest(f"{name} must be text of at most {limit} characters", field=name)
        return value.strip()

    code = form.get("service_code") or ""
    if tenant.category(code) is None:
        raise InvalidRequest(f"unknown service_code {code!r}", field="service_code")
    # The spec makes description optional; the ticket then says what service was asked for.
    category = tenant.category(code)
    description = text("description", MAX_DESCRIPTION) or (category.name_id if category else code)
    lat = lon = None
    if form.get("lat") is not None or form.get("long") is not None:
        try:
            lat, lon = float(form.get("lat", "")), float(form.get("long", ""))
        except ValueError:
            raise InvalidRequest("lat and long must be decimal degrees", field="lat") from None
        problem = coordinates_problem(lat, lon) if math.isfinite(lat + lon) else "not finite"
        if problem:
            raise InvalidRequest(f"lat/long: {problem}", field="lat")
    address = text("address_string", MAX_ADDRESS)
    if lat is None and address is None:
        raise InvalidRequest("give lat and long, or address_string", field="lat")
    media_url = text("media_url", MAX_URL)
    if media_url is not None and not media_url.startswith(("https://", "http://")):
        raise InvalidRequest("media_url must be an http(s) URL", field="media_url")
    attributes = {
        key[len("attribute[") : -1]: value
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    contact = {
        name: value
        for name in ("email", "first_name", "last_name", "phone")
        if (value := text(name, 254)) is not None
    }
    return Open311Submission(
        service_code=code,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        media_url=media_url,
        attributes=attributes,
        contact=contact,
    )


def parse_date(text: str | None, field: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{field} must be a W3C date-time", field=field) from None
    if not 2000 <= moment.year <= 2100:
        raise InvalidRequest(f"{field} must lie between 2000 and 2100", field=field)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
