"""The admin functions against the template's operations bucket and tables in moto.

A tenant bundle uploaded to tenants/<id>/ in the operations bucket is loaded by
`admin_load_tenant` and then served by any container's tenant directory; `admin_export_ledger`
writes the payroll CSV and the JSON ledger under exports/<tenant>/.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import app as app_module
from chalicelib import bootstrap
from chalicelib.domain.bundle import revision_of
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.sanctions import Sanction
from chalicelib.service import operations
from chalicelib.service.staff import CSV_COLUMNS, ledger_csv
from tests.adapters.conftest import AwsStack
from tests.fakes import ROOT, FixedClock, shipped_bundles

BANDA_ACEH = ROOT / "tenants" / "banda-aceh"
KAMPUNG_BARU = "gampong:11.71.01.2001"
# A payroll month no other test of the session records sanctions in.
PERIOD = "2031-07"


@dataclasses.dataclass(frozen=True)
class Operations:
    services: bootstrap.Services
    bucket: str
    s3: Any


@pytest.fixture
def ops(
    aws_stack: AwsStack, real_services: bootstrap.Services, clock: FixedClock
) -> Iterator[Operations]:
    """The production wiring with OPERATIONS_BUCKET set, installed for app.py's functions."""
    bucket = aws_stack.outputs["OperationsBucketName"]
    settings = dataclasses.replace(aws_stack.settings(), operations_bucket=bucket)
    services = bootstrap.build(settings, clock)
    assert services.operations is not None
    bootstrap.override(services)
    yield Operations(services, bucket, aws_stack.client("s3"))
    bootstrap.override(None)


def upload_banda_aceh(ops: Operations, prefix: str = "tenants/banda-aceh") -> tuple[bytes, bytes]:
    """The shipped bundle's files, put as an admin would; tenant.json gets a trailing newline.

    The newline gives the upload a revision of its own, so the test sees this load and not a
    copy of the shipped bundle another test of the session stored before.
    """
    config = (BANDA_ACEH / "tenant.json").read_bytes().rstrip(b"\n") + b"\n\n"
    boundaries = (BANDA_ACEH / "boundaries.geojson").read_bytes()
    ops.s3.put_object(Bucket=ops.bucket, Key=f"{prefix}/tenant.json", Body=config)
    ops.s3.put_object(Bucket=ops.bucket, Key=f"{prefix}/boundaries.geojson", Body=boundaries)
    return config, boundaries


def test_admin_load_tenant_loads_the_uploaded_bundle_for_every_container(
    ops: Operations, real_services: bootstrap.Services
) -> None:
    config, boundaries = upload_banda_aceh(ops)
    revision = revision_of(config, boundaries)
    shipped = next(b for b in shipped_bundles() if b.tenant.tenant_id == "banda-aceh")
    assert revision != shipped.tenant.revision

    answer = app_module.admin_load_tenant({"tenant": "banda-aceh"}, None)

    assert answer["ok"] is True, answer
    assert (answer["tenant"], answer["loaded"], answer["revision"]) == (
        "banda-aceh",
        True,
        revision,
    )
    assert (answer["villages"], answer["units"]) == (
        len(shipped.jurisdiction.villages),
        len(shipped.jurisdiction.units),
    )
    # real_services is another container's wiring: it reads the tenant from DynamoDB.
    served = real_services.tenants.get("banda-aceh")
    assert served is not None and served.revision == revision
    jurisdiction = real_services.tenants.jurisdiction("banda-aceh")
    assert len(jurisdiction.villages) == answer["villages"]
    kampung_baru = jurisdiction.unit(KAMPUNG_BARU)
    assert kampung_baru is not None and kampung_baru.name == "Gampong Kampung Baru"


def test_check_only_reads_the_bundle_from_s3_and_stores_nothing(
    ops: Operations, real_services: bootstrap.Services
) -> None:
    config = json.loads((BANDA_ACEH / "tenant.json").read_bytes())
    config["id"] = "aceh-draft"
    prefix = "tenants/aceh-draft"
    boundaries = (BANDA_ACEH / "boundaries.geojson").read_bytes()
    ops.s3.put_object(Bucket=ops.bucket, Key=f"{prefix}/tenant.json", Body=json.dumps(config))
    ops.s3.put_object(Bucket=ops.bucket, Key=f"{prefix}/boundaries.geojson", Body=boundaries)

    answer = app_module.admin_load_tenant({"tenant": "aceh-draft", "check_only": True}, None)

    assert answer["ok"] is True, answer
    assert (answer["tenant"], answer["loaded"], answer["villages"]) == ("aceh-draft", False, 90)
    assert real_services.tenants.get("aceh-draft") is None


