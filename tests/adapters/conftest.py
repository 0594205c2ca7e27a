"""One moto server per test session, with infra/template.yaml deployed into it.

``CEPAT_RESPON_STACK_TEMPLATE`` names another template to deploy instead, such as the packaged
one (``make test-packaged`` runs this suite against dist/sam.json); a relative path is taken from
the repository root.

Clients get the endpoint explicitly (never through AWS_ENDPOINT_URL), so tests that use moto's
in-process mock elsewhere in the session are not redirected to this server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalicelib import bootstrap
from chalicelib.config import Settings
from infra.provision import TEMPLATE_PATH, provision
from tests.fakes import FixedClock

REGION = "ap-southeast-3"
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_VARIABLE = "CEPAT_RESPON_STACK_TEMPLATE"
# moto's server logs every request; the tests' own output is what matters.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist these tests run on one worker, one after another.

    Each worker process has its own moto server, but moto's in-process mock (tests/infra) resets
    the backends that server shares, so no other test may run in between.
    """
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("moto-server"))


@dataclass(frozen=True)
class AwsStack:
    endpoint: str
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def settings(self) -> Settings:
        return Settings(
            region=REGION,
            tickets_table=self.outputs["TicketsTableName"],
            tenants_table=self.outputs["TenantsTableName"],
            sanctions_table=self.outputs["SanctionsTableName"],
            uploads_bucket=self.outputs["UploadsBucketName"],
            media_bucket=self.outputs["MediaBucketName"],
            user_pool_id=self.outputs["UserPoolId"],
            user_pool_client_id=self.outputs["UserPoolClientId"],
            endpoint_url=self.endpoint,
            jwks_url=f"{self.endpoint}/{self.outputs['UserPoolId']}/.well-known/jwks.json",
        )


def stack_template() -> Path:
    """The template the session deploys: $CEPAT_RESPON_STACK_TEMPLATE, else infra/template.yaml."""
    value = os.environ.get(TEMPLATE_VARIABLE)
    if not value:
        return TEMPLATE_PATH
    path = ROOT / value  # an absolute value stays as it is
    if not path.is_file():
        raise FileNotFoundError(f"{TEMPLATE_VARIABLE}={value}: no such file ({path})")
    return path


@pytest.fixture(scope="session")
def aws_stack() -> Iterator[AwsStack]:
    template = stack_template()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        previous = os.environ.get("AWS_ENDPOINT_URL")
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        try:
            outputs = provision(boto3.Session(region_name=REGION), "cepat-respon-test", template)
        finally:
            if previous is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = previous
        yield AwsStack(endpoint=endpoint, outputs=outputs)
    finally:
        server.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def real_services(aws_stack: AwsStack, clock: FixedClock) -> Iterator[bootstrap.Services]:
    """The production wiring (bootstrap.build) against the template's resources in moto."""
    services = bootstrap.build(aws_stack.settings(), clock)
    bootstrap.override(services)
    yield services
    bootstrap.override(None)
