"""Build each tenant's ``tenants/{tenant}/boundaries.geojson`` from the shared boundary data.

Usage: ``.venv/bin/python -m infra.tools.build_boundaries [--shared DIR] [--tenants DIR]``

Input is the Kemendagri-coded lowest-level file of each tenant (kelurahan / gampong) under
``--shared`` (default ``<repo>/../shared/data/boundaries``; see its SOURCES.md). Output is a
GeoJSON FeatureCollection sorted by code, one feature per line, each with exactly the properties
``code``, ``name``, ``district_code``, ``district_name``, ``city_code``, ``city_name``.

The geometry is kept as it is except that coordinates are rounded to 6 decimals (about 0.1 m)
and a polygon that is invalid per shapely (before or after rounding) is repaired with
``shapely.make_valid``, keeping only its polygonal parts. Nothing is simplified.

Needs shapely (``.venv/bin/pip install shapely==2.2.0``); the service itself does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO.parent / "shared" / "data" / "boundaries"
DEFAULT_TENANTS = REPO / "tenants"
DECIMALS = 6
PROPERTY_MAP = (  # output property <- source property
    ("code", "kode"),
    ("name", "nama"),
    ("district_code", "kode_kec"),
    ("district_name", "nama_kec"),
    ("city_code", "kode_kabkota"),
    ("city_name", "nama_kabkota"),
)


@dataclass(frozen=True)
class TenantSource:
    tenant: str
    source: str  # path relative to the shared boundaries folder
    root_code: str  # Kemendagri code of the whole tenant
    features: int
    districts: int
    cities: int


TENANTS = (
    TenantSource("jakarta", "jakarta/dki_kelurahan_kemendagri.geojson", "31", 267, 44, 6),
    TenantSource(
        "banda-aceh", "banda_aceh/banda_aceh_gampong_kemendagri.geojson", "11.71", 90, 9, 1
    ),
    TenantSource(
        "bandar-lampung",
        "bandar_lampung/bandar_lampung_kelurahan_kemendagri.geojson",
        "18.71",
        126,
        20,
        1,
    ),
)


@dataclass(frozen=True)
class BuildResult:
    tenant: str
    path: Path
    features: int
    size: int
    repaired: list[str]
    districts: int
    cities: int


def round_coords(coords: Any, decimals: int = DECIMALS) -> Any:
    """Round every number in a (nested) GeoJSON coordinate array; tuples become lists."""
    if isinstance(coords, (int, float)):
        return round(float(coords), decimals)
    return [round_coords(c, decimals) for c in coords]


def polygonal_part(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep only the polygons of a geometry (``make_valid`` may add lines or points)."""
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    polygons: list[Polygon] = []
    for part in getattr(geom, "geoms", ()):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
    if not polygons:
        raise ValueError(f"no polygonal part left in {geom.geom_type}")
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def clean_geometry(geometry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Round the coordinates; repair the result if shapely finds it invalid.

    Returns the GeoJSON geometry and whether it was repaired.
    """
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"unexpected geometry type {geometry.get('type')!r}")
    rounded = {"type": geometry["type"], "coordinates": round_coords(geometry["coordinates"])}
    if shape(rounded).is_valid:
        return rounded, False
    current = rounded
    for _ in range(3):  # repair, round the new vertices, and check again
        fixed = polygonal_part(shapely.make_valid(shape(current)))
        current = dict(mapping(fixed))
        current["coordinates"] = round_coords(current["coordinates"])
        if shape(current).is_valid:
            return current, True
    raise ValueError("polygon still invalid after make_valid and rounding")


def feature_properties(source: dict[str, Any]) -> dict[str, str]:
    """The six output properties, names stripped of stray whitespace."""
    props: dict[str, str] = {}
    for out, src in PROPERTY_MAP:
        value = source.get(src)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"property {src!r} missing or empty")
        props[out] = value.strip()
    return props


def check_codes(props: dict[str, str], root_code: str) -> None:
    """Codes must nest: root ⊇ city ⊇ district ⊇ village (Kemendagri dotted segments)."""
    code, district, city = props["code"], props["district_code"], props["city_code"]
    if len(code.split(".")) != 4 or len(district.split(".")) != 3 or len(city.split(".")) != 2:
        raise ValueError(f"unexpected code shape {code} / {district} / {city}")
    if not code.startswith(district + ".") or not district.startswith(city + "."):
        raise ValueError(f"codes do not nest: {code} / {district} / {city}")
    if not (city == root_code or city.startswith(root_code + ".")):
        raise ValueError(f"{code} is outside tenant root {root_code}")


def build_tenant(spec: TenantSource, shared: Path, tenants_dir: Path) -> BuildResult:
    """Convert one tenant's source file and write its boundaries.geojson."""
    data = json.loads((shared / spec.source).read_text(encoding="utf-8"))
    if data.get("type") != "FeatureCollection":
        raise ValueError(f"{spec.source}: not a FeatureCollection")
    rows: list[tuple[str, str]] = []
    repaired: list[str] = []
    districts: set[str] = set()
    cities: set[str] = set()
    for feature in data["features"]:
        props = feature_properties(feature["properties"])
        try:
            check_codes(props, spec.root_code)
            geometry, was_repaired = clean_geometry(feature["geometry"])
        except ValueError as exc:
            raise ValueError(f"{spec.source} {props['code']}: {exc}") from exc
        if was_repaired:
            repaired.append(props["code"])
        districts.add(props["district_code"])
        cities.add(props["city_code"])
        out = {"type": "Feature", "properties": props, "geometry": geometry}
        rows.append((props["code"], json.dumps(out, separators=(",", ":"), ensure_ascii=False)))
    rows.sort()
    codes = [code for code, _ in rows]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{spec.source}: duplicate codes")
    expected = (spec.features, spec.districts, spec.cities)
    if (len(rows), len(districts), len(cities)) != expected:
        raise ValueError(
            f"{spec.tenant}: expected {expected} features/districts/cities, "
            f"got {(len(rows), len(districts), len(cities))}"
        )
    text = (
        '{"type":"FeatureCollection","features":[\n'
        + ",\n".join(line for _, line in rows)
        + "\n]}\n"
    )
    path = tenants_dir / spec.tenant / "boundaries.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return BuildResult(
        tenant=spec.tenant,
        path=path,
        features=len(rows),
        size=path.stat().st_size,
        repaired=sorted(repaired),
        districts=len(districts),
        cities=len(cities),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared boundaries")
    parser.add_argument("--tenants", type=Path, default=DEFAULT_TENANTS, help="tenants folder")
    args = parser.parse_args(argv)
    for spec in TENANTS:
        result = build_tenant(spec, args.shared, args.tenants)
        print(
            f"{result.tenant}: features={result.features} districts={result.districts} "
            f"cities={result.cities} bytes={result.size:,} "
            f"repaired={len(result.repaired)} -> {result.path}"
        )
        if result.repaired:
            print(f"  repaired: {', '.join(result.repaired)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
