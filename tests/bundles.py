"""Tiny synthetic tenant bundles: one or two square villages, for tests that need a bundle fast."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from chalicelib.domain.bundle import TenantBundle, parse_bundle

# A made-up city-province tenant around Ternate (Maluku Utara is UTC+9, WIT).
TINY_CONFIG: dict[str, Any] = {
    "id": "maluku-utara",
    "name": "Provinsi Maluku Utara",
    "timezone": "Asia/Jayapura",
    "number_prefix": "MUT",
    "categories": [
        {"code": "sampah", "name_id": "Sampah", "name_en": "Trash"},
        {"code": "lampu_jalan", "name_id": "Lampu Jalan Mati", "name_en": "Street light out"},
    ],
    "boundaries": "boundaries.geojson",
    "levels": {
        "root": {"code": "82", "unit_type": "pemprov", "name": "Pemerintah Provinsi Maluku Utara"},
        "city": {"unit_type": "kota", "name": "{name}"},
        "district": {"unit_type": "kecamatan", "name": "Kecamatan {name}"},
        "village": {"unit_type": "kelurahan", "name": "Kelurahan {name}"},
    },
    "agencies": [
        {"unit_type": "dinas-pu", "name": "Dinas Pekerjaan Umum", "level": "root"},
        {
            "unit_type": "sudin-pu",
            "name": "Suku Dinas PU {name}",
            "level": "city",
            "parent_type": "dinas-pu",
        },
    ],
    "routing": [{"category": "lampu_jalan", "unit_type": "sudin-pu"}],
}

# Ternate sits at about 0.79 N, 127.38 E.
ORIGIN = (127.37, 0.78)


def square(lon: float, lat: float, size: float = 0.01) -> list[list[float]]:
    """A closed lon,lat ring, counter-clockwise, with its lower-left corner at (lon, lat)."""
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def village(code: str, name: str, ring: list[list[float]], **properties: str) -> dict[str, Any]:
    parts = code.split(".")
    props = {
        "code": code,
        "name": name,
        "district_code": ".".join(parts[:3]),
        "district_name": "Ternate Tengah",
        "city_code": ".".join(parts[:2]),
        "city_name": "Kota Ternate",
        **properties,
    }
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def one_village() -> dict[str, Any]:
    return collection(village("82.71.01.1001", "Gamalama", square(*ORIGIN)))


def tiny_config(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(TINY_CONFIG)
    config.update(changes)
    return config


def tiny_bundle(
    revision: str = "r1", config: dict[str, Any] | None = None, boundaries: Any = None
) -> TenantBundle:
    return parse_bundle(
        config if config is not None else tiny_config(),
        boundaries if boundaries is not None else one_village(),
        revision=revision,
    )


def write_bundle_folder(
    parent: Path, folder: str, config: object, boundaries: object | None = None
) -> Path:
    """A bundle folder as an admin hands it over: tenant.json and its boundaries file."""
    path = parent / folder
    path.mkdir()
    (path / "tenant.json").write_text(json.dumps(config), encoding="utf-8")
    (path / "boundaries.geojson").write_text(
        json.dumps(boundaries if boundaries is not None else one_village()), encoding="utf-8"
    )
    return path
