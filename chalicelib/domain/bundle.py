"""A tenant bundle: tenant.json plus its boundaries, validated completely before any use."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from chalicelib.domain.areas import AreaIndex, shapes_from_geojson
from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.jurisdiction import Jurisdiction, Village, parse_villages
from chalicelib.domain.tenants import Tenant, parse_tenant


@dataclass(frozen=True)
class TenantBundle:
    tenant: Tenant
    jurisdiction: Jurisdiction
    shapes: Mapping[str, BaseGeometry]


def revision_of(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def build_jurisdiction(
    tenant: Tenant, villages: list[Village], shapes: Mapping[str, BaseGeometry], source: str
) -> Jurisdiction:
    missing = sorted({v.code for v in villages} - set(shapes))
    if missing:
        raise TenantConfigError(f"{source}: no geometry for {', '.join(missing[:5])}")
    jurisdiction = Jurisdiction.build(
        tenant_id=tenant.tenant_id,
        tenant_name=tenant.name,
        config=tenant.structure,
        villages=villages,
        categories=[c.code for c in tenant.categories],
        source=source,
    )
    jurisdiction.index = AreaIndex(shapes)
    return jurisdiction


def parse_bundle(
    config: Any,
    boundaries: Any,
    *,
    revision: str,
    config_source: str = "tenant.json",
    boundaries_source: str = "boundaries.geojson",
) -> TenantBundle:
    if isinstance(config, Mapping):
        config = {**config, "revision": revision}
    tenant = parse_tenant(config, source=config_source)
    if not tenant.structure.get("levels"):
        raise TenantConfigError(f"{config_source}: field 'levels' is required")
    levels = tenant.structure["levels"]
    root = levels.get("root") if isinstance(levels, Mapping) else None
    root_code = root.get("code") if isinstance(root, Mapping) else None
    if not isinstance(root_code, str) or not root_code:
        raise TenantConfigError(f"{config_source}: field 'levels.root.code' is required")
    villages = parse_villages(boundaries, root_code, boundaries_source)
    shapes = shapes_from_geojson(boundaries, boundaries_source)
    jurisdiction = build_jurisdiction(tenant, villages, shapes, config_source)
    return TenantBundle(tenant=tenant, jurisdiction=jurisdiction, shapes=shapes)
