"""The admin command line: what an administrator sees when checking tenant bundles."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.admin import main
from tests.fakes import ROOT


def test_check_tenant_reports_each_shipped_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    folders = [str(ROOT / "tenants" / name) for name in ("jakarta", "banda-aceh", "bandar-lampung")]

    code = main(["check-tenant", *folders])

    out = capsys.readouterr().out
    assert code == 0
    assert "jakarta (Provinsi DKI Jakarta)" in out
    assert "267 villages, 405 units" in out


def test_check_tenant_on_a_file_instead_of_a_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = tmp_path / "SOURCES.md"
    stray.write_text("# not a bundle\n")

    code = main(["check-tenant", str(stray)])

    err = capsys.readouterr().err
    assert code == 2
    assert "SOURCES.md/tenant.json: cannot be read" in err
    assert "Traceback" not in err
