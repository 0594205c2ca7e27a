"""moto's in-process mock, one account per test module."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import moto
import pytest

REGION = "ap-southeast-3"


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.session.Session]:
    # One mocked account for the module: provisioning costs about a second, and the tests only
    # add to it (distinct stack names, their own objects and users, queues drained per test).
    with pytest.MonkeyPatch.context() as env:
        # A developer's shell may point boto3 at a running local stack or at a real account.
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        with moto.mock_aws():
            yield boto3.session.Session(region_name=REGION)
