"""Staff actions, evidence, feedback and reopening through TicketActions over fakes.

The expectations are written out here from DESIGN.md section 4 and issue 5, never read from
`chalicelib.domain.workflow.RULES`, so a wrong rule in the code fails a test.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.bootstrap import Services
from chalicelib.domain.errors import Conflict, InvalidRequest, NotAllowed, StaleWrite
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Status, Ticket, TimelineEvent
from chalicelib.domain.workflow import Action
from tests.fakes import FixedClock, fake_services
from tests.workflow_helpers import (
    DINAS_BINA_MARGA,
    DINAS_SDA,
    GAMBIR,
    MENTENG,
    SUDIN_BINA_MARGA_JP,
    SUDIN_BINA_MARGA_JU,
    SUDIN_SDA_JP,
    citizen,
    make_ticket,
    official,
    reporter,
    staff,
    unit,
    validator,
)

S = Status

# --- the table, written out -------------------------------------------------------------------

ROLES = (
    "citizen",
    "official_of_unit",
    "official_of_other_unit",
    "validator",
    "operator",
    "admin",
    "staff_of_other_tenant",
)
OFFICIAL_OF_UNIT = frozenset({"official_of_unit"})
VALIDATOR_OR_ADMIN = frozenset({"validator", "admin"})

# action: (roles that may do it, statuses it may start from, the status it leads to)
EXPECTED: dict[str, tuple[frozenset[str], frozenset[Status], Status]] = {
    "process": (
        OFFICIAL_OF_UNIT,
        frozenset({S.WAITING, S.COORDINATION, S.DISPOSITION, S.FOLLOW_UP_REJECTED}),
        S.IN_PROGRESS,
    ),
    "coordinate": (
        OFFICIAL_OF_UNIT | VALIDATOR_OR_ADMIN,
        frozenset({S.WAITING, S.COORDINATION, S.DISPOSITION, S.IN_PROGRESS, S.FOLLOW_UP_REJECTED}),
        S.COORDINATION,
    ),
    "dispose": (
        OFFICIAL_OF_UNIT,
        frozenset({S.WAITING, S.IN_PROGRESS, S.COORDINATION}),
        S.DISPOSITION,
    ),
    "submit_follow_up": (
        OFFICIAL_OF_UNIT,
        frozenset({S.IN_PROGRESS, S.FOLLOW_UP_REJECTED}),
        S.AWAITING_VALIDATION,
    ),
    "validate": (VALIDATOR_OR_ADMIN, frozenset({S.AWAITING_VALIDATION}), S.COMPLETED),
    "reject_follow_up": (
        VALIDATOR_OR_ADMIN,
        frozenset({S.AWAITING_VALIDATION}),
        S.FOLLOW_UP_REJECTED,
    ),
    "reject": (
        OFFICIAL_OF_UNIT | VALIDATOR_OR_ADMIN,
        frozenset(
            {
                S.WAITING,
                S.COORDINATION,
                S.DISPOSITION,
                S.IN_PROGRESS,
                S.FOLLOW_UP_REJECTED,
                S.NEEDS_LOCATION,
            }
        ),
        S.REJECTED,
    ),
}

# A valid request for each action; dispose needs a ticket with the dinas (see `assigned_to`).
BODIES: dict[str, dict[str, Any]] = {
    "process": {"action": "process", "note": "Petugas menuju lokasi"},
    "coordinate": {
        "action": "coordinate",
        "note": "Perbaikan jalan wewenang Bina Marga",
        "unit": SUDIN_BINA_MARGA_JP,
    },
    "dispose": {"action": "dispose", "note": "Wilayah Jakarta Pusat", "unit": SUDIN_BINA_MARGA_JP},
    "submit_follow_up": {"action": "submit_follow_up", "note": "Lubang sudah ditambal"},
    "validate": {"action": "validate", "note": "Sesuai"},
    "reject_follow_up": {"action": "reject_follow_up", "note": "Foto bukan lokasi laporan"},
    "reject": {"action": "reject", "reason": "spam"},
}


def assigned_to(action: str) -> str:
    return DINAS_BINA_MARGA if action == "dispose" else GAMBIR


def caller(role: str, assigned: str) -> Principal:
    other_unit = MENTENG if assigned != MENTENG else GAMBIR
    return {
        "citizen": citizen(),
        "official_of_unit": official(assigned),
        "official_of_other_unit": official(other_unit),
        "validator": staff(Role.VALIDATOR),
        "operator": staff(Role.OPERATOR),
        "admin": staff(Role.ADMIN),
        # Every staff role and even the same unit id, but bound to another tenant.
        "staff_of_other_tenant": staff(
            Role.OFFICIAL,
            Role.VALIDATOR,
            Role.OPERATOR,
            Role.ADMIN,
            tenant="banda-aceh",
            unit=assigned,
        ),
    }[role]


def allowed_now(role: str, status: Status) -> set[str]:
    return {a for a, (roles, starts, _) in EXPECTED.items() if role in roles and status in starts}


def listed_in(message: str) -> set[str]:
    listed = message.rsplit("allowed now: ", 1)[1].strip()
    return set() if listed == "none" else {a.strip() for a in listed.split(",")}


CASES = [
    pytest.param(status, action, role, id=f"{status.value}-{action}-{role}")
    for status in Status
    for action in EXPECTED
    for role in ROLES
]


def test_the_table_covers_every_status_action_and_role() -> None:
    assert {a.value for a in Action} == set(EXPECTED)
    assert len(CASES) == len(Status) * len(Action) * len(ROLES)


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(clock: FixedClock) -> Services:
    return fake_services(clock=clock)


def stored(services: Services, ticket: Ticket) -> Ticket:
    found = services.tickets.get(ticket.tenant, ticket.ticket_id)
    assert found is not None
    return found


def put(services: Services, ticket: Ticket) -> Ticket:
    services.tickets.add(ticket)
    return stored(services, ticket)


def act(services: Services, ticket: Ticket, who: Principal, **body: Any) -> dict[str, Any]:
    return services.actions.act("jakarta", ticket.ticket_id, who, body)


# --- every (status, action, role) triple ---------------------------------------------------------


@pytest.mark.parametrize(("status", "action", "role"), CASES)
def test_staff_action_is_applied_forbidden_or_refused_per_status_and_role(
    services: Services, clock: FixedClock, status: Status, action: str, role: str
) -> None:
    assigned = assigned_to(action)
    ticket = put(
        services,
        make_ticket(
            status, at=clock.now(), unit_id=assigned, evidence=action == "submit_follow_up"
        ),
    )
    who = caller(role, assigned)
    roles, starts, target = EXPECTED[action]

    if role not in roles:
        with pytest.raises(NotAllowed):
            services.actions.act("jakarta", ticket.ticket_id, who, BODIES[action])
        assert stored(services, ticket).status is status
    elif status not in starts:
        with pytest.raises(Conflict) as refused:
            services.actions.act("jakarta", ticket.ticket_id, who, BODIES[action])
        assert not isinstance(refused.value, StaleWrite)
        assert listed_in(refused.value.message) == allowed_now(role, status)
        assert stored(services, ticket).status is status
    else:
        view = services.actions.act("jakarta", ticket.ticket_id, who, BODIES[action])

        after = stored(services, ticket)
        assert view["status"] == target.value
        assert after.status is target
        assert after.version == (ticket.version or 0) + 1
        last = after.timeline[-1]
        assert (last.from_status, last.to_status, last.actor_id) == (status, target, who.subject)


# --- handovers ---------------------------------------------------------------------------------


def test_fourth_handover_needs_a_validator(services: Services, clock: FixedClock) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))
    act(
        services,
        ticket,
        official(GAMBIR),
        action="coordinate",
        note="Bina Marga",
        unit=DINAS_BINA_MARGA,
    )
    act(
        services,
        ticket,
        official(DINAS_BINA_MARGA),
        action="dispose",
        note="Jakarta Pusat",
        unit=SUDIN_BINA_MARGA_JP,
    )
    act(
        services,
        ticket,
        official(SUDIN_BINA_MARGA_JP),
        action="coordinate",
        note="Kelurahan",
        unit=GAMBIR,
    )

    with pytest.raises(NotAllowed) as refused:
        act(
            services,
            ticket,
            official(GAMBIR),
            action="coordinate",
            note="Lagi",
            unit=SUDIN_BINA_MARGA_JP,
        )
    view = act(
        services,
        ticket,
        validator(),
        action="coordinate",
        note="Diputuskan validator",
        unit=SUDIN_BINA_MARGA_JP,
    )

    assert refused.value.code == "handover_limit"
    assert view["assigned_unit"]["id"] == SUDIN_BINA_MARGA_JP
    assert [a.reason for a in stored(services, ticket).assignments] == ["routing"] + [
        "handover"
    ] * 4


def test_handover_ends_the_old_assignment_and_starts_one_for_the_receiving_unit(
    services: Services, clock: FixedClock
) -> None:
    ticket = put(services, make_ticket(S.IN_PROGRESS, at=clock.now()))

    act(
        services,
        ticket,
        official(GAMBIR),
        action="coordinate",
        note="Wewenang Bina Marga",
        unit=SUDIN_BINA_MARGA_JP,
    )

    after = stored(services, ticket)
    old, new = after.assignments
    assert (old.unit_id, old.ended_at) == (GAMBIR, clock.now())
    assert (new.unit_id, new.started_at, new.ended_at) == (
        SUDIN_BINA_MARGA_JP,
        clock.now(),
        None,
    )
    assert new.reason == "handover"
    assert after.assigned_unit == unit(SUDIN_BINA_MARGA_JP)
    assert after.timeline[-1].note == "Wewenang Bina Marga"


@pytest.mark.parametrize(
    ("from_unit", "to_unit"),
    [
        pytest.param(DINAS_BINA_MARGA, SUDIN_SDA_JP, id="another-dinas-sudin"),
        pytest.param(DINAS_BINA_MARGA, GAMBIR, id="a-kelurahan"),
        pytest.param(DINAS_BINA_MARGA, DINAS_SDA, id="another-dinas"),
        pytest.param(GAMBIR, SUDIN_BINA_MARGA_JP, id="from-a-kelurahan"),
        pytest.param(DINAS_BINA_MARGA, "sudin-bina-marga:99.99", id="unknown-unit"),
        pytest.param(DINAS_BINA_MARGA, None, id="no-unit"),
    ],
)
def test_dispose_goes_only_from_a_dinas_to_its_own_suku_dinas(
    services: Services, clock: FixedClock, from_unit: str, to_unit: str | None
) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now(), unit_id=from_unit))

    with pytest.raises(InvalidRequest) as refused:
        act(services, ticket, official(from_unit), action="dispose", note="Turun", unit=to_unit)

    assert refused.value.field == "unit"
    assert stored(services, ticket).status is S.WAITING


def test_dispose_to_another_city_suku_dinas_of_the_same_dinas_is_allowed(
    services: Services, clock: FixedClock
) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now(), unit_id=DINAS_BINA_MARGA))

    view = act(
        services,
        ticket,
        official(DINAS_BINA_MARGA),
        action="dispose",
        note="Utara",
        unit=SUDIN_BINA_MARGA_JU,
    )

    assert (view["status"], view["assigned_unit"]["id"]) == ("disposition", SUDIN_BINA_MARGA_JU)


# --- what each action requires --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "who", "body"),
    [
        pytest.param(S.WAITING, "official", BODIES["coordinate"], id="coordinate"),
        pytest.param(S.IN_PROGRESS, "official", BODIES["submit_follow_up"], id="submit_follow_up"),
        pytest.param(
            S.AWAITING_VALIDATION, "validator", BODIES["reject_follow_up"], id="reject_follow_up"
        ),
    ],
)
@pytest.mark.parametrize("note", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_action_that_needs_a_reason_is_refused_without_a_note(
    services: Services,
    clock: FixedClock,
    status: Status,
    who: str,
    body: dict[str, Any],
    note: str | None,
) -> None:
    ticket = put(services, make_ticket(status, at=clock.now(), evidence=True))
    caller_ = official(GAMBIR) if who == "official" else validator()
    request = {k: v for k, v in body.items() if k != "note"}
    if note is not None:
        request["note"] = note

    with pytest.raises(InvalidRequest) as refused:
        services.actions.act("jakarta", ticket.ticket_id, caller_, request)

    assert refused.value.field == "note"
    assert stored(services, ticket).status is status


@pytest.mark.parametrize(
    "action",
    [
        pytest.param("close", id="unknown-name"),
        pytest.param("PROCESS", id="wrong-case"),
        pytest.param("", id="empty"),
        pytest.param(42, id="number"),
        pytest.param(None, id="null"),
    ],
)
def test_unknown_action_is_an_invalid_request(
    services: Services, clock: FixedClock, action: object
) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))

    with pytest.raises(InvalidRequest) as refused:
        services.actions.act("jakarta", ticket.ticket_id, official(GAMBIR), {"action": action})

    assert refused.value.field == "action"


def test_missing_action_is_an_invalid_request(services: Services, clock: FixedClock) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))

    with pytest.raises(InvalidRequest) as refused:
        services.actions.act("jakarta", ticket.ticket_id, official(GAMBIR), {"note": "x"})

    assert refused.value.field == "action"


def test_reject_as_duplicate_names_the_original_ticket(
    services: Services, clock: FixedClock
) -> None:
    original = put(
        services,
        make_ticket(S.IN_PROGRESS, at=clock.now(), ticket_id="b" * 32, number="JKT-261203-0007"),
    )
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))

    view = act(
        services,
        ticket,
        official(GAMBIR),
        action="reject",
        reason="duplicate",
        duplicate_of=original.ticket_id,
    )

    assert view["status"] == "rejected"
    assert view["rejection"]["reason"] == "duplicate"
    assert "JKT-261203-0007" in view["rejection"]["message"]
    assert stored(services, original).status is S.IN_PROGRESS


@pytest.mark.parametrize(
    "duplicate_of",
    [
        pytest.param(None, id="missing"),
        pytest.param("a" * 32, id="itself"),
        pytest.param("c" * 32, id="no-such-ticket"),
        pytest.param("not-an-id", id="malformed"),
        pytest.param("d" * 32, id="another-tenants-ticket"),
    ],
)
def test_reject_as_duplicate_without_another_existing_ticket_is_invalid(
    services: Services, clock: FixedClock, duplicate_of: str | None
) -> None:
    elsewhere = make_ticket(S.WAITING, at=clock.now(), ticket_id="d" * 32)
    elsewhere.tenant = "banda-aceh"
    services.tickets.add(elsewhere)
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))
    body: dict[str, Any] = {"action": "reject", "reason": "duplicate"}
    if duplicate_of is not None:
        body["duplicate_of"] = duplicate_of

    with pytest.raises(InvalidRequest) as refused:
        services.actions.act("jakarta", ticket.ticket_id, official(GAMBIR), body)

    assert refused.value.field == "duplicate_of"
    assert stored(services, ticket).status is S.WAITING


@pytest.mark.parametrize("reason", [None, "rude", "Spam"], ids=["missing", "unknown", "case"])
def test_reject_needs_a_reason_from_the_fixed_list(
    services: Services, clock: FixedClock, reason: str | None
) -> None:
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))

    with pytest.raises(InvalidRequest) as refused:
        act(services, ticket, official(GAMBIR), action="reject", reason=reason)

    assert refused.value.field == "reason"


@pytest.mark.parametrize(
    "reason", ["duplicate", "spam", "not_public_matter", "outside_jurisdiction"]
)
def test_reject_records_each_reason_of_the_fixed_list(
    services: Services, clock: FixedClock, reason: str
) -> None:
    other = put(services, make_ticket(S.WAITING, at=clock.now(), ticket_id="b" * 32))
    ticket = put(services, make_ticket(S.WAITING, at=clock.now()))

    act(services, ticket, validator(), action="reject", reason=reason, duplicate_of=other.ticket_id)

    after = stored(services, ticket)
    assert after.rejection is not None and after.rejection.reason == reason
    assert after.assignments[-1].ended_at == clock.now()


# --- evidence ----------------------------------------------------------------------------------


def test_follow_up_without_any_evidence_photo_is_refused(
    services: Services, clock: FixedClock
) -> None:
    ticket = put(services, make_ticket(S.IN_PROGRESS, at=clock.now()))

    with pytest.raises(InvalidRequest) as refused:
        act(services, ticket, official(GAMBIR), **BODIES["submit_follow_up"])

    assert refused.value.code == "evidence_required"
    assert stored(services, ticket).status is S.IN_PROGRESS


def test_follow_up_with_evidence_sent_before_the_rejection_is_refused(
    services: Services, clock: FixedClock
) -> None:
    # The evidence arrived half an hour ago; the validator sent the follow-up back just now.
    ticket = make_ticket(S.AWAITING_VALIDATION, at=clock.now(), evidence=True)
    ticket.timeline.append(
        TimelineEvent(
            at=clock.now(),
            from_status=S.AWAITING_VALIDATION,
            to_status=S.FOLLOW_UP_REJECTED,
            actor_role="validator",
        )
    )
    ticket.status = S.FOLLOW_UP_REJECTED
    ticket = put(services, ticket)

    with pytest.raises(InvalidRequest) as refused:
        act(services, ticket, official(GAMBIR), **BODIES["submit_follow_up"])

    assert refused.value.code == "evidence_required"


def test_follow_up_with_evidence_of_the_previous_unit_is_refused(
    services: Services, clock: FixedClock
) -> None:
    ticket = put(services, make_ticket(S.IN_PROGRESS, at=clock.now(), evidence=True))
    clock.advance(minutes=5)
    act(services, ticket, official(GAMBIR), **BODIES["coordinate"])
    act(services, ticket, official(SUDIN_BINA_MARGA_JP), action="process")

    with pytest.raises(InvalidRequest) as refused:
        act(services, ticket, official(SUDIN_BINA_MARGA_JP), **BODIES["submit_follow_up"])

    assert refused.value.code == "evidence_required"


def test_evidence_upload_is_for_the_official_of_the_assigned_unit(
    services: Services, clock: FixedClock
) -> None:
    ticket = put(services, make_ticket(S.IN_PROGRESS, at=clock.now()))
    body = {"content_type": "image/jpeg", "content_length": 200_000}

    with pytest.raises(NotAllowed):
        services.actions.evidence_upload("jakarta", ticket.ticket_id, official(MENTENG), body)
    with pytest.raises(NotAllowed):
        services.actions.evidence_upload("jakarta", ticket.ticket_id, validator(), body)
    issued = services.actions.evidence_upload("jakarta", ticket.ticket_id, official(GAMBIR), body)

    key = issued["upload"]["fields"]["key"]
    assert key.startswith(f"uploads/jakarta/{ticket.ticket_id}/evidence-")
    pending = stored(services, ticket).pending_upload
    assert pending is not None and pending.key == key


# --- the reporter's side: reopen and feedback ------------------------------------------------


def completed(services: Services, clock: FixedClock, unit_id: str = SUDIN_BINA_MARGA_JP) -> Ticket:
    """Completed one hour before the clock's now."""
    return put(services, make_ticket(S.COMPLETED, at=clock.now(), unit_id=unit_id))


