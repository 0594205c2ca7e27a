"""The OpenAPI document: valid OpenAPI 3.1, route for route the app's, and served as it is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import validate

import app as app_module
from chalicelib.bootstrap import override
from tests.fakes import fake_services

DOCUMENT = Path(app_module.__file__).parent / "chalicelib" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def client() -> Iterator[Client]:
    override(fake_services())
    with Client(app_module.app) as client:
        yield client
    override(None)


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def app_operations() -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, entries in app_module.app.routes.items()
        for method in entries
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_route_of_the_app_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    documented = documented_operations(document)
    routed = app_operations()

    assert routed - documented == set(), "routes missing from the document"
    assert documented - routed == set(), "documented operations the app does not route"


def test_path_parameters_match_the_route_templates(document: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]
    for path, item in document["paths"].items():
        in_template = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, operation in item.items():
            declared = set()
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = parameters[parameter["$ref"].rsplit("/", 1)[1]]
                if parameter["in"] == "path":
                    assert parameter["required"] is True
                    declared.add(parameter["name"])
            assert declared == in_template, f"{method.upper()} {path}"


def test_operations_declare_security_and_unique_ids(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, f"{method.upper()} {path}"
            needs_token = operation["security"] == [{"bearerAuth": []}]
            if needs_token:
                assert "401" in operation["responses"], f"{method.upper()} {path}"


def test_the_app_serves_the_document(client: Client, document: dict[str, Any]) -> None:
    response = client.http.get("/openapi.json")

    assert response.status_code == 200
    # Like every plain-dict route: API Gateway and the local server default to JSON.
    assert response.headers.get("Content-Type", "application/json") == "application/json"
    assert json.loads(response.body) == document


def test_the_server_is_the_local_stack(document: dict[str, Any]) -> None:
    assert document["servers"][0]["url"] == "http://127.0.0.1:8000"
    assert document["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"] == "JWT"
