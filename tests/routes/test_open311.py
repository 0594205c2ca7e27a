"""Open311 GeoReport v2 over HTTP: what a GeoReport client sees of Jakarta's tickets.

The shapes are checked against real City of Chicago GET /requests.json records
(../shared/data/complaints/chicago_open311_requests_sample.json).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Channel
from tests.fakes import SHARED, FakeTicketRepository, FixedClock, fake_services

BASE = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
GAMBIR = {"lat": "-6.1754", "long": "106.8272"}
JAKARTA_BAY = {"lat": "-6.05", "long": "106.85"}
CLIENT_NAME = "FixMyKota"
CHICAGO = json.loads(
    (SHARED / "data" / "complaints" / "chicago_open311_requests_sample.json").read_text()
)
CHICAGO_FIELDS = (
    "service_request_id",
    "status",
    "service_name",
    "service_code",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
    "token",
)
UNKNOWN_ID = "f" * 32


@pytest.fixture
def services() -> Iterator[Services]:
    services = fake_services()
    override(services)
    yield services
    override(None)


@pytest.fixture
def client(services: Services) -> Iterator[Client]:
    with Client(app_module.app) as client:
        yield client


@pytest.fixture
def api_key(services: Services) -> str:
    key, _ = services.keys.issue("jakarta", CLIENT_NAME)
    return key


def clock_of(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


def stored_tickets(services: Services) -> dict[tuple[str, str], Any]:
    assert isinstance(services.tickets, FakeTicketRepository)
    return services.tickets.items


def post_request(client: Client, api_key: str | None, **fields: str) -> Any:
    form = {
        "jurisdiction_id": "jakarta",
        "service_code": "sampah",
        "description": "Sampah menumpuk di depan Stasiun Gambir",
        **GAMBIR,
    }
    if api_key is not None:
        form["api_key"] = api_key
    form.update(fields)
    form = {name: value for name, value in form.items() if value is not None}
    return client.http.post(
        f"{BASE}/requests.json", headers=FORM, body=urllib.parse.urlencode(form)
    )


def post_address_only(client: Client, api_key: str, address: str) -> Any:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "jakarta",
        "service_code": "sampah",
        "description": "Sampah menumpuk di depan rumah",
        "address_string": address,
    }
    return client.http.post(
        f"{BASE}/requests.json", headers=FORM, body=urllib.parse.urlencode(form)
    )


def created_id(response: Any) -> str:
    assert response.status_code == 201, response.body
    return response.json_body[0]["service_request_id"]


def get_one(client: Client, request_id: str) -> dict[str, Any]:
    response = client.http.get(f"{BASE}/requests/{request_id}.json?jurisdiction_id=jakarta")
    assert response.status_code == 200, response.body
    [item] = response.json_body
    return item


def get_list(client: Client, **params: str) -> Any:
    query = urllib.parse.urlencode({"jurisdiction_id": "jakarta", **params})
    return client.http.get(f"{BASE}/requests.json?{query}")


def listed_ids(client: Client, **params: str) -> list[str]:
    response = get_list(client, **params)
    assert response.status_code == 200, response.body
    return [item["service_request_id"] for item in response.json_body]


def assert_open311_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.body
    [error] = response.json_body
    assert error["code"] == status
    assert isinstance(error["description"], str) and error["description"]


def parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text!r} has no UTC offset"
    return moment


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def citizen() -> Principal:
    return Principal(subject="sub-siti", username="siti", roles=frozenset({Role.CITIZEN}))


def file_citizen_report(services: Services, *, private: bool | None) -> str:
    body: dict[str, Any] = {
        "category": "sampah",
        "description": "Sampah di trotoar Jalan Medan Merdeka",
        "location": {"lat": -6.1754, "lon": 106.8272},
    }
    if private is not None:
        body["private"] = private
    return services.reports.submit("jakarta", citizen(), body).ticket.ticket_id


# --- the GeoReport client's round trip -------------------------------------------------------


def test_request_posted_at_gambir_is_201_with_its_service_request_id(
    client: Client, api_key: str
) -> None:
    response = post_request(client, api_key)

    assert response.status_code == 201
    [created] = response.json_body
    assert isinstance(created["service_request_id"], str) and created["service_request_id"]


def test_request_at_gambir_is_open_at_kelurahan_gambir_due_six_days_later(
    client: Client, api_key: str
) -> None:
    # Given a request posted with lat/long in Gambir
    request_id = created_id(post_request(client, api_key))

    # When the client reads it back
    item = get_one(client, request_id)

    # Then Kelurahan Gambir is responsible and the due time is six days after the request
    assert item["service_request_id"] == request_id
    assert item["agency_responsible"] == "Kelurahan Gambir"
    assert item["status"] == "open"
    requested = parse_moment(item["requested_datetime"])
    expected = parse_moment(item["expected_datetime"])
    assert expected - requested == timedelta(days=6)


def test_request_from_a_client_is_stored_with_channel_open311_and_the_clients_name(
    client: Client, api_key: str, services: Services
) -> None:
    request_id = created_id(post_request(client, api_key))

    ticket = services.tickets.get("jakarta", request_id)

    assert ticket is not None
    assert ticket.channel is Channel.OPEN311
    assert ticket.client == CLIENT_NAME


def test_address_only_request_is_open_with_its_address_no_coordinates_and_no_agency(
    client: Client, api_key: str
) -> None:
    # Given a request with only an address_string
    response = post_address_only(client, api_key, "Jl. Kebon Sirih No. 18, Menteng")

    # When it is read back
    item = get_one(client, created_id(response))

    # Then it is open, carries the address, and no one is responsible until it is placed
    assert item["status"] == "open"
    assert item["address"] == "Jl. Kebon Sirih No. 18, Menteng"
    assert item["lat"] is None
    assert item["long"] is None
    assert item["agency_responsible"] is None
    assert item["expected_datetime"] is None


# --- shapes replayed from the City of Chicago records ---------------------------------------


@pytest.fixture
def our_items(client: Client, api_key: str, services: Services) -> dict[str, list[Any]]:
    """One located request, one more in another kelurahan, and one address-only request."""
    located = [
        created_id(post_request(client, api_key)),
        created_id(post_request(client, api_key, lat="-6.2088", long="106.8456")),
    ]
    clock_of(services).advance(minutes=1)
    unlocated = created_id(post_address_only(client, api_key, "Jl. Cikini Raya 73"))
    listed = get_list(client).json_body
    return {
        "located": [get_one(client, i) for i in located]
        + [x for x in listed if x["service_request_id"] in located],
        "unlocated": [get_one(client, unlocated)]
        + [x for x in listed if x["service_request_id"] == unlocated],
    }


def test_chicago_sample_is_the_expected_25_records_with_the_documented_fields() -> None:
    assert len(CHICAGO) == 25
    for record in CHICAGO:
        assert set(record) <= set(CHICAGO_FIELDS)


@pytest.mark.parametrize("record", CHICAGO, ids=lambda r: r["service_request_id"])
def test_located_request_has_every_chicago_field_with_chicagos_json_type(
    record: dict[str, Any], our_items: dict[str, list[Any]]
) -> None:
    assert len(our_items["located"]) == 4
    for item in our_items["located"]:
        for field, value in record.items():
            assert field in item, f"{field} missing"
            assert item[field] is not None, f"{field} is null on a located request"
            assert json_type(item[field]) == json_type(value), field


@pytest.mark.parametrize("record", CHICAGO, ids=lambda r: r["service_request_id"])
def test_unlocated_request_has_every_chicago_field_null_only_for_coordinates(
    record: dict[str, Any], our_items: dict[str, list[Any]]
) -> None:
    assert len(our_items["unlocated"]) == 2
    for item in our_items["unlocated"]:
        for field, value in record.items():
            assert field in item, f"{field} missing"
            if field in ("lat", "long"):
                assert item[field] is None
            else:
                assert json_type(item[field]) == json_type(value), field


@pytest.mark.parametrize("record", CHICAGO, ids=lambda r: r["service_request_id"])
def test_status_and_datetimes_follow_chicagos_conventions(
    record: dict[str, Any], our_items: dict[str, list[Any]]
) -> None:
    # Chicago's own values: open/closed, ISO 8601 with an offset ("Z")
    assert record["status"] in {"open", "closed"}
    parse_moment(record["requested_datetime"])
    parse_moment(record["updated_datetime"])
    for item in our_items["located"] + our_items["unlocated"]:
        assert item["status"] in {"open", "closed"}
        requested = parse_moment(item["requested_datetime"])
        updated = parse_moment(item["updated_datetime"])
        assert updated >= requested


def test_closed_request_also_has_chicagos_status_value(client: Client, api_key: str) -> None:
    request_id = created_id(post_request(client, api_key, **JAKARTA_BAY))

    item = get_one(client, request_id)

    assert item["status"] == "closed"
    assert {r["status"] for r in CHICAGO} >= {item["status"]}


# --- errors in Open311's format --------------------------------------------------------------


def test_post_without_api_key_is_403(client: Client) -> None:
    assert_open311_error(post_request(client, None), 403)


def test_post_with_an_unknown_api_key_is_403(client: Client) -> None:
    assert_open311_error(post_request(client, "not-a-key"), 403)


def test_post_with_a_revoked_api_key_is_403(client: Client, services: Services) -> None:
    # Given a key that an administrator has revoked
    key, issued = services.keys.issue("jakarta", CLIENT_NAME)
    assert services.keys.revoke(issued.key_id)

    # When the client posts with it
    response = post_request(client, key)

    # Then it is refused
    assert_open311_error(response, 403)


def test_key_issued_for_banda_aceh_cannot_post_to_jakarta(
    client: Client, services: Services
) -> None:
    key, _ = services.keys.issue("banda-aceh", "AcehLapor")

    response = post_request(client, key)

    assert_open311_error(response, 403)
    assert stored_tickets(services) == {}


def test_post_with_an_unknown_service_code_is_400(client: Client, api_key: str) -> None:
    assert_open311_error(post_request(client, api_key, service_code="banjir_bandang"), 400)


def test_post_without_jurisdiction_id_is_400(client: Client, api_key: str) -> None:
    assert_open311_error(post_request(client, api_key, jurisdiction_id=""), 400)


def test_post_to_an_unknown_jurisdiction_is_404(client: Client, api_key: str) -> None:
    assert_open311_error(post_request(client, api_key, jurisdiction_id="atlantis"), 404)


def test_post_without_lat_long_or_address_string_is_400(client: Client, api_key: str) -> None:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "jakarta",
        "service_code": "sampah",
        "description": "Sampah menumpuk",
    }

    response = client.http.post(
        f"{BASE}/requests.json", headers=FORM, body=urllib.parse.urlencode(form)
    )

    assert_open311_error(response, 400)


def test_post_with_latitude_95_is_400(client: Client, api_key: str) -> None:
    assert_open311_error(post_request(client, api_key, lat="95"), 400)


def test_post_with_a_malformed_form_body_is_400(client: Client) -> None:
    response = client.http.post(f"{BASE}/requests.json", headers=FORM, body="%zz=1&&")

    assert_open311_error(response, 400)


def test_post_without_description_is_accepted_as_the_spec_makes_it_optional(
    client: Client, api_key: str
) -> None:
    # GeoReport v2 requires only service_code and a location; description is optional.
    response = post_request(client, api_key, description="")

    assert response.status_code == 201, response.body


def test_post_as_json_is_415(client: Client, api_key: str) -> None:
    body = json.dumps({"api_key": api_key, "jurisdiction_id": "jakarta", "service_code": "sampah"})

    response = client.http.post(
        f"{BASE}/requests.json", headers={"Content-Type": "application/json"}, body=body
    )

    assert response.status_code == 415


def test_rejected_post_creates_no_ticket(client: Client, api_key: str, services: Services) -> None:
    post_request(client, api_key, lat="95")
    post_request(client, "not-a-key")

    assert stored_tickets(services) == {}


def test_get_of_an_unknown_request_id_is_404(client: Client) -> None:
    response = client.http.get(f"{BASE}/requests/{UNKNOWN_ID}.json?jurisdiction_id=jakarta")

    assert_open311_error(response, 404)


def test_get_of_a_malformed_request_id_is_404(client: Client) -> None:
    response = client.http.get(f"{BASE}/requests/JKT-261204-0001.json?jurisdiction_id=jakarta")

    assert_open311_error(response, 404)


def test_get_request_of_another_jurisdiction_is_404(client: Client, api_key: str) -> None:
    request_id = created_id(post_request(client, api_key))

    response = client.http.get(f"{BASE}/requests/{request_id}.json?jurisdiction_id=banda-aceh")

    assert_open311_error(response, 404)


def test_get_requests_without_jurisdiction_id_is_400(client: Client) -> None:
    assert_open311_error(client.http.get(f"{BASE}/requests.json"), 400)


def test_get_requests_of_an_unknown_jurisdiction_is_404(client: Client) -> None:
    assert_open311_error(get_list(client, jurisdiction_id="atlantis"), 404)


def test_service_definition_in_xml_is_404(client: Client) -> None:
    response = client.http.get(f"{BASE}/services/sampah.xml?jurisdiction_id=jakarta")

    assert_open311_error(response, 404)


def test_service_definition_of_an_unknown_service_code_is_404(client: Client) -> None:
    response = client.http.get(f"{BASE}/services/banjir_bandang.json?jurisdiction_id=jakarta")

    assert_open311_error(response, 404)


# --- GET /requests.json filters ---------------------------------------------------------------


def test_default_window_is_the_last_90_days(
    client: Client, api_key: str, services: Services
) -> None:
    # Given one request 91 days ago and one 89 days ago
    clock = clock_of(services)
    now = clock.at
    clock.at = now - timedelta(days=91)
    old = created_id(post_request(client, api_key))
    clock.at = now - timedelta(days=89)
    recent = created_id(post_request(client, api_key))
    clock.at = now

    # When a client lists without dates
    ids = listed_ids(client)

    # Then only the one inside the last 90 days is listed
    assert ids == [recent]
    assert old not in ids


def test_explicit_dates_reach_back_beyond_the_default_window(
    client: Client, api_key: str, services: Services
) -> None:
    clock = clock_of(services)
    now = clock.at
    clock.at = now - timedelta(days=120)
    old = created_id(post_request(client, api_key))
    clock.at = now

    ids = listed_ids(
        client,
        start_date=(now - timedelta(days=125)).isoformat(),
        end_date=(now - timedelta(days=100)).isoformat(),
    )

    assert ids == [old]


def test_date_range_longer_than_90_days_is_400(client: Client) -> None:
    response = get_list(client, start_date="2026-08-01T00:00:00Z", end_date="2026-11-15T00:00:00Z")

    assert_open311_error(response, 400)


def test_status_filter_separates_open_and_closed_requests(client: Client, api_key: str) -> None:
    # Given an open request in Gambir and one in Jakarta Bay, closed as outside the jurisdiction
    open_id = created_id(post_request(client, api_key))
    closed_id = created_id(post_request(client, api_key, **JAKARTA_BAY))

    # When a client filters by status
    # Then each filter lists only its own
    assert listed_ids(client, status="open") == [open_id]
    assert listed_ids(client, status="closed") == [closed_id]
    assert sorted(listed_ids(client)) == sorted([open_id, closed_id])


def test_service_code_filter_lists_only_that_service(
    client: Client, api_key: str, services: Services
) -> None:
    created_id(post_request(client, api_key, service_code="sampah"))
    road = created_id(post_request(client, api_key, service_code="jalan_rusak"))

    assert listed_ids(client, service_code="jalan_rusak") == [road]


def test_service_request_id_filter_returns_each_named_request(
    client: Client, api_key: str, services: Services
) -> None:
    first = created_id(post_request(client, api_key))
    second = created_id(post_request(client, api_key, service_code="jalan_rusak"))
    created_id(post_request(client, api_key, service_code="lampu_jalan"))

    ids = listed_ids(client, service_request_id=f"{first},{second}")

    assert sorted(ids) == sorted([first, second])


def test_pages_cover_every_request_once_without_overlap(
    client: Client, api_key: str, services: Services
) -> None:
    # Given five requests a minute apart
    created = []
    for _ in range(5):
        created.append(created_id(post_request(client, api_key)))
        clock_of(services).advance(minutes=1)

    # When a client reads pages of two
    pages = [listed_ids(client, page=str(n), page_size="2") for n in (1, 2, 3, 4)]

    # Then the pages are 2, 2, 1 and 0 long, newest first, and together hold each request once
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert [i for p in pages for i in p] == list(reversed(created))


def test_page_size_over_100_is_400(client: Client) -> None:
    assert_open311_error(get_list(client, page_size="101"), 400)


def test_private_citizen_report_is_never_listed(
    client: Client, api_key: str, services: Services
) -> None:
    # Given a citizen report filed with JAKI's default (private) and a request from a client
    private_id = file_citizen_report(services, private=None)
    open311_id = created_id(post_request(client, api_key))

    # When a client lists requests
    ids = listed_ids(client)

    # Then the private report is not among them
    assert ids == [open311_id]
    assert private_id not in ids


def test_private_citizen_report_is_not_listed_even_when_asked_for_by_id(
    client: Client, services: Services
) -> None:
    private_id = file_citizen_report(services, private=None)

    ids = listed_ids(client, service_request_id=private_id)

    assert ids == []


def test_public_citizen_report_is_listed(client: Client, services: Services) -> None:
    public_id = file_citizen_report(services, private=False)

    assert listed_ids(client) == [public_id]


# --- discovery and services -------------------------------------------------------------------


def test_discovery_lists_the_three_jurisdictions(client: Client) -> None:
    response = client.http.get(f"{BASE}/discovery.json")

    assert response.status_code == 200
    assert sorted(response.json_body["jurisdictions"]) == [
        "banda-aceh",
        "bandar-lampung",
        "jakarta",
    ]
    [endpoint] = response.json_body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert "application/json" in endpoint["formats"]


def test_services_of_jakarta_list_one_entry_per_category(
    client: Client, services: Services
) -> None:
    tenant = services.tenants.get("jakarta")
    assert tenant is not None

    response = client.http.get(f"{BASE}/services.json?jurisdiction_id=jakarta")

    assert response.status_code == 200
    assert [s["service_code"] for s in response.json_body] == [c.code for c in tenant.categories]
    for service in response.json_body:
        assert {"service_code", "service_name", "metadata", "type", "keywords", "group"} <= set(
            service
        )
        assert isinstance(service["metadata"], bool)
        assert service["type"] in {"realtime", "batch", "blackbox"}


def test_services_without_jurisdiction_id_is_400(client: Client) -> None:
    assert_open311_error(client.http.get(f"{BASE}/services.json"), 400)


def test_service_definition_of_sampah_has_no_attributes(client: Client) -> None:
    response = client.http.get(f"{BASE}/services/sampah.json?jurisdiction_id=jakarta")

    assert response.status_code == 200
    assert response.json_body == {"service_code": "sampah", "attributes": []}
