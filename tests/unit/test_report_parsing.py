"""What a citizen may send when filing a report, and which coordinates count as a location."""

from __future__ import annotations

import math
from typing import Any

import pytest

from chalicelib.domain.errors import (
    DomainError,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
)
from chalicelib.domain.geo import Coordinates, coordinates_problem, haversine_m
from chalicelib.domain.reports import MAX_PHOTO_BYTES, parse_report
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Channel, LocationSource
from tests.fakes import shipped_tenants

MONAS = Coordinates(lat=-6.1754, lon=106.8272)
BUNDARAN_HI = Coordinates(lat=-6.1950, lon=106.8230)
GAMBIR = {"lat": -6.1754, "lon": 106.8272}
JPEG = {"content_type": "image/jpeg", "content_length": 2_000_000}


@pytest.fixture(scope="module")
def jakarta() -> Tenant:
    return next(t for t in shipped_tenants() if t.tenant_id == "jakarta")


def report(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"category": "sampah", "description": "Sampah menumpuk di depan pasar"}
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("body", "has_photo", "has_location"),
    [
        pytest.param(report(photo=JPEG), True, False, id="photo-only"),
        pytest.param(report(location=GAMBIR), False, True, id="location-only"),
        pytest.param(report(photo=JPEG, location=GAMBIR), True, True, id="both"),
        pytest.param(report(), False, False, id="neither"),
        pytest.param(report(photo=None, location=None), False, False, id="explicit-nulls"),
    ],
)
def test_valid_report_is_parsed(
    jakarta: Tenant, body: dict[str, Any], has_photo: bool, has_location: bool
) -> None:
    submission = parse_report(body, jakarta)

    assert submission.category == "sampah"
    assert submission.description == "Sampah menumpuk di depan pasar"
    assert submission.private is True
    assert submission.channel is Channel.JAKI
    assert (submission.photo is not None) is has_photo
    assert (submission.device_location is not None) is has_location
    if has_photo:
        assert submission.photo is not None
        assert submission.photo.content_type == "image/jpeg"
        assert submission.photo.content_length == 2_000_000
    if has_location:
        assert submission.device_location is not None
        assert submission.device_location.source is LocationSource.DEVICE
        assert (submission.device_location.lat, submission.device_location.lon) == (
            -6.1754,
            106.8272,
        )


def test_description_is_trimmed_and_4000_characters_are_accepted(jakarta: Tenant) -> None:
    body = report(description="  " + "x" * 4000 + "\n")

    submission = parse_report(body, jakarta)

    assert submission.description == "x" * 4000


def test_photo_of_exactly_15_mb_is_accepted(jakarta: Tenant) -> None:
    body = report(photo={"content_type": "image/HEIC", "content_length": 15 * 1024 * 1024})

    submission = parse_report(body, jakarta)

    assert submission.photo is not None
    assert submission.photo.content_length == MAX_PHOTO_BYTES
    assert submission.photo.content_type == "image/heic"


def test_public_report_through_balai_warga_is_accepted(jakarta: Tenant) -> None:
    submission = parse_report(report(private=False, channel="balai_warga"), jakarta)

    assert submission.private is False
    assert submission.channel is Channel.BALAI_WARGA


