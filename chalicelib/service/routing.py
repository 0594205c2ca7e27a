"""Locate a ticket in its tenant's areas and hand it to the responsible unit."""

from __future__ import annotations

import logging

from chalicelib.domain.placement import Outside
from chalicelib.domain.ports import Clock, TenantDirectory, UnitHeads
from chalicelib.domain.sla import start_clock
from chalicelib.domain.tickets import Status, Ticket

log = logging.getLogger(__name__)

OUTSIDE_JURISDICTION = "outside_jurisdiction"


class Router:
    def __init__(self, tenants: TenantDirectory, heads: UnitHeads, clock: Clock) -> None:
        self._tenants = tenants
        self._heads = heads
        self._clock = clock

    def route(self, ticket: Ticket) -> None:
        """A ticket in `locating` leaves it: to a unit, to `needs_location`, or `rejected`."""
        if ticket.status is not Status.LOCATING:
            return
        now = self._clock.now()
        location = ticket.location or ticket.device_location
        if location is None:
            ticket.transition(
                Status.NEEDS_LOCATION, at=now, note="no location: the reporter must set it"
            )
            return
        jurisdiction = self._tenants.jurisdiction(ticket.tenant)
        placed = jurisdiction.locate(location.lat, location.lon)
        if isinstance(placed, Outside):
            nearest = jurisdiction.nearest_name(placed)
            detail = ""
            if nearest and placed.distance_m is not None:
                detail = f"; the nearest area is {nearest}, {placed.distance_m / 1000:.1f} km away"
            ticket.location = location
            ticket.reject(
                OUTSIDE_JURISDICTION,
                f"({location.lat:.5f}, {location.lon:.5f}) is outside the area served by "
                f"{jurisdiction.tenant_name}{detail}",
                at=now,
            )
            return
        route = jurisdiction.route(ticket.category, placed)
        head = self._heads.head_at(ticket.tenant, route.unit.unit_id, now)
        if placed.snapped_m is not None:
            ticket.flag("location_snapped")
        tenant = self._tenants.get(ticket.tenant)
        clock = start_clock(now, tenant.sla, tenant.zone) if tenant else None
        ticket.assign(
            unit=route.unit.summary(),
            area=route.area,
            location=location,
            at=now,
            head=head.name if head else None,
            due_at=clock.due_at if clock else None,
            remind_at=clock.remind_at if clock else None,
        )
        log.info(
            "ticket routed",
            extra={"tenant": ticket.tenant, "ticket": ticket.ticket_id, "unit": route.unit.unit_id},
        )
