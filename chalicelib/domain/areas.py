"""Point -> village by point-in-polygon over a tenant's boundaries, with an STR-tree index.

Boundaries are simplified, so neighbours leave slivers between them and overlap a little. A
point covered by several polygons goes to the one whose interior holds it, ties to the lowest
code; a point in no polygon but within the tolerance (250 m) of one snaps to the nearest, ties
to the lowest code; anything farther is outside the tenant. Distances are in metres on a local
equirectangular projection centred on the tenant, exact enough at city scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.placement import Inside, Outside

__all__ = ["SNAP_TOLERANCE_M", "AreaIndex", "Inside", "Outside", "from_wkb", "to_wkb"]

SNAP_TOLERANCE_M = 250.0
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


class AreaIndex:
    def __init__(
        self, shapes: Mapping[str, BaseGeometry], tolerance_m: float = SNAP_TOLERANCE_M
    ) -> None:
        if not shapes:
            raise ValueError("an area index needs at least one shape")
        self.codes = sorted(shapes)
        lonlat = [shapes[c] for c in self.codes]
        minx, miny, maxx, maxy = shapely.total_bounds(np.array(lonlat, dtype=object))
        self._lat0 = (miny + maxy) / 2
        self._lon0 = (minx + maxx) / 2
        self._kx = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(self._lat0))
        self._geometries = np.array([self._project(g) for g in lonlat], dtype=object)
        shapely.prepare(self._geometries)
        self._tree = shapely.STRtree(self._geometries)
        self.tolerance_m = tolerance_m

    def _project(self, geometry: BaseGeometry) -> BaseGeometry:
        scale = np.array([self._kx, M_PER_DEG_LAT])
        origin = np.array([self._lon0, self._lat0])
        return shapely.transform(geometry, lambda xy: (xy - origin) * scale)

    def _point(self, lat: float, lon: float) -> BaseGeometry:
        return shapely.Point((lon - self._lon0) * self._kx, (lat - self._lat0) * M_PER_DEG_LAT)

    def locate(self, lat: float, lon: float) -> Inside | Outside:
        point = self._point(lat, lon)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits):
            # Interior before boundary, then the lowest code: the same answer every time.
            best = min(
                hits,
                key=lambda i: (not shapely.contains(self._geometries[i], point), self.codes[i]),
            )
            return Inside(self.codes[best])
        found, distances = self._tree.query_nearest(
            point, max_distance=self.tolerance_m, return_distance=True, all_matches=True
        )
        if len(found):
            best = min(zip(found, distances, strict=True), key=lambda p: (p[1], self.codes[p[0]]))
            return Inside(self.codes[best[0]], snapped_m=round(float(best[1]), 1))
        nearest, distance = self._tree.query_nearest(point, return_distance=True)
        if not len(nearest):
            return Outside(None, None)
        return Outside(self.codes[int(nearest[0])], round(float(distance[0]), 1))


def shapes_from_geojson(document: Mapping[str, Any], source: str) -> dict[str, BaseGeometry]:
    """Polygon/MultiPolygon of each feature by its code; broken geometry names the feature."""
    shapes: dict[str, BaseGeometry] = {}
    for index, feature in enumerate(document.get("features") or []):
        code = (feature.get("properties") or {}).get("code")
        where = f"{source}: feature {index} ({code})"
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            raise TenantConfigError(f"{where}: geometry must be a Polygon or MultiPolygon")
        try:
            shape = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            raise TenantConfigError(f"{where}: geometry is malformed ({exc})") from None
        if shape.is_empty or not shape.is_valid:
            reason = "empty" if shape.is_empty else explain_validity(shape)
            raise TenantConfigError(f"{where}: geometry is invalid ({reason})")
        minx, miny, maxx, maxy = shape.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise TenantConfigError(f"{where}: coordinates must be longitude, latitude")
        shapes[str(code)] = shape
    return shapes


def to_wkb(shapes: Mapping[str, BaseGeometry]) -> dict[str, bytes]:
    return {code: bytes(shapely.to_wkb(shape)) for code, shape in shapes.items()}


def from_wkb(blobs: Iterable[tuple[str, bytes]]) -> dict[str, BaseGeometry]:
    return {code: shapely.from_wkb(blob) for code, blob in blobs}
