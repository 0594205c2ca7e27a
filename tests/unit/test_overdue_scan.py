"""The SLA clock of routed tickets and the hourly overdue scan, over fakes and a FixedClock.

DESIGN.md section 5 and issue 6: a reminder a day before the due time, exactly one sanction per
overdue assignment (naming the unit's head at the due time), the red mark and the escalation to
the parent unit; handovers restart the clock, follow-ups awaiting validation pause it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.admin import appoint_head
from chalicelib.bootstrap import Services
from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import Head
from chalicelib.domain.sanctions import Sanction
from chalicelib.domain.tickets import Photo, PhotoKind, Status, Ticket
from chalicelib.service.sla import OverdueScan
from tests.fakes import (
    FakeSanctionLedger,
    FakeTenantDirectory,
    FakeTicketRepository,
    FixedClock,
    fake_services,
)

GAMBIR = "kelurahan:31.71.01.1001"
KECAMATAN_GAMBIR = "kecamatan:31.71.01"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
MONAS = {"lat": -6.1754, "lon": 106.8272}
# Friday 4 December 2026, 16:30 WIB.
FILED = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
DUE = FILED + timedelta(days=6)


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FILED)


@pytest.fixture
def services(clock: FixedClock) -> Services:
    return fake_services(clock=clock)


def reporter() -> Principal:
    return Principal(subject="reporter-7f3a", username="warga", roles=frozenset({Role.CITIZEN}))


def staff(role: Role, unit: str | None = None) -> Principal:
    name = f"{role.value}-{unit or 'jakarta'}"
    return Principal(
        subject=name,
        username=name,
        roles=frozenset({Role.CITIZEN, role}),
        tenant="jakarta",
        unit=unit,
    )


def official(unit: str) -> Principal:
    return staff(Role.OFFICIAL, unit)


def validator() -> Principal:
    return staff(Role.VALIDATOR)


def file_report(services: Services, tenant: str = "jakarta") -> str:
    """A pothole at Monas, filed with the device location: routed to Kelurahan Gambir."""
    body = {
        "category": "jalan_rusak",
        "description": "Jalan berlubang dekat Monas",
        "location": MONAS,
    }
    return services.reports.submit(tenant, reporter(), body).ticket.ticket_id


def stored(services: Services, ticket_id: str, tenant: str = "jakarta") -> Ticket:
    found = services.tickets.get(tenant, ticket_id)
    assert found is not None
    return found


def act(services: Services, ticket_id: str, who: Principal, **body: Any) -> dict[str, Any]:
    return services.actions.act("jakarta", ticket_id, who, body)


def add_evidence(services: Services, ticket_id: str, at: datetime) -> None:
    ticket = stored(services, ticket_id)
    ticket.photos.append(
        Photo(
            key=f"uploads/jakarta/{ticket_id}/evidence-0123456789ab.jpg",
            kind=PhotoKind.EVIDENCE,
            content_type="image/jpeg",
            received_at=at,
        )
    )
    services.tickets.save(ticket)


def submit_follow_up(services: Services, ticket_id: str, unit: str = GAMBIR) -> None:
    act(services, ticket_id, official(unit), action="process")
    add_evidence(services, ticket_id, services.clock.now())
    act(services, ticket_id, official(unit), action="submit_follow_up", note="Sudah ditambal")


def sanctions(services: Services) -> list[Sanction]:
    ledger = services.ledger
    assert isinstance(ledger, FakeSanctionLedger)
    return list(ledger.records.values())


def advance_to(clock: FixedClock, at: datetime) -> None:
    clock.at = at


def with_policy(services: Services, **changes: Any) -> None:
    """Replace the Jakarta tenant: `sla` goes into its structure, other fields on the tenant."""
    directory = services.tenants
    assert isinstance(directory, FakeTenantDirectory)
    bundle = directory.bundles["jakarta"]
    tenant = bundle.tenant
    sla = changes.pop("sla", None)
    structure = dict(tenant.structure)
    if sla is not None:
        structure["sla"] = sla
    directory.put(
        dataclasses.replace(
            bundle, tenant=dataclasses.replace(tenant, structure=structure, **changes)
        )
    )


# --- due times on routing --------------------------------------------------------------------


def test_report_routed_at_monas_is_due_six_days_later_in_reporter_and_staff_views(
    services: Services,
) -> None:
    ticket_id = file_report(services)

    mine = services.reports.view("jakarta", ticket_id, reporter())
    seen_by_staff = services.reports.staff_view("jakarta", ticket_id, validator())

    ticket = stored(services, ticket_id)
    assert ticket.due_at == DUE
    assert ticket.assignments[0].due_at == DUE
    assert ticket.assignments[0].remind_at == DUE - timedelta(hours=24)
    assert mine["due_at"] == "2026-12-10T16:30:00+07:00"
    assert mine["overdue"] is False
    assert [a["due_at"] for a in seen_by_staff["assignments"]] == ["2026-12-10T16:30:00+07:00"]
    assert seen_by_staff["assigned_unit"]["id"] == GAMBIR


def test_tenant_counting_working_days_routes_with_a_working_day_due_time(
    services: Services, clock: FixedClock
) -> None:
    with_policy(services, sla={"counting": "working"})
    advance_to(clock, datetime.fromisoformat("2026-12-04T10:00:00+07:00"))

    ticket_id = file_report(services)

    assert stored(services, ticket_id).due_at == datetime.fromisoformat("2026-12-14T10:00+07:00")


def test_scan_before_the_reminder_time_changes_nothing(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=4, hours=23)

    report = services.scan.run()

    assert (report.reminded, report.sanctioned) == (0, 0)
    assert not stored(services, ticket_id).assignments[0].reminded
    assert sanctions(services) == []


# --- reminder --------------------------------------------------------------------------------


def test_scan_a_day_before_the_due_time_reminds_the_unit_once(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=5, hours=1)

    first = services.scan.run()
    second = services.scan.run()

    assert first.reminded == 1
    assert second.reminded == 0
    ticket = stored(services, ticket_id)
    assert ticket.assignments[0].reminded
    assert ticket.overdue is False
    assert sanctions(services) == []


# --- overdue ---------------------------------------------------------------------------------


def test_scan_past_the_due_time_records_one_sanction_marks_red_and_escalates(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(minutes=10))

    report = services.scan.run()

    assert report.sanctioned == 1
    (sanction,) = sanctions(services)
    ticket = stored(services, ticket_id)
    assert sanction.tenant == "jakarta"
    assert sanction.period == "2026-12"
    assert (sanction.unit_id, sanction.unit_name) == (GAMBIR, "Kelurahan Gambir")
    assert sanction.cut_percent == 10.0
    assert (sanction.ticket_id, sanction.number) == (ticket_id, ticket.number)
    assert sanction.assignment == 0
    assert sanction.due_at == DUE
    assert sanction.detected_at == clock.now()
    assert ticket.overdue is True
    assert ticket.assignments[0].overdue_at == clock.now()
    assert ticket.assignments[0].escalated_to == KECAMATAN_GAMBIR
    assert services.reports.view("jakarta", ticket_id, reporter())["overdue"] is True


def test_scan_exactly_at_the_due_time_records_the_sanction(
    services: Services, clock: FixedClock
) -> None:
    file_report(services)
    advance_to(clock, DUE)

    services.scan.run()

    assert len(sanctions(services)) == 1


def test_second_overdue_scan_records_no_new_sanction(services: Services, clock: FixedClock) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(minutes=10))
    services.scan.run()
    marked = stored(services, ticket_id)

    again = services.scan.run()
    clock.advance(hours=30)
    after_missed_hours = services.scan.run()

    assert (again.sanctioned, after_missed_hours.sanctioned) == (0, 0)
    assert len(sanctions(services)) == 1
    ticket = stored(services, ticket_id)
    assert ticket.version == marked.version
    assert ticket.assignments[0].overdue_at == DUE + timedelta(minutes=10)


def test_scan_after_missed_hours_records_the_same_single_sanction(
    services: Services, clock: FixedClock
) -> None:
    file_report(services)
    # No scan ran for 30 hours after the due time, not even the reminder.
    advance_to(clock, DUE + timedelta(hours=30))

    report = services.scan.run()

    assert (report.reminded, report.sanctioned) == (0, 1)
    (sanction,) = sanctions(services)
    assert sanction.due_at == DUE
    assert sanction.period == "2026-12"


def test_tenant_cut_percent_is_written_on_the_sanction(
    services: Services, clock: FixedClock
) -> None:
    with_policy(services, sla={"cut_percent": 5})
    file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))

    services.scan.run()

    assert [s.cut_percent for s in sanctions(services)] == [5.0]


def test_sanction_period_is_the_month_of_the_due_time_in_a_wit_tenant(
    services: Services, clock: FixedClock
) -> None:
    with_policy(services, timezone="Asia/Jayapura")
    advance_to(clock, datetime.fromisoformat("2026-12-25T16:00:00+00:00"))
    file_report(services)
    # Due 2026-12-31T16:00Z: 23:00 on 31 December in WIB, 01:00 on 1 January in WIT.
    advance_to(clock, datetime.fromisoformat("2026-12-31T16:30:00+00:00"))

    services.scan.run()

    assert [s.period for s in sanctions(services)] == ["2027-01"]


# --- handover --------------------------------------------------------------------------------


def test_handover_restarts_the_clock_for_the_receiving_unit_only(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=3)
    handed_over = clock.now()
    act(
        services,
        ticket_id,
        official(GAMBIR),
        action="coordinate",
        note="Wewenang Bina Marga",
        unit=SUDIN_BINA_MARGA_JP,
    )

    advance_to(clock, DUE + timedelta(hours=1))
    on_day_six = services.scan.run()
    advance_to(clock, handed_over + timedelta(days=6, hours=1))
    on_day_nine = services.scan.run()

    gambir, sudin = stored(services, ticket_id).assignments
    assert gambir.ended_at == handed_over
    assert gambir.overdue_at is None
    assert sudin.due_at == handed_over + timedelta(days=6)
    assert on_day_six.sanctioned == 0
    assert on_day_nine.sanctioned == 1
    (sanction,) = sanctions(services)
    assert sanction.unit_id == SUDIN_BINA_MARGA_JP
    assert sanction.assignment == 1
    assert sanction.due_at == handed_over + timedelta(days=6)
    assert sudin.escalated_to == "dinas-bina-marga:31"


def test_handover_shows_the_receiving_units_due_time_on_the_ticket(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=3)

    view = act(
        services,
        ticket_id,
        official(GAMBIR),
        action="coordinate",
        note="Wewenang Bina Marga",
        unit=SUDIN_BINA_MARGA_JP,
    )

    assert view["due_at"] == "2026-12-13T16:30:00+07:00"
    assert [a["due_at"] for a in view["assignments"]] == [
        "2026-12-10T16:30:00+07:00",
        "2026-12-13T16:30:00+07:00",
    ]


def test_handover_of_an_overdue_ticket_clears_the_red_mark_and_keeps_the_sanction(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))
    services.scan.run()

    act(
        services,
        ticket_id,
        official(GAMBIR),
        action="coordinate",
        note="Wewenang Bina Marga",
        unit=SUDIN_BINA_MARGA_JP,
    )
    services.scan.run()

    ticket = stored(services, ticket_id)
    assert ticket.overdue is False
    assert ticket.due_at == clock.now() + timedelta(days=6)
    assert [s.unit_id for s in sanctions(services)] == [GAMBIR]


# --- pause and resume ------------------------------------------------------------------------


def test_follow_up_awaiting_validation_pauses_the_clock(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=2)
    submit_follow_up(services, ticket_id)

    clock.advance(weeks=3)
    report = services.scan.run()

    ticket = stored(services, ticket_id)
    assert ticket.status is Status.AWAITING_VALIDATION
    assert ticket.assignments[0].paused_at == FILED + timedelta(days=2)
    assert (report.reminded, report.sanctioned) == (0, 0)
    assert sanctions(services) == []
    assert ticket.overdue is False


def test_rejected_follow_up_resumes_the_clock_with_the_due_moved_by_the_time_in_validation(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=2)
    submit_follow_up(services, ticket_id)
    clock.advance(days=2)

    view = act(services, ticket_id, validator(), action="reject_follow_up", note="Foto buram")

    ticket = stored(services, ticket_id)
    resumed = ticket.assignments[0]
    assert resumed.paused_at is None
    assert resumed.due_at == DUE + timedelta(days=2)
    assert resumed.remind_at == DUE + timedelta(days=1)
    assert ticket.due_at == DUE + timedelta(days=2)
    assert view["due_at"] == "2026-12-12T16:30:00+07:00"


def test_resumed_clock_goes_overdue_only_at_the_moved_due_time(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    clock.advance(days=2)
    submit_follow_up(services, ticket_id)
    clock.advance(days=2)
    act(services, ticket_id, validator(), action="reject_follow_up", note="Foto buram")

    advance_to(clock, DUE + timedelta(days=1, hours=23))
    before_moved_due = services.scan.run()
    advance_to(clock, DUE + timedelta(days=2, minutes=1))
    after_moved_due = services.scan.run()

    assert before_moved_due.sanctioned == 0
    assert after_moved_due.sanctioned == 1
    (sanction,) = sanctions(services)
    assert sanction.due_at == DUE + timedelta(days=2)
    assert stored(services, ticket_id).overdue is True


def test_completed_ticket_leaves_the_scan(services: Services, clock: FixedClock) -> None:
    ticket_id = file_report(services)
    clock.advance(days=2)
    submit_follow_up(services, ticket_id)
    act(services, ticket_id, validator(), action="validate", note="Sesuai")

    clock.advance(days=20)
    report = services.scan.run()

    assert stored(services, ticket_id).status is Status.COMPLETED
    assert (report.read, report.sanctioned) == (0, 0)
    assert sanctions(services) == []


def test_rejected_ticket_leaves_the_scan(services: Services, clock: FixedClock) -> None:
    ticket_id = file_report(services)
    clock.advance(days=1)
    act(services, ticket_id, official(GAMBIR), action="reject", reason="spam")

    clock.advance(days=20)
    report = services.scan.run()

    ticket = stored(services, ticket_id)
    assert ticket.status is Status.REJECTED
    assert ticket.assignments[0].ended_at == FILED + timedelta(days=1)
    assert (report.read, report.sanctioned) == (0, 0)
    assert sanctions(services) == []


def test_reopened_ticket_gets_a_new_six_day_clock(services: Services, clock: FixedClock) -> None:
    ticket_id = file_report(services)
    clock.advance(days=2)
    submit_follow_up(services, ticket_id)
    act(services, ticket_id, validator(), action="validate", note="Sesuai")
    clock.advance(days=1)
    reopened = clock.now()

    services.actions.reopen("jakarta", ticket_id, reporter(), {"reason": "Rusak lagi"})
    advance_to(clock, reopened + timedelta(days=6, minutes=1))
    services.scan.run()

    ticket = stored(services, ticket_id)
    assert ticket.assignments[-1].due_at == reopened + timedelta(days=6)
    assert [(s.unit_id, s.assignment) for s in sanctions(services)] == [(GAMBIR, 1)]


# --- the official a sanction names -----------------------------------------------------------


def appoint(services: Services, name: str, since: datetime, unit_id: str = GAMBIR) -> None:
    appoint_head(
        services.tenants,
        services.heads,
        tenant="jakarta",
        unit_id=unit_id,
        head=Head(name=name, since=since, username=name.lower().replace(" ", "-")),
    )


def test_sanction_names_the_head_at_the_due_time_even_after_the_head_changed(
    services: Services, clock: FixedClock
) -> None:
    appoint(services, "Lurah Ahmad", FILED - timedelta(days=400))
    file_report(services)
    appoint(services, "Lurah Budi", DUE + timedelta(hours=1))
    advance_to(clock, DUE + timedelta(hours=2))

    services.scan.run()

    (sanction,) = sanctions(services)
    assert (sanction.official_name, sanction.official_username) == ("Lurah Ahmad", "lurah-ahmad")


def test_sanction_names_a_head_appointed_after_routing_but_before_the_due_time(
    services: Services, clock: FixedClock
) -> None:
    appoint(services, "Lurah Ahmad", FILED - timedelta(days=400))
    ticket_id = file_report(services)
    appoint(services, "Lurah Budi", FILED + timedelta(days=3))
    advance_to(clock, DUE + timedelta(hours=2))

    services.scan.run()

    (sanction,) = sanctions(services)
    assert sanction.official_name == "Lurah Budi"
    # The assignment still records who headed the unit when the ticket arrived.
    assert stored(services, ticket_id).assignments[0].head == "Lurah Ahmad"


def test_sanction_without_a_known_head_names_no_official(
    services: Services, clock: FixedClock
) -> None:
    file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))

    services.scan.run()

    (sanction,) = sanctions(services)
    assert (sanction.official_name, sanction.official_username) == (None, None)


# --- idempotency and concurrency -------------------------------------------------------------


def second_scan(services: Services, ledger: Any = None) -> OverdueScan:
    return OverdueScan(
        services.tickets,
        ledger if ledger is not None else services.ledger,
        services.tenants,
        services.heads,
        services.clock,
    )


def test_two_scan_instances_over_the_same_tables_record_one_sanction(
    services: Services, clock: FixedClock
) -> None:
    for _ in range(3):
        file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))

    first = second_scan(services).run()
    second = second_scan(services).run()

    assert (first.sanctioned, second.sanctioned) == (3, 0)
    assert len(sanctions(services)) == 3
    assert len({s.key for s in sanctions(services)}) == 3


class RacingLedger(FakeSanctionLedger):
    """Runs another scan to completion just before this scan records: a concurrent run."""

    def __init__(self, shared: FakeSanctionLedger) -> None:
        super().__init__()
        self.records = shared.records
        self.rival: OverdueScan | None = None
        self.answers: list[bool] = []

    def record(self, sanction: Sanction) -> bool:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival.run()
        answer = super().record(sanction)
        self.answers.append(answer)
        return answer


def test_concurrent_scans_record_one_sanction_and_one_red_mark(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))
    shared = services.ledger
    assert isinstance(shared, FakeSanctionLedger)
    racing = RacingLedger(shared)
    racing.rival = second_scan(services)

    report = second_scan(services, racing).run()

    assert racing.answers == [False]
    assert report.sanctioned == 0
    assert len(sanctions(services)) == 1
    ticket = stored(services, ticket_id)
    assert ticket.overdue is True
    assert ticket.version == 2


def test_existing_sanction_key_is_kept_and_the_ticket_still_marked(
    services: Services, clock: FixedClock
) -> None:
    # An earlier run recorded the sanction, then lost its ticket write.
    ticket_id = file_report(services)
    ticket = stored(services, ticket_id)
    earlier = Sanction(
        tenant="jakarta",
        period="2026-12",
        unit_id=GAMBIR,
        unit_name="Kelurahan Gambir",
        ticket_id=ticket_id,
        number=ticket.number,
        assignment=0,
        due_at=DUE,
        detected_at=DUE + timedelta(minutes=5),
        cut_percent=10.0,
    )
    ledger = services.ledger
    assert isinstance(ledger, FakeSanctionLedger)
    assert ledger.record(earlier) is True
    advance_to(clock, DUE + timedelta(hours=3))

    services.scan.run()

    assert sanctions(services) == [earlier]
    assert stored(services, ticket_id).overdue is True


def test_scan_whose_ticket_write_goes_stale_retries_without_a_second_sanction(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))
    repository = services.tickets
    assert isinstance(repository, FakeTicketRepository)
    repository.fail_next_save = StaleWrite("someone else wrote the ticket")

    report = services.scan.run()

    assert report.sanctioned == 1
    assert len(sanctions(services)) == 1
    assert stored(services, ticket_id).overdue is True


def test_official_acting_between_read_and_write_keeps_the_action_and_the_sanction(
    services: Services, clock: FixedClock
) -> None:
    ticket_id = file_report(services)
    advance_to(clock, DUE + timedelta(hours=1))
    shared = services.ledger
    assert isinstance(shared, FakeSanctionLedger)
    records = shared.records

    class OfficialActsMeanwhile(FakeSanctionLedger):
        def __init__(self) -> None:
            super().__init__()
            self.records = records

        def record(self, sanction: Sanction) -> bool:
            if not self.records:
                act(services, ticket_id, official(GAMBIR), action="process")
            return super().record(sanction)

    services.scan = second_scan(services, OfficialActsMeanwhile())

    services.scan.run()

    ticket = stored(services, ticket_id)
    assert ticket.status is Status.IN_PROGRESS
    assert ticket.overdue is True
    assert len(sanctions(services)) == 1
