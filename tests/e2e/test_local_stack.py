"""The local stack as a newcomer meets it: `python -m infra.local` (what `make run` starts).

The stack runs as a subprocess on free ports with its own state folder, and the tests talk to it
only over HTTP and through the demo-users file, as an external client would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.fakes import ROOT, SHARED

pytestmark = pytest.mark.e2e

STARTUP_LIMIT_S = 60
JPEG = SHARED / "data" / "photos" / "Canon_40D.jpg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    api: str
    control: str
    state: Path
    ports: list[int]
    startup_seconds: float

    @property
    def demo(self) -> dict[str, Any]:
        return json.loads((self.state / "demo-users.json").read_text())

    def user(self, username: str) -> dict[str, Any]:
        return next(u for u in self.demo["users"] if u["username"] == username)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=20)


def start_stack(state: Path, ports: list[int] | None = None) -> RunningStack:
    ports = ports or [free_port() for _ in range(3)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["CR_LOCAL_DIR"] = str(state)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local",
            "--api-port",
            str(ports[0]),
            "--control-port",
            str(ports[1]),
            "--moto-port",
            str(ports[2]),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    api = f"http://127.0.0.1:{ports[0]}"
    deadline = started + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"local stack exited early:\n{process.stdout.read()}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"{api}/v1/tenants", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError(f"no API within {STARTUP_LIMIT_S} s")
    return RunningStack(
        process=process,
        api=api,
        control=f"http://127.0.0.1:{ports[1]}",
        state=state,
        ports=ports,
        startup_seconds=time.monotonic() - started,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("local-stack"))
    yield running
    running.stop()


def test_api_serves_the_tenants_within_a_minute_of_starting(stack: RunningStack) -> None:
    tenants = requests.get(f"{stack.api}/v1/tenants", timeout=5).json()["tenants"]

    assert stack.startup_seconds < STARTUP_LIMIT_S
    assert {t["id"] for t in tenants} == {"jakarta", "banda-aceh", "bandar-lampung"}


def test_demo_users_file_has_every_user_the_contract_promises(stack: RunningStack) -> None:
    users = stack.demo["users"]

    def having(**fields: Any) -> list[dict[str, Any]]:
        return [u for u in users if all(u.get(k) == v for k, v in fields.items())]

    assert len(having(role="citizen", tenant="jakarta")) >= 2
    assert having(role="official", tenant="jakarta", unit="kelurahan:31.71.01.1001")
    assert having(role="official", tenant="jakarta", unit="sudin-bina-marga:31.71")
    for role in ("validator", "operator", "admin"):
        assert having(role=role, tenant="jakarta"), role
    assert having(role="citizen", tenant="banda-aceh")
    assert having(role="official", tenant="banda-aceh")
    for user in users:
        assert {"username", "password", "role", "tenant", "unit", "id_token"} <= set(user)
        claims = jwt.decode(user["id_token"], options={"verify_signature": False})
        assert claims["exp"] - time.time() > 55 * 60
        assert claims["cognito:username"] == user["username"]


def test_client_reading_only_the_demo_file_files_a_report_and_sees_it_routed_to_gambir(
    stack: RunningStack,
) -> None:
    token = stack.user("warga1.jakarta")["id_token"]
    headers = {"Authorization": f"Bearer {token}"}
    photo = JPEG.read_bytes()

    created = requests.post(
        f"{stack.api}/v1/jakarta/reports",
        json={
            "category": "sampah",
            "description": "Sampah menumpuk di pinggir Jalan Medan Merdeka Barat",
            "location": {"lat": -6.1754, "lon": 106.8272},
            "photo": {"content_type": "image/jpeg", "content_length": len(photo)},
        },
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["status"] == "awaiting_photo"
    upload = report["upload"]
    uploaded = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("monas.jpg", photo, "image/jpeg")},
        timeout=10,
    )
    assert uploaded.status_code == 204
    uploaded_at = time.monotonic()

    view = {"status": "awaiting_photo"}
    while time.monotonic() - uploaded_at < 10 and view["status"] == "awaiting_photo":
        view = requests.get(
            f"{stack.api}/v1/jakarta/reports/{report['ticket_id']}", headers=headers, timeout=5
        ).json()
        time.sleep(0.1)

    # Monas lies in Kelurahan Gambir; the photo's arrival routes the report there.
    assert view["status"] == "waiting"
    assert view["assigned_unit"]["id"] == "kelurahan:31.71.01.1001"
    assert view["assigned_unit"]["name"] == "Kelurahan Gambir"
    assert view["area"]["kelurahan"] == {"code": "31.71.01.1001", "name": "Gambir"}
    mine = requests.get(f"{stack.api}/v1/jakarta/me/reports", headers=headers, timeout=5).json()
    assert report["ticket_id"] in [t["ticket_id"] for t in mine["items"]]
    public = requests.get(f"{stack.api}/v1/jakarta/reports/{report['ticket_id']}", timeout=5)
    assert public.status_code == 200
    assert "flags" not in public.json()


def test_another_citizen_does_not_get_the_reporter_view(stack: RunningStack) -> None:
    first = {"Authorization": f"Bearer {stack.user('warga1.jakarta')['id_token']}"}
    second = {"Authorization": f"Bearer {stack.user('warga2.jakarta')['id_token']}"}
    created = requests.post(
        f"{stack.api}/v1/jakarta/reports",
        json={
            "category": "banjir",
            "description": "Genangan",
            "location": {"lat": -6.2, "lon": 106.8},
        },
        headers=first,
        timeout=10,
    ).json()

    seen_by_other = requests.get(
        f"{stack.api}/v1/jakarta/reports/{created['ticket_id']}", headers=second, timeout=5
    ).json()
    others_list = requests.get(f"{stack.api}/v1/jakarta/me/reports", headers=second, timeout=5)

    assert "flags" not in seen_by_other
    assert created["ticket_id"] not in [t["ticket_id"] for t in others_list.json()["items"]]


def test_a_forged_or_expired_token_gets_401(stack: RunningStack) -> None:
    token = stack.user("warga1.jakarta")["id_token"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = requests.get(
        f"{stack.api}/v1/jakarta/me/reports",
        headers={"Authorization": f"Bearer {forged}"},
        timeout=5,
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_control_endpoint_moves_the_clock_and_knows_its_schedules(stack: RunningStack) -> None:
    before = requests.get(f"{stack.control}/health", timeout=5).json()

    advanced = requests.post(f"{stack.control}/clock/advance", json={"hours": 30}, timeout=5)
    after = requests.get(f"{stack.control}/health", timeout=5).json()
    unknown = requests.post(f"{stack.control}/schedules/{uuid.uuid4().hex}/run", timeout=5)
    backwards = requests.post(f"{stack.control}/clock/advance", json={"days": -1}, timeout=5)

    assert before["status"] == "ok"
    assert advanced.status_code == 200
    assert after["clock_offset_seconds"] - before["clock_offset_seconds"] == 30 * 3600
    assert unknown.status_code == 404
    assert backwards.status_code == 400


def test_ctrl_c_stops_everything_and_a_second_start_works(tmp_path: Path) -> None:
    first = start_stack(tmp_path)

    code = first.stop()
    second = start_stack(tmp_path, ports=first.ports)
    health = requests.get(f"{second.control}/health", timeout=5).json()
    second_code = second.stop()

    assert code == 0
    assert health["status"] == "ok"
    assert second_code == 0
    for port in first.ports:
        with socket.socket() as sock:
            # SO_REUSEADDR tolerates TIME_WAIT leftovers but not a socket still listening.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_demo_open311_key_posts_a_request_that_lands_with_kelurahan_gambir(
    stack: RunningStack,
) -> None:
    key = stack.demo["open311_api_key"]

    created = requests.post(
        f"{stack.api}/open311/v2/requests.json",
        data={
            "api_key": key,
            "jurisdiction_id": "jakarta",
            "service_code": "sampah",
            "lat": "-6.1754",
            "long": "106.8272",
            "description": "Tumpukan sampah di depan Monas",
        },
        timeout=10,
    )
    request_id = created.json()[0]["service_request_id"]
    fetched = requests.get(
        f"{stack.api}/open311/v2/requests/{request_id}.json",
        params={"jurisdiction_id": "jakarta"},
        timeout=5,
    )

    assert created.status_code == 201
    assert fetched.status_code == 200
    assert fetched.json()[0]["agency_responsible"] == "Kelurahan Gambir"


def test_admin_functions_run_through_the_control_endpoint_as_from_the_lambda_console(
    stack: RunningStack,
) -> None:
    def invoke(name: str, event: object) -> requests.Response:
        return requests.post(f"{stack.control}/functions/{name}/invoke", json=event, timeout=30)

    checked = invoke("admin_load_tenant", {"tenant": "jakarta", "check_only": True})
    missing = invoke("admin_load_tenant", {"tenant": "maluku-utara"})
    appointed = invoke(
        "admin_appoint_head",
        {"tenant": "banda-aceh", "unit": "gampong:11.71.01.2001", "name": "Keuchik Baru"},
    )
    exported = invoke("admin_export_ledger", {"tenant": "jakarta", "period": "2026-11"})
    scanned = invoke("admin_run_overdue_scan", {})
    unknown = invoke("process_photos", {})

    assert checked.json()["ok"] is True
    assert checked.json()["loaded"] is False
    assert checked.json()["units"] == 405
    assert missing.json()["error"]["code"] == "invalid_bundle"
    assert "tenants/maluku-utara/tenant.json: file not found" in missing.json()["error"]["message"]
    assert appointed.json()["ok"] is True
    assert appointed.json()["unit"]["name"]
    assert exported.json()["ok"] is True
    assert exported.json()["csv"].endswith("exports/jakarta/tkd-ledger-2026-11.csv")
    assert scanned.json()["ok"] is True
    assert unknown.status_code == 404
