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


def write_bundle(parent: Path, folder: str, document: object) -> Path:
    path = parent / folder
    path.mkdir()
    (path / "tenant.json").write_text(json.dumps(document), encoding="utf-8")
    return path


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

    tenant = read_bundle(folder)

    assert tenant.tenant_id == "jakarta"


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
    directory = FakeTenantDirectory(tenants=[])
    folders = [
        write_bundle(tmp_path, name, {**jakarta_document(), "id": name})
        for name in ("jakarta", "palembang")
    ]

    loaded = load_bundles(folders, directory)

    assert [t.tenant_id for t in loaded] == ["jakarta", "palembang"]
    assert {t.tenant_id for t in directory.all()} == {"jakarta", "palembang"}


def test_one_invalid_bundle_stores_none_of_them(tmp_path: Path) -> None:
    directory = FakeTenantDirectory(tenants=[])
    good = write_bundle(tmp_path, "jakarta", jakarta_document())
    bad = write_bundle(tmp_path, "palembang", {**jakarta_document(), "id": "palembang",
                                               "timezone": "Mars/Olympus"})  # fmt: skip
    also_good = write_bundle(tmp_path, "ternate", {**jakarta_document(), "id": "ternate"})

    with pytest.raises(TenantConfigError):
        load_bundles([good, bad, also_good], directory)

    assert list(directory.all()) == []
