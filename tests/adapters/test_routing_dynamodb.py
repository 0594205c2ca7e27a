"""Routing with the production wiring against moto: areas from DynamoDB, nearby via by_cell."""

from __future__ import annotations

import uuid

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb import TicketModel
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Status
from tests.fakes import shipped_bundles

MONAS = {"lat": -6.1754, "lon": 106.8272}


def citizen() -> Principal:
    return Principal(
        subject=f"citizen-{uuid.uuid4().hex[:8]}", username="warga", roles=frozenset({Role.CITIZEN})
    )


@pytest.fixture
def served(real_services: bootstrap.Services) -> bootstrap.Services:
    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    return real_services


def file_report(services: bootstrap.Services, category: str, **fields: object) -> str:
    body = {"category": category, "description": "Laporan warga", **fields}
    return services.reports.submit("jakarta", citizen(), body).ticket.ticket_id


def test_report_at_monas_is_stored_waiting_with_kelurahan_gambir(
    served: bootstrap.Services,
) -> None:
    ticket_id = file_report(served, "sampah", location=MONAS)

    ticket = served.tickets.get("jakarta", ticket_id)

    assert ticket is not None
    assert ticket.status is Status.WAITING
    assert ticket.area is not None
    assert ticket.area["kelurahan"] == {"code": "31.71.01.1001", "name": "Gambir"}
    assert ticket.assigned_unit == {
        "id": "kelurahan:31.71.01.1001",
        "name": "Kelurahan Gambir",
        "type": "kelurahan",
    }
    assert [a.unit_id for a in ticket.assignments] == ["kelurahan:31.71.01.1001"]


def test_nearby_finds_a_public_report_through_the_cell_index(served: bootstrap.Services) -> None:
    # Other tests of the session may have filed reports here too: look for this one.
    category = "banjir"
    public = file_report(served, category, location=MONAS, private=False)
    file_report(served, category, location=MONAS)

    found = served.reports.nearby(
        "jakarta", near="-6.1754,106.8272", radius_m=100, category=category
    )

    assert public in [i["ticket_id"] for i in found["items"]]
    assert found["private_nearby"] >= 1
    assert TicketModel.get(f"jakarta#{public}").cell is not None


def test_report_rejected_outside_jurisdiction_has_no_cell(served: bootstrap.Services) -> None:
    ticket_id = file_report(served, "sampah", location={"lat": -6.05, "lon": 106.85})

    item = TicketModel.get(f"jakarta#{ticket_id}")

    assert item.status == "rejected"
    assert item.location is not None
    assert item.cell is None
