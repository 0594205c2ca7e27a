"""A tenant's jurisdiction: its areas (from Kemendagri boundaries), its units, its routing rules.

Units are derived, never stored: one per village (kelurahan/gampong), district (kecamatan) and
city (kota/kabupaten) below the tenant's root, plus the agencies of its config (a dinas at the
root, a suku dinas per city, Satpol PP per district, ...). A unit's id is
"{unit_type}:{Kemendagri code of the area it covers}", e.g. "kelurahan:31.71.01.1001" or
"sudin-bina-marga:31.71", so the unit of a type covering a location is found by its code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.placement import Inside, Outside

if TYPE_CHECKING:
    from chalicelib.domain.areas import AreaIndex

LEVELS = ("root", "city", "district", "village")
# Number of dot-separated segments of a Kemendagri code at each level.
SEGMENTS = {"province": 1, "city": 2, "district": 3, "village": 4}
KODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
UNIT_TYPE = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Village:
    """One polygon of the boundaries file, with the districts and city it belongs to."""

    code: str
    name: str
    district_code: str
    district_name: str
    city_code: str
    city_name: str


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    unit_type: str
    name: str
    level: str
    area_code: str
    parent_id: str | None

    def summary(self) -> dict[str, str]:
        return {"id": self.unit_id, "name": self.name, "type": self.unit_type}


@dataclass(frozen=True, slots=True)
class LevelSpec:
    unit_type: str
    name: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class AgencySpec:
    unit_type: str
    name: str
    level: str
    parent_type: str | None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a point fell: its village, and whether it was snapped in from just outside."""

    village: Village
    snapped_m: float | None = None


@dataclass(frozen=True, slots=True)
class Route:
    placement: Placement
    unit: Unit
    area: dict[str, dict[str, str]]


