"""S3: SigV4 presigned POSTs whose policy pins the key, the content type and the size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.ports import PresignedPost


class S3UploadSigner:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        issued = datetime.now(UTC)
        # boto3 adds the bucket and exact-key conditions itself; a client cannot pick its key.
        post = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return PresignedPost(
            url=post["url"],
            fields=dict(post["fields"]),
            expires_at=issued + timedelta(seconds=expires_in),
        )
