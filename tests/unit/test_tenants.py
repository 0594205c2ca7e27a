"""Tenant bundles are data: the shipped ones are valid, broken ones are refused before storing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.admin import load_bundles, read_bundle
from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.tenants import parse_tenant, tenant_document
from tests.bundles import collection, square, village, write_bundle_folder
from tests.fakes import ROOT, FakeTenantDirectory, shipped_tenants

DESIGN_CATEGORIES = {
    "sampah",
    "jalan_rusak",
    "lampu_jalan",
    "banjir",
    "saluran_air",
    "pohon_tumbang",
    "parkir_liar",
    "pkl",
    "fasilitas_umum",
}


def jakarta_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (ROOT / "tenants" / "jakarta" / "tenant.json").read_text(encoding="utf-8")
    )
    return document


def gambir_only() -> dict[str, Any]:
    """A boundaries file with one square kelurahan around Monas."""
    return collection(
        village(
            "31.71.01.1001",
            "Gambir",
            square(106.82, -6.18),
            district_name="Gambir",
            city_name="Kota Administrasi Jakarta Pusat",
        )
    )


def write_bundle(parent: Path, folder: str, document: object) -> Path:
    return write_bundle_folder(parent, folder, document, gambir_only())


def test_shipped_bundles_are_the_three_tenants() -> None:
    tenants = shipped_tenants()

    assert [t.tenant_id for t in tenants] == ["banda-aceh", "bandar-lampung", "jakarta"]
    assert all(t.timezone == "Asia/Jakarta" for t in tenants)


def test_jakarta_has_the_design_categories() -> None:
    jakarta = next(t for t in shipped_tenants() if t.tenant_id == "jakarta")

    assert {c.code for c in jakarta.categories} >= DESIGN_CATEGORIES
    assert jakarta.number_prefix == "JKT"
    assert all(c.name_id and c.name_en for c in jakarta.categories)


def test_tenant_document_round_trips_through_parse() -> None:
    jakarta = parse_tenant(jakarta_document())

    again = parse_tenant(tenant_document(jakarta))

    assert again == jakarta


def _with(**changes: Any) -> dict[str, Any]:
    document = jakarta_document()
    document.update(changes)
    return document


def _duplicate_category() -> dict[str, Any]:
    document = jakarta_document()
    document["categories"].append(copy.deepcopy(document["categories"][0]))
    return document


def _capital_category() -> dict[str, Any]:
    document = jakarta_document()
    document["categories"][1]["code"] = "Jalan_Rusak"
    return document


def _nameless_category() -> dict[str, Any]:
    document = jakarta_document()
    del document["categories"][2]["name_en"]
    return document


@pytest.mark.parametrize(
    ("document", "named"),
    [
        pytest.param(_with(id="Jakarta Raya"), "'id'", id="bad-id"),
        pytest.param(_with(id=""), "'id'", id="empty-id"),
        pytest.param(_with(timezone="Mars/Olympus"), "'timezone'", id="bad-timezone"),
        pytest.param(_duplicate_category(), "duplicate category code 'sampah'", id="dup-code"),
        pytest.param(_capital_category(), "categories[1]: field 'code'", id="capital-code"),
        pytest.param(_nameless_category(), "categories[2]: field 'name_en'", id="no-name"),
        pytest.param(_with(categories=[]), "'categories'", id="empty-categories"),
        pytest.param(_with(number_prefix="jkt"), "'number_prefix'", id="lowercase-prefix"),
        pytest.param(["not", "an", "object"], "JSON object", id="not-an-object"),
    ],
)
def test_invalid_tenant_document_is_refused_naming_the_field(document: object, named: str) -> None:
    with pytest.raises(TenantConfigError) as raised:
        parse_tenant(document, source="tenants/jakarta/tenant.json")

    assert named in str(raised.value)
    assert "tenants/jakarta/tenant.json" in str(raised.value)


def test_bundle_is_read_from_its_folder(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, "jakarta", jakarta_document())

    bundle = read_bundle(folder)

    assert bundle.tenant.tenant_id == "jakarta"
    assert bundle.tenant.revision
    assert list(bundle.jurisdiction.villages) == ["31.71.01.1001"]
    assert bundle.jurisdiction.unit("kelurahan:31.71.01.1001") is not None


def test_bundle_revision_changes_with_its_boundaries(tmp_path: Path) -> None:
    first = read_bundle(write_bundle(tmp_path, "jakarta", jakarta_document()))
    moved = tmp_path / "later"
    moved.mkdir()
    shifted = gambir_only()
    shifted["features"][0]["geometry"]["coordinates"] = [square(106.821, -6.18)]
    later = read_bundle(write_bundle_folder(moved, "jakarta", jakarta_document(), shifted))

    assert first.tenant.revision != later.tenant.revision


def test_bundle_whose_boundaries_file_is_missing_is_refused_naming_it(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, "jakarta", jakarta_document())
    (folder / "boundaries.geojson").unlink()

    with pytest.raises(TenantConfigError) as raised:
        read_bundle(folder)

    assert "boundaries.geojson" in str(raised.value)
    assert "not found" in str(raised.value)


@pytest.mark.parametrize(
    "boundaries",
    ["../jakarta.geojson", "/etc/passwd", "boundaries.json", None],
    ids=["parent-folder", "absolute", "not-geojson", "missing"],
)
def test_boundaries_field_must_name_a_geojson_file_inside_the_bundle(
    tmp_path: Path, boundaries: str | None
) -> None:
    folder = write_bundle(tmp_path, "jakarta", _with(boundaries=boundaries))

    with pytest.raises(TenantConfigError) as raised:
        read_bundle(folder)

    assert "'boundaries'" in str(raised.value)


def test_bundle_whose_id_differs_from_its_folder_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path, "jakarta-lama", jakarta_document())

    with pytest.raises(TenantConfigError) as raised:
        read_bundle(folder)

    assert "'id'" in str(raised.value)
    assert "jakarta-lama" in str(raised.value)


def test_bundle_without_tenant_json_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "jakarta"
    folder.mkdir()

    with pytest.raises(TenantConfigError) as raised:
        read_bundle(folder)

    assert "tenant.json" in str(raised.value)
    assert "not found" in str(raised.value)


def test_bundle_with_invalid_json_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "jakarta"
    folder.mkdir()
    (folder / "tenant.json").write_text('{"id": "jakarta",', encoding="utf-8")

    with pytest.raises(TenantConfigError) as raised:
        read_bundle(folder)

    assert "not valid JSON" in str(raised.value)


def test_valid_bundles_are_all_stored(tmp_path: Path) -> None:
    directory = FakeTenantDirectory(bundles=[])
    folders = [
        write_bundle(tmp_path, name, {**jakarta_document(), "id": name})
        for name in ("jakarta", "palembang")
    ]

    loaded = load_bundles(folders, directory)

    assert [b.tenant.tenant_id for b in loaded] == ["jakarta", "palembang"]
    assert {t.tenant_id for t in directory.all()} == {"jakarta", "palembang"}


def test_one_invalid_bundle_stores_none_of_them(tmp_path: Path) -> None:
    directory = FakeTenantDirectory(bundles=[])
    good = write_bundle(tmp_path, "jakarta", jakarta_document())
    bad = write_bundle(tmp_path, "palembang", {**jakarta_document(), "id": "palembang",
                                               "timezone": "Mars/Olympus"})  # fmt: skip
    also_good = write_bundle(tmp_path, "ternate", {**jakarta_document(), "id": "ternate"})

    with pytest.raises(TenantConfigError):
        load_bundles([good, bad, also_good], directory)

    assert list(directory.all()) == []
