"""Settings read from the Lambda environment (set per stage in .chalice/config.json)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_REGION = "ap-southeast-3"


@dataclass(frozen=True, slots=True)
class Settings:
    region: str
    tickets_table: str
    tenants_table: str
    sanctions_table: str
    uploads_bucket: str
    user_pool_id: str
    user_pool_client_id: str
    # Public copies of photos: the media bucket and the URL it is served from (a CDN or S3).
    media_bucket: str = ""
    media_base_url: str = ""
    # Only the stream handler needs the topics; links in notifications start with base_url.
    unit_topic_arn: str | None = None
    reporter_topic_arn: str | None = None
    public_base_url: str = ""
    # Only the admin functions use it: tenant bundles in, ledger exports out.
    operations_bucket: str = ""
    # Only the local stack sets these: moto's endpoint and the JWKS it serves.
    endpoint_url: str | None = None
    jwks_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [
            name
            for name in (
                "TICKETS_TABLE",
                "TENANTS_TABLE",
                "SANCTIONS_TABLE",
                "UPLOADS_BUCKET",
                "USER_POOL_ID",
                "USER_POOL_CLIENT_ID",
            )
            if not env.get(name)
        ]
        if missing:
            raise RuntimeError(f"missing configuration: {', '.join(missing)}")
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            tickets_table=env["TICKETS_TABLE"],
            tenants_table=env["TENANTS_TABLE"],
            sanctions_table=env["SANCTIONS_TABLE"],
            uploads_bucket=env["UPLOADS_BUCKET"],
            user_pool_id=env["USER_POOL_ID"],
            user_pool_client_id=env["USER_POOL_CLIENT_ID"],
            media_bucket=env.get("MEDIA_BUCKET", ""),
            media_base_url=env.get("MEDIA_BASE_URL")
            or (
                f"https://{env['MEDIA_BUCKET']}.s3.{env.get('AWS_REGION') or DEFAULT_REGION}"
                ".amazonaws.com"
                if env.get("MEDIA_BUCKET")
                else ""
            ),
            unit_topic_arn=env.get("UNIT_TOPIC_ARN") or None,
            reporter_topic_arn=env.get("REPORTER_TOPIC_ARN") or None,
            public_base_url=env.get("PUBLIC_BASE_URL", ""),
            operations_bucket=env.get("OPERATIONS_BUCKET", ""),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            jwks_url=env.get("COGNITO_JWKS_URL") or None,
        )
