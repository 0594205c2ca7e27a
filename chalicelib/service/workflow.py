"""Staff act on tickets; reporters rate and reopen them. One ticket write per request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import (
    Conflict,
    InvalidRequest,
    MalformedRequest,
    NotAllowed,
    NotFound,
    StaleWrite,
)
from chalicelib.domain.identity import Principal
from chalicelib.domain.ports import (
    Clock,
    TenantDirectory,
    TicketRepository,
    UnitHeads,
    UploadSigner,
)
from chalicelib.domain.reports import PHOTO_TYPES, parse_declared_photo
from chalicelib.domain.sla import Clock as SlaClock
from chalicelib.domain.sla import start_clock
from chalicelib.domain.tickets import Feedback, PendingUpload, PhotoKind, Status, Ticket
from chalicelib.domain.workflow import (
    REJECT_MESSAGES,
    REOPEN_WINDOW,
    Action,
    RejectReason,
    authorize,
    authorize_actor,
    check_note,
    has_fresh_evidence,
)
from chalicelib.service.reports import UPLOAD_URL_SECONDS, SubmittedReport, find_ticket
from chalicelib.service.views import Audience, ticket_view

log = logging.getLogger(__name__)

ACTION_FIELDS = frozenset({"action", "note", "unit", "reason", "duplicate_of", "expected_version"})
EVIDENCE_STATES = frozenset(
    {Status.WAITING, Status.COORDINATION, Status.DISPOSITION, Status.IN_PROGRESS,
     Status.FOLLOW_UP_REJECTED}
)  # fmt: skip
MAX_COMMENT = 1_000


class TicketActions:
    def __init__(
        self,
        tickets: TicketRepository,
        tenants: TenantDirectory,
        heads: UnitHeads,
        uploads: UploadSigner,
        clock: Clock,
        new_id: Callable[[], str],
        media_base_url: str = "",
    ) -> None:
        self._tickets = tickets
        self._tenants = tenants
        self._heads = heads
        self._uploads = uploads
        self._clock = clock
        self._new_id = new_id
        self._media = media_base_url.rstrip("/")

    def _load(self, tenant_id: str, ticket_id: str) -> Ticket:
        if self._tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", code="unknown_tenant")
        ticket = find_ticket(self._tickets, tenant_id, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id!r} in {tenant_id}")
        return ticket

    def _view(self, ticket: Ticket, audience: Audience) -> dict[str, Any]:
        tenant = self._tenants.get(ticket.tenant)
        assert tenant is not None
        return ticket_view(ticket, tenant, audience, self._media)

    def _clock_from(self, ticket: Ticket, start: datetime) -> SlaClock:
        tenant = self._tenants.get(ticket.tenant)
        assert tenant is not None
        return start_clock(start, tenant.sla, tenant.zone)

    def _unit(self, ticket: Ticket, unit_id: object) -> dict[str, str]:
        if not isinstance(unit_id, str) or not unit_id:
            raise InvalidRequest("unit is required: the id of the receiving unit", field="unit")
        unit = self._tenants.jurisdiction(ticket.tenant).unit(unit_id)
        if unit is None:
            raise InvalidRequest(f"no unit {unit_id!r} in {ticket.tenant}", field="unit")
        if unit.unit_id == (ticket.assigned_unit or {}).get("id"):
            raise InvalidRequest("the ticket is already with that unit", field="unit")
        return unit.summary()

    def act(
        self, tenant_id: str, ticket_id: str, caller: Principal, body: object
    ) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise MalformedRequest("the request body must be a JSON object")
        unknown = set(body) - ACTION_FIELDS
        if unknown:
            raise InvalidRequest(
                f"unknown fields: {', '.join(sorted(unknown))}", field=min(unknown)
            )
        try:
            action = Action(str(body.get("action")))
        except ValueError:
            raise InvalidRequest(
                f"action must be one of {', '.join(a.value for a in Action)}", field="action"
            ) from None
        ticket = self._load(tenant_id, ticket_id)
        authorize_actor(ticket, caller, action)
        expected = body.get("expected_version")
        if expected is not None:
            if isinstance(expected, bool) or not isinstance(expected, int):
                raise InvalidRequest(
                    "expected_version must be a whole number", field="expected_version"
                )
            if expected != ticket.version:
                raise StaleWrite(
                    f"ticket {ticket.number} is at version {ticket.version}, not {expected}; "
                    "reload it and try again"
                )
        rule = authorize(ticket, caller, action)
        note = check_note(body.get("note"), rule.note_required)
        now = self._clock.now()
        actor = {"actor_role": _role_of(caller, action), "actor_id": caller.subject}
        own_unit = (ticket.assigned_unit or {}).get("id")
        if action is Action.PROCESS:
            ticket.transition(Status.IN_PROGRESS, at=now, unit=own_unit, note=note, **actor)
        elif action in (Action.COORDINATE, Action.DISPOSE):
            unit = self._unit(ticket, body.get("unit"))
            if action is Action.DISPOSE:
                target = self._tenants.jurisdiction(ticket.tenant).unit(unit["id"])
                if target is None or target.parent_id != own_unit:
                    raise InvalidRequest(
                        "disposition goes from a dinas to one of its own suku dinas", field="unit"
                    )
            head = self._heads.head_at(ticket.tenant, unit["id"], now)
            clock = self._clock_from(ticket, now)
            ticket.hand_over(
                rule.to,
                unit=unit,
                at=now,
                note=note,
                head=head.name if head else None,
                actor_role=actor["actor_role"],
                actor_id=actor["actor_id"],
                due_at=clock.due_at,
                remind_at=clock.remind_at,
            )
        elif action is Action.SUBMIT_FOLLOW_UP:
            if not has_fresh_evidence(ticket):
                raise InvalidRequest(
                    "upload an evidence photo first (POST .../evidence)", code="evidence_required"
                )
            ticket.transition(Status.AWAITING_VALIDATION, at=now, unit=own_unit, note=note, **actor)
        elif action is Action.VALIDATE:
            ticket.transition(Status.COMPLETED, at=now, unit=own_unit, note=note, **actor)
            ticket.end_assignment(now)
        elif action is Action.REJECT_FOLLOW_UP:
            ticket.transition(Status.FOLLOW_UP_REJECTED, at=now, unit=own_unit, note=note, **actor)
        else:
            reason, message = self._rejection(ticket, body, note)
            ticket.reject(reason, message, at=now, unit=own_unit, **actor)
        self._tickets.save(ticket)
        log.info(
            "ticket action",
            extra={"tenant": tenant_id, "ticket": ticket_id, "action": action.value},
        )
        return self._view(ticket, Audience.STAFF)

    def _rejection(self, ticket: Ticket, body: Mapping[str, Any], note: str) -> tuple[str, str]:
        try:
            reason = RejectReason(str(body.get("reason")))
        except ValueError:
            raise InvalidRequest(
                f"reason must be one of {', '.join(r.value for r in RejectReason)}", field="reason"
            ) from None
        message = note or REJECT_MESSAGES[reason]
        if reason is RejectReason.DUPLICATE:
            original = find_ticket(self._tickets, ticket.tenant, body.get("duplicate_of"))
            if original is None or original.ticket_id == ticket.ticket_id:
                raise InvalidRequest(
                    "duplicate_of must name another ticket of this tenant", field="duplicate_of"
                )
            message = f"duplicate of {original.number}" + (f": {note}" if note else "")
        return reason.value, message

    def evidence_upload(
        self, tenant_id: str, ticket_id: str, caller: Principal, body: object
    ) -> dict[str, Any]:
        ticket = self._load(tenant_id, ticket_id)
        authorize_evidence(ticket, caller)
        if not isinstance(body, Mapping):
            raise MalformedRequest("the request body must be a JSON object")
        declared = parse_declared_photo(body.get("photo", body))
        key = (
            f"uploads/{ticket.tenant}/{ticket.ticket_id}/"
            f"evidence-{self._new_id()[:12]}.{PHOTO_TYPES[declared.content_type]}"
        )
        post = self._uploads.presign_post(
            key,
            content_type=declared.content_type,
            max_bytes=declared.content_length,
            expires_in=UPLOAD_URL_SECONDS,
        )
        ticket.pending_upload = PendingUpload(
            key=key,
            content_type=declared.content_type,
            max_bytes=declared.content_length,
            expires_at=self._clock.now() + timedelta(seconds=UPLOAD_URL_SECONDS),
            kind=PhotoKind.EVIDENCE,
        )
        self._tickets.save(ticket)
        tenant = self._tenants.get(ticket.tenant)
        assert tenant is not None
        return SubmittedReport(ticket=ticket, tenant=tenant, upload=post).as_response()

    # --- the reporter's side -----------------------------------------------------------------

    def _own(self, tenant_id: str, ticket_id: str, caller: Principal) -> Ticket:
        ticket = self._load(tenant_id, ticket_id)
        if ticket.reporter_id != caller.subject:
            raise NotAllowed("only the reporter may do this", code="not_reporter")
        return ticket

    def feedback(
        self, tenant_id: str, ticket_id: str, caller: Principal, body: object
    ) -> dict[str, Any]:
        ticket = self._own(tenant_id, ticket_id, caller)
        if not isinstance(body, Mapping):
            raise MalformedRequest("the request body must be a JSON object")
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRequest("rating must be a whole number from 1 to 5", field="rating")
        comment = body.get("comment") or ""
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise InvalidRequest(
                f"comment must be text of at most {MAX_COMMENT} characters", field="comment"
            )
        if ticket.status is not Status.COMPLETED:
            raise Conflict("a report can be rated once it is completed", code="invalid_transition")
        if ticket.feedback is not None:
            raise Conflict("this report has already been rated", code="already_rated")
        ticket.feedback = Feedback(rating=rating, comment=comment.strip(), at=self._clock.now())
        self._tickets.save(ticket)
        return self._view(ticket, Audience.REPORTER)

    def reopen(
        self, tenant_id: str, ticket_id: str, caller: Principal, body: object
    ) -> dict[str, Any]:
        ticket = self._own(tenant_id, ticket_id, caller)
        if not isinstance(body, Mapping):
            raise MalformedRequest("the request body must be a JSON object")
        reason = check_note(body.get("reason"), required=True)
        if ticket.status is not Status.COMPLETED:
            raise Conflict("only a completed report can be reopened", code="invalid_transition")
        now = self._clock.now()
        completed_at = max(e.at for e in ticket.timeline if e.to_status is Status.COMPLETED)
        if now - completed_at > REOPEN_WINDOW:
            raise Conflict("a report can be reopened within 7 days of completion", code="too_late")
        last = ticket.assignments[-1]
        head = self._heads.head_at(ticket.tenant, last.unit_id, now)
        clock = self._clock_from(ticket, now)
        ticket.hand_over(
            Status.WAITING,
            unit={"id": last.unit_id, "name": last.unit_name, "type": last.unit_type},
            at=now,
            actor_role="reporter",
            actor_id=caller.subject,
            note=reason,
            head=head.name if head else None,
            reason="reopen",
            due_at=clock.due_at,
            remind_at=clock.remind_at,
        )
        self._tickets.save(ticket)
        return self._view(ticket, Audience.REPORTER)


def authorize_evidence(ticket: Ticket, caller: Principal) -> None:
    from chalicelib.domain.identity import Role

    assigned = (ticket.assigned_unit or {}).get("id")
    if not (caller.has_role(Role.OFFICIAL, ticket.tenant) and caller.unit == assigned):
        raise NotAllowed("only officials of the assigned unit add evidence", code="not_your_unit")
    if ticket.status not in EVIDENCE_STATES:
        raise Conflict(f"no evidence can be added while the ticket is {ticket.status}")


def _role_of(caller: Principal, action: Action) -> str:
    from chalicelib.domain.identity import Role
    from chalicelib.domain.workflow import RULES

    for role in (Role.VALIDATOR, Role.ADMIN, Role.OFFICIAL):
        if role in caller.roles and role in RULES[action].roles:
            return role.value
    return "staff"
