"""Locating and routing (DESIGN.md section 3) over the shipped tenant bundles, with fakes.

A point becomes a kelurahan by point-in-polygon (slivers snap, overlaps and shared edges are
decided the same way every time, the sea is outside); a kelurahan and a category become the
responsible unit; the unit's head at that moment is written on the assignment.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import shapely

from chalicelib.admin import appoint_head
from chalicelib.bootstrap import Services
from chalicelib.domain.areas import SNAP_TOLERANCE_M, AreaIndex, Inside, Outside
from chalicelib.domain.bundle import TenantBundle, parse_bundle
from chalicelib.domain.errors import Conflict, InvalidRequest, NotAllowed, TenantConfigError
from chalicelib.domain.geo import EARTH_RADIUS_M, cells_within, geohash
from chalicelib.domain.identity import Principal, principal_from_claims
from chalicelib.domain.jurisdiction import Jurisdiction, Placement
from chalicelib.domain.ports import Head
from chalicelib.domain.tickets import Channel, Location, LocationSource, Status, Ticket
from chalicelib.service.routing import Router
from tests.fakes import ROOT, FakeTicketRepository, FixedClock, fake_services, shipped_bundles

MONAS = (-6.1754, 106.8272)
JAKARTA_BAY = (-6.05, 106.85)
# In no polygon: 1.5 m from Sunter Agung, 9 m from Sunter Jaya (simplified boundaries).
SLIVER = (-6.148813, 106.858640)
# Inside both Serdang (31.71.03.1004) and Sunter Jaya (31.72.02.1002).
OVERLAP = (-6.154897, 106.862222)
GAMBIR = "kelurahan:31.71.01.1001"


def jurisdiction(tenant: str) -> Jurisdiction:
    return next(b for b in shipped_bundles() if b.tenant.tenant_id == tenant).jurisdiction


def bundle_of(tenant: str) -> TenantBundle:
    return next(b for b in shipped_bundles() if b.tenant.tenant_id == tenant)


@pytest.fixture
def services() -> Services:
    return fake_services(FixedClock())


def citizen(sub: str = "citizen-1") -> Principal:
    return principal_from_claims({"sub": sub, "cognito:username": sub})


def report(
    services: Services,
    at: tuple[float, float] | None,
    *,
    tenant: str = "jakarta",
    category: str = "sampah",
    reporter: str = "citizen-1",
    private: bool = True,
) -> Ticket:
    """File a report (with a device location when `at` is given) and return it as stored."""
    body: dict[str, Any] = {
        "category": category,
        "description": "Laporan warga",
        "private": private,
    }
    if at is not None:
        body["location"] = {"lat": at[0], "lon": at[1]}
    submitted = services.reports.submit(tenant, citizen(reporter), body)
    return stored(services, tenant, submitted.ticket.ticket_id)


def stored(services: Services, tenant: str, ticket_id: str) -> Ticket:
    ticket = services.tickets.get(tenant, ticket_id)
    assert ticket is not None
    return ticket


# --- landmarks -------------------------------------------------------------------------------


def _area(
    village: tuple[str, str], district: tuple[str, str], city: tuple[str, str]
) -> dict[str, dict[str, str]]:
    return {
        "kelurahan": {"code": village[0], "name": village[1]},
        "kecamatan": {"code": district[0], "name": district[1]},
        "kota": {"code": city[0], "name": city[1]},
    }


JAKPUS = ("31.71", "Kota Administrasi Jakarta Pusat")

LANDMARKS = [
    pytest.param(
        "jakarta",
        MONAS,
        _area(("31.71.01.1001", "Gambir"), ("31.71.01", "Gambir"), JAKPUS),
        {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"},
        "Kecamatan Gambir",
        id="monas",
    ),
    pytest.param(
        "jakarta",
        (-6.1950, 106.8230),
        _area(("31.71.06.1001", "Menteng"), ("31.71.06", "Menteng"), JAKPUS),
        {"id": "kelurahan:31.71.06.1001", "name": "Kelurahan Menteng", "type": "kelurahan"},
        "Kecamatan Menteng",
        id="bundaran-hi",
    ),
    pytest.param(
        "jakarta",
        (-6.1352, 106.8133),
        _area(
            ("31.73.03.1008", "Pinangsia"),
            ("31.73.03", "Taman Sari"),
            ("31.73", "Kota Administrasi Jakarta Barat"),
        ),
        {"id": "kelurahan:31.73.03.1008", "name": "Kelurahan Pinangsia", "type": "kelurahan"},
        "Kecamatan Taman Sari",
        id="taman-fatahillah",
    ),
    pytest.param(
        "banda-aceh",
        (5.5536, 95.3174),
        _area(
            ("11.71.01.2001", "Kampung Baru"),
            ("11.71.01", "Baiturrahman"),
            ("11.71", "Kota Banda Aceh"),
        ),
        {"id": "gampong:11.71.01.2001", "name": "Gampong Kampung Baru", "type": "gampong"},
        "Kecamatan Baiturrahman",
        id="masjid-raya-baiturrahman",
    ),
    pytest.param(
        "bandar-lampung",
        (-5.4178, 105.2572),
        _area(
            ("18.71.17.1002", "Pelita"), ("18.71.17", "Enggal"), ("18.71", "Kota Bandar Lampung")
        ),
        {"id": "kelurahan:18.71.17.1002", "name": "Kelurahan Pelita", "type": "kelurahan"},
        "Kecamatan Enggal",
        id="tugu-adipura",
    ),
]


@pytest.mark.parametrize(("tenant", "at", "area", "unit", "kecamatan"), LANDMARKS)
def test_report_at_a_landmark_goes_to_the_kelurahan_around_it(
    services: Services,
    tenant: str,
    at: tuple[float, float],
    area: dict[str, dict[str, str]],
    unit: dict[str, str],
    kecamatan: str,
) -> None:
    ticket = report(services, at, tenant=tenant)

    assert ticket.status is Status.WAITING
    assert ticket.area == area
    assert ticket.assigned_unit == unit
    assert ticket.flags == []
    parent = jurisdiction(tenant).parent(unit["id"])
    assert parent is not None and parent.name == kecamatan
    assert [(a.unit_id, a.started_at) for a in ticket.assignments] == [
        (unit["id"], services.clock.now())
    ]


def test_report_in_jakarta_bay_is_rejected_as_outside_jurisdiction_and_kept(
    services: Services,
) -> None:
    ticket = report(services, JAKARTA_BAY)

    assert ticket.status is Status.REJECTED
    assert ticket.rejection is not None
    assert ticket.rejection.reason == "outside_jurisdiction"
    assert "Provinsi DKI Jakarta" in ticket.rejection.message
    assert ticket.assigned_unit is None
    assert ticket.location is not None
    assert (ticket.location.lat, ticket.location.lon) == JAKARTA_BAY
    assert ticket.timeline[-1].note == ticket.rejection.message


def test_jakarta_report_is_outside_banda_aceh(services: Services) -> None:
    ticket = report(services, MONAS, tenant="banda-aceh")

    assert ticket.status is Status.REJECTED
    assert ticket.rejection is not None
    assert "Kota Banda Aceh" in ticket.rejection.message


# --- slivers, overlaps, shared edges --------------------------------------------------------


def test_point_in_a_sliver_snaps_to_the_nearest_kelurahan_and_is_flagged(
    services: Services,
) -> None:
    ticket = report(services, SLIVER)

    assert ticket.status is Status.WAITING
    assert ticket.assigned_unit is not None
    assert ticket.assigned_unit["id"] == "kelurahan:31.72.02.1006"
    assert ticket.assigned_unit["name"] == "Kelurahan Sunter Agung"
    assert "location_snapped" in ticket.flags


def test_sliver_point_lies_in_no_polygon_and_snaps_the_same_way_every_time() -> None:
    jakarta = jurisdiction("jakarta")
    shapes = bundle_of("jakarta").shapes
    point = shapely.Point(SLIVER[1], SLIVER[0])

    answers = [jakarta.locate(*SLIVER) for _ in range(20)]

    assert not any(shape.intersects(point) for shape in shapes.values())
    assert all(isinstance(a, Placement) for a in answers)
    assert {(a.village.code, a.snapped_m) for a in answers if isinstance(a, Placement)} == {
        ("31.72.02.1006", 1.5)
    }


def test_point_where_two_kelurahan_overlap_always_goes_to_the_same_one() -> None:
    jakarta = jurisdiction("jakarta")
    shapes = bundle_of("jakarta").shapes
    point = shapely.Point(OVERLAP[1], OVERLAP[0])

    answers = [jakarta.locate(*OVERLAP) for _ in range(20)]

    assert shapes["31.71.03.1004"].contains(point)
    assert shapes["31.72.02.1002"].contains(point)
    codes = {a.village.code for a in answers if isinstance(a, Placement)}
    # Both hold it in their interior: the lower code wins.
    assert codes == {"31.71.03.1004"}
    assert all(isinstance(a, Placement) and a.snapped_m is None for a in answers)


def _square(lon: float, lat: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


def _two_squares() -> AreaIndex:
    # The higher code on the left, so "first polygon wins" would give the wrong answer.
    return AreaIndex(
        {
            "31.71.01.1002": _square(106.82, -6.18),
            "31.71.01.1001": _square(106.83, -6.18),
        }
    )


def _east_of(lon: float, metres: float) -> float:
    # The index measures on a local equirectangular projection around the squares' centre.
    lat0 = -6.175
    return lon + metres / (111_320.0 * math.cos(math.radians(lat0)))


def test_point_on_a_shared_edge_goes_to_the_lower_code_every_time() -> None:
    index = _two_squares()

    answers = {index.locate(-6.175, 106.83) for _ in range(20)}

    assert answers == {Inside("31.71.01.1001")}


def test_point_just_outside_snaps_to_the_nearest_area_with_its_distance() -> None:
    index = _two_squares()

    found = index.locate(-6.175, _east_of(106.84, 100))

    assert isinstance(found, Inside)
    assert found.code == "31.71.01.1001"
    assert found.snapped_m == pytest.approx(100, abs=0.5)


def test_point_beyond_the_tolerance_is_outside_with_the_nearest_code_and_distance() -> None:
    index = _two_squares()

    found = index.locate(-6.175, _east_of(106.84, 300))

    assert isinstance(found, Outside)
    assert found.nearest_code == "31.71.01.1001"
    assert found.distance_m == pytest.approx(300, abs=0.5)
    assert SNAP_TOLERANCE_M == 250


def test_point_equally_far_from_two_areas_snaps_to_the_lower_code() -> None:
    # Binary fractions of a degree, symmetric about the index's centre: an exact tie in floats.
    centre, gap, width = 106.8125, 0.0009765625, 0.01171875
    index = AreaIndex(
        {
            "31.71.01.1002": shapely.box(centre - width, -6.1875, centre - gap, -6.171875),
            "31.71.01.1001": shapely.box(centre + gap, -6.1875, centre + width, -6.171875),
        }
    )

    answers = {index.locate(-6.1796875, centre) for _ in range(20)}

    assert answers == {Inside("31.71.01.1001", snapped_m=108.1)}


# --- routing rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant", "at", "category", "unit"),
    [
        pytest.param(
            "jakarta",
            MONAS,
            "lampu_jalan",
            {
                "id": "sudin-bina-marga:31.71",
                "name": "Suku Dinas Bina Marga Kota Administrasi Jakarta Pusat",
                "type": "sudin-bina-marga",
            },
            id="street-light-to-sudin-bina-marga",
        ),
        pytest.param(
            "jakarta",
            MONAS,
            "sampah",
            {"id": "kelurahan:31.71.01.1001", "name": "Kelurahan Gambir", "type": "kelurahan"},
            id="trash-to-kelurahan",
        ),
        pytest.param(
            "jakarta",
            MONAS,
            "pkl",
            {
                "id": "satpol-pp-kecamatan:31.71.01",
                "name": "Satuan Polisi Pamong Praja Kecamatan Gambir",
                "type": "satpol-pp-kecamatan",
            },
            id="street-vendors-to-satpol-pp-kecamatan",
        ),
        pytest.param(
            "banda-aceh",
            (5.5536, 95.3174),
            "lampu_jalan",
            {
                "id": "dinas-pupr:11.71",
                "name": "Dinas Pekerjaan Umum dan Penataan Ruang",
                "type": "dinas-pupr",
            },
            id="banda-aceh-street-light-to-dinas-pupr",
        ),
    ],
)
def test_category_goes_to_the_unit_its_routing_rule_names(
    services: Services, tenant: str, at: tuple[float, float], category: str, unit: dict[str, str]
) -> None:
    ticket = report(services, at, tenant=tenant, category=category)

    assert ticket.status is Status.WAITING
    assert ticket.assigned_unit == unit


# --- units -----------------------------------------------------------------------------------


def test_jakarta_has_a_unit_per_kelurahan_kecamatan_and_kota() -> None:
    counts = Counter(u.unit_type for u in jurisdiction("jakarta").units.values())

    assert (counts["kelurahan"], counts["kecamatan"], counts["kota"]) == (267, 44, 6)
    assert counts["sudin-bina-marga"] == 6
    assert counts["pemprov"] == 1


@pytest.mark.parametrize("tenant", ["jakarta", "banda-aceh", "bandar-lampung"])
def test_every_unit_but_the_root_has_a_parent_that_exists(tenant: str) -> None:
    units = jurisdiction(tenant).units

    orphans = [u.unit_id for u in units.values() if u.parent_id not in units]
    roots = [u.unit_id for u in units.values() if u.parent_id is None]

    assert orphans == roots
    assert len(roots) == 1


def test_kelurahan_gambir_reports_to_kecamatan_gambir_then_the_kota() -> None:
    jakarta = jurisdiction("jakarta")

    kecamatan = jakarta.parent(GAMBIR)
    kota = jakarta.parent("kecamatan:31.71.01")

    assert kecamatan is not None and kecamatan.name == "Kecamatan Gambir"
    assert kota is not None
    assert (kota.unit_id, kota.name) == ("kota:31.71", "Kota Administrasi Jakarta Pusat")


def test_suku_dinas_reports_to_its_dinas() -> None:
    parent = jurisdiction("jakarta").parent("sudin-bina-marga:31.71")

    assert parent is not None
    assert (parent.unit_id, parent.name) == ("dinas-bina-marga:31", "Dinas Bina Marga")


def test_banda_aceh_has_90_gampong_in_9_kecamatan() -> None:
    counts = Counter(u.unit_type for u in jurisdiction("banda-aceh").units.values())

    assert (counts["gampong"], counts["kecamatan"]) == (90, 9)


# --- bundle refusals -------------------------------------------------------------------------


@functools.cache
def _jakarta_files() -> tuple[str, str]:
    folder = ROOT / "tenants" / "jakarta"
    return (
        (folder / "tenant.json").read_text(encoding="utf-8"),
        (folder / "boundaries.geojson").read_text(encoding="utf-8"),
    )


def jakarta_dicts() -> tuple[dict[str, Any], dict[str, Any]]:
    config, boundaries = _jakarta_files()
    return json.loads(config), json.loads(boundaries)


def _feature(boundaries: dict[str, Any], code: str) -> dict[str, Any]:
    feature: dict[str, Any] = next(
        f for f in boundaries["features"] if f["properties"]["code"] == code
    )
    return feature


def _bow_tie(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    ring = [[106.82, -6.18], [106.83, -6.17], [106.83, -6.18], [106.82, -6.17], [106.82, -6.18]]
    _feature(boundaries, "31.71.01.1001")["geometry"] = {
        "type": "Polygon",
        "coordinates": [ring],
    }


def _unknown_parent_type(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    config["agencies"].append(
        {
            "unit_type": "sudin-hantu",
            "name": "Suku Dinas Hantu {name}",
            "level": "city",
            "parent_type": "dinas-hantu",
        }
    )


def _duplicate_village(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    boundaries["features"].append(copy.deepcopy(_feature(boundaries, "31.71.01.1001")))


def _rule_to_unknown_unit_type(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    config["routing"].append({"category": "banjir", "unit_type": "sudin-hantu"})


def _rule_for_unknown_category(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    config["routing"].append({"category": "ufo", "unit_type": "kelurahan"})


def _village_outside_root(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    props = _feature(boundaries, "31.71.01.1001")["properties"]
    props.update(code="32.71.01.1001", district_code="32.71.01", city_code="32.71")


def _missing_district_name(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    del _feature(boundaries, "31.71.01.1001")["properties"]["district_name"]


def _levels_without_village(config: dict[str, Any], boundaries: dict[str, Any]) -> None:
    del config["levels"]["village"]


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        pytest.param(_bow_tie, ["31.71.01.1001", "invalid"], id="bow-tie-polygon"),
        pytest.param(_unknown_parent_type, ["'parent_type'", "'dinas-hantu'"], id="parent-type"),
        pytest.param(_duplicate_village, ["duplicate code 31.71.01.1001"], id="duplicate-code"),
        pytest.param(
            _rule_to_unknown_unit_type, ["'banjir'", "'sudin-hantu'"], id="rule-to-unknown-type"
        ),
        pytest.param(_rule_for_unknown_category, ["'ufo'"], id="rule-for-unknown-category"),
        pytest.param(_village_outside_root, ["32.71.01.1001", "root area 31"], id="outside-root"),
        pytest.param(
            _missing_district_name, ["31.71.01.1001", "'district_name'"], id="no-district"
        ),
        pytest.param(_levels_without_village, ["levels.village"], id="no-village-level"),
    ],
)
def test_broken_bundle_is_refused_naming_the_problem(
    breakage: Callable[[dict[str, Any], dict[str, Any]], None], named: list[str]
) -> None:
    config, boundaries = jakarta_dicts()
    breakage(config, boundaries)

    with pytest.raises(TenantConfigError) as raised:
        parse_bundle(config, boundaries, revision="broken")

    for part in named:
        assert part in str(raised.value)


def test_unbroken_jakarta_files_parse() -> None:
    config, boundaries = jakarta_dicts()

    bundle = parse_bundle(config, boundaries, revision="r")

    assert len(bundle.jurisdiction.villages) == 267
    assert bundle.tenant.revision == "r"


# --- the router and the reporter's own location ----------------------------------------------


def locating_ticket(location: Location | None = None) -> Ticket:
    at = FixedClock().now()
    ticket = Ticket(
        tenant="jakarta",
        ticket_id="0" * 31 + "1",
        number="JKT-261204-0001",
        status=Status.LOCATING,
        category="sampah",
        description="Sampah",
        channel=Channel.JAKI,
        private=True,
        reporter_id="citizen-1",
        created_at=at,
        updated_at=at,
        device_location=location,
    )
    ticket.transition(Status.LOCATING, at=at)
    return ticket


def test_router_sends_a_ticket_without_any_location_to_needs_location(
    services: Services,
) -> None:
    ticket = locating_ticket()
    router = Router(services.tenants, services.heads, services.clock)

    router.route(ticket)

    assert ticket.status is Status.NEEDS_LOCATION
    assert ticket.assigned_unit is None


def test_router_uses_the_device_location_when_the_photo_has_none(services: Services) -> None:
    ticket = locating_ticket(Location(*MONAS, LocationSource.DEVICE))
    router = Router(services.tenants, services.heads, services.clock)

    router.route(ticket)

    assert ticket.status is Status.WAITING
    assert ticket.location == Location(*MONAS, LocationSource.DEVICE)


def test_router_leaves_a_ticket_that_is_not_locating_alone(services: Services) -> None:
    ticket = report(services, None)
    router = Router(services.tenants, services.heads, services.clock)

    router.route(ticket)

    assert ticket.status is Status.NEEDS_LOCATION
    assert len(ticket.timeline) == 1


def test_reporter_setting_the_location_routes_the_report(services: Services) -> None:
    ticket = report(services, None, reporter="siti")
    location = {"lat": MONAS[0], "lon": MONAS[1], "accuracy_m": 8}

    view = services.reports.set_location("jakarta", ticket.ticket_id, citizen("siti"), location)

    assert view["status"] == "waiting"
    assert view["location"] == {"lat": MONAS[0], "lon": MONAS[1], "source": "manual"}
    assert view["assigned_unit"]["id"] == GAMBIR
    after = stored(services, "jakarta", ticket.ticket_id)
    assert [(e.to_status, e.actor_role) for e in after.timeline] == [
        (Status.NEEDS_LOCATION, "system"),
        (Status.LOCATING, "reporter"),
        (Status.WAITING, "system"),
    ]
    assert after.version == 2


def test_reporter_setting_a_location_outside_gets_the_report_rejected(
    services: Services,
) -> None:
    ticket = report(services, None, reporter="siti")
    location = {"lat": JAKARTA_BAY[0], "lon": JAKARTA_BAY[1]}

    view = services.reports.set_location("jakarta", ticket.ticket_id, citizen("siti"), location)

    assert view["status"] == "rejected"
    assert view["rejection"]["reason"] == "outside_jurisdiction"


def test_someone_else_may_not_set_the_location(services: Services) -> None:
    ticket = report(services, None, reporter="siti")
    location = {"lat": MONAS[0], "lon": MONAS[1]}

    with pytest.raises(NotAllowed):
        services.reports.set_location("jakarta", ticket.ticket_id, citizen("budi"), location)

    assert stored(services, "jakarta", ticket.ticket_id).status is Status.NEEDS_LOCATION


def test_location_of_a_report_that_does_not_need_one_cannot_be_set(services: Services) -> None:
    ticket = report(services, MONAS, reporter="siti")
    elsewhere = {"lat": -6.1950, "lon": 106.8230}

    with pytest.raises(Conflict):
        services.reports.set_location("jakarta", ticket.ticket_id, citizen("siti"), elsewhere)

    after = stored(services, "jakarta", ticket.ticket_id)
    assert after.assigned_unit is not None and after.assigned_unit["id"] == GAMBIR


@pytest.mark.parametrize(
    "body",
    [{}, {"lat": 0, "lon": 0}, {"lat": 91, "lon": 106.8}, {"lat": -6.17}],
    ids=["empty", "null-island", "lat-out-of-range", "no-lon"],
)
def test_unusable_location_is_refused(services: Services, body: dict[str, Any]) -> None:
    ticket = report(services, None, reporter="siti")

    with pytest.raises(InvalidRequest) as raised:
        services.reports.set_location("jakarta", ticket.ticket_id, citizen("siti"), body)

    assert raised.value.field == "location"


# --- heads of units --------------------------------------------------------------------------


def test_assignment_names_the_head_of_the_unit_at_that_time(services: Services) -> None:
    clock = services.clock
    assert isinstance(clock, FixedClock)
    first_since = clock.now() - timedelta(days=30)
    appoint_head(
        services.tenants,
        services.heads,
        tenant="jakarta",
        unit_id=GAMBIR,
        head=Head(name="Ahmad Fauzi", since=first_since),
    )
    earlier = report(services, MONAS)
    second_since = clock.now() + timedelta(days=1)
    appoint_head(
        services.tenants,
        services.heads,
        tenant="jakarta",
        unit_id=GAMBIR,
        head=Head(name="Siti Rahmawati", since=second_since),
    )
    clock.advance(days=2)

    later = report(services, MONAS)

    assert [a.head for a in later.assignments] == ["Siti Rahmawati"]
    assert [a.head for a in stored(services, "jakarta", earlier.ticket_id).assignments] == [
        "Ahmad Fauzi"
    ]
    between = services.heads.head_at("jakarta", GAMBIR, first_since + timedelta(days=20))
    assert between is not None and between.name == "Ahmad Fauzi"
    assert services.heads.head_at("jakarta", GAMBIR, first_since - timedelta(seconds=1)) is None


def test_ticket_of_a_unit_without_a_recorded_head_names_nobody(services: Services) -> None:
    ticket = report(services, MONAS)

    assert [a.head for a in ticket.assignments] == [None]


@pytest.mark.parametrize(
    ("tenant", "unit_id", "named"),
    [
        ("jakarta", "kelurahan:31.71.01.9999", "kelurahan:31.71.01.9999"),
        ("jakarta", "gampong:11.71.01.2001", "gampong:11.71.01.2001"),
        ("atlantis", GAMBIR, "atlantis"),
    ],
    ids=["unknown-kelurahan", "unit-of-another-tenant", "unknown-tenant"],
)
def test_appointing_a_head_of_an_unknown_unit_is_refused(
    services: Services, tenant: str, unit_id: str, named: str
) -> None:
    head = Head(name="Nobody", since=services.clock.now())

    with pytest.raises(TenantConfigError) as raised:
        appoint_head(services.tenants, services.heads, tenant=tenant, unit_id=unit_id, head=head)

    assert named in str(raised.value)
    assert services.heads.history("jakarta", GAMBIR) == []


# --- nearby reports --------------------------------------------------------------------------


def north_of(at: tuple[float, float], metres: float) -> tuple[float, float]:
    return at[0] + math.degrees(metres / EARTH_RADIUS_M), at[1]


def test_nearby_lists_public_open_reports_of_the_category_nearest_first(
    services: Services,
) -> None:
    far = report(services, north_of(MONAS, 150), private=False)
    near = report(services, north_of(MONAS, 20), private=False)
    report(services, north_of(MONAS, 600), private=False)
    report(services, north_of(MONAS, 10), category="banjir", private=False)
    report(services, north_of(MONAS, 30), private=True)

    found = services.reports.nearby(
        "jakarta", near=f"{MONAS[0]},{MONAS[1]}", radius_m=200, category="sampah"
    )

    assert [(i["ticket_id"], i["distance_m"]) for i in found["items"]] == [
        (near.ticket_id, pytest.approx(20, abs=0.1)),
        (far.ticket_id, pytest.approx(150, abs=0.1)),
    ]
    assert found["private_nearby"] == 1
    assert all("flags" not in i and i["private"] is False for i in found["items"])


def test_nearby_leaves_out_rejected_reports(services: Services) -> None:
    repo = services.tickets
    assert isinstance(repo, FakeTicketRepository)
    ticket = report(services, north_of(MONAS, 20), private=False)
    # Staff rejections are not built yet: close the stored ticket directly.
    repo.items[("jakarta", ticket.ticket_id)].status = Status.REJECTED

    found = services.reports.nearby(
        "jakarta", near=f"{MONAS[0]},{MONAS[1]}", radius_m=200, category="sampah"
    )

    assert found == {"items": [], "private_nearby": 0}


@pytest.mark.parametrize("near", ["abc", "1,2,3", "91,0", "0,0", "nan,106.8", "", None])
def test_nearby_with_an_unusable_point_is_refused(services: Services, near: str | None) -> None:
    with pytest.raises(InvalidRequest) as raised:
        services.reports.nearby("jakarta", near=near, radius_m=200, category="sampah")

    assert raised.value.field == "near"


@pytest.mark.parametrize("category", ["ufo", "", None])
def test_nearby_needs_a_category_of_the_tenant(services: Services, category: str | None) -> None:
    with pytest.raises(InvalidRequest) as raised:
        services.reports.nearby("jakarta", near="-6.1754,106.8272", radius_m=200, category=category)

    assert raised.value.field == "category"


# --- geohash cells ---------------------------------------------------------------------------


def test_geohash_matches_the_reference_value() -> None:
    assert geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"


def destination(at: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point `metres` away from `at` along a great circle (the inverse of haversine)."""
    lat1, lon1 = math.radians(at[0]), math.radians(at[1])
    d, bearing = metres / EARTH_RADIUS_M, math.radians(bearing_deg)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(lat1),
        math.cos(d) - math.sin(lat1) * math.sin(lat2),
    )
    return math.degrees(lat2), math.degrees(lon2)


@pytest.mark.parametrize("radius_m", [50, 200, 1000])
@pytest.mark.parametrize(
    "centre", [MONAS, (5.5536, 95.3174), (0.0, 0.001)], ids=["monas", "banda-aceh", "equator"]
)
def test_cells_within_cover_every_point_inside_the_radius(
    centre: tuple[float, float], radius_m: int
) -> None:
    ring = [destination(centre, 0.99 * radius_m, bearing) for bearing in range(0, 360, 10)]

    cells = set(cells_within(*centre, radius_m))

    assert {geohash(*p) for p in ring} <= cells
    assert geohash(*centre) in cells


def test_cells_within_cover_a_point_just_inside_the_radius_across_a_cell_edge() -> None:
    # A centre whose 1000 m circle reaches, due east, just past a geohash cell edge.
    centre = (-6.25998960784881, 106.80003713038873)
    point = destination(centre, 999.9, 90)

    cells = cells_within(*centre, 1000)

    assert geohash(*point) in cells
