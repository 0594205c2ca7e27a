"""The six-day clock in the local stack: advance the clock, the scan runs, payroll sees the cut."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from tests.e2e.test_local_stack import RunningStack, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("sla-stack"))
    yield running
    running.stop()


def bearer(stack: RunningStack, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.user(username)['id_token']}"}


def test_ticket_left_for_six_days_puts_its_lurah_in_the_payroll_csv(stack: RunningStack) -> None:
    report = requests.post(
        f"{stack.api}/v1/jakarta/reports",
        json={
            "category": "sampah",
            "description": "Sampah tidak diangkut seminggu",
            "location": {"lat": -6.1754, "lon": 106.8272},
        },
        headers=bearer(stack, "warga1.jakarta"),
        timeout=10,
    ).json()
    view = requests.get(
        f"{stack.api}/v1/jakarta/reports/{report['ticket_id']}",
        headers=bearer(stack, "warga1.jakarta"),
        timeout=5,
    ).json()
    period = datetime.fromisoformat(view["due_at"]).strftime("%Y-%m")

    advanced = requests.post(
        f"{stack.control}/clock/advance", json={"days": 6, "hours": 1}, timeout=5
    )
    scan = requests.post(f"{stack.control}/schedules/overdue_scan/run", timeout=30)
    ledger = requests.get(
        f"{stack.api}/v1/jakarta/sanctions",
        params={"period": period, "format": "csv"},
        headers=bearer(stack, "admin.jakarta"),
        timeout=10,
    )
    staff_view = requests.get(
        f"{stack.api}/v1/jakarta/tickets/{report['ticket_id']}",
        headers=bearer(stack, "lurah.gambir"),
        timeout=5,
    ).json()

    assert report["status"] == "waiting"
    assert view["assigned_unit"]["id"] == "kelurahan:31.71.01.1001"
    assert advanced.status_code == 200
    assert scan.status_code == 200
    assert ledger.status_code == 200
    assert ledger.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(ledger.text)))
    mine = [r for r in rows if report["number"] in r["tickets"].split()]
    assert len(mine) == 1
    assert mine[0]["official_username"] == "lurah.gambir"
    assert mine[0]["official_name"] == "Lurah Gambir"
    assert mine[0]["unit_id"] == "kelurahan:31.71.01.1001"
    assert float(mine[0]["cut_percent"]) >= 10
    assert staff_view["overdue"] is True
    again = requests.post(f"{stack.control}/schedules/overdue_scan/run", timeout=30).json()
    assert again["result"]["sanctioned"] == 0
