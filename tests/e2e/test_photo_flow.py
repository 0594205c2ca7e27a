"""Photos through the local stack: the geotag decides the place; no location waits for one."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e.test_local_stack import RunningStack, start_stack
from tests.photos import jpeg

pytestmark = pytest.mark.e2e

GAMBIR = "kelurahan:31.71.01.1001"
MONAS = (-6.1754, 106.8272)
KOTA_TUA = (-6.1352, 106.8133)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("photo-stack"))
    yield running
    running.stop()


def citizen(stack: RunningStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.user('warga2.jakarta')['id_token']}"}


def report_with_photo(stack: RunningStack, photo: bytes, **extra: Any) -> dict[str, Any]:
    created = requests.post(
        f"{stack.api}/v1/jakarta/reports",
        json={
            "category": "sampah",
            "description": "Sampah menumpuk",
            "photo": {"content_type": "image/jpeg", "content_length": len(photo)},
            **extra,
        },
        headers=citizen(stack),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    report: dict[str, Any] = created.json()
    upload = report["upload"]
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("p.jpg", photo)}, timeout=10
    )
    assert sent.status_code == 204
    return report


def settled(stack: RunningStack, ticket_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        view: dict[str, Any] = requests.get(
            f"{stack.api}/v1/jakarta/reports/{ticket_id}", headers=citizen(stack), timeout=5
        ).json()
        if view["status"] not in ("awaiting_photo", "locating") or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


def test_photo_geotag_routes_the_report_and_a_distant_device_location_is_flagged(
    stack: RunningStack,
) -> None:
    photo = jpeg(lat=MONAS[0], lon=MONAS[1])

    report = report_with_photo(stack, photo, location={"lat": KOTA_TUA[0], "lon": KOTA_TUA[1]})
    view = settled(stack, report["ticket_id"])

    assert view["status"] == "waiting"
    assert view["location"]["source"] == "exif"
    assert view["assigned_unit"]["id"] == GAMBIR
    assert view["area"]["kelurahan"]["name"] == "Gambir"
    assert "photo_far_from_device" in view["flags"]
    public = requests.get(view["photos"][0]["url"], timeout=5)
    assert public.status_code == 200
    assert dict(Image.open(io.BytesIO(public.content)).getexif()) == {}
    anonymous = requests.get(f"{stack.api}/v1/jakarta/reports/{report['ticket_id']}", timeout=5)
    assert "flags" not in anonymous.json()


def test_photo_without_gps_and_no_device_location_waits_until_the_reporter_places_it(
    stack: RunningStack,
) -> None:
    report = report_with_photo(stack, jpeg())
    waiting_for_place = settled(stack, report["ticket_id"])

    placed = requests.post(
        f"{stack.api}/v1/jakarta/reports/{report['ticket_id']}/location",
        json={"lat": MONAS[0], "lon": MONAS[1]},
        headers=citizen(stack),
        timeout=5,
    )

    assert waiting_for_place["status"] == "needs_location"
    assert placed.status_code == 200, placed.text
    assert placed.json()["status"] == "waiting"
    assert placed.json()["location"]["source"] == "manual"
    assert placed.json()["assigned_unit"]["id"] == GAMBIR
