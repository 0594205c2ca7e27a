"""The TKD sanction ledger for payroll, its CSV and route, SLA statistics, and clock notifications.

DESIGN.md section 5: admins export the ledger per period (CSV for payroll: one row per official
with violations, tickets and the total cut, capped by policy) and see SLA compliance per unit.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.admin import appoint_head
from chalicelib.bootstrap import Services, override
from chalicelib.domain.errors import InvalidRequest, NotAllowed
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.notifications import Audience, notifications_for
from chalicelib.domain.ports import Head
from chalicelib.domain.sanctions import Sanction, payroll_rows
from chalicelib.domain.tickets import Status, Ticket
from chalicelib.service.staff import CSV_COLUMNS, ledger_csv
from tests.fakes import FakeVerifier, FixedClock, fake_services
from tests.workflow_helpers import make_ticket

GAMBIR = "kelurahan:31.71.01.1001"
MENTENG = "kelurahan:31.71.06.1001"
KECAMATAN_GAMBIR = "kecamatan:31.71.01"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
MONAS = {"lat": -6.1754, "lon": 106.8272}
FILED = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
DUE = FILED + timedelta(days=6)


def sanction(
    number: str,
    *,
    unit_id: str = GAMBIR,
    unit_name: str = "Kelurahan Gambir",
    official: str | None = "Lurah Ahmad",
    username: str | None = "lurah-ahmad",
    cut: float = 10.0,
    due: datetime = DUE,
) -> Sanction:
    return Sanction(
        tenant="jakarta",
        period="2026-12",
        unit_id=unit_id,
        unit_name=unit_name,
        ticket_id=f"{number}-id",
        number=number,
        assignment=0,
        due_at=due,
        detected_at=due + timedelta(hours=1),
        cut_percent=cut,
        official_name=official,
        official_username=username,
        # NIP, the civil servant number, identifies the official: one per person.
        official_nip={"Lurah Ahmad": "197001012000011001"}.get(official or "")
        if official
        else None,
    )


# --- payroll_rows ----------------------------------------------------------------------------


def test_payroll_rows_group_violations_by_official_and_list_their_tickets() -> None:
    found = [
        sanction("JKT-261204-0002", due=DUE + timedelta(hours=1)),
        sanction("JKT-261204-0001"),
        sanction(
            "JKT-261204-0003",
            unit_id=MENTENG,
            unit_name="Kelurahan Menteng",
            official="Lurah Citra",
            username="lurah-citra",
        ),
    ]

    rows = payroll_rows(found, max_cut_percent=100)

    assert [(r["official_name"], r["violations"], r["cut_percent"]) for r in rows] == [
        ("Lurah Ahmad", 2, 20.0),
        ("Lurah Citra", 1, 10.0),
    ]
    assert rows[0]["tickets"] == ["JKT-261204-0001", "JKT-261204-0002"]
    assert rows[0]["official_nip"] == "197001012000011001"
    assert rows[0]["unit_id"] == GAMBIR


def test_payroll_rows_cap_the_total_cut_of_an_official() -> None:
    found = [sanction(f"JKT-261204-{n:04d}") for n in range(1, 13)]

    (row,) = payroll_rows(found, max_cut_percent=100)

    assert row["violations"] == 12
    assert row["cut_percent"] == 100
    assert len(row["tickets"]) == 12


def test_payroll_rows_apply_a_lower_tenant_cap() -> None:
    found = [sanction(f"JKT-261204-{n:04d}") for n in range(1, 4)]

    (row,) = payroll_rows(found, max_cut_percent=25)

    assert row["cut_percent"] == 25


def test_payroll_cap_holds_for_an_official_sanctioned_in_two_units_in_one_month() -> None:
    # Lurah Ahmad headed Gambir early in the month and Menteng after a transfer.
    found = [
        sanction("JKT-261201-0001", due=DUE - timedelta(days=5)),
        sanction("JKT-261201-0002", due=DUE - timedelta(days=4)),
        sanction("JKT-261220-0001", unit_id=MENTENG, unit_name="Kelurahan Menteng"),
        sanction("JKT-261220-0002", unit_id=MENTENG, unit_name="Kelurahan Menteng"),
    ]

    rows = payroll_rows(found, max_cut_percent=25)

    ahmad = [r for r in rows if r["official_username"] == "lurah-ahmad"]
    assert sum(r["cut_percent"] for r in ahmad) <= 25
    assert sum(r["violations"] for r in ahmad) == 4


def test_payroll_rows_for_units_without_a_known_head_are_one_row_per_unit() -> None:
    found = [
        sanction("JKT-261204-0001", official=None, username=None),
        sanction("JKT-261204-0002", official=None, username=None),
        sanction(
            "JKT-261204-0003",
            unit_id=MENTENG,
            unit_name="Kelurahan Menteng",
            official=None,
            username=None,
        ),
    ]

    rows = payroll_rows(found, max_cut_percent=100)

    assert [(r["unit_id"], r["violations"]) for r in rows] == [(GAMBIR, 2), (MENTENG, 1)]
    assert all(r["official_name"] is None for r in rows)


def test_payroll_rows_of_no_sanctions_are_empty() -> None:
    assert payroll_rows([], max_cut_percent=100) == []


# --- ledger_csv ------------------------------------------------------------------------------


def ledger_of(*found: Sanction) -> dict[str, object]:
    return {"period": "2026-12", "officials": payroll_rows(found, max_cut_percent=100)}


def test_ledger_csv_has_a_header_and_one_crlf_row_per_official() -> None:
    ledger = ledger_of(
        sanction("JKT-261204-0001"),
        sanction("JKT-261204-0002", due=DUE + timedelta(hours=2)),
        sanction(
            "JKT-261204-0003",
            unit_id=MENTENG,
            unit_name="Kelurahan Menteng",
            official="Lurah Citra, S.Sos.",
            username="lurah-citra",
            cut=2.5,
        ),
    )

    text = ledger_csv(ledger)

    lines = text.split("\r\n")
    assert lines[-1] == ""
    assert len(lines) == 4
    assert "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[0] == [
        "period",
        "official_name",
        "official_username",
        "official_nip",
        "unit_id",
        "unit_name",
        "violations",
        "tickets",
        "cut_percent",
    ]
    assert rows[1] == [
        "2026-12",
        "Lurah Ahmad",
        "lurah-ahmad",
        "197001012000011001",
        GAMBIR,
        "Kelurahan Gambir",
        "2",
        "JKT-261204-0001 JKT-261204-0002",
        "20",
    ]
    # A comma in the name is quoted, not a new column.
    assert rows[2][1] == "Lurah Citra, S.Sos."
    assert rows[2][8] == "2.5"


def test_ledger_csv_of_an_empty_period_is_the_header_only() -> None:
    text = ledger_csv(ledger_of())

    assert text == ",".join(CSV_COLUMNS) + "\r\n"


# --- SanctionsService.ledger over fakes ------------------------------------------------------


def staff(role: Role, tenant: str = "jakarta", unit: str | None = None) -> Principal:
    name = f"{role.value}-{tenant}-{unit or 'tenant'}"
    return Principal(
        subject=name,
        username=name,
        roles=frozenset({Role.CITIZEN, role}),
        tenant=tenant,
        unit=unit,
    )


def citizen() -> Principal:
    return Principal(subject="warga-1", username="warga-1", roles=frozenset({Role.CITIZEN}))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FILED)


@pytest.fixture
def services(clock: FixedClock) -> Services:
    return fake_services(clock=clock)


def file_report(services: Services) -> str:
    body = {
        "category": "jalan_rusak",
        "description": "Jalan berlubang dekat Monas",
        "location": MONAS,
    }
    return services.reports.submit("jakarta", citizen(), body).ticket.ticket_id


def overdue_in_gambir(services: Services, clock: FixedClock, reports: int = 1) -> list[str]:
    """Lurah Ahmad heads Gambir; `reports` potholes at Monas go overdue and are sanctioned."""
    appoint_head(
        services.tenants,
        services.heads,
        tenant="jakarta",
        unit_id=GAMBIR,
        head=Head(
            name="Lurah Ahmad",
            since=FILED - timedelta(days=365),
            username="lurah-ahmad",
            nip="197001012000011001",
        ),
    )
    ids = [file_report(services) for _ in range(reports)]
    clock.at = DUE + timedelta(hours=1)
    services.scan.run()
    return ids


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VALIDATOR])
def test_admins_and_validators_read_the_ledger_of_a_period(
    services: Services, clock: FixedClock, role: Role
) -> None:
    ids = overdue_in_gambir(services, clock, reports=2)

    ledger = services.sanctions.ledger("jakarta", staff(role), "2026-12")

    assert (ledger["tenant"], ledger["period"]) == ("jakarta", "2026-12")
    assert (ledger["cut_percent"], ledger["max_cut_percent"]) == (10.0, 100.0)
    (row,) = ledger["officials"]
    assert (row["official_name"], row["violations"], row["cut_percent"]) == ("Lurah Ahmad", 2, 20)
    assert sorted(s["ticket_id"] for s in ledger["sanctions"]) == sorted(ids)
    first = ledger["sanctions"][0]
    assert first["due_at"] == "2026-12-10T16:30:00+07:00"
    assert first["detected_at"] == "2026-12-10T17:30:00+07:00"
    assert first["official"]["username"] == "lurah-ahmad"
    assert first["unit"] == {"id": GAMBIR, "name": "Kelurahan Gambir"}


def test_ledger_of_another_period_is_empty(services: Services, clock: FixedClock) -> None:
    overdue_in_gambir(services, clock)

    ledger = services.sanctions.ledger("jakarta", staff(Role.ADMIN), "2027-01")

    assert (ledger["officials"], ledger["sanctions"]) == ([], [])


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param(staff(Role.OFFICIAL, unit=GAMBIR), id="official"),
        pytest.param(staff(Role.OPERATOR), id="operator"),
        pytest.param(citizen(), id="citizen"),
        pytest.param(staff(Role.ADMIN, tenant="banda-aceh"), id="admin-of-another-tenant"),
    ],
)
def test_ledger_is_not_for_officials_operators_citizens_or_other_tenants(
    services: Services, caller: Principal
) -> None:
    with pytest.raises(NotAllowed):
        services.sanctions.ledger("jakarta", caller, "2026-12")


@pytest.mark.parametrize("period", ["2026-13", "26-01", "2026-1", "2026-00", "", None, "2026-12x"])
def test_ledger_with_a_bad_period_is_an_invalid_request(
    services: Services, period: str | None
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        services.sanctions.ledger("jakarta", staff(Role.ADMIN), period)

    assert refused.value.field == "period"


# --- GET /v1/{tenant}/sanctions --------------------------------------------------------------


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register("admin", groups=["admins"], tenant="jakarta")
    verifier.register("lurah-gambir", groups=["officials"], tenant="jakarta", unit=GAMBIR)
    verifier.register("warga")
    override(services)
    with Client(app_module.app) as client:
        yield client
    override(None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sanctions_route_returns_the_payroll_csv_with_the_responsible_official(
    client: Client, services: Services, clock: FixedClock
) -> None:
    ids = overdue_in_gambir(services, clock)
    number = services.tickets.get("jakarta", ids[0]).number  # type: ignore[union-attr]

    response = client.http.get(
        "/v1/jakarta/sanctions?period=2026-12&format=csv", headers=bearer("admin")
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert 'filename="tkd-jakarta-2026-12.csv"' in disposition
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8"), newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:6] == [
        "2026-12",
        "Lurah Ahmad",
        "lurah-ahmad",
        "197001012000011001",
        GAMBIR,
        "Kelurahan Gambir",
    ]
    assert rows[1][6:] == ["1", number, "10"]


def test_sanctions_route_returns_json_by_default(
    client: Client, services: Services, clock: FixedClock
) -> None:
    overdue_in_gambir(services, clock)

    response = client.http.get("/v1/jakarta/sanctions?period=2026-12", headers=bearer("admin"))

    assert response.status_code == 200
    assert response.json_body["officials"][0]["official_username"] == "lurah-ahmad"


def test_sanctions_route_with_an_unknown_format_is_422(client: Client) -> None:
    response = client.http.get(
        "/v1/jakarta/sanctions?period=2026-12&format=xml", headers=bearer("admin")
    )

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "format"


def test_sanctions_route_with_a_bad_period_is_422(client: Client) -> None:
    response = client.http.get("/v1/jakarta/sanctions?period=2026-13", headers=bearer("admin"))

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "period"


@pytest.mark.parametrize("token", ["lurah-gambir", "warga"])
def test_sanctions_route_is_403_for_officials_and_citizens(client: Client, token: str) -> None:
    response = client.http.get(
        "/v1/jakarta/sanctions?period=2026-12&format=csv", headers=bearer(token)
    )

    assert response.status_code == 403


def test_sanctions_route_without_a_token_is_401(client: Client) -> None:
    response = client.http.get("/v1/jakarta/sanctions?period=2026-12")

    assert response.status_code == 401


# --- statistics ------------------------------------------------------------------------------


def unit_stats(services: Services, unit_id: str) -> dict[str, object]:
    stats = services.staff.stats(
        "jakarta", staff(Role.ADMIN), start="2026-12-01", end="2026-12-31", today=date(2026, 12, 31)
    )
    found = [u for u in stats["by_unit"] if u["unit"]["id"] == unit_id]
    assert found, f"{unit_id} missing from {stats['by_unit']}"
    return found[0]


def test_stats_show_sanctions_and_sla_compliance_per_unit(
    services: Services, clock: FixedClock
) -> None:
    overdue_in_gambir(services, clock)
    file_report(services)  # filed after the scan, due six days later: on time

    gambir = unit_stats(services, GAMBIR)

    assert (gambir["tickets"], gambir["overdue"]) == (2, 1)
    assert gambir["sanctions"] == 1
    assert gambir["sla_compliance"] == 0.5


def test_stats_of_units_without_overdue_tickets_are_fully_compliant(
    services: Services,
) -> None:
    file_report(services)

    gambir = unit_stats(services, GAMBIR)

    assert (gambir["sanctions"], gambir["sla_compliance"]) == (0, 1.0)


def test_stats_keep_a_units_sanction_after_it_handed_the_ticket_over(
    services: Services, clock: FixedClock
) -> None:
    (ticket_id,) = overdue_in_gambir(services, clock)
    services.actions.act(
        "jakarta",
        ticket_id,
        staff(Role.OFFICIAL, unit=GAMBIR),
        {"action": "coordinate", "note": "Wewenang Bina Marga", "unit": SUDIN_BINA_MARGA_JP},
    )

    gambir = unit_stats(services, GAMBIR)

    assert gambir["sanctions"] == 1


# --- notifications of the clock --------------------------------------------------------------


def running_ticket() -> Ticket:
    ticket = make_ticket(Status.WAITING, at=FILED + timedelta(hours=2))
    job = ticket.assignments[0]
    ticket.assignments[0] = dataclasses.replace(
        job, due_at=DUE, remind_at=DUE - timedelta(hours=24)
    )
    ticket.due_at = DUE
    return ticket


def test_reminder_set_on_the_current_assignment_notifies_the_unit_once() -> None:
    before = running_ticket()
    after = copy.deepcopy(before)
    after.mark_reminded()

    sent = notifications_for(before, after, base_url="https://api.example")

    (reminder,) = sent
    assert reminder.audience is Audience.UNIT
    assert reminder.message["type"] == "ticket.due_soon"
    assert reminder.attributes == {"tenant": "jakarta", "unit": GAMBIR, "type": "ticket.due_soon"}
    assert reminder.message["due_at"] == DUE.isoformat()
    assert reminder.message["event_id"] == reminder.event_id


def test_red_mark_notifies_the_unit_and_escalates_to_the_parent_unit() -> None:
    before = running_ticket()
    after = copy.deepcopy(before)
    after.mark_overdue(DUE + timedelta(hours=1), KECAMATAN_GAMBIR)

    sent = notifications_for(before, after, base_url="https://api.example")

    assert [(n.message["type"], n.attributes["unit"]) for n in sent] == [
        ("ticket.overdue", GAMBIR),
        ("ticket.escalated", KECAMATAN_GAMBIR),
    ]
    assert all(n.audience is Audience.UNIT for n in sent)
    assert len({n.event_id for n in sent}) == 2
    assert after.overdue is True


def test_red_mark_without_a_parent_unit_notifies_only_the_unit() -> None:
    before = running_ticket()
    after = copy.deepcopy(before)
    after.mark_overdue(DUE + timedelta(hours=1), None)

    sent = notifications_for(before, after, base_url="https://api.example")

    assert [n.message["type"] for n in sent] == ["ticket.overdue"]


def test_reevaluating_the_same_change_sends_nothing() -> None:
    after = running_ticket()
    after.mark_reminded()
    after.mark_overdue(DUE + timedelta(hours=1), KECAMATAN_GAMBIR)

    sent = notifications_for(after, copy.deepcopy(after), base_url="https://api.example")

    assert sent == []


def test_clock_event_ids_differ_from_every_timeline_event_id() -> None:
    before = running_ticket()
    after = copy.deepcopy(before)
    after.mark_reminded()
    after.mark_overdue(DUE + timedelta(hours=1), KECAMATAN_GAMBIR)
    timeline_ids = {f"{after.ticket_id}:{i}" for i in range(len(after.timeline))}

    sent = notifications_for(before, after, base_url="https://api.example")

    assert len(sent) == 3
    assert len({n.event_id for n in sent}) == 3
    assert not {n.event_id for n in sent} & timeline_ids