def test_reopen_within_seven_days_returns_the_ticket_to_the_last_unit(
    services: Services, clock: FixedClock
) -> None:
    ticket = completed(services, clock)
    clock.advance(days=6)

    view = services.actions.reopen(
        "jakarta", ticket.ticket_id, reporter(), {"reason": "Lubang muncul lagi"}
    )

    after = stored(services, ticket)
    assert view["status"] == after.status == S.WAITING
    assert after.assigned_unit == unit(SUDIN_BINA_MARGA_JP)
    assert len(after.assignments) == 2
    new = after.assignments[-1]
    assert (new.unit_id, new.reason, new.started_at, new.ended_at) == (
        SUDIN_BINA_MARGA_JP,
        "reopen",
        clock.now(),
        None,
    )
    last = after.timeline[-1]
    assert (last.from_status, last.to_status, last.note) == (
        S.COMPLETED,
        S.WAITING,
        "Lubang muncul lagi",
    )


def test_reopen_after_seven_days_is_a_conflict(services: Services, clock: FixedClock) -> None:
    ticket = completed(services, clock)
    clock.advance(days=7, minutes=1)

    with pytest.raises(Conflict):
        services.actions.reopen("jakarta", ticket.ticket_id, reporter(), {"reason": "Rusak lagi"})

    assert stored(services, ticket).status is S.COMPLETED


