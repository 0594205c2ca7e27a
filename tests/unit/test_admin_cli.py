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


def test_appoint_head_command_changes_who_the_next_ticket_is_assigned_under(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib import bootstrap
    from chalicelib.domain.identity import Principal, Role
    from tests.fakes import fake_services

    services = fake_services()
    monkeypatch.setattr(bootstrap, "services", lambda: services)
    citizen = Principal(subject="warga", username="warga", roles=frozenset({Role.CITIZEN}))
    report = {
        "category": "sampah",
        "description": "x",
        "location": {"lat": -6.1754, "lon": 106.8272},
    }

    code = main(
        [
            "appoint-head",
            "--tenant",
            "jakarta",
            "--unit",
            "kelurahan:31.71.01.1001",
            "--name",
            "Lurah Baru",
            "--since",
            "2026-12-01T08:00+07:00",
        ]
    )
    ticket = services.reports.submit("jakarta", citizen, report).ticket

    assert code == 0
    assert "Lurah Baru heads Kelurahan Gambir" in capsys.readouterr().out
    assert ticket.assignments[0].head == "Lurah Baru"
