"""Staff reads: the work queue and the statistics of a period. Index queries only, no scans."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain.access import require_staff
from chalicelib.domain.errors import InvalidRequest, NotAllowed, NotFound
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.ports import SanctionLedger, TenantDirectory, TicketRepository
from chalicelib.domain.sanctions import payroll_rows
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Channel, Status
from chalicelib.service.views import Audience, ticket_view

MAX_STATS_DAYS = 366
PERIOD = re.compile(r"20\d\d-(0[1-9]|1[0-2])")
DEFAULT_STATS_DAYS = 30


class StaffService:
    def __init__(
        self,
        tickets: TicketRepository,
        tenants: TenantDirectory,
        media_base_url: str = "",
        ledger: SanctionLedger | None = None,
    ) -> None:
        self._tickets = tickets
        self._tenants = tenants
        self._media = media_base_url.rstrip("/")
        self._ledger = ledger

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
        sanctioned: Counter[str] = Counter()
        if self._ledger is not None:
            for month in months:
                for sanction in self._ledger.period(tenant.tenant_id, month):
                    if first <= sanction.due_at.astimezone(zone).date() <= last:
                        sanctioned[sanction.unit_id] += 1
                        # A unit keeps its sanctions even after handing the ticket on.
                        units.setdefault(
                            sanction.unit_id,
                            {
                                "unit": {"id": sanction.unit_id, "name": sanction.unit_name},
                                "tickets": 0,
                                "open": 0,
                                "overdue": 0,
                            },
                        )
        for unit_id, entry in units.items():
            entry["sanctions"] = sanctioned.get(unit_id, 0)
            # Share of the unit's assignments in the period that did not go overdue: its tickets
            # now, plus those it was sanctioned for and handed on since.
            handled = max(entry["tickets"], entry["overdue"]) + max(
                0, entry["sanctions"] - entry["overdue"]
            )
            late = max(entry["overdue"], entry["sanctions"])
            entry["sla_compliance"] = round(1 - late / handled, 4) if handled else None
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
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a date, YYYY-MM-DD", field=field) from None
    # Tickets exist from this century on; far dates would only overflow the arithmetic.
    if not 2000 <= day.year <= 2100:
        raise InvalidRequest(f"{field} must lie between 2000 and 2100", field=field)
    return day


class SanctionsService:
    def __init__(self, tenants: TenantDirectory, ledger: SanctionLedger) -> None:
        self._tenants = tenants
        self._ledger = ledger

    def ledger(self, tenant_id: str, caller: Principal, period: str | None) -> dict[str, Any]:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", code="unknown_tenant")
        if not (
            caller.has_role(Role.ADMIN, tenant.tenant_id)
            or caller.has_role(Role.VALIDATOR, tenant.tenant_id)
        ):
            raise NotAllowed("the ledger is for admins and validators", code="wrong_role")
        if period is None or not PERIOD.fullmatch(period):
            raise InvalidRequest("period must be a month, YYYY-MM", field="period")
        sanctions = self._ledger.period(tenant.tenant_id, period)
        zone = tenant.zone
        policy = tenant.sla
        return {
            "tenant": tenant.tenant_id,
            "period": period,
            "cut_percent": policy.cut_percent,
            "max_cut_percent": policy.max_cut_percent,
            "officials": payroll_rows(sanctions, policy.max_cut_percent),
            "sanctions": [
                {
                    "unit": {"id": s.unit_id, "name": s.unit_name},
                    "official": {
                        "name": s.official_name,
                        "username": s.official_username,
                        "nip": s.official_nip,
                    },
                    "ticket_id": s.ticket_id,
                    "number": s.number,
                    "due_at": s.due_at.astimezone(zone).isoformat(timespec="seconds"),
                    "detected_at": s.detected_at.astimezone(zone).isoformat(timespec="seconds"),
                    "cut_percent": s.cut_percent,
                }
                for s in sanctions
            ],
        }


CSV_COLUMNS = (
    "period", "official_name", "official_username", "official_nip", "unit_id", "unit_name",
    "violations", "tickets", "cut_percent",
)  # fmt: skip


def ledger_csv(ledger: dict[str, Any]) -> str:
    """Payroll's view: one row per official, tickets joined by spaces."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in ledger["officials"]:
        writer.writerow(
            [
                ledger["period"],
                row["official_name"] or "",
                row["official_username"] or "",
                row["official_nip"] or "",
                row["unit_id"],
                row["unit_name"],
                row["violations"],
                " ".join(row["tickets"]),
                f"{row['cut_percent']:g}",
            ]
        )
    return out.getvalue()
