"""Staff actions on a ticket (CRM's follow-up workflow) as one table of rules.

Who may do what, from which status, to which status. The role check comes first (403), then
the unit (403: officials act only on their unit's tickets), then the status (409, listing what
is allowed now), then the action's own requirements (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import Conflict, InvalidRequest, NotAllowed
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import PhotoKind, Status, Ticket

MAX_HANDOVERS_WITHOUT_VALIDATOR = 3
REOPEN_WINDOW = timedelta(days=7)
MAX_NOTE = 2_000


class Action(StrEnum):
    PROCESS = "process"
    COORDINATE = "coordinate"
    DISPOSE = "dispose"
    SUBMIT_FOLLOW_UP = "submit_follow_up"
    VALIDATE = "validate"
    REJECT_FOLLOW_UP = "reject_follow_up"
    REJECT = "reject"


class RejectReason(StrEnum):
    DUPLICATE = "duplicate"
    SPAM = "spam"
    NOT_PUBLIC_MATTER = "not_public_matter"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"


REJECT_MESSAGES = {
    RejectReason.DUPLICATE: "already reported",
    RejectReason.SPAM: "not a genuine report",
    RejectReason.NOT_PUBLIC_MATTER: "not a matter for the government to act on",
    RejectReason.OUTSIDE_JURISDICTION: "outside the area this government serves",
}

WORKING = frozenset(
    {
        Status.WAITING,
        Status.COORDINATION,
        Status.DISPOSITION,
        Status.IN_PROGRESS,
        Status.FOLLOW_UP_REJECTED,
    }
)
OFFICIAL = frozenset({Role.OFFICIAL})
VALIDATOR = frozenset({Role.VALIDATOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Rule:
    to: Status
    from_states: frozenset[Status]
    roles: frozenset[Role]
    note_required: bool = False


RULES: dict[Action, Rule] = {
    Action.PROCESS: Rule(Status.IN_PROGRESS, WORKING - {Status.IN_PROGRESS}, OFFICIAL),
    Action.COORDINATE: Rule(Status.COORDINATION, WORKING, OFFICIAL | VALIDATOR, note_required=True),
    Action.DISPOSE: Rule(
        Status.DISPOSITION,
        frozenset({Status.WAITING, Status.IN_PROGRESS, Status.COORDINATION}),
        OFFICIAL,
        note_required=True,
    ),
    Action.SUBMIT_FOLLOW_UP: Rule(
        Status.AWAITING_VALIDATION,
        frozenset({Status.IN_PROGRESS, Status.FOLLOW_UP_REJECTED}),
        OFFICIAL,
        note_required=True,
    ),
    Action.VALIDATE: Rule(Status.COMPLETED, frozenset({Status.AWAITING_VALIDATION}), VALIDATOR),
    Action.REJECT_FOLLOW_UP: Rule(
        Status.FOLLOW_UP_REJECTED,
        frozenset({Status.AWAITING_VALIDATION}),
        VALIDATOR,
        note_required=True,
    ),
    Action.REJECT: Rule(Status.REJECTED, WORKING | {Status.NEEDS_LOCATION}, OFFICIAL | VALIDATOR),
}
HANDOVERS = frozenset({Action.COORDINATE, Action.DISPOSE})


def _acting_roles(principal: Principal, ticket: Ticket) -> frozenset[Role]:
    """The caller's roles that count on this ticket (staff roles only inside their tenant)."""
    if not principal.is_staff_of(ticket.tenant):
        return frozenset()
    return principal.roles - {Role.CITIZEN}


def _on_ticket(principal: Principal, ticket: Ticket, roles: frozenset[Role]) -> bool:
    """Validators and admins act on the whole tenant; officials only for the assigned unit."""
    if roles & VALIDATOR:
        return True
    assigned = (ticket.assigned_unit or {}).get("id")
    return assigned is not None and assigned == principal.unit


def allowed_actions(ticket: Ticket, principal: Principal) -> list[Action]:
    roles = _acting_roles(principal, ticket)
    allowed = []
    for action, rule in RULES.items():
        usable = roles & rule.roles
        if usable and ticket.status in rule.from_states and _on_ticket(principal, ticket, usable):
            allowed.append(action)
    return allowed


def authorize_actor(ticket: Ticket, principal: Principal, action: Action) -> frozenset[Role]:
    """Role, then unit: who may act at all, before anything about the ticket's state is said."""
    rule = RULES[action]
    usable = _acting_roles(principal, ticket) & rule.roles
    if not usable:
        raise NotAllowed(
            f"{action} is for {', '.join(sorted(r.value for r in rule.roles))} of {ticket.tenant}",
            code="wrong_role",
        )
    if not _on_ticket(principal, ticket, usable):
        raise NotAllowed(f"ticket {ticket.number} is not with your unit", code="not_your_unit")
    return usable


def authorize(ticket: Ticket, principal: Principal, action: Action) -> Rule:
    rule = RULES[action]
    usable = authorize_actor(ticket, principal, action)
    if ticket.status not in rule.from_states:
        allowed = ", ".join(a.value for a in allowed_actions(ticket, principal)) or "none"
        raise Conflict(
            f"cannot {action} a ticket that is {ticket.status}; allowed now: {allowed}",
            code="invalid_transition",
        )
    limit_reached = handovers(ticket) >= MAX_HANDOVERS_WITHOUT_VALIDATOR
    if action in HANDOVERS and limit_reached and not usable & VALIDATOR:
        raise NotAllowed(
            f"ticket {ticket.number} was handed over {handovers(ticket)} times; "
            "a validator must decide where it goes now",
            code="handover_limit",
        )
    return rule


def handovers(ticket: Ticket) -> int:
    return sum(1 for a in ticket.assignments if a.reason == "handover")


def check_note(note: object, required: bool) -> str:
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise InvalidRequest("note must be text", field="note")
    note = note.strip()
    if required and not note:
        raise InvalidRequest("a note (the reason) is required for this action", field="note")
    if len(note) > MAX_NOTE:
        raise InvalidRequest(f"note must be at most {MAX_NOTE} characters", field="note")
    return note


def has_fresh_evidence(ticket: Ticket) -> bool:
    """An evidence photo received since the current assignment began or the last rejection."""
    since: datetime | None = ticket.assignments[-1].started_at if ticket.assignments else None
    for event in ticket.timeline:
        if event.to_status is Status.FOLLOW_UP_REJECTED:
            since = event.at
    return any(
        p.kind is PhotoKind.EVIDENCE and (since is None or p.received_at >= since)
        for p in ticket.photos
    )
