"""Admin operations an administrator runs from the AWS console, one Lambda function each.

Each takes one JSON object (the console's test event) and answers with a JSON object:
``{"ok": true, ...}`` when done, or ``{"ok": false, "error": {...}}`` for an event that cannot
be carried out, in which case nothing was changed. Only failures of AWS itself raise (and show
as a failed invocation). docs/deploy.md lists the events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import (
    DomainError,
    InvalidRequest,
    NotFound,
    TenantConfigError,
)
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import Clock, Head, OperationsFiles, TenantDirectory, UnitHeads
from chalicelib.domain.tenants import TENANT_ID
from chalicelib.service.staff import SanctionsService, ledger_csv
from chalicelib.service.workflow import TicketActions

log = logging.getLogger(__name__)

BUNDLES_PREFIX = "tenants/"
EXPORTS_PREFIX = "exports/"
# Jakarta's boundaries file is 0.4 MB; a bundle file beyond this is a mistake, not a region.
MAX_BUNDLE_FILE_BYTES = 20 * 1024 * 1024
MAX_FIELD_CHARS = 2_000  # the longest field is a handover note (MAX_NOTE)
MAX_NAME_CHARS = 200
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class ConsoleOperations:
    def __init__(
        self,
        *,
        tenants: TenantDirectory,
        heads: UnitHeads,
        actions: TicketActions,
        sanctions: SanctionsService,
        files: OperationsFiles,
        clock: Clock,
    ) -> None:
        self._tenants = tenants
        self._heads = heads
        self._actions = actions
        self._sanctions = sanctions
        self._files = files
        self._clock = clock

    def load_tenant(self, event: object) -> dict[str, Any]:
        """``{"tenant": "jakarta", "check_only": false}``: the bundle in tenants/jakarta/."""
        # Parsing a bundle needs shapely: imported here, so the other functions start without it.
        from chalicelib.admin import describe, read_bundle_from

        fields = _fields(event, required={"tenant": str}, optional={"check_only": bool})
        tenant_id = _tenant_id(fields["tenant"])
        prefix = f"{BUNDLES_PREFIX}{tenant_id}"

        def read(name: str) -> bytes:
            return self._files.read(f"{prefix}/{name}", MAX_BUNDLE_FILE_BYTES)

        bundle = read_bundle_from(read, self._files.location(prefix), tenant_id)
        loaded = not fields.get("check_only", False)
        if loaded:
            self._tenants.put(bundle)
        log.info("tenant bundle %s", "loaded" if loaded else "checked", extra={"tenant": tenant_id})
        jurisdiction = bundle.jurisdiction
        return {
            "tenant": tenant_id,
            "loaded": loaded,
            "revision": bundle.tenant.revision,
            "villages": len(jurisdiction.villages),
            "units": len(jurisdiction.units),
            "categories": len(bundle.tenant.categories),
            "routing_rules": len(jurisdiction.routing),
            "summary": describe(bundle),
        }

    def appoint_head(self, event: object) -> dict[str, Any]:
        """``{"tenant", "unit", "name", "username"?, "nip"?, "since"?}``: from `since` (or now)."""
        fields = _fields(
            event,
            required={"tenant": str, "unit": str, "name": str},
            optional={"username": str, "nip": str, "since": str},
        )
        since = self._clock.now()
        if "since" in fields:
            since = _moment(fields["since"], "since")
        head = Head(
            name=_text(fields["name"], "name"),
            since=since,
            username=_text(fields["username"], "username") if fields.get("username") else None,
            nip=_text(fields["nip"], "nip") if fields.get("nip") else None,
        )
        tenant_id = _tenant_id(fields["tenant"])
        if self._tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", code="unknown_tenant")
        from chalicelib.admin import appoint_head

        try:
            unit_name = appoint_head(
                self._tenants, self._heads, tenant=tenant_id, unit_id=fields["unit"], head=head
            )
        except TenantConfigError as exc:  # the tenant exists: what is unknown is the unit
            raise InvalidRequest(str(exc), field="unit") from None
        log.info("unit head appointed", extra={"tenant": fields["tenant"], "unit": fields["unit"]})
        return {
            "tenant": fields["tenant"],
            "unit": {"id": fields["unit"], "name": unit_name},
            "head": {"name": head.name, "username": head.username, "nip": head.nip},
            "since": since.isoformat(),
        }

    def reassign_ticket(self, event: object) -> dict[str, Any]:
        """``{"tenant", "ticket", "unit", "note", "by", "expected_version"?}``.

        A coordination handover made by an admin: the same rules, timeline entry and new SLA
        clock as when a validator hands a ticket on in the app; `by` names the admin.
        """
        fields = _fields(
            event,
            required={"tenant": str, "ticket": str, "unit": str, "note": str, "by": str},
            optional={"expected_version": int},
        )
        by = _text(fields["by"], "by")
        admin = Principal(
            subject=f"console:{by}",
            username=by,
            roles=frozenset({Role.ADMIN}),
            tenant=_tenant_id(fields["tenant"]),
        )
        body: dict[str, Any] = {
            "action": "coordinate",
            "unit": fields["unit"],
            "note": fields["note"],
        }
        if "expected_version" in fields:
            body["expected_version"] = fields["expected_version"]
        view = self._actions.act(fields["tenant"], fields["ticket"], admin, body)
        return {
            "tenant": fields["tenant"],
            "ticket": view.get("ticket_id"),
            "number": view.get("number"),
            "status": view.get("status"),
            "unit": view.get("assigned_unit"),
            "version": view.get("version"),
        }

    def export_ledger(self, event: object) -> dict[str, Any]:
        """``{"tenant", "period": "YYYY-MM"}``: the payroll CSV and the full JSON, side by side."""
        fields = _fields(event, required={"tenant": str, "period": str}, optional={"by": str})
        tenant_id = _tenant_id(fields["tenant"])
        by = _text(fields["by"], "by") if "by" in fields else "console"
        admin = Principal(
            subject=f"console:{by}",
            username=by,
            roles=frozenset({Role.ADMIN}),
            tenant=tenant_id,
        )
        ledger = self._sanctions.ledger(tenant_id, admin, fields["period"])
        stem = f"{EXPORTS_PREFIX}{tenant_id}/tkd-ledger-{ledger['period']}"
        csv_location = self._files.write(
            f"{stem}.csv", ledger_csv(ledger).encode("utf-8"), "text/csv; charset=utf-8"
        )
        json_location = self._files.write(
            f"{stem}.json",
            json.dumps(ledger, ensure_ascii=False, indent=1).encode("utf-8"),
            "application/json",
        )
        log.info("ledger exported", extra={"tenant": tenant_id, "period": ledger["period"]})
        return {
            "tenant": tenant_id,
            "period": ledger["period"],
            "officials": len(ledger["officials"]),
            "sanctions": len(ledger["sanctions"]),
            "csv": csv_location,
            "json": json_location,
        }


def run(operation: Callable[[object], dict[str, Any]], event: object) -> dict[str, Any]:
    """The console's answer: the result, or what is wrong with the event (nothing changed)."""
    try:
        return {"ok": True, **operation(event)}
    except DomainError as exc:
        error: dict[str, Any] = {"code": exc.code, "message": str(exc)}
        if exc.field is not None:
            error["field"] = exc.field
    except TenantConfigError as exc:
        error = {"code": "invalid_bundle", "message": str(exc)}
    log.warning("admin operation refused: %s", error["message"], extra={"code": error["code"]})
    return {"ok": False, "error": error}


