"""The work queue and statistics on the production wiring under moto: GSIs, cursors, no Scan.

The tickets table is shared by the whole session, so each test works in a month nobody else
uses (the clock is set far ahead) and picks its own tickets out by id.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb import TicketModel
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import Page
from chalicelib.domain.tickets import Channel, Status
from tests.adapters.conftest import AwsStack
from tests.fakes import FixedClock, shipped_bundles
from tests.workflow_helpers import citizen, staff

ACEH = "banda-aceh"
MASJID_RAYA = {"lat": 5.5536, "lon": 95.3174}
KAMPUNG_BARU = "gampong:11.71.01.2001"
DINAS_PUPR = "dinas-pupr:11.71"
MONAS = {"lat": -6.1754, "lon": 106.8272}


@pytest.fixture(scope="module")
def bundles_stored(aws_stack: AwsStack) -> None:
    """The shipped tenants, written once for this module (the tables outlive each test)."""
    services = bootstrap.build(aws_stack.settings(), FixedClock())
    for bundle in shipped_bundles():
        services.tenants.put(bundle)


@pytest.fixture
def served(bundles_stored: None, real_services: bootstrap.Services) -> bootstrap.Services:
    return real_services


def file_report(
    services: bootstrap.Services,
    clock: FixedClock,
    tenant: str = ACEH,
    category: str = "sampah",
    location: dict[str, float] | None = None,
) -> str:
    """A citizen's app report, one minute after the previous one."""
    clock.advance(minutes=1)
    body = {
        "category": category,
        "description": "Sampah menumpuk",
        "location": location or (MASJID_RAYA if tenant == ACEH else MONAS),
    }
    return services.reports.submit(tenant, citizen(), body).ticket.ticket_id


def operator(tenant: str = ACEH) -> Principal:
    return staff(Role.OPERATOR, tenant=tenant)


def keuchik() -> Principal:
    return staff(Role.OFFICIAL, tenant=ACEH, unit=KAMPUNG_BARU)


