"""Open311 GeoReport v2 endpoints: discovery, services, and service requests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import InvalidRequest, NotAllowed, NotFound
from chalicelib.domain.open311 import (
    parse_date,
    parse_submission,
    request_view,
    service_definition,
    service_list,
)
from chalicelib.domain.ports import ApiKeys, Clock, TenantDirectory, TicketRepository
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import CLOSED_STATES
from chalicelib.service.reports import ReportService, find_ticket

WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


class Open311Service:
    def __init__(
        self,
        tickets: TicketRepository,
        tenants: TenantDirectory,
        keys: ApiKeys,
        reports: ReportService,
        clock: Clock,
        media_base_url: str = "",
        base_url: str = "",
    ) -> None:
        self._tickets = tickets
        self._tenants = tenants
        self._keys = keys
        self._reports = reports
        self._clock = clock
        self._media = media_base_url.rstrip("/")
        self._base = base_url.rstrip("/")

    def _tenant(self, jurisdiction_id: str | None) -> Tenant:
        if not jurisdiction_id:
            raise InvalidRequest(
                "jurisdiction_id is required: this endpoint serves several jurisdictions",
                field="jurisdiction_id",
            )
        tenant = self._tenants.get(jurisdiction_id)
        if tenant is None:
            raise NotFound(f"unknown jurisdiction_id {jurisdiction_id!r}")
        return tenant

    def discovery(self) -> dict[str, Any]:
        return {
            "changeset": "2026-12-04T00:00:00Z",
            "contact": "Cepat Respon operators of each jurisdiction",
            "key_service": "API keys are issued by the jurisdiction's administrators",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": f"{self._base}/open311/v2",
                    "changeset": "2026-12-04T00:00:00Z",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
            "jurisdictions": sorted(t.tenant_id for t in self._tenants.all()),
        }

    def services(self, jurisdiction_id: str | None) -> list[dict[str, Any]]:
        return service_list(self._tenant(jurisdiction_id))

    def service(self, jurisdiction_id: str | None, code: str) -> dict[str, Any]:
        tenant = self._tenant(jurisdiction_id)
        if tenant.category(code) is None:
            raise NotFound(f"unknown service_code {code!r}")
        return service_definition(tenant, code)

    def create(self, form: Mapping[str, str]) -> list[dict[str, Any]]:
        key = form.get("api_key")
        client = self._keys.lookup(key) if key else None
        if client is None or client.revoked:
            raise NotAllowed("a valid api_key is required to post service requests")
        tenant = self._tenant(form.get("jurisdiction_id"))
        if client.tenant != tenant.tenant_id:
            raise NotAllowed(f"this api_key is not for {tenant.tenant_id}")
        submission = parse_submission(form, tenant)
        ticket = self._reports.open311_submit(tenant, client.name, submission)
        return [
            {
                "service_request_id": ticket.ticket_id,
                "service_notice": (ticket.rejection.message if ticket.rejection else None),
                "account_id": None,
            }
        ]

    def request(self, jurisdiction_id: str | None, request_id: str) -> list[dict[str, Any]]:
        tenant = self._tenant(jurisdiction_id)
        ticket = find_ticket(self._tickets, tenant.tenant_id, request_id)
        if ticket is None:
            raise NotFound(f"no service request {request_id!r}")
        return [request_view(ticket, tenant, self._media)]

    def requests(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        tenant = self._tenant(params.get("jurisdiction_id"))
        ids = params.get("service_request_id")
        if ids:
            found = []
            for request_id in ids.split(",")[:MAX_PAGE_SIZE]:
                ticket = find_ticket(self._tickets, tenant.tenant_id, request_id.strip())
                # A list never shows private reports, not even when asked for by id.
                if ticket is not None and not ticket.private:
                    found.append(request_view(ticket, tenant, self._media))
            return found
        now = self._clock.now()
        end = parse_date(params.get("end_date"), "end_date") or now
        start = parse_date(params.get("start_date"), "start_date") or end - WINDOW
        if start > end:
            raise InvalidRequest("start_date must be before end_date", field="start_date")
        if end - start > WINDOW:
            raise InvalidRequest("the date range is at most 90 days", field="start_date")
        status = params.get("status")
        if status not in (None, "open", "closed"):
            raise InvalidRequest("status must be open or closed", field="status")
        codes = {c for c in (params.get("service_code") or "").split(",") if c}
        page = _positive(params.get("page"), "page", 1, 10_000)
        size = _positive(params.get("page_size"), "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        months = _months(start.astimezone(tenant.zone), end.astimezone(tenant.zone))
        matches = [
            s
            for s in self._tickets.summaries_by_month(tenant.tenant_id, months)
            if start <= s.created_at <= end
            and not s.private
            and (not codes or s.category in codes)
            and (status is None or (status == "closed") == (s.status in CLOSED_STATES))
        ]
        matches.sort(key=lambda s: s.created_at, reverse=True)
        chosen = matches[(page - 1) * size : page * size]
        views = []
        for summary in chosen:
            ticket = self._tickets.get(tenant.tenant_id, summary.ticket_id)
            if ticket is not None:
                views.append(request_view(ticket, tenant, self._media))
        return views


def _positive(text: str | None, field: str, default: int, maximum: int) -> int:
    if text is None:
        return default
    # isdigit() accepts "²", which int() refuses: only ASCII digits are numbers here.
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 1 <= int(text) <= maximum:
        raise InvalidRequest(f"{field} must be a whole number from 1 to {maximum}", field=field)
    return int(text)


def _months(start: datetime, end: datetime) -> list[str]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
