"""The photo pipeline against S3 in moto: ranged reads, the public copy, and what stays private."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
import requests
from PIL import Image

from chalicelib import bootstrap
from chalicelib.adapters.s3 import S3PhotoStore
from chalicelib.domain.geotag import read_geotag
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Status
from tests.adapters.conftest import AwsStack
from tests.fakes import SHARED, shipped_bundles
from tests.photos import jpeg

CITIZEN = Principal(subject="photo-citizen", username="warga", roles=frozenset({Role.CITIZEN}))
PHOTOS = SHARED / "data" / "photos"
BUDGET = 128 * 1024


def big_geotagged_jpeg() -> bytes:
    """A real 5 MB+ JPEG (noise does not compress) with GPS in Gambir."""
    rng = random.Random(7)
    noise = Image.frombytes("RGB", (2000, 1500), rng.randbytes(2000 * 1500 * 3))
    source = Image.open(io.BytesIO(jpeg(lat=-6.1754, lon=106.8272)))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=100, exif=source.getexif())
    return out.getvalue()


@pytest.fixture
def store(aws_stack: AwsStack) -> S3PhotoStore:
    return S3PhotoStore(
        aws_stack.client("s3"),
        aws_stack.outputs["UploadsBucketName"],
        aws_stack.outputs["MediaBucketName"],
    )


def put_original(aws_stack: AwsStack, key: str, data: bytes) -> None:
    aws_stack.client("s3").put_object(
        Bucket=aws_stack.outputs["UploadsBucketName"], Key=key, Body=data
    )


@pytest.mark.parametrize(
    ("name", "lat", "lon"),
    [
        ("5 MB JPEG", -6.1754, 106.8272),
        ("IMG_5195.HEIC", None, None),
        ("exif-at-eof.heic", None, None),
    ],
)
def test_geotag_is_read_from_at_most_128_kib_of_the_object(
    aws_stack: AwsStack, store: S3PhotoStore, name: str, lat: float | None, lon: float | None
) -> None:
    data = big_geotagged_jpeg() if name == "5 MB JPEG" else (PHOTOS / name).read_bytes()
    key = f"uploads/jakarta/{'0' * 32}/{name.replace(' ', '-').lower()}"
    put_original(aws_stack, key, data)

    geotag = read_geotag(lambda offset, length: store.read_range(key, offset, length), len(data))

    if name == "5 MB JPEG":
        assert len(data) >= 5 * 1024 * 1024
        assert (round(geotag.lat or 0, 4), round(geotag.lon or 0, 4)) == (lat, lon)
    else:
        assert geotag.lat is not None and geotag.lon is not None
    assert store.bytes_read <= BUDGET
    print(f"{name}: {len(data):,} bytes, located from {store.bytes_read:,} bytes read")


@pytest.fixture
def services(real_services: bootstrap.Services) -> bootstrap.Services:
    for bundle in shipped_bundles():
        real_services.tenants.put(bundle)
    return real_services


def file_report(services: bootstrap.Services, data: bytes, **extra: Any) -> tuple[str, str]:
    body = {
        "category": "sampah",
        "description": "Sampah di taman",
        "photo": {"content_type": "image/jpeg", "content_length": len(data)},
        **extra,
    }
    submitted = services.reports.submit("jakarta", CITIZEN, body)
    assert submitted.ticket.pending_upload is not None
    return submitted.ticket.ticket_id, submitted.ticket.pending_upload.key


def test_public_copy_has_no_exif_and_only_it_is_publicly_readable(
    aws_stack: AwsStack, services: bootstrap.Services
) -> None:
    data = jpeg(lat=-6.1754, lon=106.8272, size=(3000, 2000), orientation=6)
    ticket_id, key = file_report(services, data)
    put_original(aws_stack, key, data)

    services.photos.uploaded(key, len(data))

    ticket = services.tickets.get("jakarta", ticket_id)
    assert ticket is not None and ticket.status is Status.WAITING
    photo = ticket.photos[0]
    assert photo.public_key and photo.thumbnail_key
    media = aws_stack.outputs["MediaBucketName"]
    public = requests.get(f"{aws_stack.endpoint}/{media}/{photo.public_key}", timeout=10)
    assert public.status_code == 200
    copy = Image.open(io.BytesIO(public.content))
    assert dict(copy.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(copy.info)
    # Orientation 6 (rotated 90° clockwise) is applied to the pixels, long side at most 1600.
    assert copy.size == (1067, 1600)
    thumbnail = requests.get(f"{aws_stack.endpoint}/{media}/{photo.thumbnail_key}", timeout=10)
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 320
    uploads = aws_stack.outputs["UploadsBucketName"]
    original = requests.get(f"{aws_stack.endpoint}/{uploads}/{key}", timeout=10)
    assert original.status_code == 403
    view = services.reports.view("jakarta", ticket_id, None)
    assert [p["url"] for p in view["photos"]] == [
        f"{services.settings.media_base_url if services.settings else ''}/{photo.public_key}"
    ]
    assert key not in str(view)


def test_file_that_is_not_the_declared_type_rejects_the_report_with_a_reason(
    aws_stack: AwsStack, services: bootstrap.Services
) -> None:
    data = (PHOTOS / "exif.png").read_bytes()
    ticket_id, key = file_report(services, data)
    put_original(aws_stack, key, data)

    services.photos.uploaded(key, len(data))

    ticket = services.tickets.get("jakarta", ticket_id)
    assert ticket is not None
    assert ticket.status is Status.REJECTED
    assert ticket.rejection is not None and ticket.rejection.reason == "not_an_image"
    assert "PNG" in ticket.rejection.message
    reporter_view = services.reports.view("jakarta", ticket_id, CITIZEN)
    assert reporter_view["rejection"]["reason"] == "not_an_image"
