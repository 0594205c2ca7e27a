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


GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
# Precision 6: cells of about 1.2 km x 0.6 km, a good key for "reports near here".
CELL_PRECISION = 6


def geohash(lat: float, lon: float, precision: int = CELL_PRECISION) -> str:
    lat_range, lon_range = [-90.0, 90.0], [-180.0, 180.0]
    chars: list[str] = []
    bits, bit_count, even = 0, 0, True
    while len(chars) < precision:
        rng, value = (lon_range, lon) if even else (lat_range, lat)
        mid = (rng[0] + rng[1]) / 2
        if value >= mid:
            bits = (bits << 1) | 1
            rng[0] = mid
        else:
            bits <<= 1
            rng[1] = mid
        even = not even
        bit_count += 1
        if bit_count == 5:
            chars.append(GEOHASH_ALPHABET[bits])
            bits, bit_count = 0, 0
    return "".join(chars)


def cells_within(
    lat: float, lon: float, radius_m: float, precision: int = CELL_PRECISION
) -> list[str]:
    """Every geohash cell that may hold a point within radius_m of (lat, lon)."""
    lon_bits = (5 * precision + 1) // 2
    lat_bits = 5 * precision // 2
    cell_lat = 180.0 / 2**lat_bits
    cell_lon = 360.0 / 2**lon_bits
    # Degrees per metre on the same sphere haversine_m uses, plus 1% so that no point the
    # distance filter would keep can fall in a cell the query skipped.
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180
    dlat = radius_m * 1.01 / metres_per_degree
    dlon = radius_m * 1.01 / (metres_per_degree * max(math.cos(math.radians(lat)), 1e-6))
    cells: set[str] = set()
    step_lat = min(cell_lat, 2 * dlat) / 2 or cell_lat
    step_lon = min(cell_lon, 2 * dlon) / 2 or cell_lon
    y = max(-90.0, lat - dlat)
    while True:
        x = lon - dlon
        while True:
            cells.add(geohash(min(y, 90.0), max(-180.0, min(x, 180.0)), precision))
            if x >= lon + dlon:
                break
            x = min(x + step_lon, lon + dlon)
        if y >= min(90.0, lat + dlat):
            break
        y = min(y + step_lat, lat + dlat, 90.0)
    return sorted(cells)
