"""Contract test: schemathesis drives every documented operation against the running app.

Chalice's local server serves `app.app` on a free loopback port with fake services behind it;
the OpenAPI document (chalicelib/openapi.json) is the oracle. No response may be a 5xx, and
every status, content type and body must be one the document declares. Three passes: a citizen
on every operation, tenant-wide staff of jakarta on the staff operations, and an unknown token on
every operation that reads one. Bounded: at most 15 examples per operation and generation mode
(positive and negative), derandomized, so the run is reproducible (about 40 s on 2 cores).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from chalice.config import Config
from chalice.local import create_local_server
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import app as app_module
from chalicelib.bootstrap import Services, override
from tests.fakes import FakeApiKeys, FakeVerifier, fake_services

# Schemathesis gives every operation's item the same node id, which pytest-xdist cannot tell
# apart: `make unit` runs these without it (the `contract` marker).
pytestmark = [pytest.mark.e2e, pytest.mark.contract]

DOCUMENT: dict[str, Any] = json.loads(
    (Path(app_module.__file__).parent / "chalicelib" / "openapi.json").read_text(encoding="utf-8")
)
CITIZEN = "contract-citizen"
# Tenant-wide staff of jakarta who may do every staff operation: queue, stats, ledger, intake.
STAFF = "contract-staff"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MONAS = {"lat": -6.1754, "lon": 106.8272}


@dataclass
class Running:
    url: str
    services: Services
    ticket_ids: list[str]
    api_key: str


def _seed(url: str) -> list[str]:
    """A few real tickets, so ticket operations also answer 200 and not only 404."""
    ids = []
    bodies: list[dict[str, Any]] = [
        {
            "category": "sampah",
            "description": "Sampah di Monas",
            "location": MONAS,
            "private": False,
        },
        {"category": "jalan_rusak", "description": "Jalan berlubang", "location": MONAS},
        {"category": "banjir", "description": "Genangan, lokasi menyusul"},
    ]
    for body in bodies:
        response = requests.post(
            f"{url}/v1/jakarta/reports",
            json=body,
            headers={"Authorization": f"Bearer {CITIZEN}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["ticket_id"])
    return ids


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    services = fake_services()
    verifier = services.verifier
    assert isinstance(verifier, FakeVerifier)
    verifier.register(CITIZEN)
    verifier.register(STAFF, groups=["validators", "operators"], tenant="jakarta")
    keys = services.keys
    assert isinstance(keys, FakeApiKeys)
    api_key, _ = keys.issue("jakarta", "contract-test client")
    override(services)
    config = Config.create(
        chalice_app=app_module.app,
        chalice_stage="local",
        function_name="api_handler",
        lambda_timeout=30,
        lambda_memory_size=512,
    )
    server = create_local_server(app_module.app, config, "127.0.0.1", 0)
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="contract-api", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield Running(url, services, _seed(url), api_key)
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)
        override(None)


def _schema() -> Any:
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=15,
        deterministic=True,
        database="none",
    )
    schema.config.phases.coverage.unexpected_methods = {"put", "patch", "delete"}
    return schema


SCHEMA = _schema()
BOUNDED = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


_TURN = itertools.count()


def _with_known_ids(case: Any, running: Running) -> None:
    """Aim some cases at the seeded tickets and the issued API key (the rest stay random)."""
    path = case.path_parameters or {}
    turn = next(_TURN)
    if "ticket_id" in path and turn % 3:
        path["tenant"] = "jakarta"
        path["ticket_id"] = running.ticket_ids[turn % len(running.ticket_ids)]
    if "request_file" in path:
        path["request_file"] = f"{running.ticket_ids[0]}.json"
    if isinstance(case.body, dict) and "api_key" in case.body:
        case.body["api_key"] = running.api_key
        if turn % 2:
            case.body["jurisdiction_id"] = "jakarta"


@SCHEMA.parametrize()
@BOUNDED
def test_contract_as_a_citizen(case: Any, running: Running) -> None:
    _with_known_ids(case, running)
    case.call_and_validate(
        base_url=running.url, headers={"Authorization": f"Bearer {CITIZEN}"}, checks=CHECKS
    )


@SCHEMA.include(tag="staff").parametrize()
@BOUNDED
def test_contract_as_staff(case: Any, running: Running) -> None:
    _with_known_ids(case, running)
    case.call_and_validate(
        base_url=running.url, headers={"Authorization": f"Bearer {STAFF}"}, checks=CHECKS
    )


SIGNED_IN = [
    op["operationId"]
    for item in DOCUMENT["paths"].values()
    for op in item.values()
    if op["security"]
]


@SCHEMA.include(operation_id=SIGNED_IN).parametrize()
@settings(BOUNDED, max_examples=3)
def test_contract_with_an_unknown_token(case: Any, running: Running) -> None:
    case.call_and_validate(
        base_url=running.url, headers={"Authorization": "Bearer not-a-token"}, checks=CHECKS
    )


# Values at the edges of what the document allows; each must be a 4xx, never a 500.
EDGES = [
    pytest.param("/v1/{tenant}/stats", {"to": "0001-01-01"}, id="stats-to-year-1"),
    pytest.param(
        "/v1/{tenant}/stats", {"from": "9999-12-31", "to": "9999-12-31"}, id="stats-year-9999"
    ),
    pytest.param(
        "/open311/v2/requests.json", {"end_date": "0001-01-01T00:00:00Z"}, id="open311-end-year-1"
    ),
    pytest.param(
        "/open311/v2/requests.json",
        {"end_date": "9999-12-31T23:59:59-12:00"},
        id="open311-end-year-9999",
    ),
    pytest.param(
        "/open311/v2/requests.json", {"page": "\N{SUPERSCRIPT TWO}"}, id="open311-page-superscript"
    ),
    pytest.param(
        "/open311/v2/requests.json",
        {"page_size": "\N{SUPERSCRIPT TWO}"},
        id="open311-page-size-superscript",
    ),
]


@pytest.mark.parametrize(("path", "query"), EDGES)
def test_edge_values_are_client_errors(path: str, query: dict[str, str], running: Running) -> None:
    operation = SCHEMA[path]["GET"]
    if path.startswith("/open311"):
        case = operation.Case(query={"jurisdiction_id": "jakarta", **query})
    else:
        case = operation.Case(path_parameters={"tenant": "jakarta"}, query=query)
    case.call_and_validate(
        base_url=running.url, headers={"Authorization": f"Bearer {STAFF}"}, checks=CHECKS
    )
