"""Citizen-facing use cases: file a report, read it back, list one's own, receive its photo."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.access import require_staff, require_staff_access
from chalicelib.domain.errors import (
    Conflict,
    InvalidRequest,
    MalformedRequest,
    NotAllowed,
    NotFound,
)
from chalicelib.domain.geo import Coordinates, cells_within, coordinates_problem, haversine_m
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.open311 import Open311Submission
from chalicelib.domain.ports import (
    Clock,
    PresignedPost,
    TenantDirectory,
    TicketRepository,
    UploadSigner,
)
from chalicelib.domain.reports import PHOTO_TYPES, parse_intake, parse_location, parse_report
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import (
    Channel,
    Location,
    LocationSource,
    PendingUpload,
    PhotoKind,
    Status,
    Ticket,
    ticket_number,
)
from chalicelib.observability import emit_metric
from chalicelib.service.routing import Router
from chalicelib.service.views import Audience, iso, ticket_view

log = logging.getLogger(__name__)

UPLOAD_URL_SECONDS = 15 * 60
NEARBY_LIMIT = 20


@dataclass(frozen=True, slots=True)
class SubmittedReport:
    ticket: Ticket
    tenant: Tenant
    upload: PresignedPost | None

    def as_response(self) -> dict[str, Any]:
        upload = None
        if self.upload is not None:
            upload = {
                "url": self.upload.url,
                "fields": dict(self.upload.fields),
                "expires_at": iso(self.upload.expires_at, self.tenant.zone),
            }
        return {
            "ticket_id": self.ticket.ticket_id,
            "number": self.ticket.number,
            "status": self.ticket.status.value,
            "upload": upload,
        }


class ReportService:
    def __init__(
        self,
        tickets: TicketRepository,
        tenants: TenantDirectory,
        uploads: UploadSigner,
        clock: Clock,
        new_id: Callable[[], str],
        router: Router,
        media_base_url: str = "",
    ) -> None:
        self._media = media_base_url.rstrip("/")
        self._router = router
        self._tickets = tickets
        self._tenants = tenants
        self._uploads = uploads
        self._clock = clock
        self._new_id = new_id

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", code="unknown_tenant")
        return tenant

    def tenants(self) -> list[Tenant]:
        return sorted(self._tenants.all(), key=lambda t: t.tenant_id)

    def _new_ticket(
        self,
        tenant: Tenant,
        now: datetime,
        *,
        reporter: str | None = None,
        created_at: datetime | None = None,
        **fields: Any,
    ) -> Ticket:
        """A ticket with its id, its number of today's sequence and its statistics month.

        `reporter` is the reporter's subject; without one (intake, Open311) the ticket is its
        own reporter key, "{channel}:{ticket id}".
        """
        local_day = now.astimezone(tenant.zone)
        sequence = self._tickets.next_sequence(tenant.tenant_id, f"{local_day:%y%m%d}")
        ticket_id = self._new_id()
        created = created_at or now
        channel: Channel = fields["channel"]
        return Ticket(
            tenant=tenant.tenant_id,
            ticket_id=ticket_id,
            number=ticket_number(tenant.number_prefix, local_day, sequence),
            status=Status.LOCATING,
            reporter_id=reporter or f"{channel.value}:{ticket_id}",
            created_at=created,
            updated_at=now,
            month=f"{created.astimezone(tenant.zone):%Y-%m}",
            **fields,
        )

    def submit(self, tenant_id: str, reporter: Principal, body: object) -> SubmittedReport:
        tenant = self.tenant(tenant_id)
        submission = parse_report(body, tenant)
        now = self._clock.now()
        ticket = self._new_ticket(
            tenant,
            now,
            reporter=reporter.subject,
            category=submission.category,
            description=submission.description,
            channel=submission.channel,
            private=submission.private,
            device_location=submission.device_location,
            reporter_contact=(
                {"username": reporter.username} if submission.share_identity else None
            ),
        )
        ticket_id = ticket.ticket_id
        upload = None
        if submission.photo is not None:
            ext = PHOTO_TYPES[submission.photo.content_type]
            key = f"uploads/{tenant.tenant_id}/{ticket_id}/report-{self._new_id()[:12]}.{ext}"
            upload = self._uploads.presign_post(
                key,
                content_type=submission.photo.content_type,
                max_bytes=submission.photo.content_length,
                expires_in=UPLOAD_URL_SECONDS,
            )
            ticket.pending_upload = PendingUpload(
                key=key,
                content_type=submission.photo.content_type,
                max_bytes=submission.photo.content_length,
                expires_at=now + timedelta(seconds=UPLOAD_URL_SECONDS),
                kind=PhotoKind.REPORT,
            )
            ticket.transition(Status.AWAITING_PHOTO, at=now, note="report filed; photo expected")
        elif submission.device_location is not None:
            ticket.location = submission.device_location
            ticket.transition(Status.LOCATING, at=now, note="report filed with device location")
        else:
            ticket.transition(Status.NEEDS_LOCATION, at=now, note="report filed without location")
        self._router.route(ticket)
        self._tickets.add(ticket)
        log.info(
            "report filed",
            extra={"tenant": tenant.tenant_id, "ticket": ticket_id, "status": ticket.status.value},
        )
        emit_metric(
            "ReportsFiled",
            dimensions={"tenant": tenant.tenant_id, "channel": ticket.channel.value},
        )
        return SubmittedReport(ticket=ticket, tenant=tenant, upload=upload)

    def view(self, tenant_id: str, ticket_id: str, caller: Principal | None) -> dict[str, Any]:
        tenant = self.tenant(tenant_id)
        ticket = find_ticket(self._tickets, tenant.tenant_id, ticket_id)
        if ticket is None:
            raise NotFound(f"no report {ticket_id!r} in {tenant_id}")
        audience = Audience.PUBLIC
        if caller is not None and caller.subject == ticket.reporter_id:
            audience = Audience.REPORTER
        elif caller is not None and caller.is_staff_of(tenant.tenant_id):
            audience = Audience.STAFF
        return ticket_view(ticket, tenant, audience, self._media)

    def intake(self, tenant_id: str, operator: Principal, body: object) -> SubmittedReport:
        """A report from a non-app channel, entered by an operator of the tenant."""
        tenant = self.tenant(tenant_id)
        if not operator.has_role(Role.OPERATOR, tenant.tenant_id):
            raise NotAllowed(
                f"only operators of {tenant.tenant_id} enter reports", code="wrong_role"
            )
        now = self._clock.now()
        submission = parse_intake(body, tenant, now)
        received = submission.received_at
        # Not a user of the app: the ticket is its own reporter key, entered by the operator.
        ticket = self._new_ticket(
            tenant,
            now,
            created_at=received,
            category=submission.category,
            description=submission.description,
            channel=submission.channel,
            private=submission.private,
            location=submission.location,
            reporter_contact=submission.contact,
            address=submission.address,
        )
        note = f"received via {submission.channel.value} at {iso(received, tenant.zone)}"
        if submission.location is not None:
            ticket.transition(
                Status.LOCATING, at=now, actor_role="operator", actor_id=operator.subject, note=note
            )
        else:
            ticket.transition(
                Status.NEEDS_LOCATION,
                at=now,
                actor_role="operator",
                actor_id=operator.subject,
                note=f"{note}; address only, an operator places it",
            )
        self._router.route(ticket)
        self._tickets.add(ticket)
        return SubmittedReport(ticket=ticket, tenant=tenant, upload=None)

    def open311_submit(self, tenant: Tenant, client: str, submission: Open311Submission) -> Ticket:
        """A service request from an Open311 client: channel open311, the client named."""
        now = self._clock.now()
        location = None
        if submission.lat is not None and submission.lon is not None:
            location = Location(submission.lat, submission.lon, LocationSource.DEVICE)
        ticket = self._new_ticket(
            tenant,
            now,
            category=submission.service_code,
            description=submission.description,
            channel=Channel.OPEN311,
            # Open311 has no way to opt in to being named: such requests are public, anonymous.
            private=False,
            location=location,
            address=submission.address,
            client=client,
            media_url=submission.media_url,
        )
        ticket.transition(
            Status.LOCATING if location else Status.NEEDS_LOCATION,
            at=now,
            actor_role="open311",
            note=f"received from Open311 client {client}",
        )
        self._router.route(ticket)
        self._tickets.add(ticket)
        return ticket

    def set_location(
        self, tenant_id: str, ticket_id: str, caller: Principal, body: object
    ) -> dict[str, Any]:
        """The reporter places a ticket that had no usable location."""
        tenant = self.tenant(tenant_id)
        if not isinstance(body, Mapping):
            raise MalformedRequest("the request body must be a JSON object")
        location = parse_location(body, "location", LocationSource.MANUAL)
        ticket = find_ticket(self._tickets, tenant.tenant_id, ticket_id)
        if ticket is None:
            raise NotFound(f"no report {ticket_id!r} in {tenant_id}")
        operator = caller.has_role(Role.OPERATOR, tenant.tenant_id)
        if ticket.reporter_id != caller.subject and not operator:
            raise NotAllowed(
                "only the reporter or an operator may set the location", code="not_reporter"
            )
        if operator and ticket.reporter_id != caller.subject:
            location = replace(location, source=LocationSource.OPERATOR)
        if ticket.status is not Status.NEEDS_LOCATION:
            raise Conflict(
                f"the location can be set only while the report needs one (it is {ticket.status})",
                code="invalid_transition",
            )
        now = self._clock.now()
        ticket.location = location
        by = "reporter" if ticket.reporter_id == caller.subject else "operator"
        ticket.transition(
            Status.LOCATING,
            at=now,
            actor_role=by,
            actor_id=caller.subject,
            note=f"location set by the {by}",
        )
        self._router.route(ticket)
        self._tickets.save(ticket)
        return ticket_view(ticket, tenant, Audience.REPORTER, self._media)

    def nearby(
        self, tenant_id: str, *, near: str | None, radius_m: int, category: str | None
    ) -> dict[str, Any]:
        """Open reports of a category near a point, nearest first: duplicate suggestions.

        Private reports are never listed; they are only counted, so a citizen still learns
        that the problem is already reported.
        """
        tenant = self.tenant(tenant_id)
        if not category:
            raise InvalidRequest("category is required", field="category")
        if tenant.category(category) is None:
            raise InvalidRequest(
                f"unknown category {category!r}", code="unknown_category", field="category"
            )
        point = _parse_near(near)
        candidates = self._tickets.open_in_cells(
            tenant.tenant_id, category, cells_within(point.lat, point.lon, radius_m)
        )
        hits: list[tuple[float, Ticket]] = []
        for ticket in candidates:
            if ticket.location is None or not ticket.is_open:
                continue
            distance = haversine_m(point, Coordinates(ticket.location.lat, ticket.location.lon))
            if distance <= radius_m:
                hits.append((distance, ticket))
        hits.sort(key=lambda hit: (hit[0], hit[1].created_at))
        public = [(d, t) for d, t in hits if not t.private]
        return {
            "items": [
                {**ticket_view(t, tenant, Audience.PUBLIC, self._media), "distance_m": round(d, 1)}
                for d, t in public[:NEARBY_LIMIT]
            ],
            "private_nearby": len(hits) - len(public),
        }

    def staff_view(self, tenant_id: str, ticket_id: str, caller: Principal) -> dict[str, Any]:
        tenant = self.tenant(tenant_id)
        require_staff(caller, tenant.tenant_id)
        ticket = find_ticket(self._tickets, tenant.tenant_id, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id!r} in {tenant_id}")
        require_staff_access(caller, ticket)
        return ticket_view(ticket, tenant, Audience.STAFF, self._media)

    def mine(
        self, tenant_id: str, caller: Principal, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        tenant = self.tenant(tenant_id)
        page = self._tickets.list_by_reporter(
            tenant.tenant_id, caller.subject, limit=limit, cursor=cursor
        )
        return {
            "items": [ticket_view(t, tenant, Audience.REPORTER, self._media) for t in page.items],
            "cursor": page.cursor,
        }


def _parse_near(near: str | None) -> Coordinates:
    parts = (near or "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidRequest("near must be 'lat,lon' in decimal degrees", field="near") from None
    problem = coordinates_problem(lat, lon)
    if problem:
        raise InvalidRequest(f"near: {problem}", field="near")
    return Coordinates(lat, lon)


def plausible_id(ticket_id: str) -> bool:
    return len(ticket_id) == 32 and all(c in "0123456789abcdef" for c in ticket_id)


def find_ticket(tickets: TicketRepository, tenant: str, ticket_id: object) -> Ticket | None:
    """A tenant's ticket by id; an id we never issue is not worth a database read."""
    if not isinstance(ticket_id, str) or not plausible_id(ticket_id):
        return None
    return tickets.get(tenant, ticket_id)
