"""Who may call what: roles x endpoints x own/other unit x own/other tenant, every cell written out.

The tickets are Jakarta's, with Kelurahan Gambir (a report at Monas). Requests through
/v1/banda-aceh/... name the same ticket ids in a tenant that does not hold them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.bootstrap import Services, override
from chalicelib.domain.identity import Principal, principal_from_claims
from tests.fakes import FakePhotoStore, FakeVerifier, fake_services
from tests.photos import jpeg
from tests.workflow_helpers import GAMBIR, MENTENG, MONAS

ROLES = (
    "anonymous",
    "reporter",
    "other_citizen",
    "official_of_unit",
    "official_of_other_unit",
    "validator",
    "operator",
    "admin",
    "validator_of_other_tenant",
)

# endpoint: (method, path under /v1/{tenant}, which ticket, body)
ENDPOINTS: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
    "get-report": ("GET", "/reports/{open}", "open", None),
    "get-ticket": ("GET", "/tickets/{open}", "open", None),
    "process": ("POST", "/tickets/{open}/actions", "open", {"action": "process"}),
    "evidence": (
        "POST",
        "/tickets/{open}/evidence",
        "open",
        {"content_type": "image/jpeg", "content_length": 150_000},
    ),
    "feedback-open": ("POST", "/reports/{open}/feedback", "open", {"rating": 5, "comment": "ok"}),
    "feedback-completed": (
        "POST",
        "/reports/{completed}/feedback",
        "completed",
        {"rating": 5, "comment": "Cepat"},
    ),
    "feedback-rating-0": ("POST", "/reports/{completed}/feedback", "completed", {"rating": 0}),
    "reopen-open": ("POST", "/reports/{open}/reopen", "open", {"reason": "Belum beres"}),
    "reopen-completed": (
        "POST",
        "/reports/{completed}/reopen",
        "completed",
        {"reason": "Lubang muncul lagi"},
    ),
    "my-reports": ("GET", "/me/reports", "-", None),
}

# Expected status per endpoint, one column per role in the order of ROLES:
#   anon  reporter  other-citizen  official-unit  official-other  validator  operator  admin
#   validator-of-banda-aceh
THROUGH_JAKARTA: dict[str, tuple[int, ...]] = {
    "get-report":         (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "get-ticket":         (401, 403, 403, 200, 403, 200, 200, 200, 403),
    "process":            (401, 403, 403, 200, 403, 403, 403, 403, 403),
    "evidence":           (401, 403, 403, 201, 403, 403, 403, 403, 403),
    "feedback-open":      (401, 409, 403, 403, 403, 403, 403, 403, 403),
    "feedback-completed": (401, 200, 403, 403, 403, 403, 403, 403, 403),
    "feedback-rating-0":  (401, 422, 403, 403, 403, 403, 403, 403, 403),
    "reopen-open":        (401, 409, 403, 403, 403, 403, 403, 403, 403),
    "reopen-completed":   (401, 200, 403, 403, 403, 403, 403, 403, 403),
    "my-reports":         (401, 200, 200, 200, 200, 200, 200, 200, 200),
}  # fmt: skip
# The same Jakarta ticket ids asked for through another tenant's path: nobody finds them there.
# Staff views first check that the caller is staff of that tenant (403), then look (404).
THROUGH_BANDA_ACEH: dict[str, tuple[int, ...]] = {
    "get-report":         (404, 404, 404, 404, 404, 404, 404, 404, 404),
    "get-ticket":         (401, 403, 403, 403, 403, 403, 403, 403, 404),
    "process":            (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "evidence":           (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "feedback-open":      (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "feedback-completed": (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "feedback-rating-0":  (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "reopen-open":        (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "reopen-completed":   (401, 404, 404, 404, 404, 404, 404, 404, 404),
    "my-reports":         (401, 200, 200, 200, 200, 200, 200, 200, 200),
}  # fmt: skip
EXPECTED = {"jakarta": THROUGH_JAKARTA, "banda-aceh": THROUGH_BANDA_ACEH}

CELLS = [
    pytest.param(
        role, endpoint, tenant, EXPECTED[tenant][endpoint][i], id=f"{role}-{endpoint}-via-{tenant}"
    )
    for tenant in EXPECTED
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
]


@cache
def small_jpeg(lat: float | None = None, lon: float | None = None) -> bytes:
    return jpeg(lat=lat, lon=lon, size=(64, 48))


@dataclass
class World:
    services: Services
    store: FakePhotoStore
    tickets: dict[str, str]

    def who(self, token: str) -> Principal:
        verifier = self.services.verifier
        assert isinstance(verifier, FakeVerifier)
        return principal_from_claims(verifier.tokens[token])

    def sub(self, token: str) -> str:
        return self.who(token).subject


def request(
    method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with Client(app_module.app) as client:
        if method == "GET":
            return client.http.get(path, headers=headers)
        return client.http.post(path, headers=headers, body=json.dumps(body))


def complete(world: World, ticket_id: str, evidence: bytes) -> None:
    """Gambir processes it, sends evidence, submits the follow-up; the validator validates."""
    actions = world.services.actions
    lurah, checker = world.who("official_of_unit"), world.who("validator")
    actions.act("jakarta", ticket_id, lurah, {"action": "process", "note": "Ke lokasi"})
    upload = actions.evidence_upload(
        "jakarta", ticket_id, lurah, {"content_type": "image/jpeg", "content_length": len(evidence)}
    )
    key = upload["upload"]["fields"]["key"]
    world.store.upload(key, evidence)
    world.services.photos.uploaded(key, len(evidence))
    actions.act("jakarta", ticket_id, lurah, {"action": "submit_follow_up", "note": "Selesai"})
    actions.act("jakarta", ticket_id, checker, {"action": "validate", "note": "Sesuai"})


@pytest.fixture
def world() -> Iterator[World]:
    store = FakePhotoStore()
    services = fake_services(store=store)
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register("reporter")
    verifier.register("other_citizen")
    verifier.register("official_of_unit", groups=["officials"], tenant="jakarta", unit=GAMBIR)
    verifier.register(
        "official_of_other_unit", groups=["officials"], tenant="jakarta", unit=MENTENG
    )
    verifier.register("validator", groups=["validators"], tenant="jakarta")
    verifier.register("operator", groups=["operators"], tenant="jakarta")
    verifier.register("admin", groups=["admins"], tenant="jakarta")
    verifier.register("validator_of_other_tenant", groups=["validators"], tenant="banda-aceh")
    override(services)
    world = World(services=services, store=store, tickets={})
    for name in ("open", "completed"):
        world.tickets[name] = services.reports.submit(
            "jakarta",
            world.who("reporter"),
            {
                "category": "jalan_rusak",
                "description": "Jalan berlubang dekat Monas",
                "location": {"lat": MONAS[0], "lon": MONAS[1]},
            },
        ).ticket.ticket_id
    # No GPS in the evidence: the ticket gets a flag the public must never see.
    complete(world, world.tickets["completed"], small_jpeg())
    yield world
    override(None)


@pytest.mark.parametrize(("role", "endpoint", "tenant", "status"), CELLS)
def test_endpoint_answers_each_role_per_unit_and_tenant(
    world: World, role: str, endpoint: str, tenant: str, status: int
) -> None:
    method, path, which, body = ENDPOINTS[endpoint]
    url = f"/v1/{tenant}" + path.format(**world.tickets)
    token = None if role == "anonymous" else role

    response = request(method, url, token, body)

    assert response.status_code == status, response.body
    if status >= 400:
        assert set(response.json_body) == {"error"}
    elif endpoint == "my-reports":
        listed = {item["ticket_id"] for item in response.json_body["items"]}
        mine = role == "reporter" and tenant == "jakarta"
        assert listed == (set(world.tickets.values()) if mine else set())
    else:
        assert response.json_body["ticket_id"] == world.tickets[which]


def test_the_matrix_has_a_cell_for_every_role_endpoint_and_tenant() -> None:
    for table in EXPECTED.values():
        assert set(table) == set(ENDPOINTS)
        assert all(len(row) == len(ROLES) for row in table.values())
    assert len(CELLS) == len(ROLES) * len(ENDPOINTS) * 2


def test_public_view_carries_no_personal_data(world: World) -> None:
    ticket_id = world.tickets["completed"]
    request("POST", f"/v1/jakarta/reports/{ticket_id}/feedback", "reporter", {"rating": 4})
    request("POST", f"/v1/jakarta/reports/{ticket_id}/reopen", "reporter", {"reason": "Lagi"})
    staff = request("GET", f"/v1/jakarta/tickets/{ticket_id}", "validator")
    assert staff.json_body["flags"], "the ticket should carry a flag for this test to mean much"

    response = request("GET", f"/v1/jakarta/reports/{ticket_id}")

    assert response.status_code == 200
    text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    for secret in ("reporter_id", "actor_id", "flags", "evidence_without_geotag"):
        assert secret not in text
    for token in ("reporter", "official_of_unit", "validator"):
        assert world.sub(token) not in text
    assert [p["kind"] for p in response.json_body["photos"]] == ["evidence"]


def test_staff_view_does_not_reveal_the_reporter_who_reopened_a_report(world: World) -> None:
    # DESIGN.md section 4: officials never see who reported unless the reporter opted in.
    ticket_id = world.tickets["completed"]
    request("POST", f"/v1/jakarta/reports/{ticket_id}/reopen", "reporter", {"reason": "Lagi"})

    response = request("GET", f"/v1/jakarta/tickets/{ticket_id}", "official_of_unit")

    assert response.status_code == 200
    assert response.json_body["timeline"][-1]["actor_role"] == "reporter"
    text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    assert world.sub("reporter") not in text