@dataclass
class Jurisdiction:
    tenant_id: str
    tenant_name: str
    root: Area
    levels: dict[str, LevelSpec]
    agencies: tuple[AgencySpec, ...]
    routing: dict[str, str]
    villages: dict[str, Village]
    units: dict[str, Unit] = field(default_factory=dict)
    index: AreaIndex | None = None

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        tenant_id: str,
        tenant_name: str,
        config: Mapping[str, Any],
        villages: Sequence[Village],
        categories: Sequence[str],
        source: str = "tenant.json",
    ) -> Jurisdiction:
        levels = _parse_levels(config.get("levels"), source)
        root_spec = levels["root"]
        assert root_spec.code is not None
        root = Area(root_spec.code, root_spec.name, _level_of(root_spec.code))
        agencies = _parse_agencies(config.get("agencies", []), source)
        jurisdiction = cls(
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            root=root,
            levels=levels,
            agencies=agencies,
            routing={},
            villages={v.code: v for v in villages},
        )
        jurisdiction._derive_units(source)
        jurisdiction.routing = _parse_routing(
            config.get("routing", []), categories, jurisdiction.unit_types(), source
        )
        return jurisdiction

    def _areas(self, level: str) -> dict[str, str]:
        """code -> name of every area of a level below the root."""
        if level == "village":
            return {v.code: v.name for v in self.villages.values()}
        if level == "district":
            return {v.district_code: v.district_name for v in self.villages.values()}
        if level == "city":
            return {v.city_code: v.city_name for v in self.villages.values()}
        return {self.root.code: self.root.name}

    def _add(self, unit: Unit, source: str) -> None:
        if unit.unit_id in self.units:
            raise TenantConfigError(f"{source}: duplicate unit {unit.unit_id!r}")
        self.units[unit.unit_id] = unit

    def _derive_units(self, source: str) -> None:
        root_type = self.levels["root"].unit_type
        self._add(
            Unit(
                f"{root_type}:{self.root.code}",
                root_type,
                self.root.name,
                "root",
                self.root.code,
                None,
            ),
            source,
        )
        parent_level = "root"
        for level in ("city", "district", "village"):
            spec = self.levels.get(level)
            if spec is None:
                continue
            parent_spec = self.levels[parent_level]
            for code, name in sorted(self._areas(level).items()):
                parent_code = (
                    self.root.code if parent_level == "root" else _truncate(code, parent_level)
                )
                self._add(
                    Unit(
                        unit_id=f"{spec.unit_type}:{code}",
                        unit_type=spec.unit_type,
                        name=spec.name.replace("{name}", name),
                        level=level,
                        area_code=code,
                        parent_id=f"{parent_spec.unit_type}:{parent_code}",
                    ),
                    source,
                )
            parent_level = level
        levels_of = {spec.unit_type: level for level, spec in self.levels.items()}
        for agency in self.agencies:
            levels_of[agency.unit_type] = agency.level
        for index, agency in enumerate(self.agencies):
            where = f"{source}: agencies[{index}]"
            if agency.level != "root" and agency.level not in self.levels:
                raise TenantConfigError(
                    f"{where}: level {agency.level!r} does not exist in this tenant"
                )
            parent_type = agency.parent_type
            if parent_type is not None:
                if parent_type not in levels_of:
                    raise TenantConfigError(
                        f"{where}: field 'parent_type' names unknown unit type {parent_type!r}"
                    )
                if LEVELS.index(levels_of[parent_type]) > LEVELS.index(agency.level):
                    raise TenantConfigError(
                        f"{where}: parent type {parent_type!r} is below level {agency.level!r}"
                    )
            for code, name in sorted(self._areas(agency.level).items()):
                parent_id = f"{self.levels['root'].unit_type}:{self.root.code}"
                if parent_type is not None:
                    parent_level = levels_of[parent_type]
                    parent_code = (
                        self.root.code if parent_level == "root" else _truncate(code, parent_level)
                    )
                    parent_id = f"{parent_type}:{parent_code}"
                self._add(
                    Unit(
                        unit_id=f"{agency.unit_type}:{code}",
                        unit_type=agency.unit_type,
                        name=agency.name.replace("{name}", name),
                        level=agency.level,
                        area_code=code,
                        parent_id=parent_id,
                    ),
                    source,
                )
        for unit in self.units.values():
            if unit.parent_id is not None and unit.parent_id not in self.units:
                raise TenantConfigError(
                    f"{source}: unit {unit.unit_id!r} has unknown parent {unit.parent_id!r}"
                )

    # -- queries -----------------------------------------------------------------------------

    def unit_types(self) -> dict[str, str]:
        """unit type -> level."""
        types = {spec.unit_type: level for level, spec in self.levels.items()}
        types.update({a.unit_type: a.level for a in self.agencies})
        return types

    def unit(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def parent(self, unit_id: str) -> Unit | None:
        unit = self.units.get(unit_id)
        return self.units.get(unit.parent_id) if unit and unit.parent_id else None

    def area_of(self, village: Village) -> dict[str, dict[str, str]]:
        city_code, city_name = village.city_code, village.city_name
        if "city" not in self.levels:
            city_code, city_name = self.root.code, _city_name(self.root)
        return {
            "kelurahan": {"code": village.code, "name": village.name},
            "kecamatan": {"code": village.district_code, "name": village.district_name},
            "kota": {"code": city_code, "name": city_name},
        }

    def locate(self, lat: float, lon: float) -> Placement | Outside:
        if self.index is None:
            raise RuntimeError(f"{self.tenant_id}: boundaries are not loaded")
        found = self.index.locate(lat, lon)
        if isinstance(found, Outside):
            return found
        assert isinstance(found, Inside)
        return Placement(self.villages[found.code], snapped_m=found.snapped_m)

    def nearest_name(self, outside: Outside) -> str | None:
        village = self.villages.get(outside.nearest_code or "")
        return f"{village.name}, {village.district_name}" if village else None

    def route(self, category: str, placement: Placement) -> Route:
        village = placement.village
        unit_type = self.routing.get(category) or self.levels["village"].unit_type
        level = self.unit_types()[unit_type]
        code = self.root.code if level == "root" else _truncate(village.code, level)
        unit = self.units[f"{unit_type}:{code}"]
        return Route(placement=placement, unit=unit, area=self.area_of(village))


def _city_name(root: Area) -> str:
    # A city-level tenant's root unit is its government ("Pemerintah Kota Banda Aceh").
    return root.name.removeprefix("Pemerintah ").strip()


def _truncate(code: str, level: str) -> str:
    return ".".join(code.split(".")[: SEGMENTS[level]])


def _level_of(code: str) -> str:
    return {1: "province", 2: "city"}.get(len(code.split(".")), "invalid")


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TenantConfigError(f"{where}: field '{key}' must be a non-empty string")
    return value.strip()


def _unit_type(data: Mapping[str, Any], where: str, key: str = "unit_type") -> str:
    value = _text(data, key, where)
    if not UNIT_TYPE.match(value):
        raise TenantConfigError(f"{where}: field '{key}' must be lowercase letters, digits, '-'")
    return value


def _parse_levels(raw: Any, source: str) -> dict[str, LevelSpec]:
    if not isinstance(raw, Mapping):
        raise TenantConfigError(f"{source}: field 'levels' must be an object")
    unknown = set(raw) - set(LEVELS)
    if unknown:
        raise TenantConfigError(f"{source}: levels has unknown entries {sorted(unknown)}")
    for needed in ("root", "district", "village"):
        if not isinstance(raw.get(needed), Mapping):
            raise TenantConfigError(f"{source}: levels.{needed} is required")
    levels: dict[str, LevelSpec] = {}
    for level in LEVELS:
        if level not in raw:
            continue
        where = f"{source}: levels.{level}"
        spec = raw[level]
        if not isinstance(spec, Mapping):
            raise TenantConfigError(f"{where} must be an object")
        code = None
        if level == "root":
            code = _text(spec, "code", where)
            if _level_of(code) == "invalid" or not KODE.match(code):
                raise TenantConfigError(
                    f"{where}: field 'code' must be a province (31) or city (11.71) code"
                )
        levels[level] = LevelSpec(_unit_type(spec, where), _text(spec, "name", where), code)
    root_level = _level_of(levels["root"].code or "")
    if root_level == "province" and "city" not in levels:
        raise TenantConfigError(f"{source}: levels.city is required under a province root")
    if root_level == "city" and "city" in levels:
        raise TenantConfigError(f"{source}: levels.city must be absent when the root is a city")
    seen: set[str] = set()
    for level, spec in levels.items():
        if spec.unit_type in seen:
            raise TenantConfigError(f"{source}: levels.{level}: duplicate unit type")
        seen.add(spec.unit_type)
    return levels


def _parse_agencies(raw: Any, source: str) -> tuple[AgencySpec, ...]:
    if not isinstance(raw, list):
        raise TenantConfigError(f"{source}: field 'agencies' must be a list")
    agencies: list[AgencySpec] = []
    for index, item in enumerate(raw):
        where = f"{source}: agencies[{index}]"
        if not isinstance(item, Mapping):
            raise TenantConfigError(f"{where} must be an object")
        level = _text(item, "level", where)
        if level not in LEVELS:
            raise TenantConfigError(f"{where}: field 'level' must be one of {', '.join(LEVELS)}")
        parent = item.get("parent_type")
        agencies.append(
            AgencySpec(
                unit_type=_unit_type(item, where),
                name=_text(item, "name", where),
                level=level,
                parent_type=_unit_type(item, where, "parent_type") if parent is not None else None,
            )
        )
    return tuple(agencies)


def _parse_routing(
    raw: Any, categories: Sequence[str], unit_types: Mapping[str, str], source: str
) -> dict[str, str]:
    if not isinstance(raw, list):
        raise TenantConfigError(f"{source}: field 'routing' must be a list")
    rules: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"{source}: routing[{index}]"
        if not isinstance(item, Mapping):
            raise TenantConfigError(f"{where} must be an object")
        category = _text(item, "category", where)
        unit_type = _text(item, "unit_type", where)
        if category not in categories:
            raise TenantConfigError(f"{where}: category {category!r} is not in categories")
        if unit_type not in unit_types:
            raise TenantConfigError(
                f"{where}: category {category!r} is routed to unit type {unit_type!r}, "
                "which no level or agency defines"
            )
        if category in rules:
            raise TenantConfigError(f"{where}: category {category!r} has two rules")
        rules[category] = unit_type
    return rules


def parse_villages(document: Any, root_code: str, source: str) -> list[Village]:
    """The properties of the boundaries file (geometry is checked by the area index)."""
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise TenantConfigError(f"{source}: must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise TenantConfigError(f"{source}: has no features")
    villages: list[Village] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        code = props.get("code") if isinstance(props, Mapping) else None
        where = f"{source}: feature {index} ({code or 'no code'})"
        if not isinstance(props, Mapping):
            raise TenantConfigError(f"{where}: properties missing")
        village = Village(
            code=_text(props, "code", where),
            name=_text(props, "name", where),
            district_code=_text(props, "district_code", where),
            district_name=_text(props, "district_name", where),
            city_code=_text(props, "city_code", where),
            city_name=_text(props, "city_name", where),
        )
        if not KODE.match(village.code) or len(village.code.split(".")) != 4:
            raise TenantConfigError(f"{where}: field 'code' is not a village code (31.71.01.1001)")
        if _truncate(village.code, "district") != village.district_code:
            raise TenantConfigError(f"{where}: field 'district_code' does not match 'code'")
        if _truncate(village.code, "city") != village.city_code:
            raise TenantConfigError(f"{where}: field 'city_code' does not match 'code'")
        if not (village.code + ".").startswith(root_code + "."):
            raise TenantConfigError(f"{where}: lies outside the tenant's root area {root_code}")
        if village.code in seen:
            raise TenantConfigError(f"{where}: duplicate code {village.code}")
        seen.add(village.code)
        villages.append(village)
    return villages
