"""POST /intake, GET /tickets and GET /stats through chalice.test.Client over fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from tests.fakes import FakeVerifier, fake_services

GAMBIR = "kelurahan:31.71.01.1001"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
MONAS = {"lat": -6.1754, "lon": 106.8272}


@pytest.fixture
def services() -> Iterator[Services]:
    services = fake_services()
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register("citizen")
    verifier.register("operator", groups=["operators"], tenant="jakarta")
    verifier.register("operator-aceh", groups=["operators"], tenant="banda-aceh")
    verifier.register("lurah-gambir", groups=["officials"], tenant="jakarta", unit=GAMBIR)
    verifier.register("validator", groups=["validators"], tenant="jakarta")
    override(services)
    yield services
    override(None)


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    with Client(app_module.app) as client:
        yield client


def auth(token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def intake(client: Client, token: str | None = "operator", **fields: Any) -> Any:
    body = {
        "category": "sampah",
        "description": "Sampah menumpuk di pintu masuk Monas",
        "channel": "twitter",
        "received_at": "2026-12-04T08:15:00+07:00",
        "location": MONAS,
        **fields,
    }
    return client.http.post("/v1/jakarta/intake", headers=auth(token), body=json.dumps(body))


def test_operator_intake_returns_201_with_the_ticket_and_its_location(client: Client) -> None:
    response = intake(client)

    assert response.status_code == 201
    body = response.json_body
    assert set(body) >= {"ticket_id", "number", "status"}
    assert body["status"] == "waiting"
    assert body["number"].startswith("JKT-")
    assert response.headers["Location"] == f"/v1/jakarta/tickets/{body['ticket_id']}"
    staff_view = client.http.get(response.headers["Location"], headers=auth("validator"))
    assert staff_view.status_code == 200
    assert staff_view.json_body["channel"] == "twitter"
    assert staff_view.json_body["created_at"] == "2026-12-04T08:15:00+07:00"


def test_address_only_intake_returns_201_needing_a_location(client: Client) -> None:
    response = intake(client, location=None, address="Jl. Medan Merdeka Barat")

    assert response.status_code == 201
    assert response.json_body["status"] == "needs_location"


@pytest.mark.parametrize("token", ["citizen", "operator-aceh", "lurah-gambir"])
def test_intake_by_anyone_but_a_jakarta_operator_is_403(client: Client, token: str) -> None:
    response = intake(client, token)

    assert response.status_code == 403
    assert set(response.json_body) == {"error"}


@pytest.mark.parametrize("channel", ["jaki", "open311", "telegram"])
def test_intake_with_a_bad_channel_is_422_naming_the_field(client: Client, channel: str) -> None:
    response = intake(client, channel=channel)

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "channel"


def test_intake_without_a_received_offset_is_422(client: Client) -> None:
    response = intake(client, received_at="2026-12-04T08:15:00")

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "received_at"


def test_intake_with_a_body_that_is_not_json_is_400(client: Client) -> None:
    response = client.http.post("/v1/jakarta/intake", headers=auth("operator"), body="{sampah")

    assert response.status_code == 400


def test_official_lists_only_their_units_tickets(client: Client) -> None:
    trash = intake(client).json_body["ticket_id"]
    intake(client, category="lampu_jalan")

    response = client.http.get("/v1/jakarta/tickets", headers=auth("lurah-gambir"))

    assert response.status_code == 200
    items = response.json_body["items"]
    assert [i["ticket_id"] for i in items] == [trash]
    assert {i["assigned_unit"]["id"] for i in items} == {GAMBIR}
    assert "cursor" in response.json_body


def test_official_asking_for_another_unit_is_403(client: Client) -> None:
    response = client.http.get(
        f"/v1/jakarta/tickets?unit={SUDIN_BINA_MARGA_JP}", headers=auth("lurah-gambir")
    )

    assert response.status_code == 403


def test_validator_lists_waiting_tickets_page_by_page(client: Client) -> None:
    created = {intake(client, category=c).json_body["ticket_id"] for c in ("sampah",) * 3}

    first = client.http.get("/v1/jakarta/tickets?status=waiting&limit=2", headers=auth("validator"))
    cursor = first.json_body["cursor"]
    second = client.http.get(
        f"/v1/jakarta/tickets?status=waiting&limit=2&cursor={cursor}", headers=auth("validator")
    )

    assert first.status_code == second.status_code == 200
    assert len(first.json_body["items"]) == 2
    assert second.json_body["cursor"] is None
    listed = [i["ticket_id"] for i in first.json_body["items"] + second.json_body["items"]]
    assert sorted(listed) == sorted(created)


def test_validator_without_status_or_unit_is_422(client: Client) -> None:
    response = client.http.get("/v1/jakarta/tickets", headers=auth("validator"))

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("overdue=maybe", "overdue"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=dua", "limit"),
        ("status=menunggu", "status"),
    ],
)
def test_bad_queue_parameters_are_422(client: Client, query: str, field: str) -> None:
    response = client.http.get(f"/v1/jakarta/tickets?{query}", headers=auth("lurah-gambir"))

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == field


def test_citizen_listing_the_queue_is_403(client: Client) -> None:
    response = client.http.get("/v1/jakarta/tickets?status=waiting", headers=auth("citizen"))

    assert response.status_code == 403


def test_stats_return_counts_by_status_channel_and_unit(client: Client) -> None:
    intake(client)
    intake(client, channel="sms")

    response = client.http.get(
        "/v1/jakarta/stats?from=2026-12-01&to=2026-12-31", headers=auth("validator")
    )

    assert response.status_code == 200
    body = response.json_body
    assert set(body) >= {"total", "by_status", "by_channel", "app_share", "by_unit", "from", "to"}
    assert body["from"] == "2026-12-01"
    assert body["to"] == "2026-12-31"
    assert body["total"] == 2
    assert body["by_channel"] == {"sms": 1, "twitter": 1}
    assert body["app_share"] == 0
    assert body["by_unit"][0]["unit"]["id"] == GAMBIR


def test_stats_without_a_period_end_today_in_jakarta(client: Client) -> None:
    response = client.http.get("/v1/jakarta/stats", headers=auth("lurah-gambir"))

    assert response.status_code == 200
    assert response.json_body["to"] == "2026-12-04"
    assert response.json_body["app_share"] is None


@pytest.mark.parametrize(
    "query",
    ["from=2026-13-01", "from=2026-12-31&to=2026-12-01", "from=2025-01-01&to=2026-12-31"],
)
def test_stats_with_a_bad_period_are_422(client: Client, query: str) -> None:
    response = client.http.get(f"/v1/jakarta/stats?{query}", headers=auth("validator"))

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "from"


def test_citizen_asking_for_stats_is_403(client: Client) -> None:
    response = client.http.get("/v1/jakarta/stats", headers=auth("citizen"))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/jakarta/intake"),
        ("get", "/v1/jakarta/tickets?status=waiting"),
        ("get", "/v1/jakarta/stats"),
    ],
)
@pytest.mark.parametrize("token", [None, "forged-token"], ids=["no-token", "unknown-token"])
def test_staff_endpoints_without_a_valid_token_are_401(
    client: Client, method: str, path: str, token: str | None
) -> None:
    response = getattr(client.http, method)(path, headers=auth(token), body="{}")

    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert set(response.json_body) == {"error"}


def test_unknown_tenant_is_404_for_stats(client: Client) -> None:
    response = client.http.get("/v1/atlantis/stats", headers=auth("validator"))

    assert response.status_code == 404
