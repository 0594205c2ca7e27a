"""Who may see what (DESIGN.md sections 4 and 6), as plain rules over a principal and a ticket."""

from __future__ import annotations

from chalicelib.domain.errors import NotAllowed
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Ticket

TENANT_WIDE_ROLES = frozenset({Role.VALIDATOR, Role.ADMIN, Role.OPERATOR})


def require_staff(principal: Principal, tenant: str) -> None:
    if not principal.is_staff_of(tenant):
        raise NotAllowed(f"only staff of {tenant} may do this", code="staff_only")


def require_staff_access(principal: Principal, ticket: Ticket) -> None:
    """Validators, admins and operators see their whole tenant; officials their unit's tickets."""
    require_staff(principal, ticket.tenant)
    if principal.roles & TENANT_WIDE_ROLES:
        return
    assigned = (ticket.assigned_unit or {}).get("id")
    if assigned is None or assigned != principal.unit:
        raise NotAllowed(f"ticket {ticket.number} is not with your unit", code="not_your_unit")
