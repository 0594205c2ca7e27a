"""Routing over HTTP: a located report lands with its unit; nearby reports; setting a location."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from tests.fakes import FakeVerifier, fake_services

JSON = {"Content-Type": "application/json"}
MONAS = {"lat": -6.1754, "lon": 106.8272}
NEAR_MONAS = "-6.1754,106.8272"
GAMBIR_UNIT = {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"}


@pytest.fixture
def services() -> Iterator[Services]:
    services = fake_services()
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register("siti-token")
    verifier.register("budi-token")
    override(services)
    yield services
    override(None)


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    with Client(app_module.app) as client:
        yield client


def auth(user: str = "siti-token") -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {user}"}


def post_report(client: Client, user: str = "siti-token", **fields: Any) -> Any:
    body = {"category": "sampah", "description": "Sampah menumpuk di Jalan Medan Merdeka"}
    body.update(fields)
    return client.http.post("/v1/jakarta/reports", headers=auth(user), body=json.dumps(body))


def test_report_filed_at_monas_is_201_and_waiting(client: Client) -> None:
    response = post_report(client, location=MONAS)

    assert response.status_code == 201
    assert response.json_body["status"] == "waiting"
    assert response.json_body["upload"] is None


def test_report_at_monas_shows_its_area_and_unit(client: Client) -> None:
    ticket_id = post_report(client, location=MONAS).json_body["ticket_id"]

    view = client.http.get(f"/v1/jakarta/reports/{ticket_id}").json_body

    assert view["status"] == "waiting"
    assert view["status_label"] == {"id": "Menunggu", "en": "Waiting"}
    assert view["area"] == {
        "kelurahan": {"code": "31.71.01.1001", "name": "Gambir"},
        "kecamatan": {"code": "31.71.01", "name": "Gambir"},
        "kota": {"code": "31.71", "name": "Kota Administrasi Jakarta Pusat"},
    }
    assert view["assigned_unit"] == GAMBIR_UNIT
    assert view["location"] == {**MONAS, "source": "device"}


def test_report_in_jakarta_bay_is_201_rejected_with_the_reason(client: Client) -> None:
    ticket_id = post_report(client, location={"lat": -6.05, "lon": 106.85}).json_body["ticket_id"]

    view = client.http.get(f"/v1/jakarta/reports/{ticket_id}").json_body

    assert view["status"] == "rejected"
    assert view["rejection"]["reason"] == "outside_jurisdiction"
    assert "Provinsi DKI Jakarta" in view["rejection"]["message"]
    assert view["assigned_unit"] is None


def test_reporter_sets_the_location_of_a_report_that_needs_one(client: Client) -> None:
    created = post_report(client).json_body
    assert created["status"] == "needs_location"

    response = client.http.post(
        f"/v1/jakarta/reports/{created['ticket_id']}/location",
        headers=auth(),
        body=json.dumps(MONAS),
    )

    assert response.status_code == 200
    assert response.json_body["status"] == "waiting"
    assert response.json_body["location"] == {**MONAS, "source": "manual"}
    assert response.json_body["assigned_unit"] == GAMBIR_UNIT


@pytest.mark.parametrize(
    ("user", "located", "status", "code"),
    [
        (None, False, 401, "unauthenticated"),
        ("budi-token", False, 403, "not_reporter"),
        ("siti-token", True, 409, "invalid_transition"),
    ],
    ids=["anonymous", "another-citizen", "already-located"],
)
def test_setting_the_location_is_refused_for_others_and_once_located(
    client: Client, user: str | None, located: bool, status: int, code: str
) -> None:
    created = post_report(client, **({"location": MONAS} if located else {})).json_body
    headers = auth(user) if user else JSON

    response = client.http.post(
        f"/v1/jakarta/reports/{created['ticket_id']}/location",
        headers=headers,
        body=json.dumps({"lat": -6.1950, "lon": 106.8230}),
    )

    assert response.status_code == status
    assert response.json_body["error"]["code"] == code


def test_setting_an_unusable_location_is_422(client: Client) -> None:
    created = post_report(client).json_body

    response = client.http.post(
        f"/v1/jakarta/reports/{created['ticket_id']}/location",
        headers=auth(),
        body=json.dumps({"lat": 0, "lon": 0}),
    )

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "location"


def test_nearby_lists_public_reports_and_counts_private_ones(client: Client) -> None:
    public = post_report(client, location=MONAS, private=False).json_body["ticket_id"]
    post_report(client, user="budi-token", location=MONAS)  # private by default

    response = client.http.get(
        f"/v1/jakarta/reports?near={NEAR_MONAS}&category=sampah&radius_m=300"
    )

    assert response.status_code == 200
    body = response.json_body
    assert [i["ticket_id"] for i in body["items"]] == [public]
    assert body["items"][0]["distance_m"] == 0.0
    assert body["items"][0]["assigned_unit"] == GAMBIR_UNIT
    assert "flags" not in body["items"][0]
    assert body["private_nearby"] == 1


def test_nearby_defaults_to_200_metres(client: Client) -> None:
    post_report(client, location={"lat": -6.1754 + 0.0027, "lon": 106.8272}, private=False)

    response = client.http.get(f"/v1/jakarta/reports?near={NEAR_MONAS}&category=sampah")

    assert response.status_code == 200
    assert response.json_body == {"items": [], "private_nearby": 0}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"near={NEAR_MONAS}&category=sampah&radius_m=5000", "radius_m"),
        (f"near={NEAR_MONAS}&category=sampah&radius_m=0", "radius_m"),
        (f"near={NEAR_MONAS}&category=sampah&radius_m=abc", "radius_m"),
        (f"near={NEAR_MONAS}", "category"),
        (f"near={NEAR_MONAS}&category=ufo", "category"),
        ("category=sampah", "near"),
        ("near=abc&category=sampah", "near"),
        ("near=0,0&category=sampah", "near"),
    ],
    ids=[
        "radius-5000",
        "radius-0",
        "radius-abc",
        "no-category",
        "unknown-category",
        "no-near",
        "near-abc",
        "near-null-island",
    ],
)
def test_nearby_with_a_bad_query_is_422_naming_the_field(
    client: Client, query: str, field: str
) -> None:
    response = client.http.get(f"/v1/jakarta/reports?{query}")

    assert response.status_code == 422
    assert response.json_body["error"]["field"] == field


def test_nearby_of_an_unknown_tenant_is_404(client: Client) -> None:
    response = client.http.get(f"/v1/atlantis/reports?near={NEAR_MONAS}&category=sampah")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "unknown_tenant"
