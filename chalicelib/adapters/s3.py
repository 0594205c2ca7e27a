"""S3: SigV4 presigned POSTs whose policy pins the key, the content type and the size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import TenantConfigError
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


class S3PhotoStore:
    """Originals are read from the private uploads bucket; public copies go to the media bucket."""

    def __init__(self, client: Any, uploads_bucket: str, media_bucket: str) -> None:
        self._client = client
        self._uploads = uploads_bucket
        self._media = media_bucket
        self.bytes_read = 0

    def size(self, key: str) -> int:
        return int(self._client.head_object(Bucket=self._uploads, Key=key)["ContentLength"])

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self._client.get_object(
                Bucket=self._uploads, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except ClientError as exc:
            # A range starting at or past the end is a short read, not an error, to a parser.
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise
        data: bytes = response["Body"].read()
        self.bytes_read += len(data)
        return data

    def read_all(self, key: str, max_bytes: int) -> bytes:
        return self.read_range(key, 0, max_bytes)

    def publish(self, key: str, data: bytes) -> None:
        self._client.put_object(
            Bucket=self._media,
            Key=key,
            Body=data,
            ContentType="image/jpeg",
            # Keys are unique per photo, so a copy never changes once written.
            CacheControl="public, max-age=31536000, immutable",
        )


class S3OperationsFiles:
    """The private operations bucket (tenants/<id>/ bundles in, exports/<tenant>/ out)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def location(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def read(self, key: str, max_bytes: int) -> bytes:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            # Without s3:ListBucket (not granted) S3 answers AccessDenied for a missing key.
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "AccessDenied"):
                raise TenantConfigError(f"{self.location(key)}: file not found") from None
            raise
        if int(response.get("ContentLength") or 0) > max_bytes:
            response["Body"].close()
            raise TenantConfigError(
                f"{self.location(key)}: larger than {max_bytes // (1024 * 1024)} MiB"
            )
        data: bytes = response["Body"].read()
        return data

    def write(self, key: str, data: bytes, content_type: str) -> str:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)
        return self.location(key)