def test_a_bundle_file_over_the_size_limit_is_refused_unread(
    ops: Operations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "MAX_BUNDLE_FILE_BYTES", 1024 * 1024)
    prefix = "tenants/too-big"
    config = json.loads((BANDA_ACEH / "tenant.json").read_bytes())
    config["id"] = "too-big"
    ops.s3.put_object(Bucket=ops.bucket, Key=f"{prefix}/tenant.json", Body=json.dumps(config))
    ops.s3.put_object(
        Bucket=ops.bucket, Key=f"{prefix}/boundaries.geojson", Body=b" " * (1024 * 1024 + 1)
    )

    answer = app_module.admin_load_tenant({"tenant": "too-big"}, None)

    assert answer["ok"] is False
    assert answer["error"] == {
        "code": "invalid_bundle",
        "message": f"s3://{ops.bucket}/{prefix}/boundaries.geojson: larger than 1 MiB",
    }


def test_admin_load_tenant_of_a_missing_bundle_names_the_s3_location(ops: Operations) -> None:
    answer = app_module.admin_load_tenant({"tenant": "no-such-region"}, None)

    assert answer == {
        "ok": False,
        "error": {
            "code": "invalid_bundle",
            "message": f"s3://{ops.bucket}/tenants/no-such-region/tenant.json: file not found",
        },
    }


def test_admin_load_tenant_without_the_boundaries_file_names_it(ops: Operations) -> None:
    config = (BANDA_ACEH / "tenant.json").read_bytes()
    ops.s3.put_object(Bucket=ops.bucket, Key="tenants/banda-aceh-half/tenant.json", Body=config)

    answer = app_module.admin_load_tenant({"tenant": "banda-aceh-half"}, None)

    assert answer["ok"] is False
    assert answer["error"]["code"] == "invalid_bundle"
    assert answer["error"]["message"] == (
        f"s3://{ops.bucket}/tenants/banda-aceh-half/boundaries.geojson: file not found"
    )


def test_admin_export_ledger_writes_both_objects_to_the_operations_bucket(
    ops: Operations,
) -> None:
    bundle = next(b for b in shipped_bundles() if b.tenant.tenant_id == "banda-aceh")
    ops.services.tenants.put(bundle)
    due = datetime(2031, 7, 10, 2, 0, tzinfo=UTC)
    sanction = Sanction(
        tenant="banda-aceh",
        period=PERIOD,
        unit_id=KAMPUNG_BARU,
        unit_name="Gampong Kampung Baru",
        ticket_id="b" * 32,
        number="BNA-310704-0001",
        assignment=0,
        due_at=due,
        detected_at=due + timedelta(hours=1),
        cut_percent=10.0,
        official_name="Keuchik Kampung Baru",
        official_username="keuchik.kampungbaru",
        official_nip="197501012000031002",
    )
    assert ops.services.ledger.record(sanction)
    admin = Principal(subject="a", username="a", roles=frozenset({Role.ADMIN}), tenant="banda-aceh")
    ledger = ops.services.sanctions.ledger("banda-aceh", admin, PERIOD)

    answer = app_module.admin_export_ledger(
        {"tenant": "banda-aceh", "period": PERIOD, "by": "admin.bandaaceh"}, None
    )

    stem = f"exports/banda-aceh/tkd-ledger-{PERIOD}"
    assert answer == {
        "ok": True,
        "tenant": "banda-aceh",
        "period": PERIOD,
        "officials": 1,
        "sanctions": 1,
        "csv": f"s3://{ops.bucket}/{stem}.csv",
        "json": f"s3://{ops.bucket}/{stem}.json",
    }
    csv_object = ops.s3.get_object(Bucket=ops.bucket, Key=f"{stem}.csv")
    json_object = ops.s3.get_object(Bucket=ops.bucket, Key=f"{stem}.json")
    csv_text = csv_object["Body"].read().decode("utf-8")
    assert csv_object["ContentType"].startswith("text/csv")
    assert json_object["ContentType"] == "application/json"
    assert csv_text == ledger_csv(ledger)
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:5] == [
        PERIOD,
        "Keuchik Kampung Baru",
        "keuchik.kampungbaru",
        "197501012000031002",
        KAMPUNG_BARU,
    ]
    assert json.loads(json_object["Body"].read()) == ledger


def test_admin_export_ledger_of_an_unknown_tenant_writes_nothing(ops: Operations) -> None:
    answer = app_module.admin_export_ledger({"tenant": "atlantis", "period": PERIOD}, None)

    assert answer["ok"] is False and answer["error"]["code"] == "unknown_tenant"
    listed = ops.s3.list_objects_v2(Bucket=ops.bucket, Prefix="exports/atlantis/")
    assert listed.get("KeyCount", 0) == 0