INVALID: list[Any] = [
    pytest.param(report(category="sampahh"), InvalidRequest, "category", "unknown_category",
                 id="unknown-category"),
    pytest.param(report(category=None), InvalidRequest, "category", None, id="no-category"),
    pytest.param(report(description=""), InvalidRequest, "description", None,
                 id="description-empty"),
    pytest.param(report(description=" \t\n "), InvalidRequest, "description", None,
                 id="description-whitespace"),
    pytest.param(report(description="x" * 4001), InvalidRequest, "description", None,
                 id="description-4001"),
    pytest.param(report(location={"lat": 91, "lon": 106.8}), InvalidRequest, "location", None,
                 id="lat-91"),
    pytest.param(report(location={"lat": -91, "lon": 106.8}), InvalidRequest, "location", None,
                 id="lat-minus-91"),
    pytest.param(report(location={"lat": -6.2, "lon": 181}), InvalidRequest, "location", None,
                 id="lon-181"),
    pytest.param(report(location={"lat": float("nan"), "lon": 106.8}), InvalidRequest,
                 "location.lat", None, id="lat-nan"),
    pytest.param(report(location={"lat": -6.2, "lon": float("inf")}), InvalidRequest,
                 "location.lon", None, id="lon-inf"),
    pytest.param(report(location={"lat": 0, "lon": 0}), InvalidRequest, "location", None,
                 id="null-island"),
    pytest.param(report(location={"lat": "-6.2", "lon": 106.8}), InvalidRequest,
                 "location.lat", None, id="lat-string"),
    pytest.param(report(location={"lat": True, "lon": 106.8}), InvalidRequest, "location.lat",
                 None, id="lat-bool"),
    pytest.param(report(location={"lat": -6.2}), InvalidRequest, "location", None,
                 id="missing-lon"),
    pytest.param(report(location=[-6.2, 106.8]), InvalidRequest, "location", None,
                 id="location-list"),
    pytest.param(report(colour="red"), InvalidRequest, "colour", None, id="unknown-field"),
    pytest.param(report(location={"lat": -6.2, "lon": 106.8, "alt": 3}), InvalidRequest,
                 "location", None, id="unknown-location-field"),
    pytest.param(report(location={"lat": -6.2, "lon": 106.8, "accuracy_m": -1}), InvalidRequest,
                 "location.accuracy_m", None, id="negative-accuracy"),
    pytest.param(report(photo={"content_type": "image/gif", "content_length": 10}),
                 InvalidRequest, "photo.content_type", None, id="gif"),
    pytest.param(report(photo={"content_type": "image/jpeg", "content_length": 0}),
                 InvalidRequest, "photo.content_length", None, id="length-0"),
    pytest.param(report(photo={"content_type": "image/jpeg", "content_length": -1}),
                 InvalidRequest, "photo.content_length", None, id="length-negative"),
    pytest.param(report(photo={"content_type": "image/jpeg", "content_length": "10"}),
                 InvalidRequest, "photo.content_length", None, id="length-string"),
    pytest.param(report(photo={"content_type": "image/jpeg", "content_length": True}),
                 InvalidRequest, "photo.content_length", None, id="length-bool"),
    pytest.param(report(photo={**JPEG, "content_length": MAX_PHOTO_BYTES + 1}),
                 PayloadTooLarge, "photo.content_length", "photo_too_large", id="photo-too-large"),
    pytest.param(report(private="yes"), InvalidRequest, "private", None, id="private-yes"),
    pytest.param(report(channel="twitter"), InvalidRequest, "channel", None,
                 id="operator-only-channel"),
    pytest.param(report(channel="nope"), InvalidRequest, "channel", None, id="unknown-channel"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "error", "field", "code"), INVALID)
def test_invalid_report_is_refused_naming_the_field(
    jakarta: Tenant,
    body: dict[str, Any],
    error: type[DomainError],
    field: str,
    code: str | None,
) -> None:
    with pytest.raises(DomainError) as raised:
        parse_report(body, jakarta)

    assert type(raised.value) is error
    assert raised.value.field == field
    if code is not None:
        assert raised.value.code == code


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"lat": 10**400, "lon": 106.8}, "location.lat"),
        ({"lat": -6.2, "lon": -(10**400)}, "location.lon"),
        ({"lat": -6.2, "lon": 106.8, "accuracy_m": 10**400}, "location.accuracy_m"),
    ],
    ids=["lat", "lon", "accuracy"],
)
def test_integer_too_large_for_a_float_is_refused_naming_the_field(
    jakarta: Tenant, location: dict[str, Any], field: str
) -> None:
    # json.loads turns a 400-digit literal into an int; float() of it raises OverflowError.
    with pytest.raises((DomainError, OverflowError)) as raised:
        parse_report(report(location=location), jakarta)

    assert isinstance(raised.value, InvalidRequest), (
        f"expected InvalidRequest on {field}, got {raised.value!r} (an HTTP 500)"
    )
    assert raised.value.field == field


@pytest.mark.parametrize("body", [[], "sampah", None, 42], ids=["list", "string", "null", "int"])
def test_body_that_is_not_an_object_is_malformed(jakarta: Tenant, body: object) -> None:
    with pytest.raises(MalformedRequest):
        parse_report(body, jakarta)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(-6.1754, 106.8272), (90.0, 180.0), (-90.0, -180.0), (0.0, 106.8), (-6.2, 0.0)],
)
def test_usable_coordinates_have_no_problem(lat: float, lon: float) -> None:
    assert coordinates_problem(lat, lon) is None


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (math.nan, 106.8),
        (-6.2, math.nan),
        (math.inf, 106.8),
        (-6.2, -math.inf),
        (90.0001, 106.8),
        (-91.0, 106.8),
        (-6.2, 180.5),
        (-6.2, -181.0),
        (0.0, 0.0),
    ],
)
def test_unusable_coordinates_are_explained(lat: float, lon: float) -> None:
    problem = coordinates_problem(lat, lon)

    assert isinstance(problem, str)
    assert problem


def test_monas_to_bundaran_hi_is_about_two_kilometres() -> None:
    distance = haversine_m(MONAS, BUNDARAN_HI)

    assert distance == pytest.approx(2_200, rel=0.05)


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    assert haversine_m(MONAS, BUNDARAN_HI) == pytest.approx(haversine_m(BUNDARAN_HI, MONAS))
    assert haversine_m(MONAS, MONAS) == 0.0