def _fields(
    event: object, *, required: Mapping[str, type], optional: Mapping[str, type]
) -> dict[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidRequest("the event must be a JSON object")
    unknown = sorted(str(name)[:50] for name in set(event) - set(required) - set(optional))
    if unknown:
        expected = ", ".join(repr(name) for name in [*required, *optional]) or "no fields"
        raise InvalidRequest(
            f"unknown fields: {', '.join(map(repr, unknown))}; this operation takes {expected}",
            field=unknown[0],
        )
    for name in required:
        if name not in event:
            raise InvalidRequest(f"{name} is required", field=name)
    fields: dict[str, Any] = {}
    for name, kind in {**required, **optional}.items():
        if name not in event:
            continue
        value = event[name]
        # bool is an int to Python, never to an admin typing a version number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidRequest(f"{name} must be a {_KIND_NAMES[kind]}", field=name)
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise InvalidRequest(f"{name} is longer than {MAX_FIELD_CHARS} characters", field=name)
        fields[name] = value
    return fields


_KIND_NAMES = {str: "string", bool: "boolean (true or false)", int: "whole number"}


def _tenant_id(value: str) -> str:
    if not TENANT_ID.fullmatch(value):
        raise InvalidRequest(
            "tenant must be a tenant id: a lower-case letter, then up to 40 lower-case letters, "
            "digits and '-'",
            field="tenant",
        )
    return value


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidRequest(f"{field} must not be empty", field=field)
    if len(value) > MAX_NAME_CHARS:
        raise InvalidRequest(f"{field} is longer than {MAX_NAME_CHARS} characters", field=field)
    return value


def _moment(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            f"{field} must be an ISO time, e.g. 2026-12-01T08:00+07:00", field=field
        ) from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"{field} needs a UTC offset, e.g. +07:00", field=field)
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise InvalidRequest(
            f"{field} must lie between {EARLIEST_YEAR} and {LATEST_YEAR}", field=field
        )
    return moment


def refuse_fields(event: object) -> dict[str, Any]:
    """For operations that take no fields: whatever was sent is named in the error."""
    _fields(event, required={}, optional={})
    return {}
