"""The admin console operations (chalicelib/service/operations.py) over fakes.

What an administrator sees when running the admin Lambda functions with a JSON test event: each
answers ``{"ok": true, ...}`` or ``{"ok": false, "error": {...}}``, and a refused event changes
nothing. The operations bucket is an in-memory `OperationsFiles` defined here.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.admin import describe, read_bundle
from chalicelib.bootstrap import Services
from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import Head
from chalicelib.domain.tickets import Status
from chalicelib.service import operations
from chalicelib.service.operations import ConsoleOperations
from chalicelib.service.staff import CSV_COLUMNS, ledger_csv
from tests.fakes import (
    ROOT,
    FakeSanctionLedger,
    FakeTenantDirectory,
    FakeTicketRepository,
    FakeUnitHeads,
    FixedClock,
    fake_services,
)
from tests.workflow_helpers import make_ticket

BUCKET = "cepat-respon-operations-test"
GAMBIR = "kelurahan:31.71.01.1001"
MENTENG = "kelurahan:31.71.06.1001"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
KAMPUNG_BARU_ACEH = "gampong:11.71.01.2001"
MONAS = {"lat": -6.1754, "lon": 106.8272}
# Friday 4 December 2026, 16:30 WIB.
FILED = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


# --- the operations bucket, in memory ---------------------------------------------------------


class MemoryFiles:
    """`OperationsFiles` over a dict: objects by key, with their content types."""

    def __init__(self, bucket: str = BUCKET) -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.reads: list[str] = []

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def read(self, key: str, max_bytes: int) -> bytes:
        self.reads.append(key)
        if key not in self.objects:
            raise TenantConfigError(f"{self.location(key)}: file not found")
        data = self.objects[key]
        if len(data) > max_bytes:
            raise TenantConfigError(f"{self.location(key)}: larger than {max_bytes} bytes")
        return data

    def write(self, key: str, data: bytes, content_type: str) -> str:
        self.objects[key] = bytes(data)
        self.content_types[key] = content_type
        return self.location(key)

    def upload_bundle(self, folder: str, as_tenant: str | None = None) -> None:
        """The shipped bundle tenants/<folder>/ copied to tenants/<as_tenant or folder>/."""
        for path in sorted((ROOT / "tenants" / folder).iterdir()):
            self.objects[f"tenants/{as_tenant or folder}/{path.name}"] = path.read_bytes()


def console(services: Services, files: MemoryFiles) -> ConsoleOperations:
    return ConsoleOperations(
        tenants=services.tenants,
        heads=services.heads,
        actions=services.actions,
        sanctions=services.sanctions,
        files=files,
        clock=services.clock,
    )


@dataclass
class Console:
    services: Services
    files: MemoryFiles
    ops: ConsoleOperations
    clock: FixedClock

    @property
    def directory(self) -> FakeTenantDirectory:
        assert isinstance(self.services.tenants, FakeTenantDirectory)
        return self.services.tenants

    @property
    def tickets(self) -> FakeTicketRepository:
        assert isinstance(self.services.tickets, FakeTicketRepository)
        return self.services.tickets

    @property
    def heads(self) -> FakeUnitHeads:
        assert isinstance(self.services.heads, FakeUnitHeads)
        return self.services.heads

    @property
    def ledger(self) -> FakeSanctionLedger:
        assert isinstance(self.services.ledger, FakeSanctionLedger)
        return self.services.ledger

    def run(self, name: str, event: object) -> dict[str, Any]:
        operation: Callable[[object], dict[str, Any]] = (
            operations.refuse_fields if name == "refuse_fields" else getattr(self.ops, name)
        )
        return operations.run(operation, event)

    def state(self) -> dict[str, Any]:
        """Everything an operation could change, comparable before and after."""
        return {
            "tenants": {k: b.tenant.revision for k, b in self.directory.bundles.items()},
            "heads": copy.deepcopy(self.heads.records),
            "tickets": copy.deepcopy(self.tickets.items),
            "sanctions": dict(self.ledger.records),
            "files": dict(self.files.objects),
        }


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FILED)


@pytest.fixture
def con(clock: FixedClock) -> Console:
    services = fake_services(clock=clock)
    files = MemoryFiles()
    return Console(services, files, console(services, files), clock)


def citizen() -> Principal:
    return Principal(subject="warga-7f3a", username="warga", roles=frozenset({Role.CITIZEN}))


def file_report(con: Console, category: str = "sampah") -> str:
    """Rubbish at Monas, filed with the device location: routed to Kelurahan Gambir at once."""
    body = {"category": category, "description": "Sampah menumpuk", "location": MONAS}
    ticket = con.services.reports.submit("jakarta", citizen(), body).ticket
    assert ticket.status is Status.WAITING
    assert (ticket.assigned_unit or {}).get("id") == GAMBIR
    return ticket.ticket_id


def refused(answer: dict[str, Any], code: str, field: str | None = None) -> dict[str, Any]:
    assert answer["ok"] is False, answer
    error = answer["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return dict(error)


# --- load_tenant ------------------------------------------------------------------------------


def test_load_tenant_puts_the_bundle_read_from_the_bucket_into_the_directory(con: Console) -> None:
    expected = read_bundle(ROOT / "tenants" / "jakarta")
    del con.directory.bundles["jakarta"]
    con.files.upload_bundle("jakarta")

    answer = con.run("load_tenant", {"tenant": "jakarta"})

    assert answer == {
        "ok": True,
        "tenant": "jakarta",
        "loaded": True,
        "revision": expected.tenant.revision,
        "villages": len(expected.jurisdiction.villages),
        "units": len(expected.jurisdiction.units),
        "categories": len(expected.tenant.categories),
        "routing_rules": len(expected.jurisdiction.routing),
        "summary": describe(expected),
    }
    assert (answer["villages"], answer["units"]) == (267, 405)
    assert set(con.files.reads) == {
        "tenants/jakarta/tenant.json",
        "tenants/jakarta/boundaries.geojson",
    }
    stored = con.directory.get("jakarta")
    assert stored is not None and stored.revision == expected.tenant.revision
    gambir = con.directory.jurisdiction("jakarta").unit(GAMBIR)
    assert gambir is not None and gambir.name == "Kelurahan Gambir"


def test_loading_an_edited_bundle_replaces_the_stored_revision(con: Console) -> None:
    shipped = con.directory.bundles["jakarta"].tenant.revision
    con.files.upload_bundle("jakarta")
    config = json.loads(con.files.objects["tenants/jakarta/tenant.json"])
    config["name"] = "Pemerintah Provinsi DKI Jakarta"
    con.files.objects["tenants/jakarta/tenant.json"] = json.dumps(config).encode()

    answer = con.run("load_tenant", {"tenant": "jakarta", "check_only": False})

    assert answer["ok"] is True and answer["loaded"] is True
    assert answer["revision"] != shipped
    stored = con.directory.get("jakarta")
    assert stored is not None
    assert (stored.revision, stored.name) == (answer["revision"], "Pemerintah Provinsi DKI Jakarta")


def test_check_only_validates_and_counts_but_changes_nothing(con: Console) -> None:
    expected = read_bundle(ROOT / "tenants" / "banda-aceh")
    del con.directory.bundles["banda-aceh"]
    con.files.upload_bundle("banda-aceh")
    before = con.state()

    answer = con.run("load_tenant", {"tenant": "banda-aceh", "check_only": True})

    assert answer["ok"] is True
    assert answer["loaded"] is False
    assert answer["revision"] == expected.tenant.revision
    assert (answer["villages"], answer["units"], answer["routing_rules"]) == (
        len(expected.jurisdiction.villages),
        len(expected.jurisdiction.units),
        len(expected.jurisdiction.routing),
    )
    assert con.directory.get("banda-aceh") is None
    assert con.state() == before


def _drop(key: str) -> Callable[[MemoryFiles], None]:
    def change(files: MemoryFiles) -> None:
        del files.objects[key]

    return change


def _replace(key: str, data: bytes) -> Callable[[MemoryFiles], None]:
    def change(files: MemoryFiles) -> None:
        files.objects[key] = data

    return change


def _edit_config(**changes: Any) -> Callable[[MemoryFiles], None]:
    def change(files: MemoryFiles) -> None:
        key = "tenants/jakarta/tenant.json"
        config = json.loads(files.objects[key])
        config.update(changes)
        files.objects[key] = json.dumps(config).encode()

    return change


CONFIG = "tenants/jakarta/tenant.json"
BOUNDARIES = "tenants/jakarta/boundaries.geojson"


@pytest.mark.parametrize(
    ("change", "names", "says"),
    [
        (_drop(CONFIG), CONFIG, "file not found"),
        (_drop(BOUNDARIES), BOUNDARIES, "file not found"),
        (_replace(CONFIG, b'{"id": "jakarta",'), CONFIG, "not valid JSON"),
        (_replace(CONFIG, b"\xff\xfe not text"), CONFIG, "not valid JSON"),
        (_replace(BOUNDARIES, b"<html>503</html>"), BOUNDARIES, "not valid JSON"),
        (_edit_config(id="banda-aceh"), CONFIG, "'banda-aceh'"),
        (_edit_config(boundaries="../banda-aceh/boundaries.geojson"), CONFIG, "boundaries"),
        (_edit_config(boundaries="boundaries.json"), CONFIG, "boundaries"),
    ],
    ids=[
        "no-tenant-json",
        "no-boundaries",
        "config-not-json",
        "config-not-utf8",
        "boundaries-not-json",
        "id-mismatch",
        "boundaries-outside-folder",
        "boundaries-not-geojson",
    ],
)
@pytest.mark.parametrize("check_only", [False, True])
def test_a_broken_bundle_is_refused_naming_its_s3_location_and_nothing_changes(
    con: Console,
    change: Callable[[MemoryFiles], None],
    names: str,
    says: str,
    check_only: bool,
) -> None:
    con.files.upload_bundle("jakarta")
    change(con.files)
    before = con.state()

    answer = con.run("load_tenant", {"tenant": "jakarta", "check_only": check_only})

    error = refused(answer, "invalid_bundle")
    assert error["message"].startswith(f"s3://{BUCKET}/{names}: "), error
    assert says in error["message"]
    assert con.state() == before


def test_a_bundle_uploaded_under_another_tenants_folder_is_refused(con: Console) -> None:
    con.files.upload_bundle("jakarta", as_tenant="jakarta-baru")
    before = con.state()

    answer = con.run("load_tenant", {"tenant": "jakarta-baru"})

    error = refused(answer, "invalid_bundle")
    assert error["message"].startswith(f"s3://{BUCKET}/tenants/jakarta-baru/tenant.json: ")
    assert "'jakarta'" in error["message"] and "'jakarta-baru'" in error["message"]
    assert con.directory.get("jakarta-baru") is None
    assert con.state() == before


@pytest.mark.parametrize(
    "tenant", ["", "Jakarta", "../jakarta", "jakarta/../banda-aceh", "jakarta ", "jakarta\n", "*"]
)
def test_a_tenant_that_is_not_a_tenant_id_is_refused_before_any_read(
    con: Console, tenant: str
) -> None:
    con.files.upload_bundle("jakarta")

    refused(con.run("load_tenant", {"tenant": tenant}), "validation_error", "tenant")

    assert con.files.reads == []


# --- appoint_head -----------------------------------------------------------------------------


def test_appointed_head_is_named_on_the_next_ticket_the_router_assigns(con: Console) -> None:
    answer = con.run(
        "appoint_head",
        {
            "tenant": "jakarta",
            "unit": GAMBIR,
            "name": "  Lurah Baru ",
            "username": "lurah.baru",
            "nip": "198001012005011002",
            "since": "2026-12-01T08:00+07:00",
        },
    )
    ticket_id = file_report(con)

    assert answer == {
        "ok": True,
        "tenant": "jakarta",
        "unit": {"id": GAMBIR, "name": "Kelurahan Gambir"},
        "head": {"name": "Lurah Baru", "username": "lurah.baru", "nip": "198001012005011002"},
        "since": "2026-12-01T08:00:00+07:00",
    }
    ticket = con.tickets.get("jakarta", ticket_id)
    assert ticket is not None
    assert ticket.assignments[-1].head == "Lurah Baru"


def test_appointment_without_since_starts_now_and_a_later_one_takes_over_from_its_time(
    con: Console,
) -> None:
    first = con.run("appoint_head", {"tenant": "jakarta", "unit": GAMBIR, "name": "Lurah Lama"})
    tomorrow = (FILED + timedelta(days=1)).isoformat()
    con.run(
        "appoint_head",
        {"tenant": "jakarta", "unit": GAMBIR, "name": "Lurah Baru", "since": tomorrow},
    )

    today_ticket = con.tickets.get("jakarta", file_report(con))
    con.clock.advance(days=1)
    tomorrow_ticket = con.tickets.get("jakarta", file_report(con))

    assert first["ok"] is True and first["since"] == FILED.isoformat()
    assert first["head"] == {"name": "Lurah Lama", "username": None, "nip": None}
    assert today_ticket is not None and tomorrow_ticket is not None
    assert today_ticket.assignments[-1].head == "Lurah Lama"
    assert tomorrow_ticket.assignments[-1].head == "Lurah Baru"


@pytest.mark.parametrize(
    "since",
    [
        "2026-12-01T08:00",
        "2026-12-01",
        "kemarin",
        "",
        "01/12/2026 08:00 WIB",
        "2026-13-01T08:00Z",
        # Valid ISO times whose UTC form overflows (or that no appointment has): DynamoDB's
        # adapter would fail on them, so they are refused before anything is written.
        "0001-01-01T00:00+14:00",
        "9999-12-31T23:59-14:00",
        "1945-08-17T10:00+07:00",
    ],
)
def test_a_since_that_is_not_an_iso_time_with_offset_is_refused(con: Console, since: str) -> None:
    before = con.state()

    answer = con.run(
        "appoint_head", {"tenant": "jakarta", "unit": GAMBIR, "name": "Lurah Baru", "since": since}
    )

    refused(answer, "validation_error", "since")
    assert con.state() == before
    ticket = con.tickets.get("jakarta", file_report(con))
    assert ticket is not None and ticket.assignments[-1].head is None


@pytest.mark.parametrize(
    ("event", "names"),
    [
        (
            {"tenant": "jakarta", "unit": "kelurahan:31.71.01.9999", "name": "X"},
            "kelurahan:31.71.01.9999",
        ),
        ({"tenant": "jakarta", "unit": KAMPUNG_BARU_ACEH, "name": "X"}, KAMPUNG_BARU_ACEH),
        ({"tenant": "atlantis", "unit": GAMBIR, "name": "X"}, "atlantis"),
    ],
)
def test_appointing_to_an_unknown_unit_or_tenant_is_refused_and_records_nothing(
    con: Console, event: dict[str, Any], names: str
) -> None:
    before = con.state()

    answer = con.run("appoint_head", event)

    assert answer["ok"] is False
    assert names in answer["error"]["message"]
    assert con.state() == before


@pytest.mark.parametrize("field", ["name", "username", "nip"])
def test_a_name_too_long_for_a_ledger_row_is_refused(con: Console, field: str) -> None:
    event = {"tenant": "jakarta", "unit": GAMBIR, "name": "Lurah Baru", field: "x" * 201}

    answer = con.run("appoint_head", event)

    refused(answer, "validation_error", field)
    assert con.services.heads.history("jakarta", GAMBIR) == []


def test_a_field_of_half_a_megabyte_is_refused_without_echoing_it(con: Console) -> None:
    event = {"tenant": "jakarta", "unit": "x" * 500_000, "name": "Lurah Baru"}

    answer = con.run("appoint_head", event)

    refused(answer, "validation_error", "unit")
    assert len(json.dumps(answer)) < 1_000


def test_a_blank_name_is_refused(con: Console) -> None:
    answer = con.run("appoint_head", {"tenant": "jakarta", "unit": GAMBIR, "name": "   "})

    refused(answer, "validation_error", "name")
    assert con.services.heads.history("jakarta", GAMBIR) == []


# --- reassign_ticket --------------------------------------------------------------------------


def reassign(ticket_id: str, unit: str = SUDIN_BINA_MARGA_JP, **changes: Any) -> dict[str, Any]:
    return {
        "tenant": "jakarta",
        "ticket": ticket_id,
        "unit": unit,
        "note": "Jalan, bukan sampah: urusan Bina Marga",
        "by": "admin.jakarta",
        **changes,
    }


def test_reassign_hands_an_open_ticket_to_another_unit_as_the_named_admin(con: Console) -> None:
    con.services.heads.appoint(
        "jakarta",
        SUDIN_BINA_MARGA_JP,
        Head(name="Kasudin Bina Marga", since=FILED - timedelta(days=30)),
    )
    ticket_id = file_report(con)
    before = con.tickets.get("jakarta", ticket_id)
    assert before is not None
    con.clock.advance(hours=2)

    answer = con.run("reassign_ticket", reassign(ticket_id))

    after = con.tickets.get("jakarta", ticket_id)
    assert after is not None
    assert answer == {
        "ok": True,
        "tenant": "jakarta",
        "ticket": ticket_id,
        "number": before.number,
        "status": "coordination",
        "unit": after.assigned_unit,
        "version": after.version,
    }
    assert after.status is Status.COORDINATION
    assert (after.assigned_unit or {})["id"] == SUDIN_BINA_MARGA_JP
    assert after.version == (before.version or 0) + 1
    entry = after.timeline[-1]
    assert entry.to_status is Status.COORDINATION
    assert entry.actor_role == "admin"
    assert entry.actor_id == "console:admin.jakarta"
    assert entry.note == "Jalan, bukan sampah: urusan Bina Marga"
    assert entry.unit == GAMBIR
    assert entry.at == con.clock.now()
    # Gambir's clock stops; the receiving unit gets a new one, under its head.
    given, received = after.assignments[-2], after.assignments[-1]
    assert (given.unit_id, given.ended_at) == (GAMBIR, con.clock.now())
    assert received.unit_id == SUDIN_BINA_MARGA_JP
    assert received.started_at == con.clock.now()
    assert received.head == "Kasudin Bina Marga"
    assert received.due_at is not None and received.due_at > con.clock.now()


def test_reassign_with_the_current_version_succeeds(con: Console) -> None:
    ticket_id = file_report(con)
    version = con.tickets.items[("jakarta", ticket_id)].version

    answer = con.run("reassign_ticket", reassign(ticket_id, expected_version=version))

    assert answer["ok"] is True
    assert answer["version"] == (version or 0) + 1


def test_an_admin_may_hand_over_past_the_limit_for_officials(con: Console) -> None:
    ticket_id = file_report(con)
    units = [SUDIN_BINA_MARGA_JP, MENTENG, GAMBIR, SUDIN_BINA_MARGA_JP]

    answers = [con.run("reassign_ticket", reassign(ticket_id, unit)) for unit in units]

    assert [a["ok"] for a in answers] == [True, True, True, True]
    assert answers[-1]["unit"]["id"] == SUDIN_BINA_MARGA_JP


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Status.COMPLETED, "invalid_transition"),
        (Status.REJECTED, "invalid_transition"),
        (Status.AWAITING_VALIDATION, "invalid_transition"),
    ],
)
def test_a_ticket_not_being_worked_on_cannot_be_reassigned(
    con: Console, status: Status, code: str
) -> None:
    ticket = make_ticket(status, at=FILED)
    con.tickets.add(ticket)
    before = con.state()

    answer = con.run("reassign_ticket", reassign(ticket.ticket_id))

    refused(answer, code)
    assert con.state() == before


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"unit": "kelurahan:31.71.01.9999"}, "validation_error", "unit"),
        ({"unit": KAMPUNG_BARU_ACEH}, "validation_error", "unit"),
        ({"unit": GAMBIR}, "validation_error", "unit"),
        ({"unit": ""}, "validation_error", "unit"),
        ({"note": "   "}, "validation_error", "note"),
        ({"note": "x" * 2_001}, "validation_error", "note"),
        ({"by": "  "}, "validation_error", "by"),
        ({"expected_version": 0}, "stale_version", None),
        ({"expected_version": 2}, "stale_version", None),
        ({"ticket": "f" * 32}, "not_found", None),
        ({"ticket": "JKT-261204-0001"}, "not_found", None),
        ({"tenant": "banda-aceh"}, "not_found", None),
        ({"tenant": "atlantis"}, "unknown_tenant", None),
    ],
    ids=[
        "unknown-unit",
        "other-tenants-unit",
        "same-unit",
        "empty-unit",
        "blank-note",
        "long-note",
        "blank-by",
        "stale-version-0",
        "stale-version-2",
        "unknown-ticket",
        "number-not-id",
        "other-tenant",
        "unknown-tenant",
    ],
)
def test_a_refused_reassignment_changes_nothing(
    con: Console, changes: dict[str, Any], code: str, field: str | None
) -> None:
    ticket_id = file_report(con)
    before = con.state()

    answer = con.run("reassign_ticket", reassign(ticket_id, **changes))

    refused(answer, code, field)
    assert con.state() == before


# --- export_ledger ----------------------------------------------------------------------------


def overdue_ticket(con: Console) -> str:
    """A ticket Gambir left unanswered past its six days, sanctioned by the hourly scan."""
    con.run(
        "appoint_head",
        {
            "tenant": "jakarta",
            "unit": GAMBIR,
            "name": "Lurah Ahmad",
            "username": "lurah.ahmad",
            "nip": "197001012000011001",
            "since": "2026-01-01T00:00+07:00",
        },
    )
    ticket_id = file_report(con)
    con.clock.advance(days=6, hours=1)
    assert con.services.scan.run().sanctioned == 1
    return ticket_id


def admin() -> Principal:
    return Principal(
        subject="admin", username="admin", roles=frozenset({Role.ADMIN}), tenant="jakarta"
    )


def test_export_writes_the_payroll_csv_and_the_full_ledger_side_by_side(con: Console) -> None:
    ticket_id = overdue_ticket(con)
    number = con.tickets.items[("jakarta", ticket_id)].number
    ledger = con.services.sanctions.ledger("jakarta", admin(), "2026-12")

    answer = con.run(
        "export_ledger", {"tenant": "jakarta", "period": "2026-12", "by": "admin.jakarta"}
    )

    csv_key = "exports/jakarta/tkd-ledger-2026-12.csv"
    json_key = "exports/jakarta/tkd-ledger-2026-12.json"
    assert answer == {
        "ok": True,
        "tenant": "jakarta",
        "period": "2026-12",
        "officials": 1,
        "sanctions": 1,
        "csv": f"s3://{BUCKET}/{csv_key}",
        "json": f"s3://{BUCKET}/{json_key}",
    }
    assert set(con.files.objects) == {csv_key, json_key}
    assert con.files.objects[csv_key].decode("utf-8") == ledger_csv(ledger)
    assert json.loads(con.files.objects[json_key]) == ledger
    assert con.files.content_types[csv_key].startswith("text/csv")
    assert con.files.content_types[json_key] == "application/json"
    rows = list(csv.reader(io.StringIO(con.files.objects[csv_key].decode("utf-8"))))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:5] == ["2026-12", "Lurah Ahmad", "lurah.ahmad", "197001012000011001", GAMBIR]
    assert rows[1][7] == number and rows[1][8] == "10"


def test_export_of_a_quiet_month_writes_a_header_only_csv(con: Console) -> None:
    overdue_ticket(con)

    answer = con.run("export_ledger", {"tenant": "jakarta", "period": "2026-11"})

    assert answer["ok"] is True
    assert (answer["officials"], answer["sanctions"]) == (0, 0)
    csv_text = con.files.objects["exports/jakarta/tkd-ledger-2026-11.csv"].decode("utf-8")
    assert list(csv.reader(io.StringIO(csv_text))) == [list(CSV_COLUMNS)]
    assert (
        json.loads(con.files.objects["exports/jakarta/tkd-ledger-2026-11.json"])["sanctions"] == []
    )


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        ({"tenant": "jakarta", "period": "2026-13"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": "12-2026"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": "2026-1"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": "2026-12-01"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": "2026-12\n"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": "../../x"}, "validation_error", "period"),
        ({"tenant": "jakarta", "period": ""}, "validation_error", "period"),
        ({"tenant": "atlantis", "period": "2026-12"}, "unknown_tenant", None),
        ({"tenant": "../jakarta", "period": "2026-12"}, "validation_error", "tenant"),
    ],
)
def test_a_bad_period_or_tenant_writes_nothing(
    con: Console, event: dict[str, Any], code: str, field: str | None
) -> None:
    overdue_ticket(con)
    before = con.state()

    refused(con.run("export_ledger", event), code, field)

    assert con.files.objects == {}
    assert con.state() == before


# --- strict events: every operation -----------------------------------------------------------

# A valid event per operation (each would succeed on a fresh console with a filed ticket).
VALID: dict[str, dict[str, Any]] = {
    "load_tenant": {"tenant": "jakarta", "check_only": True},
    "appoint_head": {
        "tenant": "jakarta",
        "unit": GAMBIR,
        "name": "Lurah Baru",
        "username": "lurah.baru",
        "nip": "198001012005011002",
        "since": "2026-12-01T08:00+07:00",
    },
    "reassign_ticket": {
        "tenant": "jakarta",
        "ticket": "<filed>",
        "unit": SUDIN_BINA_MARGA_JP,
        "note": "urusan Bina Marga",
        "by": "admin.jakarta",
        "expected_version": 1,
    },
    "export_ledger": {"tenant": "jakarta", "period": "2026-12", "by": "admin.jakarta"},
}
REQUIRED = {
    "load_tenant": ["tenant"],
    "appoint_head": ["tenant", "unit", "name"],
    "reassign_ticket": ["tenant", "ticket", "unit", "note", "by"],
    "export_ledger": ["tenant", "period"],
}
STRINGS = {
    name: [f for f, v in event.items() if isinstance(v, str)] for name, event in VALID.items()
}
OPERATIONS = [*VALID, "refuse_fields"]


def valid_event(con: Console, name: str) -> dict[str, Any]:
    event = copy.deepcopy(VALID[name])
    if name == "reassign_ticket":
        event["ticket"] = file_report(con)
    if name == "load_tenant":
        con.files.upload_bundle("jakarta")
    return event


@pytest.mark.parametrize("name", list(VALID))
def test_the_valid_event_of_each_operation_succeeds(con: Console, name: str) -> None:
    answer = con.run(name, valid_event(con, name))

    assert answer["ok"] is True, answer
    json.dumps(answer)  # the console shows the answer as JSON


@pytest.mark.parametrize("event", [None, [], ["tenant"], "jakarta", "{}", 1, 1.5, True, b"{}"])
@pytest.mark.parametrize("name", OPERATIONS)
def test_an_event_that_is_not_a_json_object_is_refused(
    con: Console, name: str, event: object
) -> None:
    before = con.state()

    error = refused(con.run(name, event), "validation_error")

    assert "JSON object" in error["message"]
    assert con.state() == before


@pytest.mark.parametrize("name", OPERATIONS)
def test_an_unknown_field_is_refused_and_named(con: Console, name: str) -> None:
    event = valid_event(con, name) if name in VALID else {}
    event["tenant_id"] = "jakarta"
    before = con.state()

    error = refused(con.run(name, event), "validation_error", "tenant_id")

    assert "tenant_id" in error["message"]
    assert con.state() == before


def test_a_misspelt_field_next_to_a_missing_one_is_named_first(con: Console) -> None:
    # An admin who typed "tenat" needs to hear about "tenat", not that "tenant" is missing.
    error = refused(
        con.run("export_ledger", {"tenat": "jakarta", "period": "2026-12"}),
        "validation_error",
        "tenat",
    )
    assert "tenant" in error["message"]


@pytest.mark.parametrize(
    ("name", "missing"), [(name, field) for name, fields in REQUIRED.items() for field in fields]
)
def test_a_missing_required_field_is_refused_and_named(
    con: Console, name: str, missing: str
) -> None:
    event = valid_event(con, name)
    del event[missing]
    before = con.state()

    error = refused(con.run(name, event), "validation_error", missing)

    assert missing in error["message"]
    assert con.state() == before


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        (name, field, value)
        for name, fields in STRINGS.items()
        for field in fields
        for value in (1, None, True, ["x"], {"id": "x"})
    ]
    + [
        ("load_tenant", "check_only", "false"),
        ("load_tenant", "check_only", 0),
        ("load_tenant", "check_only", None),
        ("reassign_ticket", "expected_version", True),
        ("reassign_ticket", "expected_version", False),
        ("reassign_ticket", "expected_version", 1.0),
        ("reassign_ticket", "expected_version", "1"),
        ("reassign_ticket", "expected_version", None),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_and_named(
    con: Console, name: str, field: str, value: object
) -> None:
    event = valid_event(con, name)
    event[field] = value
    before = con.state()

    error = refused(con.run(name, event), "validation_error", field)

    assert field in error["message"]
    assert con.state() == before


def test_refuse_fields_accepts_only_an_empty_object(con: Console) -> None:
    assert con.run("refuse_fields", {}) == {"ok": True}
    refused(con.run("refuse_fields", {"dry_run": True}), "validation_error", "dry_run")
