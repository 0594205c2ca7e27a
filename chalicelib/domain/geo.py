"""Coordinates as the domain accepts them: WGS84 decimal degrees, never (0, 0), never NaN."""

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Coordinates:
    lat: float
    lon: float


def coordinates_problem(lat: float, lon: float) -> str | None:
    """Why (lat, lon) is not a usable location, or None when it is."""
    if math.isnan(lat) or math.isnan(lon) or math.isinf(lat) or math.isinf(lon):
        return "coordinates must be finite numbers"
    if not -90.0 <= lat <= 90.0:
        return "lat must be between -90 and 90"
    if not -180.0 <= lon <= 180.0:
        return "lon must be between -180 and 180"
    # (0, 0) is what a device reports when it has no fix (the "Null Island" point).
    if lat == 0.0 and lon == 0.0:
        return "(0, 0) is not a location"
    return None


def haversine_m(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
