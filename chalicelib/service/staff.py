"""Staff reads: the work queue and the statistics of a period. Index queries only, no scans."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.access import require_staff
from chalicelib.domain.errors import InvalidRequest, NotAllowed, NotFound
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import TenantDirectory, TicketRepository
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Channel, Status
from chalicelib.service.views import Audience, ticket_view

MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30


class StaffService:
    def __init__(
        self, tickets: TicketRepository, tenants: TenantDirectory, media_base_url: str = ""
    ) -> None:
        self._tickets = tickets
        self._tenants = tenants
        self._media = media_base_url.rstrip("/")

    def _tenant(self, tenant_id: str, caller: Principal) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", code="unknown_tenant")
        require_staff(caller, tenant.tenant_id)
        return tenant

    def queue(
        self,
        tenant_id: str,
        caller: Principal,
        *,
        status: str | None,
        unit: str | None,
        overdue: bool | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        tenant = self._tenant(tenant_id, caller)
        if status is not None and status not in {s.value for s in Status}:
            raise InvalidRequest(f"unknown status {status!r}", field="status")
        tenant_wide = bool(caller.roles & {Role.VALIDATOR, Role.ADMIN, Role.OPERATOR})
        if not tenant_wide:
            # Officials see their own unit's queue, whatever they ask for.
            if unit is not None and unit != caller.unit:
                raise NotAllowed(
                    "officials see only their own unit's tickets", code="not_your_unit"
                )
            unit = caller.unit
        if unit is not None:
            page = self._tickets.list_by_unit(
                tenant.tenant_id, unit, status, limit=limit, cursor=cursor
            )
        elif status is not None:
            page = self._tickets.list_by_status(
                tenant.tenant_id, status, limit=limit, cursor=cursor
            )
        else:
            raise InvalidRequest("give a status or a unit to list", field="status")
        items = [t for t in page.items if overdue is None or t.overdue == overdue]
        return {
            "items": [ticket_view(t, tenant, Audience.STAFF, self._media) for t in items],
            "cursor": page.cursor,
        }

    def stats(
        self, tenant_id: str, caller: Principal, *, start: str | None, end: str | None, today: date
    ) -> dict[str, Any]:
        tenant = self._tenant(tenant_id, caller)
        last = _day(end, "to") if end else today
        first = _day(start, "from") if start else last - timedelta(days=DEFAULT_STATS_DAYS - 1)
        if first > last:
            raise InvalidRequest("from must not be after to", field="from")
        if (last - first).days + 1 > MAX_STATS_DAYS:
            raise InvalidRequest(f"a period is at most {MAX_STATS_DAYS} days", field="from")
        months = sorted(
            {f"{first + timedelta(days=d):%Y-%m}" for d in range((last - first).days + 1)}
        )
        zone = tenant.zone
        window_start = datetime.combine(first, datetime.min.time(), zone)
        window_end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
        summaries = [
            s
            for s in self._tickets.summaries_by_month(tenant.tenant_id, months)
            if window_start <= s.created_at < window_end
        ]
        total = len(summaries)
        by_channel = Counter(s.channel.value for s in summaries)
        units: dict[str, dict[str, Any]] = {}
        for s in summaries:
            if s.unit_id is None:
                continue
            entry = units.setdefault(
                s.unit_id,
                {
                    "unit": {"id": s.unit_id, "name": s.unit_name},
                    "tickets": 0,
                    "open": 0,
                    "overdue": 0,
                },
            )
            entry["tickets"] += 1
            entry["open"] += s.status not in (Status.COMPLETED, Status.REJECTED)
            entry["overdue"] += s.overdue
        return {
            "tenant": tenant.tenant_id,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "total": total,
            "by_status": dict(sorted(Counter(s.status.value for s in summaries).items())),
            "by_channel": dict(sorted(by_channel.items())),
            "app_share": round(by_channel.get(Channel.JAKI.value, 0) / total, 4) if total else None,
            "by_unit": sorted(units.values(), key=lambda u: (-u["tickets"], u["unit"]["id"])),
        }


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a date, YYYY-MM-DD", field=field) from None
