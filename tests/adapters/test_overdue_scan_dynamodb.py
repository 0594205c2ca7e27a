"""The overdue scan against DynamoDB in moto: reads grow with what is due, never with the table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.client
import pytest

from chalicelib import bootstrap
from chalicelib.adapters import dynamodb
from chalicelib.domain.ports import Head
from chalicelib.domain.tickets import Channel, Location, LocationSource, Status, Ticket
from tests.fakes import FixedClock, shipped_bundles

GAMBIR = {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"}
AREA = {"kelurahan": {"code": "31.71.01.1001", "name": "Gambir"}}
# Earlier than anything other tests in the session store, so only these tickets can be due.
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
OPEN_ASSIGNMENTS = 20_000
OVERDUE = 25


def routed_ticket(started: datetime, number: int) -> Ticket:
    ticket = Ticket(
        tenant="jakarta",
        ticket_id=uuid.uuid4().hex,
        number=f"JKT-260520-{number:05d}",
        status=Status.LOCATING,
        category="sampah",
        description="Sampah",
        channel=Channel.JAKI,
        private=True,
        reporter_id="load-test",
        created_at=started,
        updated_at=started,
    )
    ticket.transition(Status.LOCATING, at=started)
    ticket.assign(
        unit=GAMBIR,
        area=AREA,
        location=Location(-6.1754, 106.8272, LocationSource.DEVICE),
        at=started,
        due_at=started + timedelta(days=6),
        remind_at=started + timedelta(days=5),
    )
    return ticket


@pytest.fixture
def loaded(real_services: bootstrap.Services, clock: FixedClock) -> Iterator[bootstrap.Services]:
    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    real_services.heads.appoint(
        "jakarta",
        GAMBIR["id"],
        Head(name="Lurah Gambir", since=NOW - timedelta(days=60), username="lurah.gambir"),
    )
    with dynamodb.TicketModel.batch_write() as batch:
        for n in range(OVERDUE):
            batch.save(dynamodb.ticket_to_model(routed_ticket(NOW - timedelta(days=7), n)))
    # The other open assignments are never read by the scan, so they are written as what the
    # clock index holds of them (keys and next SLA event, due in the future): writing 20,000
    # full tickets into moto would take minutes and prove nothing more.
    client = real_services_client(real_services)
    table = dynamodb.TicketModel.Meta.table_name
    future = NOW + timedelta(days=2, hours=3)
    batch: list[dict[str, Any]] = []
    for _ in range(OPEN_ASSIGNMENTS - OVERDUE):
        ticket_id = uuid.uuid4().hex
        batch.append(
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"jakarta#{ticket_id}"},
                        "sla_shard": {"S": dynamodb.sla_shard(ticket_id)},
                        "sla_next": {"S": f"{future.isoformat()}#jakarta#{ticket_id}"},
                    }
                }
            }
        )
        if len(batch) == 25:
            assert not client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems")
            batch = []
    clock.at = NOW
    yield real_services


def real_services_client(services: bootstrap.Services) -> Any:
    import boto3

    assert services.settings is not None
    return boto3.client(
        "dynamodb", region_name="ap-southeast-3", endpoint_url=services.settings.endpoint_url
    )


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any], int]]:
    calls: list[tuple[str, dict[str, Any], int]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        calls.append((operation, params, int(response.get("Count", 0))))
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def test_scan_of_20000_open_assignments_reads_only_the_25_overdue_and_sanctions_each_once(
    loaded: bootstrap.Services, dynamodb_calls: list[tuple[str, dict[str, Any], int]]
) -> None:
    first = loaded.scan.run()
    reads = [c for c in dynamodb_calls if c[0] == "Query" and c[1].get("IndexName") == "by_due"]
    sanctions = loaded.ledger.period("jakarta", "2026-05")
    dynamodb_calls.clear()

    second = loaded.scan.run()

    assert first.read == OVERDUE
    assert first.sanctioned == OVERDUE
    assert sum(count for _, _, count in reads) == OVERDUE
    assert len(reads) == dynamodb.SLA_SHARDS  # one page per shard
    assert not [c for c in dynamodb_calls if c[0] == "Scan"]
    assert len([s for s in sanctions if s.number.startswith("JKT-260520-")]) == OVERDUE
    assert all(s.official_username == "lurah.gambir" for s in sanctions)
    assert second.read == 0
    assert second.sanctioned == 0
    print(
        f"{OPEN_ASSIGNMENTS} open assignments, {OVERDUE} overdue: first scan read "
        f"{first.read} items in {len(reads)} queries; second scan read {second.read}"
    )
