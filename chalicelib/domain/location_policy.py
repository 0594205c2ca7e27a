"""Which location a report gets: the photo's geotag first, then the device, else none.

A geotag far from the device, or a photo taken long before the report, is kept but flagged for
the validator rather than silently trusted (a photo from the gallery, or a spoofed position).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.geo import Coordinates, coordinates_problem, haversine_m
from chalicelib.domain.tickets import Location, LocationSource

FAR_FROM_DEVICE_M = 1_000.0
TAKEN_LONG_BEFORE = timedelta(days=7)

PHOTO_FAR_FROM_DEVICE = "photo_far_from_device"
PHOTO_TAKEN_LONG_BEFORE = "photo_taken_long_before_report"


@dataclass(frozen=True, slots=True)
class Decision:
    location: Location | None
    flags: list[str] = field(default_factory=list)
    note: str = ""


def decide_location(
    *,
    photo_lat: float | None,
    photo_lon: float | None,
    taken_at: datetime | None,
    device: Location | None,
    reported_at: datetime,
    zone: ZoneInfo,
    far_m: float = FAR_FROM_DEVICE_M,
    long_before: timedelta = TAKEN_LONG_BEFORE,
) -> Decision:
    photo: Location | None = None
    if (
        photo_lat is not None
        and photo_lon is not None
        and coordinates_problem(photo_lat, photo_lon) is None
    ):
        photo = Location(photo_lat, photo_lon, LocationSource.EXIF)
    if photo is None:
        if device is not None:
            return Decision(device, note="located by the device (the photo has no geotag)")
        return Decision(None, note="neither the photo nor the device gave a location")
    flags: list[str] = []
    notes = ["located by the photo's geotag"]
    if device is not None:
        apart = haversine_m(Coordinates(photo.lat, photo.lon), Coordinates(device.lat, device.lon))
        if apart > far_m:
            flags.append(PHOTO_FAR_FROM_DEVICE)
            notes.append(f"{apart / 1000:.1f} km from the device location")
    if taken_at is not None:
        # A DateTimeOriginal without an offset is local time where the photo was taken;
        # the tenant's zone is the best guess for it.
        taken = taken_at if taken_at.tzinfo else taken_at.replace(tzinfo=zone)
        if reported_at - taken > long_before:
            flags.append(PHOTO_TAKEN_LONG_BEFORE)
            notes.append(f"taken {(reported_at - taken).days} days before the report")
    return Decision(photo, flags, "; ".join(notes))