def page_through(fetch: Any, limit: int) -> tuple[list[str], int]:
    """Every ticket id of a listing, following cursors; and how many pages it took."""
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page: Page = fetch(limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen.extend(t.ticket_id for t in page.items)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return seen, pages


def forged(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def test_unit_queue_pages_through_five_tickets_two_at_a_time_newest_change_first(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 7, 1, 3, 0, tzinfo=UTC)
    filed = [file_report(served, clock) for _ in range(5)]

    seen, pages = page_through(
        lambda **kw: served.tickets.list_by_unit(ACEH, KAMPUNG_BARU, None, **kw), limit=2
    )

    everything = served.tickets.list_by_unit(ACEH, KAMPUNG_BARU, None, limit=1000, cursor=None)
    assert everything.cursor is None
    assert len(seen) == len(set(seen))
    assert seen == [t.ticket_id for t in everything.items]
    assert pages >= 3
    assert [t for t in seen if t in filed] == list(reversed(filed))


def test_unit_queue_filters_by_status_through_the_sort_key_prefix(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 7, 2, 3, 0, tzinfo=UTC)
    working, waiting = file_report(served, clock), file_report(served, clock)
    ticket = served.tickets.get(ACEH, working)
    assert ticket is not None
    clock.advance(minutes=1)
    ticket.transition(Status.IN_PROGRESS, at=clock.now())
    served.tickets.save(ticket)

    in_progress = served.tickets.list_by_unit(
        ACEH, KAMPUNG_BARU, "in_progress", limit=100, cursor=None
    )
    still_waiting, _ = page_through(
        lambda **kw: served.tickets.list_by_unit(ACEH, KAMPUNG_BARU, "waiting", **kw), limit=50
    )

    assert working in [t.ticket_id for t in in_progress.items]
    assert {t.status for t in in_progress.items} == {Status.IN_PROGRESS}
    assert waiting in still_waiting
    assert working not in still_waiting
    assert TicketModel.get(f"{ACEH}#{working}").queue_sort.startswith("in_progress#")


def test_status_listing_finds_a_tenants_waiting_tickets_and_never_another_tenants(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 7, 3, 3, 0, tzinfo=UTC)
    in_aceh = [file_report(served, clock, category=c) for c in ("sampah", "lampu_jalan")]
    in_jakarta = file_report(served, clock, tenant="jakarta")

    seen, _ = page_through(
        lambda **kw: served.tickets.list_by_status(ACEH, "waiting", **kw), limit=25
    )

    assert set(in_aceh) <= set(seen)
    assert in_jakarta not in seen
    listing = served.tickets.list_by_status(ACEH, "waiting", limit=100, cursor=None)
    assert {t.tenant for t in listing.items} == {ACEH}
    assert {t.status for t in listing.items} == {Status.WAITING}


def test_cursor_of_one_units_queue_is_refused_for_another_unit(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 7, 4, 3, 0, tzinfo=UTC)
    file_report(served, clock)
    file_report(served, clock)
    first = served.tickets.list_by_unit(ACEH, KAMPUNG_BARU, None, limit=1, cursor=None)
    assert first.cursor is not None

    with pytest.raises(InvalidRequest) as raised:
        served.tickets.list_by_unit(ACEH, DINAS_PUPR, None, limit=1, cursor=first.cursor)

    assert raised.value.field == "cursor"


def test_cursor_of_one_tenants_status_listing_is_refused_for_another_tenant(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 7, 5, 3, 0, tzinfo=UTC)
    file_report(served, clock, tenant="jakarta")
    file_report(served, clock, tenant="jakarta")
    first = served.tickets.list_by_status("jakarta", "waiting", limit=1, cursor=None)
    assert first.cursor is not None

    with pytest.raises(InvalidRequest):
        served.tickets.list_by_status(ACEH, "waiting", limit=1, cursor=first.cursor)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        forged({"pk": "x"}),
        forged({"pk": {"S": "x"}, "unit_key": "banda-aceh#x", "queue_sort": {"S": "x"}}),
        forged({"pk": {"S": "x"}, "unit_key": {"N": "1"}, "queue_sort": {"S": "x"}}),
        forged(["pk", "unit_key", "queue_sort"]),
    ],
    ids=["garbage", "wrong-keys", "key-not-typed", "key-without-S", "a-list"],
)
def test_a_cursor_the_api_did_not_issue_is_invalid_not_a_crash(
    served: bootstrap.Services, cursor: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        served.tickets.list_by_unit(ACEH, KAMPUNG_BARU, None, limit=2, cursor=cursor)

    assert raised.value.field == "cursor"


def test_month_summaries_carry_status_channel_and_unit_from_the_projection(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 8, 10, 3, 0, tzinfo=UTC)
    app_report = file_report(served, clock)
    light = file_report(served, clock, category="lampu_jalan")
    received = (clock.now() - timedelta(days=2)).isoformat()
    by_sms = served.reports.intake(
        ACEH,
        operator(),
        {
            "category": "sampah",
            "description": "Sampah di depan masjid",
            "channel": "sms",
            "received_at": received,
            "address": "Jl. Muhammad Jam, Kampung Baru",
        },
    ).ticket.ticket_id
    in_jakarta = file_report(served, clock, tenant="jakarta")
    clock.at = datetime(2033, 8, 31, 17, 30, tzinfo=UTC)  # 00:30 WIB, 1 September
    next_month = file_report(served, clock)

    summaries = {s.ticket_id: s for s in served.tickets.summaries_by_month(ACEH, ["2033-08"])}

    assert {app_report, light, by_sms} <= set(summaries)
    assert in_jakarta not in summaries
    assert next_month not in summaries
    assert summaries[app_report].status is Status.WAITING
    assert summaries[app_report].channel is Channel.JAKI
    assert summaries[app_report].unit_id == KAMPUNG_BARU
    assert summaries[light].unit_id == DINAS_PUPR
    assert summaries[light].unit_name
    assert summaries[by_sms].status is Status.NEEDS_LOCATION
    assert summaries[by_sms].channel is Channel.SMS
    assert summaries[by_sms].unit_id is None
    assert summaries[by_sms].created_at == datetime.fromisoformat(received)
    assert next_month in {s.ticket_id for s in served.tickets.summaries_by_month(ACEH, ["2033-09"])}


def test_stats_on_dynamodb_count_the_months_tickets_by_channel_and_unit(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    clock.at = datetime(2033, 10, 10, 3, 0, tzinfo=UTC)
    for _ in range(3):
        file_report(served, clock)
    served.reports.intake(
        ACEH,
        operator(),
        {
            "category": "sampah",
            "description": "Sampah di depan masjid",
            "channel": "sms",
            "received_at": clock.now().isoformat(),
            "location": MASJID_RAYA,
        },
    )

    result = served.staff.stats(
        ACEH,
        staff(Role.VALIDATOR, tenant=ACEH),
        start="2033-10-01",
        end="2033-10-31",
        today=clock.now().date(),
    )

    assert result["total"] == 4
    assert result["by_channel"] == {"jaki": 3, "sms": 1}
    assert result["app_share"] == 0.75
    assert result["by_status"] == {"waiting": 4}
    assert [(u["unit"]["id"], u["tickets"], u["open"]) for u in result["by_unit"]] == [
        (KAMPUNG_BARU, 4, 4)
    ]


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of every AWS API operation made while the fixture is active."""
    calls: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield calls


def test_queue_and_stats_read_through_queries_never_a_scan(
    served: bootstrap.Services, clock: FixedClock, dynamodb_calls: list[str]
) -> None:
    clock.at = datetime(2033, 11, 10, 3, 0, tzinfo=UTC)
    for category in ("sampah", "sampah", "sampah", "lampu_jalan"):
        file_report(served, clock, category=category)
    dynamodb_calls.clear()
    validator = staff(Role.VALIDATOR, tenant=ACEH)

    first = served.staff.queue(
        ACEH, keuchik(), status=None, unit=None, overdue=None, limit=2, cursor=None
    )
    served.staff.queue(
        ACEH, keuchik(), status=None, unit=None, overdue=None, limit=2, cursor=first["cursor"]
    )
    served.staff.queue(
        ACEH, keuchik(), status="waiting", unit=None, overdue=True, limit=5, cursor=None
    )
    served.staff.queue(
        ACEH, validator, status="waiting", unit=None, overdue=None, limit=5, cursor=None
    )
    served.staff.queue(
        ACEH, validator, status=None, unit=DINAS_PUPR, overdue=None, limit=5, cursor=None
    )
    served.staff.stats(
        ACEH, validator, start="2033-10-15", end="2033-12-31", today=clock.now().date()
    )

    assert first["cursor"] is not None
    assert "Query" in dynamodb_calls
    assert "Scan" not in dynamodb_calls
    assert set(dynamodb_calls) <= {"Query", "GetItem"}
