"""The five admin Lambda functions of app.py, invoked as the Lambda console invokes them.

Each is called directly with a JSON test event and a null context, over fake services whose
`operations` reads and writes an in-memory operations bucket. Whatever the event, a function
answers with a JSON object and never raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import app as app_module
from chalicelib.bootstrap import override
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import Head
from chalicelib.domain.tickets import Status
from chalicelib.service.staff import ledger_csv
from tests.fakes import (
    FixedClock,
    fake_services,
)
from tests.unit.test_console_operations import (
    BUCKET,
    Console,
    MemoryFiles,
    console,
    file_report,
)

GAMBIR = "kelurahan:31.71.01.1001"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
MONAS = {"lat": -6.1754, "lon": 106.8272}
FILED = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

Function = Callable[[object, object], Any]
FUNCTIONS: dict[str, Function] = {
    "admin_run_overdue_scan": app_module.admin_run_overdue_scan,
    "admin_load_tenant": app_module.admin_load_tenant,
    "admin_appoint_head": app_module.admin_appoint_head,
    "admin_reassign_ticket": app_module.admin_reassign_ticket,
    "admin_export_ledger": app_module.admin_export_ledger,
}


def overdue_ticket(stage: Console) -> str:
    """Filed under Lurah Ahmad, unanswered six days and an hour later: due for a sanction."""
    stage.heads.appoint(
        "jakarta",
        GAMBIR,
        Head(name="Lurah Ahmad", since=FILED - timedelta(days=90), username="lurah.ahmad"),
    )
    ticket_id = file_report(stage)
    stage.clock.advance(days=6, hours=1)
    return ticket_id


@pytest.fixture
def stage() -> Iterator[Console]:
    clock = FixedClock(FILED)
    services = fake_services(clock=clock)
    files = MemoryFiles()
    services.operations = console(services, files)
    override(services)
    yield Console(services, files, services.operations, clock)
    override(None)


def as_console_shows(answer: Any) -> dict[str, Any]:
    """The answer as the Lambda runtime returns it: serialised to JSON."""
    assert isinstance(answer, dict)
    decoded = json.loads(json.dumps(answer))
    assert isinstance(decoded, dict)
    assert decoded == answer
    return decoded


# --- admin_run_overdue_scan -------------------------------------------------------------------


def test_run_overdue_scan_with_an_empty_event_runs_the_scan_and_returns_its_figures(
    stage: Console,
) -> None:
    ticket_id = overdue_ticket(stage)

    first = as_console_shows(app_module.admin_run_overdue_scan({}, None))
    again = as_console_shows(app_module.admin_run_overdue_scan({}, None))

    assert first["ok"] is True
    assert first["sanctioned"] == 1
    assert first["read"] >= 1
    assert first["by_tenant"] == {"jakarta": first["read"]}
    assert set(first) == {
        "ok", "read", "reminded", "sanctioned", "unchanged", "by_tenant", "open_tickets",
        "overdue_tickets",
    }  # fmt: skip
    # The dashboard's gauges: the one open ticket waits at Gambir, overdue; other tenants idle.
    assert first["open_tickets"]["jakarta"]["waiting"] == 1
    assert sum(first["open_tickets"]["jakarta"].values()) == 1
    assert first["overdue_tickets"] == {"jakarta": 1, "banda-aceh": 0, "bandar-lampung": 0}
    assert "completed" not in first["open_tickets"]["jakarta"]
    [sanction] = stage.ledger.records.values()
    assert (sanction.ticket_id, sanction.official_name) == (ticket_id, "Lurah Ahmad")
    ticket = stage.tickets.get("jakarta", ticket_id)
    assert ticket is not None and ticket.overdue
    # Running it twice records nothing twice.
    assert again["ok"] is True and again["sanctioned"] == 0
    assert len(stage.ledger.records) == 1


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"dry_run": True}, "dry_run"),
        ({"tenant": "jakarta"}, "tenant"),
        ({"period": "2026-12"}, "period"),
    ],
)
def test_run_overdue_scan_with_any_field_is_refused_and_scans_nothing(
    stage: Console, event: dict[str, Any], field: str
) -> None:
    overdue_ticket(stage)
    before = stage.state()

    answer = as_console_shows(app_module.admin_run_overdue_scan(event, None))

    assert answer["ok"] is False
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["field"] == field
    assert stage.state() == before


# --- the four console operations --------------------------------------------------------------


def test_admin_load_tenant_loads_the_bundle_from_the_operations_bucket(stage: Console) -> None:
    del stage.directory.bundles["banda-aceh"]
    stage.files.upload_bundle("banda-aceh")

    answer = as_console_shows(app_module.admin_load_tenant({"tenant": "banda-aceh"}, None))

    assert answer["ok"] is True
    assert (answer["tenant"], answer["loaded"]) == ("banda-aceh", True)
    loaded = stage.directory.get("banda-aceh")
    assert loaded is not None and loaded.revision == answer["revision"]
    assert answer["villages"] == len(stage.directory.jurisdiction("banda-aceh").villages)


def test_admin_load_tenant_of_a_missing_bundle_names_where_it_looked(stage: Console) -> None:
    before = stage.state()

    answer = as_console_shows(app_module.admin_load_tenant({"tenant": "banda-aceh"}, None))

    assert answer == {
        "ok": False,
        "error": {
            "code": "invalid_bundle",
            "message": f"s3://{BUCKET}/tenants/banda-aceh/tenant.json: file not found",
        },
    }
    assert stage.state() == before


def test_admin_appoint_head_names_the_head_on_the_next_ticket(stage: Console) -> None:
    event = {
        "tenant": "jakarta",
        "unit": GAMBIR,
        "name": "Lurah Baru",
        "username": "lurah.baru",
        "since": "2026-12-01T08:00+07:00",
    }

    answer = as_console_shows(app_module.admin_appoint_head(event, None))
    ticket = stage.tickets.get("jakarta", file_report(stage))

    assert answer["ok"] is True
    assert answer["unit"] == {"id": GAMBIR, "name": "Kelurahan Gambir"}
    assert ticket is not None and ticket.assignments[-1].head == "Lurah Baru"


def test_admin_reassign_ticket_hands_the_ticket_over_as_the_named_admin(stage: Console) -> None:
    ticket_id = file_report(stage)
    event = {
        "tenant": "jakarta",
        "ticket": ticket_id,
        "unit": SUDIN_BINA_MARGA_JP,
        "note": "Jalan rusak, bukan sampah",
        "by": "admin.jakarta",
        "expected_version": 1,
    }

    answer = as_console_shows(app_module.admin_reassign_ticket(event, None))
    stale = as_console_shows(app_module.admin_reassign_ticket(event, None))

    ticket = stage.tickets.get("jakarta", ticket_id)
    assert ticket is not None
    assert answer["ok"] is True
    assert (answer["status"], answer["unit"]["id"], answer["version"]) == (
        "coordination",
        SUDIN_BINA_MARGA_JP,
        2,
    )
    assert ticket.status is Status.COORDINATION
    assert (ticket.timeline[-1].actor_role, ticket.timeline[-1].actor_id) == (
        "admin",
        "console:admin.jakarta",
    )
    assert stale["ok"] is False and stale["error"]["code"] == "stale_version"
    assert ticket.version == 2


def test_admin_export_ledger_writes_csv_and_json_to_the_operations_bucket(stage: Console) -> None:
    overdue_ticket(stage)
    app_module.admin_run_overdue_scan({}, None)
    admin = Principal(subject="a", username="a", roles=frozenset({Role.ADMIN}), tenant="jakarta")
    ledger = stage.services.sanctions.ledger("jakarta", admin, "2026-12")

    answer = as_console_shows(
        app_module.admin_export_ledger({"tenant": "jakarta", "period": "2026-12"}, None)
    )

    assert answer["ok"] is True
    assert (answer["officials"], answer["sanctions"]) == (1, 1)
    assert answer["csv"] == f"s3://{BUCKET}/exports/jakarta/tkd-ledger-2026-12.csv"
    assert answer["json"] == f"s3://{BUCKET}/exports/jakarta/tkd-ledger-2026-12.json"
    objects = stage.files.objects
    assert objects["exports/jakarta/tkd-ledger-2026-12.csv"].decode() == ledger_csv(ledger)
    assert json.loads(objects["exports/jakarta/tkd-ledger-2026-12.json"]) == ledger


def test_admin_functions_need_the_operations_bucket_configured(stage: Console) -> None:
    # A deployment without OPERATIONS_BUCKET is broken, not the event: the invocation fails.
    stage.services.operations = None

    with pytest.raises(RuntimeError, match="OPERATIONS_BUCKET"):
        app_module.admin_load_tenant({"tenant": "jakarta"}, None)
    assert app_module.admin_run_overdue_scan({}, None)["ok"] is True


# --- hostile events ---------------------------------------------------------------------------

HUGE = "x" * 1_000_000
HOSTILE: list[object] = [
    [],
    [{"tenant": "jakarta"}],
    "x",
    "{}",
    '{"tenant": "jakarta"}',
    1,
    -1,
    1.5,
    float("nan"),
    True,
    False,
    0,
    b"{}",
    {"tenant": None},
    {"tenant": 1},
    {"tenant": True},
    {"tenant": ["jakarta"]},
    {"tenant": {"$ne": None}},
    {"tenant": HUGE},
    {"tenant": HUGE, "period": "2026-12"},
    {"tenant": "jakarta", "unit": HUGE, "name": HUGE},
    {"tenant": "jakarta", "unit": GAMBIR, "name": "X", "since": "9" * 100_000},
    {"tenant": "jakarta", "unit": GAMBIR, "name": "X", "since": "2026-12-01T08:00"},
    {"tenant": "jakarta", "ticket": HUGE, "unit": HUGE, "note": HUGE, "by": "a"},
    {"tenant": "jakarta", "ticket": "a" * 32, "unit": GAMBIR, "note": "n", "by": "a"},
    {"tenant": "jakarta", "ticket": None, "unit": None, "note": None, "by": None},
    {"tenant": "../../etc", "period": "2026-12"},
    {"tenant": "jakarta", "period": "../../../2026-12"},
    {"tenant": "jakarta", "period": "2026-12", "by": 5},
    {"tenant": "\x00", "check_only": True},
    {"tenant": "jakarta\ud800", "check_only": True},
    {"tenant": "jakarta", "check_only": "yes"},
    {HUGE: 1},
    {"": ""},
    {"tenant": "jakarta", "extra": {"nested": [1, 2, {"deep": None}]}},
]


def hostile_id(event: object) -> str:
    text = repr(event)
    return text if len(text) <= 40 else f"{text[:37]}..."


@pytest.mark.parametrize("event", HOSTILE, ids=hostile_id)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_no_event_makes_an_admin_function_raise_and_a_refusal_changes_nothing(
    stage: Console, name: str, event: object
) -> None:
    stage.files.upload_bundle("jakarta")
    before = stage.state()

    answer = as_console_shows(FUNCTIONS[name](event, None))

    assert answer["ok"] is False, answer
    error = answer["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert stage.state() == before


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_a_null_event_does_not_raise(stage: Console, name: str) -> None:
    # The console sends null when the test event is left empty; only the scan takes no fields.
    before = stage.state()

    answer = as_console_shows(FUNCTIONS[name](None, None))

    if name == "admin_run_overdue_scan":
        assert answer["ok"] is True
    else:
        assert answer["ok"] is False and answer["error"]["code"] == "validation_error"
        assert stage.state() == before
