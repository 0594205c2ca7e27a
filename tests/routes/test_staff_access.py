"""GET /v1/{tenant}/tickets/{id}: staff only, officials only for their unit's tickets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from tests.fakes import FakeTicketRepository, FakeVerifier, fake_services

GAMBIR = "kelurahan:31.71.01.1001"
MENTENG = "kelurahan:31.71.06.1001"


@pytest.fixture
def services() -> Iterator[Services]:
    services = fake_services()
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register("citizen")
    verifier.register("lurah-gambir", groups=["officials"], tenant="jakarta", unit=GAMBIR)
    verifier.register("lurah-menteng", groups=["officials"], tenant="jakarta", unit=MENTENG)
    verifier.register("validator", groups=["validators"], tenant="jakarta")
    verifier.register("admin-aceh", groups=["admins"], tenant="banda-aceh")
    verifier.register("official-no-tenant", groups=["officials"], unit=GAMBIR)
    override(services)
    yield services
    override(None)


@pytest.fixture
def ticket_id(services: Services) -> str:
    with Client(app_module.app) as client:
        response = client.http.post(
            "/v1/jakarta/reports",
            headers={"Content-Type": "application/json", "Authorization": "Bearer citizen"},
            body=json.dumps(
                {
                    "category": "sampah",
                    "description": "x",
                    "location": {"lat": -6.1754, "lon": 106.8272},
                }
            ),
        )
    created = str(response.json_body["ticket_id"])
    repo = services.tickets
    assert isinstance(repo, FakeTicketRepository)
    # Monas lies in Kelurahan Gambir: the report is routed there when it is filed.
    assigned = repo.items[("jakarta", created)].assigned_unit
    assert assigned is not None and assigned["id"] == GAMBIR
    return created


@pytest.mark.parametrize(
    ("token", "tenant", "status"),
    [
        (None, "jakarta", 401),
        ("citizen", "jakarta", 403),
        ("official-no-tenant", "jakarta", 403),
        ("lurah-menteng", "jakarta", 403),
        ("admin-aceh", "jakarta", 403),
        ("admin-aceh", "banda-aceh", 404),
        ("lurah-gambir", "jakarta", 200),
        ("validator", "jakarta", 200),
    ],
)
def test_staff_ticket_view_is_allowed_per_role_unit_and_tenant(
    services: Services, ticket_id: str, token: str | None, tenant: str, status: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    with Client(app_module.app) as client:
        response = client.http.get(f"/v1/{tenant}/tickets/{ticket_id}", headers=headers)

    assert response.status_code == status
    if status == 200:
        assert "actor_id" in response.json_body["timeline"][0]
        assert "flags" in response.json_body
    else:
        assert set(response.json_body) == {"error"}
