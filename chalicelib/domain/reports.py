"""What a citizen may send when filing a report, checked field by field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import InvalidRequest, MalformedRequest, PayloadTooLarge
from chalicelib.domain.geo import coordinates_problem
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import SELF_SERVICE_CHANNELS, Channel, Location, LocationSource

MAX_DESCRIPTION = 4_000
MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_ACCURACY_M = 100_000.0

# Declared type -> file extension of the stored original.
PHOTO_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/webp": "webp",
    "image/png": "png",
}

REPORT_FIELDS = frozenset(
    {"category", "description", "location", "photo", "private", "channel", "share_identity"}
)
INTAKE_FIELDS = frozenset(
    {"category", "description", "location", "address", "channel", "received_at", "reporter",
     "private", "share_identity"}
)  # fmt: skip
MAX_ADDRESS = 500
CONTACT_FIELDS = {"name": 200, "phone": 30, "email": 254}


@dataclass(frozen=True, slots=True)
class DeclaredPhoto:
    content_type: str
    content_length: int


@dataclass(frozen=True, slots=True)
class ReportSubmission:
    category: str
    description: str
    device_location: Location | None
    photo: DeclaredPhoto | None
    private: bool
    channel: Channel
    share_identity: bool = False


def printable_text(text: str) -> bool:
    """No control characters (tab and newlines aside) and no lone surrogates (not UTF-8)."""
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return False
        if (code < 0x20 and char not in "\t\n\r") or 0x7F <= code < 0xA0:
            return False
    return True


def _number(value: object, field: str) -> float:
    # bool is an int in Python; a JSON true is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{field} must be a number", field=field)
    try:
        number = float(value)
    except OverflowError:
        raise InvalidRequest(f"{field} is out of range", field=field) from None
    if math.isnan(number) or math.isinf(number):
        raise InvalidRequest(f"{field} must be a finite number", field=field)
    return number


def parse_location(raw: object, field: str, source: LocationSource) -> Location:
    if not isinstance(raw, Mapping):
        raise InvalidRequest(f"{field} must be an object with lat and lon", field=field)
    unknown = set(raw) - {"lat", "lon", "accuracy_m"}
    if unknown:
        raise InvalidRequest(
            f"{field} has unknown fields: {', '.join(sorted(unknown))}", field=field
        )
    if "lat" not in raw or "lon" not in raw:
        raise InvalidRequest(f"{field} needs both lat and lon", field=field)
    lat = _number(raw["lat"], f"{field}.lat")
    lon = _number(raw["lon"], f"{field}.lon")
    problem = coordinates_problem(lat, lon)
    if problem:
        raise InvalidRequest(f"{field}: {problem}", field=field)
    accuracy: float | None = None
    if raw.get("accuracy_m") is not None:
        accuracy = _number(raw["accuracy_m"], f"{field}.accuracy_m")
        if not 0 <= accuracy <= MAX_ACCURACY_M:
            raise InvalidRequest(
                f"{field}.accuracy_m must be between 0 and {MAX_ACCURACY_M:.0f}",
                field=f"{field}.accuracy_m",
            )
    return Location(lat=lat, lon=lon, source=source, accuracy_m=accuracy)


def parse_declared_photo(raw: object, field: str = "photo") -> DeclaredPhoto:
    if not isinstance(raw, Mapping):
        raise InvalidRequest(f"{field} must be an object", field=field)
    content_type = raw.get("content_type")
    if not isinstance(content_type, str) or content_type.lower() not in PHOTO_TYPES:
        raise InvalidRequest(
            f"{field}.content_type must be one of {', '.join(PHOTO_TYPES)}",
            field=f"{field}.content_type",
        )
    length = raw.get("content_length")
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise InvalidRequest(
            f"{field}.content_length must be a positive whole number of bytes",
            field=f"{field}.content_length",
        )
    if length > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(
            f"photo is {length} bytes; the limit is {MAX_PHOTO_BYTES} bytes (15 MB)",
            code="photo_too_large",
            field=f"{field}.content_length",
        )
    return DeclaredPhoto(content_type=content_type.lower(), content_length=length)


def parse_report(body: object, tenant: Tenant) -> ReportSubmission:
    if not isinstance(body, Mapping):
        raise MalformedRequest("the request body must be a JSON object")
    unknown = set(body) - REPORT_FIELDS
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}", field=min(unknown))

    category = body.get("category")
    if not isinstance(category, str) or not category:
        raise InvalidRequest("category is required", field="category")
    if tenant.category(category) is None:
        raise InvalidRequest(
            f"unknown category {category!r} for {tenant.tenant_id}; "
            f"see GET /v1/{tenant.tenant_id}/categories",
            code="unknown_category",
            field="category",
        )

    description = body.get("description")
    if not isinstance(description, str):
        raise InvalidRequest("description is required and must be text", field="description")
    description = description.strip()
    if not printable_text(description):
        raise InvalidRequest(
            "description contains control characters or invalid Unicode", field="description"
        )
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        raise InvalidRequest(
            f"description must be 1 to {MAX_DESCRIPTION} characters", field="description"
        )

    location = None
    if body.get("location") is not None:
        location = parse_location(body["location"], "location", LocationSource.DEVICE)

    photo = None
    if body.get("photo") is not None:
        photo = parse_declared_photo(body["photo"])

    private = body.get("private", True)
    if not isinstance(private, bool):
        raise InvalidRequest("private must be true or false", field="private")

    channel = _channel(body.get("channel", Channel.JAKI.value))
    share_identity = body.get("share_identity", False)
    if not isinstance(share_identity, bool):
        raise InvalidRequest("share_identity must be true or false", field="share_identity")

    return ReportSubmission(
        category=category,
        description=description,
        device_location=location,
        photo=photo,
        private=private,
        channel=channel,
        share_identity=share_identity,
    )


def _channel(raw: Any) -> Channel:
    try:
        channel = Channel(raw)
    except ValueError:
        raise InvalidRequest(
            f"channel must be one of {', '.join(sorted(c.value for c in SELF_SERVICE_CHANNELS))}",
            field="channel",
        ) from None
    if channel not in SELF_SERVICE_CHANNELS:
        raise InvalidRequest(
            f"channel {channel.value!r} is entered by operators through /intake", field="channel"
        )
    return channel


@dataclass(frozen=True, slots=True)
class IntakeSubmission:
    category: str
    description: str
    location: Location | None
    address: str | None
    channel: Channel
    received_at: datetime
    private: bool
    contact: dict[str, str] | None


# Operators enter every CRM channel except the app itself and Open311 clients.
OPERATOR_CHANNELS = frozenset(Channel) - {Channel.JAKI, Channel.OPEN311}


def parse_intake(body: object, tenant: Tenant, now: datetime) -> IntakeSubmission:
    if not isinstance(body, Mapping):
        raise MalformedRequest("the request body must be a JSON object")
    unknown = set(body) - INTAKE_FIELDS
    if unknown:
        raise InvalidRequest(f"unknown fields: {', '.join(sorted(unknown))}", field=min(unknown))
    base = parse_report(
        {k: body[k] for k in ("category", "description", "private") if k in body}, tenant
    )
    try:
        channel = Channel(str(body.get("channel")))
    except ValueError:
        channel = None
    if channel not in OPERATOR_CHANNELS:
        raise InvalidRequest(
            f"channel must be one of {', '.join(sorted(c.value for c in OPERATOR_CHANNELS))}",
            field="channel",
        )
    received = body.get("received_at")
    try:
        received_at = datetime.fromisoformat(str(received))
    except ValueError:
        raise InvalidRequest(
            "received_at must be an ISO 8601 time with offset", field="received_at"
        ) from None
    if received_at.tzinfo is None:
        raise InvalidRequest("received_at needs a UTC offset (+07:00)", field="received_at")
    if received_at > now + timedelta(minutes=5) or received_at < now - timedelta(days=90):
        raise InvalidRequest("received_at must lie within the last 90 days", field="received_at")
    location = None
    if body.get("location") is not None:
        location = parse_location(body["location"], "location", LocationSource.OPERATOR)
    address = body.get("address")
    if address is not None and (
        not isinstance(address, str)
        or not address.strip()
        or len(address) > MAX_ADDRESS
        or not printable_text(address)
    ):
        raise InvalidRequest(
            f"address must be text of 1 to {MAX_ADDRESS} characters", field="address"
        )
    if location is None and address is None:
        raise InvalidRequest("give a location or an address", field="location")
    share = body.get("share_identity", False)
    if not isinstance(share, bool):
        raise InvalidRequest("share_identity must be true or false", field="share_identity")
    contact = _contact(body.get("reporter")) if share else None
    return IntakeSubmission(
        category=base.category,
        description=base.description,
        location=location,
        address=address.strip() if isinstance(address, str) else None,
        channel=channel,
        received_at=received_at,
        private=base.private,
        contact=contact,
    )


def _contact(raw: object) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - set(CONTACT_FIELDS):
        raise InvalidRequest(f"reporter may hold {', '.join(CONTACT_FIELDS)}", field="reporter")
    contact: dict[str, str] = {}
    for key, limit in CONTACT_FIELDS.items():
        value = raw.get(key)
        if value is None:
            continue
        if (
            not isinstance(value, str)
            or not value.strip()
            or len(value) > limit
            or not printable_text(value)
        ):
            raise InvalidRequest(
                f"reporter.{key} must be text of 1 to {limit} characters", field=f"reporter.{key}"
            )
        contact[key] = value.strip()
    return contact or None
