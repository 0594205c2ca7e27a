"""decide_location: the photo's geotag first, then the device, else none; doubts become flags."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.geo import EARTH_RADIUS_M, Coordinates, haversine_m
from chalicelib.domain.location_policy import (
    PHOTO_FAR_FROM_DEVICE,
    PHOTO_TAKEN_LONG_BEFORE,
    decide_location,
)
from chalicelib.domain.tickets import Location, LocationSource

WIB = ZoneInfo("Asia/Jakarta")
REPORTED_AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # 16:30 in Jakarta
GAMBIR = (-6.1754, 106.8272)
KOTA_TUA = (-6.1352, 106.8133)
METRES_PER_DEGREE_LAT = EARTH_RADIUS_M * math.pi / 180


def device_at(lat: float, lon: float) -> Location:
    return Location(lat, lon, LocationSource.DEVICE, accuracy_m=15.0)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(Coordinates(*a), Coordinates(*b))


def test_photo_geotag_wins_over_the_device_location() -> None:
    device = device_at(*KOTA_TUA)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=None,
        device=device,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location == Location(GAMBIR[0], GAMBIR[1], LocationSource.EXIF)


def test_photo_geotag_without_a_device_location_is_used_unflagged() -> None:
    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=REPORTED_AT - timedelta(minutes=5),
        device=None,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location == Location(GAMBIR[0], GAMBIR[1], LocationSource.EXIF)
    assert decision.flags == []


def test_photo_more_than_a_kilometre_from_the_device_is_flagged() -> None:
    photo = north_of(GAMBIR, 1_100)
    assert 1_050 < distance_m(photo, GAMBIR) < 1_150

    decision = decide_location(
        photo_lat=photo[0],
        photo_lon=photo[1],
        taken_at=None,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == [PHOTO_FAR_FROM_DEVICE]
    assert decision.location is not None
    assert decision.location.source is LocationSource.EXIF


def test_photo_in_gambir_with_device_in_kota_tua_is_flagged_far_from_device() -> None:
    assert distance_m(GAMBIR, KOTA_TUA) > 4_000

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=None,
        device=device_at(*KOTA_TUA),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == [PHOTO_FAR_FROM_DEVICE]


def test_photo_900_metres_from_the_device_is_not_flagged() -> None:
    photo = north_of(GAMBIR, 900)
    assert 850 < distance_m(photo, GAMBIR) < 950

    decision = decide_location(
        photo_lat=photo[0],
        photo_lon=photo[1],
        taken_at=None,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == []
    assert decision.location == Location(photo[0], photo[1], LocationSource.EXIF)


def test_photo_taken_8_days_before_the_report_is_flagged() -> None:
    taken_at = REPORTED_AT - timedelta(days=8)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=taken_at,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == [PHOTO_TAKEN_LONG_BEFORE]


def test_photo_taken_6_days_before_the_report_is_not_flagged() -> None:
    taken_at = REPORTED_AT - timedelta(days=6)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=taken_at,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == []


def test_photo_far_from_device_and_taken_long_ago_gets_both_flags() -> None:
    taken_at = REPORTED_AT - timedelta(days=30)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=taken_at,
        device=device_at(*KOTA_TUA),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert sorted(decision.flags) == sorted([PHOTO_FAR_FROM_DEVICE, PHOTO_TAKEN_LONG_BEFORE])


def test_naive_taken_at_is_read_in_the_tenant_zone() -> None:
    # The report is at 16:30 WIB on 4 December; the camera wrote 16:00 on 27 November, no offset.
    # In WIB that is 7 days 30 minutes before the report (flag); read as UTC it would be
    # 23:00 WIB, only 6 days 17.5 hours before (no flag).
    taken_at = datetime(2026, 11, 27, 16, 0)
    assert REPORTED_AT - taken_at.replace(tzinfo=WIB) == timedelta(days=7, minutes=30)
    assert REPORTED_AT - taken_at.replace(tzinfo=UTC) < timedelta(days=7)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=taken_at,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == [PHOTO_TAKEN_LONG_BEFORE]


def test_aware_taken_at_keeps_its_own_offset() -> None:
    # Same wall time as above but written with +00:00: 6 days 17.5 hours before, no flag.
    taken_at = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)

    decision = decide_location(
        photo_lat=GAMBIR[0],
        photo_lon=GAMBIR[1],
        taken_at=taken_at,
        device=device_at(*GAMBIR),
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.flags == []


def test_no_photo_geotag_falls_back_to_the_device_location() -> None:
    device = device_at(*KOTA_TUA)

    decision = decide_location(
        photo_lat=None,
        photo_lon=None,
        taken_at=REPORTED_AT - timedelta(days=30),
        device=device,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location == device
    assert decision.location.source is LocationSource.DEVICE
    assert decision.flags == []


def test_no_photo_geotag_and_no_device_gives_no_location() -> None:
    decision = decide_location(
        photo_lat=None,
        photo_lon=None,
        taken_at=None,
        device=None,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location is None
    assert decision.flags == []


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(0.0, 0.0, id="null-island"),
        pytest.param(math.nan, 106.8272, id="nan-lat"),
        pytest.param(-6.1754, math.nan, id="nan-lon"),
        pytest.param(95.0, 106.8272, id="lat-95"),
        pytest.param(-6.1754, 200.0, id="lon-200"),
        pytest.param(math.inf, 106.8272, id="inf-lat"),
        pytest.param(-6.1754, None, id="lon-missing"),
    ],
)
def test_invalid_photo_coordinates_fall_back_to_the_device(lat: float, lon: float | None) -> None:
    device = device_at(*KOTA_TUA)

    decision = decide_location(
        photo_lat=lat,
        photo_lon=lon,
        taken_at=None,
        device=device,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location == device
    assert decision.flags == []


@pytest.mark.parametrize(("lat", "lon"), [(0.0, 0.0), (math.nan, 106.8272), (95.0, 106.8272)])
def test_invalid_photo_coordinates_without_a_device_give_no_location(
    lat: float, lon: float
) -> None:
    decision = decide_location(
        photo_lat=lat,
        photo_lon=lon,
        taken_at=None,
        device=None,
        reported_at=REPORTED_AT,
        zone=WIB,
    )

    assert decision.location is None
