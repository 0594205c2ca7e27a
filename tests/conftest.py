"""Test-wide set-up. moto is imported before any boto3 client exists, so none can reach AWS."""

from __future__ import annotations

import os

import moto  # noqa: F401  (must come before boto3 clients are created)

# No test may ever talk to real AWS: fake credentials, the production region, no profile.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
    }
)
