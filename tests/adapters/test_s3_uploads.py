"""The presigned POST: its policy pins key, type and size; an upload reaches the photo queue."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.adapters.s3 import S3UploadSigner
from tests.adapters.conftest import AwsStack
from tests.fakes import SHARED

PHOTO = SHARED / "data" / "photos" / "Canon_40D.jpg"


def decoded_policy(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


@pytest.fixture
def signer(aws_stack: AwsStack) -> S3UploadSigner:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        region_name="ap-southeast-3",
        endpoint_url=aws_stack.endpoint,
        config=Config(signature_version="s3v4"),
    )
    return S3UploadSigner(client, aws_stack.outputs["UploadsBucketName"])


def test_policy_pins_the_exact_key_type_and_size_range(
    signer: S3UploadSigner, aws_stack: AwsStack
) -> None:
    key = "uploads/jakarta/0123456789abcdef0123456789abcdef/report-abc.jpg"
    before = datetime.now(UTC)

    post = signer.presign_post(key, content_type="image/jpeg", max_bytes=5000, expires_in=900)
    policy = decoded_policy(dict(post.fields))

    conditions = policy["conditions"]
    assert {"bucket": aws_stack.outputs["UploadsBucketName"]} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 5000] in conditions
    assert post.fields["key"] == key
    assert post.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "/ap-southeast-3/s3/aws4_request" in post.fields["x-amz-credential"]
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=890) <= expiration <= before + timedelta(seconds=910)
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)


def test_uploaded_photo_lands_privately_and_notifies_the_photo_queue(
    signer: S3UploadSigner, aws_stack: AwsStack
) -> None:
    body = Path(PHOTO).read_bytes()
    key = "uploads/jakarta/fedcba9876543210fedcba9876543210/report-xyz.jpg"
    post = signer.presign_post(key, content_type="image/jpeg", max_bytes=len(body), expires_in=900)
    sqs = aws_stack.client("sqs")
    queue = aws_stack.outputs["PhotoQueueUrl"]

    response = requests.post(
        post.url, data=dict(post.fields), files={"file": ("p.jpg", body, "image/jpeg")}, timeout=10
    )
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)

    assert response.status_code == 204
    stored = aws_stack.client("s3").head_object(
        Bucket=aws_stack.outputs["UploadsBucketName"], Key=key
    )
    assert stored["ContentLength"] == len(body)
    keys = []
    for message in messages.get("Messages", []):
        for record in json.loads(message["Body"]).get("Records", []):
            keys.append(record["s3"]["object"]["key"])
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    from urllib.parse import unquote_plus

    assert key in [unquote_plus(k) for k in keys]
    anonymous = requests.get(
        f"{aws_stack.endpoint}/{aws_stack.outputs['UploadsBucketName']}/{key}", timeout=10
    )
    assert anonymous.status_code in (401, 403)
