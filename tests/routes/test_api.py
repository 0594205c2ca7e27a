"""The HTTP API and the photo queue handler through Chalice's test client, over fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from chalicelib.domain.tickets import Status
from chalicelib.http import MAX_JSON_BYTES
from tests.fakes import FakePhotoStore, FakeTicketRepository, FakeVerifier, fake_services
from tests.photos import jpeg

JSON = {"Content-Type": "application/json"}
REPORT = {"category": "sampah", "description": "Sampah menumpuk di depan Pasar Baru"}
JPEG = {"content_type": "image/jpeg", "content_length": 2_000_000}
MONAS = {"lat": -6.1754, "lon": 106.8272}
TICKET_KEYS = {
    "ticket_id", "number", "tenant", "status", "status_label", "category", "description",
    "channel", "private", "location", "area", "assigned_unit", "due_at", "overdue", "rejection",
    "photos", "timeline", "created_at", "updated_at", "version",
}  # fmt: skip


@pytest.fixture
def store() -> FakePhotoStore:
    return FakePhotoStore()


@pytest.fixture
def services(store: FakePhotoStore) -> Iterator[Services]:
    services = fake_services(store=store)
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


def post_report(client: Client, body: Any = None, user: str = "siti-token") -> Any:
    payload = json.dumps(REPORT if body is None else body)
    return client.http.post("/v1/jakarta/reports", headers=auth(user), body=payload)


def assert_error_shape(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str)
    assert body["error"]["code"]
    assert isinstance(body["error"]["message"], str)
    assert response.headers.get("Content-Type", "").startswith("application/json")
    error: dict[str, Any] = body["error"]
    return error


def test_tenants_lists_the_three_served(client: Client) -> None:
    response = client.http.get("/v1/tenants")

    assert response.status_code == 200
    tenants = response.json_body["tenants"]
    assert [t["id"] for t in tenants] == ["banda-aceh", "bandar-lampung", "jakarta"]
    assert all(t["name"] and t["timezone"] == "Asia/Jakarta" for t in tenants)


def test_categories_carry_code_bilingual_name_and_description(client: Client) -> None:
    response = client.http.get("/v1/jakarta/categories")

    assert response.status_code == 200
    categories = response.json_body["categories"]
    assert "sampah" in {c["code"] for c in categories}
    for category in categories:
        assert set(category) == {"code", "name", "description"}
        assert set(category["name"]) == {"id", "en"}
        assert category["name"]["id"]
        assert category["name"]["en"]


def test_unknown_tenant_is_404_unknown_tenant(client: Client) -> None:
    response = client.http.get("/v1/atlantis/categories")

    assert response.status_code == 404
    assert assert_error_shape(response)["code"] == "unknown_tenant"


def test_filing_a_report_with_a_photo_returns_201_and_an_upload(client: Client) -> None:
    response = post_report(client, {**REPORT, "photo": JPEG})

    assert response.status_code == 201
    body = response.json_body
    assert set(body) == {"ticket_id", "number", "status", "upload"}
    assert body["number"].startswith("JKT-")
    assert body["status"] == "awaiting_photo"
    assert set(body["upload"]) == {"url", "fields", "expires_at"}
    assert body["upload"]["fields"]["key"].startswith(f"uploads/jakarta/{body['ticket_id']}/")
    assert response.headers["Location"] == f"/v1/jakarta/reports/{body['ticket_id']}"


def test_filing_a_report_without_a_photo_has_no_upload(client: Client) -> None:
    response = post_report(client)

    assert response.status_code == 201
    assert response.json_body["upload"] is None
    assert response.json_body["status"] == "needs_location"


def test_filing_without_a_token_is_401_with_a_challenge(client: Client) -> None:
    response = client.http.post("/v1/jakarta/reports", headers=JSON, body=json.dumps(REPORT))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error_shape(response)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-registered", "Basic xyz", "Bearer", "Bearer a b"],
    ids=["unknown-token", "basic", "no-token", "two-tokens"],
)
def test_filing_with_a_bad_authorization_is_401_invalid_token(
    client: Client, authorization: str
) -> None:
    headers = {**JSON, "Authorization": authorization}

    response = client.http.post("/v1/jakarta/reports", headers=headers, body=json.dumps(REPORT))

    assert response.status_code == 401
    assert assert_error_shape(response)["code"] == "invalid_token"
    assert "WWW-Authenticate" in response.headers


def test_get_report_anonymously_gives_the_public_view(client: Client) -> None:
    ticket_id = post_report(client, {**REPORT, "photo": JPEG}).json_body["ticket_id"]

    response = client.http.get(f"/v1/jakarta/reports/{ticket_id}")

    assert response.status_code == 200
    view = response.json_body
    assert set(view) >= TICKET_KEYS
    assert "flags" not in view
    assert not {"reporter", "reporter_id"} & set(view)
    assert view["status"] == "awaiting_photo"
    assert view["status_label"] == {"id": "Menunggu Foto", "en": "Awaiting photo"}
    assert view["rejection"] is None
    assert view["created_at"].endswith("+07:00")


def test_get_report_as_reporter_includes_flags(client: Client) -> None:
    ticket_id = post_report(client).json_body["ticket_id"]

    response = client.http.get(f"/v1/jakarta/reports/{ticket_id}", headers=auth())

    assert response.status_code == 200
    assert set(response.json_body) >= TICKET_KEYS | {"flags"}


def test_get_report_as_another_citizen_gives_the_public_view(client: Client) -> None:
    ticket_id = post_report(client).json_body["ticket_id"]

    response = client.http.get(f"/v1/jakarta/reports/{ticket_id}", headers=auth("budi-token"))

    assert response.status_code == 200
    assert "flags" not in response.json_body


def test_report_of_one_tenant_is_404_through_another(client: Client) -> None:
    ticket_id = post_report(client).json_body["ticket_id"]

    response = client.http.get(f"/v1/banda-aceh/reports/{ticket_id}")

    assert response.status_code == 404
    assert_error_shape(response)


def test_my_reports_requires_sign_in(client: Client) -> None:
    response = client.http.get("/v1/jakarta/me/reports")

    assert response.status_code == 401
    assert_error_shape(response)


def test_my_reports_lists_only_my_own(client: Client) -> None:
    mine = post_report(client, user="siti-token").json_body["ticket_id"]
    post_report(client, user="budi-token")

    response = client.http.get("/v1/jakarta/me/reports", headers=auth("siti-token"))

    assert response.status_code == 200
    assert [i["ticket_id"] for i in response.json_body["items"]] == [mine]
    assert response.json_body["cursor"] is None


def test_my_reports_page_with_limit_and_cursor(client: Client, services: Services) -> None:
    for _ in range(3):
        post_report(client)
        services.clock.advance(minutes=1)  # type: ignore[attr-defined]

    first = client.http.get("/v1/jakarta/me/reports?limit=2", headers=auth()).json_body
    cursor = first["cursor"]
    second = client.http.get(f"/v1/jakarta/me/reports?limit=2&cursor={cursor}", headers=auth())

    assert len(first["items"]) == 2
    assert len(second.json_body["items"]) == 1
    assert second.json_body["cursor"] is None


def test_photo_queue_routes_an_awaiting_photo_ticket_by_its_device_location(
    client: Client, services: Services, store: FakePhotoStore
) -> None:
    created = post_report(client, {**REPORT, "photo": JPEG, "location": MONAS}).json_body
    key = created["upload"]["fields"]["key"]
    store.upload(key, jpeg(size=(64, 48)))  # no GPS: the device location is used
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": "cepat-respon-dev-uploads"},
                    "object": {"key": key, "size": 1_900_000, "eTag": "abc"},
                },
            }
        ]
    }
    event = client.events.generate_sqs_event(
        message_bodies=[json.dumps(notification)], queue_name="q"
    )

    result = client.lambda_.invoke("process_photos", event)

    assert result.payload == {"batchItemFailures": []}
    tickets = services.tickets
    assert isinstance(tickets, FakeTicketRepository)
    ticket = tickets.get("jakarta", created["ticket_id"])
    assert ticket is not None
    assert ticket.status is Status.WAITING
    view = client.http.get(f"/v1/jakarta/reports/{created['ticket_id']}").json_body
    assert view["status"] == "waiting"
    assert view["assigned_unit"]["name"] == "Kelurahan Gambir"


def _big_description() -> str:
    return json.dumps({**REPORT, "description": "x" * (MAX_JSON_BYTES + 1)})


# (method, path, headers, body, status, code); code None when only the shape is asserted.
ERROR_CASES: list[Any] = [
    pytest.param("POST", "/v1/jakarta/reports", JSON, json.dumps(REPORT), 401, "unauthenticated",
                 id="no-token"),
    pytest.param("POST", "/v1/jakarta/reports", {**JSON, "Authorization": "Bearer nobody"},
                 json.dumps(REPORT), 401, "invalid_token", id="unknown-token"),
    pytest.param("POST", "/v1/jakarta/reports", {**JSON, "Authorization": "Basic xyz"},
                 json.dumps(REPORT), 401, "invalid_token", id="basic-auth"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", '{"category": "sampah",', 400,
                 "malformed_request", id="malformed-json"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", "", 400, "malformed_request",
                 id="empty-body"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", "[]", 400, "malformed_request",
                 id="json-list"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", b"\xff\xfe{}", 400,
                 "malformed_request", id="not-utf8"),
    pytest.param("POST", "/v1/jakarta/reports", "auth",
                 '{"category": "sampah", "description": "x", "location": {"lat": NaN, "lon": 1}}',
                 400, "malformed_request", id="nan-literal"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", '{"lat": Infinity}', 400,
                 "malformed_request", id="infinity-literal"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", "[" * 30_000 + "]" * 30_000, 400,
                 "malformed_request", id="deeply-nested-json"),
    pytest.param("POST", "/v1/jakarta/reports", "auth",
                 json.dumps({**REPORT, "location": {"lat": 10**400, "lon": 106.8}}), 422,
                 "validation_error", id="lat-too-large-for-a-float"),
    pytest.param("POST", "/v1/jakarta/reports", "auth", _big_description(), 413,
                 "payload_too_large", id="body-over-64k"),
    pytest.param("POST", "/v1/jakarta/reports",
                 {"Content-Type": "text/plain", "Authorization": "Bearer siti-token"},
                 json.dumps(REPORT), 415, None, id="text-plain"),
    pytest.param("POST", "/v1/jakarta/reports", "auth",
                 json.dumps({**REPORT, "photo": {"content_type": "image/jpeg",
                                                 "content_length": 20 * 1024 * 1024}}),
                 413, "photo_too_large", id="photo-20mb"),
    pytest.param("POST", "/v1/jakarta/reports", "auth",
                 json.dumps({**REPORT, "category": "ufo"}), 422, "unknown_category",
                 id="unknown-category"),
    pytest.param("POST", "/v1/jakarta/reports", "auth",
                 json.dumps({**REPORT, "location": {"lat": 0, "lon": 0}}), 422,
                 "validation_error", id="null-island"),
    pytest.param("POST", "/v1/atlantis/reports", "auth", json.dumps(REPORT), 404,
                 "unknown_tenant", id="unknown-tenant-post"),
    pytest.param("GET", "/v1/atlantis/categories", {}, None, 404, "unknown_tenant",
                 id="unknown-tenant"),
    pytest.param("GET", f"/v1/jakarta/reports/{'0' * 32}", {}, None, 404, "not_found",
                 id="unknown-report"),
    pytest.param("GET", "/v1/jakarta/reports/not-hex", {}, None, 404, "not_found",
                 id="non-hex-report"),
    pytest.param("GET", "/v1/jakarta/me/reports", {}, None, 401, "unauthenticated",
                 id="mine-anonymous"),
    pytest.param("GET", "/v1/jakarta/me/reports?limit=0", "auth", None, 422,
                 "validation_error", id="limit-0"),
    pytest.param("GET", "/v1/jakarta/me/reports?limit=abc", "auth", None, 422,
                 "validation_error", id="limit-abc"),
    pytest.param("GET", "/v1/jakarta/me/reports?limit=101", "auth", None, 422,
                 "validation_error", id="limit-101"),
    pytest.param("DELETE", "/v1/tenants", {}, None, 405, None, id="wrong-method"),
]  # fmt: skip


def _send(client: Client, method: str, path: str, headers: Any, body: str | bytes | None) -> Any:
    if headers == "auth":
        headers = auth()
    raw = body.encode("utf-8") if isinstance(body, str) else body or b""
    return client.http.request(method, path, headers=headers, body=raw)


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "code"), ERROR_CASES)
def test_bad_request_gets_its_status_in_our_error_format(
    client: Client,
    method: str,
    path: str,
    headers: Any,
    body: str | bytes | None,
    status: int,
    code: str | None,
) -> None:
    response = _send(client, method, path, headers, body)

    assert response.status_code == status
    error = assert_error_shape(response)
    if code is not None:
        assert error["code"] == code


def test_body_of_exactly_64_kib_is_accepted(client: Client) -> None:
    payload = json.dumps(REPORT)
    payload += " " * (MAX_JSON_BYTES - len(payload))

    response = client.http.post("/v1/jakarta/reports", headers=auth(), body=payload)

    assert len(payload) == MAX_JSON_BYTES
    assert response.status_code == 201


def test_unknown_route_is_a_4xx_json_answer_without_details(client: Client) -> None:
    # Unmatched paths are answered by API Gateway (and Chalice's local gateway) before the app
    # runs: 403 "Missing Authentication Token". The app cannot reshape it.
    response = client.http.get("/v1/jakarta/no-such-thing")

    assert 400 <= response.status_code < 500
    assert isinstance(json.loads(response.body), dict)
    assert b"Traceback" not in response.body


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "code"), ERROR_CASES)
def test_no_error_response_carries_a_traceback(
    client: Client,
    method: str,
    path: str,
    headers: Any,
    body: str | bytes | None,
    status: int,
    code: str | None,
) -> None:
    response = _send(client, method, path, headers, body)

    assert response.status_code < 500
    assert b"Traceback" not in response.body
    assert b'File "' not in response.body


def test_error_outside_the_domain_is_a_bare_500(client: Client, services: Services) -> None:
    tickets = services.tickets
    assert isinstance(tickets, FakeTicketRepository)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    tickets.add = broken  # type: ignore[method-assign]

    response = post_report(client)

    assert response.status_code == 500
    assert assert_error_shape(response)["code"] == "internal_error"
    assert b"secret internal detail" not in response.body
    assert b"Traceback" not in response.body
