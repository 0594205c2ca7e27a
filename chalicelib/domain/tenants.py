"""A tenant (regional government) as data: its name, clock, ticket prefix and categories."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.sla import SlaPolicy, parse_policy

TENANT_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
NUMBER_PREFIX = re.compile(r"^[A-Z]{2,5}$")
STRUCTURE_FIELDS = ("boundaries", "levels", "agencies", "routing", "sla")


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_id: str
    name_en: str
    description_id: str = ""
    description_en: str = ""


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    name: str
    timezone: str
    number_prefix: str
    categories: tuple[Category, ...]
    # levels, agencies, routing and the boundaries file name: read by the jurisdiction.
    structure: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Content hash of the loaded bundle; areas are stored under it (see adapters.dynamodb).
    revision: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sla(self) -> SlaPolicy:
        return parse_policy(self.structure.get("sla"), f"tenants/{self.tenant_id}")

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TenantConfigError(f"{where}: field '{key}' must be a non-empty string")
    return value.strip()


def parse_tenant(data: object, source: str = "tenant.json") -> Tenant:
    """Validate a tenant config document; every error names the source, the item and the field."""
    if not isinstance(data, Mapping):
        raise TenantConfigError(f"{source}: the document must be a JSON object")
    tenant_id = _text(data, "id", source)
    if not TENANT_ID.fullmatch(tenant_id):
        raise TenantConfigError(
            f"{source}: field 'id' must be lowercase letters, digits and dashes, got {tenant_id!r}"
        )
    timezone = _text(data, "timezone", source)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TenantConfigError(
            f"{source}: field 'timezone' is not an IANA zone: {timezone!r}"
        ) from exc
    prefix = _text(data, "number_prefix", source)
    if not NUMBER_PREFIX.match(prefix):
        raise TenantConfigError(f"{source}: field 'number_prefix' must be 2-5 capital letters")
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise TenantConfigError(f"{source}: field 'categories' must be a non-empty list")
    categories: list[Category] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_categories):
        where = f"{source}: categories[{index}]"
        if not isinstance(raw, Mapping):
            raise TenantConfigError(f"{where} must be an object")
        code = _text(raw, "code", where)
        if not CATEGORY_CODE.match(code):
            raise TenantConfigError(f"{where}: field 'code' must be lowercase ASCII and '_'")
        if code in seen:
            raise TenantConfigError(f"{where}: duplicate category code {code!r}")
        seen.add(code)
        categories.append(
            Category(
                code=code,
                name_id=_text(raw, "name_id", where),
                name_en=_text(raw, "name_en", where),
                description_id=_text(raw, "description_id", where, required=False),
                description_en=_text(raw, "description_en", where, required=False),
            )
        )
    parse_policy(data.get("sla"), source)
    revision = data.get("revision", "")
    return Tenant(
        tenant_id=tenant_id,
        name=_text(data, "name", source),
        timezone=timezone,
        number_prefix=prefix,
        categories=tuple(categories),
        structure={k: data[k] for k in STRUCTURE_FIELDS if k in data},
        revision=revision if isinstance(revision, str) else "",
    )


def tenant_document(tenant: Tenant) -> dict[str, Any]:
    """The inverse of `parse_tenant`: what a store keeps."""
    return {
        **dict(tenant.structure),
        "revision": tenant.revision,
        "id": tenant.tenant_id,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "number_prefix": tenant.number_prefix,
        "categories": [
            {
                "code": c.code,
                "name_id": c.name_id,
                "name_en": c.name_en,
                "description_id": c.description_id,
                "description_en": c.description_en,
            }
            for c in tenant.categories
        ],
    }