def test_reopen_is_for_the_reporter_only(services: Services, clock: FixedClock) -> None:
    ticket = completed(services, clock)

    with pytest.raises(NotAllowed):
        services.actions.reopen("jakarta", ticket.ticket_id, citizen(), {"reason": "Rusak lagi"})
    with pytest.raises(NotAllowed):
        services.actions.reopen("jakarta", ticket.ticket_id, validator(), {"reason": "Rusak"})


@pytest.mark.parametrize("reason", [None, "", "  "], ids=["missing", "empty", "blank"])
def test_reopen_needs_a_reason(services: Services, clock: FixedClock, reason: str | None) -> None:
    ticket = completed(services, clock)

    with pytest.raises(InvalidRequest):
        services.actions.reopen("jakarta", ticket.ticket_id, reporter(), {"reason": reason})


@pytest.mark.parametrize("status", [S.WAITING, S.AWAITING_VALIDATION, S.REJECTED])
def test_only_a_completed_report_can_be_reopened(
    services: Services, clock: FixedClock, status: Status
) -> None:
    ticket = put(services, make_ticket(status, at=clock.now()))

    with pytest.raises(Conflict):
        services.actions.reopen("jakarta", ticket.ticket_id, reporter(), {"reason": "Belum"})


@pytest.mark.parametrize("rating", [1, 5])
def test_reporter_rates_a_completed_report(
    services: Services, clock: FixedClock, rating: int
) -> None:
    ticket = completed(services, clock)

    services.actions.feedback(
        "jakarta", ticket.ticket_id, reporter(), {"rating": rating, "comment": "c" * 1000}
    )

    feedback = stored(services, ticket).feedback
    assert feedback is not None
    assert (feedback.rating, len(feedback.comment), feedback.at) == (rating, 1000, clock.now())


