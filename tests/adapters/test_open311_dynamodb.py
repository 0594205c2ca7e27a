"""Open311 with the production wiring against moto: hashed API keys, requests via by_month."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain.tickets import Channel, Status
from tests.adapters.conftest import AwsStack
from tests.fakes import FixedClock, shipped_bundles

GAMBIR = {"lat": "-6.1754", "long": "106.8272"}


@pytest.fixture
def served(real_services: bootstrap.Services) -> bootstrap.Services:
    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    return real_services


def raw_key_item(aws_stack: AwsStack, key_hash: str) -> dict[str, object]:
    response = aws_stack.client("dynamodb").get_item(
        TableName=aws_stack.outputs["TenantsTableName"],
        Key={"pk": {"S": "APIKEYS"}, "sk": {"S": key_hash}},
        ConsistentRead=True,
    )
    return response.get("Item", {})


def client_name() -> str:
    return f"client-{uuid.uuid4().hex[:8]}"


def test_issued_key_is_stored_only_as_its_sha256(
    served: bootstrap.Services, aws_stack: AwsStack
) -> None:
    # Given a freshly issued key
    name = client_name()
    key, client = served.keys.issue("jakarta", name)

    # When the raw item is read from the tenants table
    digest = hashlib.sha256(key.encode()).hexdigest()
    item = raw_key_item(aws_stack, digest)

    # Then it is there under the key's SHA-256, and the key itself appears nowhere in it
    assert item, "no item under the key's SHA-256"
    assert item["key_id"] == {"S": client.key_id}
    assert item["tenant"] == {"S": "jakarta"}
    assert item["name"] == {"S": name}
    assert key not in json.dumps(item)


def test_issued_keys_are_long_random_and_distinct(served: bootstrap.Services) -> None:
    first, _ = served.keys.issue("jakarta", client_name())
    second, _ = served.keys.issue("jakarta", client_name())

    assert first != second
    assert len(first) >= 32


def test_lookup_finds_the_client_of_an_issued_key(served: bootstrap.Services) -> None:
    name = client_name()
    key, issued = served.keys.issue("banda-aceh", name)

    found = served.keys.lookup(key)

    assert found is not None
    assert (found.key_id, found.tenant, found.name, found.revoked) == (
        issued.key_id,
        "banda-aceh",
        name,
        False,
    )


def test_lookup_of_an_unknown_key_is_none(served: bootstrap.Services) -> None:
    assert served.keys.lookup(f"not-a-key-{uuid.uuid4().hex}") is None


def test_revoke_marks_the_key_revoked_and_leaves_others_alone(
    served: bootstrap.Services, aws_stack: AwsStack
) -> None:
    # Given two issued keys
    key, issued = served.keys.issue("jakarta", client_name())
    other, _ = served.keys.issue("jakarta", client_name())

    # When one is revoked by its id
    assert served.keys.revoke(issued.key_id)

    # Then only that one is revoked, in the stored item too
    found = served.keys.lookup(key)
    assert found is not None and found.revoked
    untouched = served.keys.lookup(other)
    assert untouched is not None and not untouched.revoked
    item = raw_key_item(aws_stack, hashlib.sha256(key.encode()).hexdigest())
    assert item["revoked"] == {"BOOL": True}


def test_revoke_of_an_unknown_key_id_is_false(served: bootstrap.Services) -> None:
    assert served.keys.revoke(f"unknown-{uuid.uuid4().hex[:6]}") is False


def test_open311_post_lands_waiting_at_kelurahan_gambir_and_is_listed_via_by_month(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    # Given a client with a key for Jakarta
    name = client_name()
    key, _ = served.keys.issue("jakarta", name)

    # When it posts a request at Gambir
    [created] = served.open311.create(
        {
            "api_key": key,
            "jurisdiction_id": "jakarta",
            "service_code": "sampah",
            "description": "Sampah menumpuk di depan Stasiun Gambir",
            **GAMBIR,
        }
    )
    request_id = created["service_request_id"]

    # Then the stored ticket waits at Kelurahan Gambir, from channel open311 and that client
    ticket = served.tickets.get("jakarta", request_id)
    assert ticket is not None
    assert ticket.status is Status.WAITING
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["name"] == "Kelurahan Gambir"
    assert ticket.channel is Channel.OPEN311
    assert ticket.client == name

    # And GET /requests.json over a date range finds it through the by_month index
    listed = served.open311.requests(
        {
            "jurisdiction_id": "jakarta",
            "start_date": (clock.at - timedelta(seconds=1)).isoformat(),
            "end_date": (clock.at + timedelta(seconds=1)).isoformat(),
            "service_code": "sampah",
            "status": "open",
        }
    )
    mine = [item for item in listed if item["service_request_id"] == request_id]
    assert len(mine) == 1
    assert mine[0]["agency_responsible"] == "Kelurahan Gambir"
    assert mine[0]["status"] == "open"


def test_open311_request_is_not_listed_outside_its_month(
    served: bootstrap.Services, clock: FixedClock
) -> None:
    key, _ = served.keys.issue("jakarta", client_name())
    [created] = served.open311.create(
        {
            "api_key": key,
            "jurisdiction_id": "jakarta",
            "service_code": "sampah",
            "description": "Sampah menumpuk",
            **GAMBIR,
        }
    )

    listed = served.open311.requests(
        {
            "jurisdiction_id": "jakarta",
            "start_date": (clock.at - timedelta(days=80)).isoformat(),
            "end_date": (clock.at - timedelta(days=40)).isoformat(),
        }
    )

    assert created["service_request_id"] not in [i["service_request_id"] for i in listed]
