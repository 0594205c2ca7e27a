"""Who is calling: roles come from Cognito groups, tenant and unit from custom attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICIAL = "official"
    VALIDATOR = "validator"
    OPERATOR = "operator"
    ADMIN = "admin"


GROUP_ROLES: dict[str, Role] = {
    "officials": Role.OFFICIAL,
    "validators": Role.VALIDATOR,
    "operators": Role.OPERATOR,
    "admins": Role.ADMIN,
}
STAFF_ROLES: frozenset[Role] = frozenset(GROUP_ROLES.values())


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    username: str
    roles: frozenset[Role]
    tenant: str | None = None
    unit: str | None = None

    def has_role(self, role: Role, tenant: str | None = None) -> bool:
        """A staff role counts only inside the tenant the user is bound to."""
        if role not in self.roles:
            return False
        if role is Role.CITIZEN or tenant is None:
            return True
        return self.tenant == tenant

    def is_staff_of(self, tenant: str) -> bool:
        return self.tenant == tenant and bool(self.roles & STAFF_ROLES)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Build the caller from verified ID-token claims.

    Every signed-in user is a citizen. A staff group only grants its role when the user is also
    bound to a tenant (custom:tenant), and officials need a unit (custom:unit) as well.
    """
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    tenant = claims.get("custom:tenant") or None
    unit = claims.get("custom:unit") or None
    roles = {Role.CITIZEN}
    if isinstance(tenant, str):
        for group in groups:
            role = GROUP_ROLES.get(str(group))
            if role is Role.OFFICIAL and not unit:
                continue
            if role is not None:
                roles.add(role)
    return Principal(
        subject=str(claims["sub"]),
        username=str(claims.get("cognito:username") or claims["sub"]),
        roles=frozenset(roles),
        tenant=tenant if isinstance(tenant, str) else None,
        unit=unit if isinstance(unit, str) else None,
    )