def test_a_report_is_rated_once(services: Services, clock: FixedClock) -> None:
    ticket = completed(services, clock)
    services.actions.feedback("jakarta", ticket.ticket_id, reporter(), {"rating": 5})

    with pytest.raises(Conflict):
        services.actions.feedback("jakarta", ticket.ticket_id, reporter(), {"rating": 1})

    feedback = stored(services, ticket).feedback
    assert feedback is not None and feedback.rating == 5


@pytest.mark.parametrize(
    "status",
    [s for s in Status if s is not S.COMPLETED],
    ids=[s.value for s in Status if s is not S.COMPLETED],
)
def test_feedback_before_completion_is_a_conflict(
    services: Services, clock: FixedClock, status: Status
) -> None:
    ticket = put(services, make_ticket(status, at=clock.now()))

    with pytest.raises(Conflict):
        services.actions.feedback("jakarta", ticket.ticket_id, reporter(), {"rating": 5})

    assert stored(services, ticket).feedback is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"rating": 0}, id="rating-0"),
        pytest.param({"rating": 6}, id="rating-6"),
        pytest.param({"rating": 4.5}, id="rating-fraction"),
        pytest.param({"rating": "5"}, id="rating-text"),
        pytest.param({"rating": True}, id="rating-bool"),
        pytest.param({}, id="rating-missing"),
        pytest.param({"rating": 5, "comment": "c" * 1001}, id="comment-1001-chars"),
        pytest.param({"rating": 5, "comment": 7}, id="comment-not-text"),
    ],
)
def test_feedback_outside_the_rules_is_invalid(
    services: Services, clock: FixedClock, body: dict[str, Any]
) -> None:
    ticket = completed(services, clock)

    with pytest.raises(InvalidRequest):
        services.actions.feedback("jakarta", ticket.ticket_id, reporter(), body)

    assert stored(services, ticket).feedback is None


def test_feedback_is_for_the_reporter_only(services: Services, clock: FixedClock) -> None:
    ticket = completed(services, clock)

    with pytest.raises(NotAllowed):
        services.actions.feedback("jakarta", ticket.ticket_id, citizen(), {"rating": 1})
    with pytest.raises(NotAllowed):
        services.actions.feedback("jakarta", ticket.ticket_id, validator(), {"rating": 1})

    assert stored(services, ticket).feedback is None
