"""Cepat Respon API and event handlers. Thin: parse, call one use case, map errors."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, DynamoDBEvent, Rate, Response, SQSEvent

from chalicelib import bootstrap
from chalicelib.events import (
    handle_photo_dead_letters,
    handle_photo_messages,
    handle_ticket_stream,
)
from chalicelib.http import (
    api,
    error_middleware,
    form_body,
    json_body,
    open311,
    optional_caller,
    query_int,
    raise_invalid,
    raise_not_found,
    required_caller,
)
from chalicelib.observability import configure_logging
from chalicelib.service import operations
from chalicelib.service.staff import ledger_csv

configure_logging()
app = Chalice(app_name="cepat-respon")
app.log.setLevel(logging.INFO)
app.register_middleware(error_middleware, "http")

# Resolved when the app is packaged; each stage names its own queue and stream.
PHOTO_QUEUE = os.environ.get("PHOTO_QUEUE_NAME", "cepat-respon-dev-photo")
PHOTO_DEAD_LETTERS = os.environ.get("PHOTO_DLQ_NAME", "cepat-respon-dev-photo-dlq")
TICKETS_STREAM_ARN = os.environ.get(
    "TICKETS_STREAM_ARN",
    "arn:aws:dynamodb:ap-southeast-3:000000000000:table/cepat-respon-dev-tickets/stream/latest",
)


def _req() -> Any:
    return app.current_request


@app.route("/v1/tenants", methods=["GET"])
@api
def list_tenants() -> dict[str, Any]:
    tenants = bootstrap.services().reports.tenants()
    return {
        "tenants": [{"id": t.tenant_id, "name": t.name, "timezone": t.timezone} for t in tenants]
    }


@app.route("/v1/{tenant}/categories", methods=["GET"])
@api
def list_categories(tenant: str) -> dict[str, Any]:
    found = bootstrap.services().reports.tenant(tenant)
    return {
        "tenant": found.tenant_id,
        "categories": [
            {
                "code": c.code,
                "name": {"id": c.name_id, "en": c.name_en},
                "description": {"id": c.description_id, "en": c.description_en},
            }
            for c in found.categories
        ],
    }


@app.route("/v1/{tenant}/reports", methods=["POST"])
@api
def submit_report(tenant: str) -> Response:
    services = bootstrap.services()
    reporter = required_caller(_req(), services.verifier)
    submitted = services.reports.submit(tenant, reporter, json_body(_req()))
    return Response(
        body=submitted.as_response(),
        status_code=201,
        headers={"Location": f"/v1/{tenant}/reports/{submitted.ticket.ticket_id}"},
    )


@app.route("/v1/{tenant}/reports", methods=["GET"])
@api
def nearby_reports(tenant: str) -> dict[str, Any]:
    params = _req().query_params or {}
    radius = query_int(_req(), "radius_m", default=200, minimum=1, maximum=1000)
    return bootstrap.services().reports.nearby(
        tenant, near=params.get("near"), radius_m=radius, category=params.get("category")
    )


@app.route("/v1/{tenant}/reports/{ticket_id}/location", methods=["POST"])
@api
def set_report_location(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    return services.reports.set_location(tenant, ticket_id, who, json_body(_req()))


@app.route("/v1/{tenant}/reports/{ticket_id}/feedback", methods=["POST"])
@api
def rate_report(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    return services.actions.feedback(tenant, ticket_id, who, json_body(_req()))


@app.route("/v1/{tenant}/reports/{ticket_id}/reopen", methods=["POST"])
@api
def reopen_report(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    return services.actions.reopen(tenant, ticket_id, who, json_body(_req()))


@app.route("/v1/{tenant}/reports/{ticket_id}", methods=["GET"])
@api
def get_report(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = optional_caller(_req(), services.verifier)
    return services.reports.view(tenant, ticket_id, who)


@app.route("/v1/{tenant}/me/reports", methods=["GET"])
@api
def my_reports(tenant: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    limit = query_int(_req(), "limit", default=20, minimum=1, maximum=100)
    cursor = (_req().query_params or {}).get("cursor")
    return services.reports.mine(tenant, who, limit=limit, cursor=cursor)


@app.route("/v1/{tenant}/intake", methods=["POST"])
@api
def intake(tenant: str) -> Response:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    submitted = services.reports.intake(tenant, who, json_body(_req()))
    return Response(
        body=submitted.as_response(),
        status_code=201,
        headers={"Location": f"/v1/{tenant}/tickets/{submitted.ticket.ticket_id}"},
    )


@app.route("/v1/{tenant}/tickets", methods=["GET"])
@api
def work_queue(tenant: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    params = _req().query_params or {}
    overdue = params.get("overdue")
    if overdue not in (None, "true", "false"):
        raise_invalid("overdue must be true or false", "overdue")
    return services.staff.queue(
        tenant,
        who,
        status=params.get("status"),
        unit=params.get("unit"),
        overdue=None if overdue is None else overdue == "true",
        limit=query_int(_req(), "limit", default=20, minimum=1, maximum=100),
        cursor=params.get("cursor"),
    )


@app.route("/v1/{tenant}/stats", methods=["GET"])
@api
def statistics(tenant: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    params = _req().query_params or {}
    found = services.reports.tenant(tenant)
    return services.staff.stats(
        tenant,
        who,
        start=params.get("from"),
        end=params.get("to"),
        today=services.clock.now().astimezone(found.zone).date(),
    )


@app.route("/v1/{tenant}/sanctions", methods=["GET"])
@api
def sanctions_ledger(tenant: str) -> Response | dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    params = _req().query_params or {}
    ledger = services.sanctions.ledger(tenant, who, params.get("period"))
    if params.get("format") == "csv":
        filename = f"tkd-{tenant}-{ledger['period']}.csv"
        return Response(
            body=ledger_csv(ledger),
            status_code=200,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    if params.get("format") not in (None, "json"):
        raise_invalid("format must be json or csv", "format")
    return ledger


@app.route("/v1/{tenant}/tickets/{ticket_id}", methods=["GET"])
@api
def get_ticket(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    return services.reports.staff_view(tenant, ticket_id, who)


@app.route("/v1/{tenant}/tickets/{ticket_id}/actions", methods=["POST"])
@api
def act_on_ticket(tenant: str, ticket_id: str) -> dict[str, Any]:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    return services.actions.act(tenant, ticket_id, who, json_body(_req()))


@app.route("/v1/{tenant}/tickets/{ticket_id}/evidence", methods=["POST"])
@api
def evidence_upload(tenant: str, ticket_id: str) -> Response:
    services = bootstrap.services()
    who = required_caller(_req(), services.verifier)
    body = services.actions.evidence_upload(tenant, ticket_id, who, json_body(_req()))
    return Response(body=body, status_code=201)


# --- Open311 GeoReport v2 ----------------------------------------------------------------------
# API Gateway path segments cannot mix a parameter and a literal ("{id}.json"), so the
# "{...}.json" routes take the whole segment and check the suffix.


def _json_name(segment: str) -> str:
    if not segment.endswith(".json") or len(segment) <= len(".json"):
        raise_not_found("only the JSON format is served (append .json)")
    return segment.removesuffix(".json")


@app.route("/open311/v2/discovery.json", methods=["GET"])
@open311
def open311_discovery() -> dict[str, Any]:
    return bootstrap.services().open311.discovery()


@app.route("/open311/v2/services.json", methods=["GET"])
@open311
def open311_services() -> Response:
    params = _req().query_params or {}
    body = bootstrap.services().open311.services(params.get("jurisdiction_id"))
    return Response(body=body, status_code=200)


@app.route("/open311/v2/services/{service_file}", methods=["GET"])
@open311
def open311_service(service_file: str) -> dict[str, Any]:
    params = _req().query_params or {}
    return bootstrap.services().open311.service(
        params.get("jurisdiction_id"), _json_name(service_file)
    )


@app.route(
    "/open311/v2/requests.json",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
@open311
def open311_post_request() -> Response:
    created = bootstrap.services().open311.create(form_body(_req()))
    return Response(body=created, status_code=201)


@app.route("/open311/v2/requests.json", methods=["GET"])
@open311
def open311_requests() -> Response:
    body = bootstrap.services().open311.requests(_req().query_params or {})
    return Response(body=body, status_code=200)


@app.route("/open311/v2/requests/{request_file}", methods=["GET"])
@open311
def open311_request(request_file: str) -> Response:
    params = _req().query_params or {}
    body = bootstrap.services().open311.request(
        params.get("jurisdiction_id"), _json_name(request_file)
    )
    return Response(body=body, status_code=200)


# The OpenAPI 3.1 description of every route above; tests check it against the app.
OPENAPI: dict[str, Any] = json.loads(
    (Path(__file__).parent / "chalicelib" / "openapi.json").read_text(encoding="utf-8")
)


@app.route("/openapi.json", methods=["GET"])
def openapi_document() -> dict[str, Any]:
    return OPENAPI


@app.on_sqs_message(queue=PHOTO_QUEUE, batch_size=10, name="process_photos")
def on_photo_uploaded(event: SQSEvent) -> dict[str, Any]:
    records = [record.to_dict() for record in event]
    return handle_photo_messages(records, bootstrap.services().photos)


@app.on_sqs_message(queue=PHOTO_DEAD_LETTERS, batch_size=10, name="triage_dead_photos")
def on_photo_dead_lettered(event: SQSEvent) -> dict[str, Any]:
    records = [record.to_dict() for record in event]
    return handle_photo_dead_letters(records, bootstrap.services().photos)


@app.on_dynamodb_record(stream_arn=TICKETS_STREAM_ARN, batch_size=25, name="notify_ticket_changes")
def on_ticket_changed(event: DynamoDBEvent) -> dict[str, Any]:
    records = [record.to_dict() for record in event]
    return handle_ticket_stream(records, bootstrap.services().require_notifier())


@app.schedule(Rate(1, unit=Rate.HOURS), name="overdue_scan")
def overdue_scan(event: CloudWatchEvent) -> dict[str, object]:
    """Reminders a day ahead; one sanction, red mark and escalation per overdue assignment."""
    return bootstrap.services().scan.run().as_dict()


# --- Admin functions, run from the Lambda console with a JSON test event (docs/deploy.md) ----


@app.lambda_function(name="admin_run_overdue_scan")
def admin_run_overdue_scan(event: object, context: object) -> dict[str, Any]:
    """`{}`: the hourly scan, now. Running it twice records nothing twice."""
    if event not in ({}, None):
        return operations.run(operations.refuse_fields, event)
    return {"ok": True, **bootstrap.services().scan.run().as_dict()}


@app.lambda_function(name="admin_load_tenant")
def admin_load_tenant(event: object, context: object) -> dict[str, Any]:
    """`{"tenant": "jakarta", "check_only": false}`: the bundle under tenants/jakarta/."""
    return operations.run(bootstrap.services().require_operations().load_tenant, event)


@app.lambda_function(name="admin_appoint_head")
def admin_appoint_head(event: object, context: object) -> dict[str, Any]:
    """`{"tenant", "unit", "name", "username"?, "nip"?, "since"?}`."""
    return operations.run(bootstrap.services().require_operations().appoint_head, event)


@app.lambda_function(name="admin_reassign_ticket")
def admin_reassign_ticket(event: object, context: object) -> dict[str, Any]:
    """`{"tenant", "ticket", "unit", "note", "by", "expected_version"?}`."""
    return operations.run(bootstrap.services().require_operations().reassign_ticket, event)


@app.lambda_function(name="admin_export_ledger")
def admin_export_ledger(event: object, context: object) -> dict[str, Any]:
    """`{"tenant", "period": "YYYY-MM"}`: CSV and JSON under exports/<tenant>/."""
    return operations.run(bootstrap.services().require_operations().export_ledger, event)
