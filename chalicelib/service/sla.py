"""The hourly overdue scan: reminders a day ahead, and one sanction per overdue assignment.

Idempotent by construction: the sanction is a conditional put keyed by the assignment, and the
ticket changes (reminded, overdue) are optimistic writes; a rerun, a concurrent run or a run
after missed hours finds the work done and records nothing twice. Notifications follow from the
ticket change through the stream, so they are not duplicated either.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.ports import (
    Clock,
    SanctionLedger,
    TenantDirectory,
    TicketRepository,
    UnitHeads,
)
from chalicelib.domain.sanctions import Sanction
from chalicelib.domain.sla import payroll_period
from chalicelib.domain.tickets import CLOSED_STATES, Status, Ticket
from chalicelib.observability import emit_metric

log = logging.getLogger(__name__)

SHARDS = 8
ATTEMPTS = 3


@dataclass
class ScanReport:
    read: int = 0
    reminded: int = 0
    sanctioned: int = 0
    unchanged: int = 0
    tenants: Counter[str] = field(default_factory=Counter)
    # tenant -> status -> open tickets, and tenant -> open tickets carrying the red mark.
    open_tickets: dict[str, dict[str, int]] = field(default_factory=dict)
    overdue_tickets: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "reminded": self.reminded,
            "sanctioned": self.sanctioned,
            "unchanged": self.unchanged,
            "by_tenant": dict(self.tenants),
            "open_tickets": self.open_tickets,
            "overdue_tickets": self.overdue_tickets,
        }


class OverdueScan:
    def __init__(
        self,
        tickets: TicketRepository,
        ledger: SanctionLedger,
        tenants: TenantDirectory,
        heads: UnitHeads,
        clock: Clock,
        shards: int = SHARDS,
    ) -> None:
        self._tickets = tickets
        self._ledger = ledger
        self._tenants = tenants
        self._heads = heads
        self._clock = clock
        self._shards = shards

    def run(self) -> ScanReport:
        now = self._clock.now()
        report = ScanReport()
        for shard in range(self._shards):
            for ticket in self._tickets.clock_events_due(shard, now):
                report.read += 1
                self._handle(ticket, report)
        self._count_open(report)
        log.info("overdue scan", extra=report.as_dict())
        for tenant, count in report.tenants.items():
            emit_metric("SlaEventsHandled", count, dimensions={"tenant": tenant})
        emit_metric("SanctionsRecorded", report.sanctioned, dimensions={"scope": "all"})
        for tenant, by_status in report.open_tickets.items():
            for status, count in by_status.items():
                emit_metric("OpenTickets", count, dimensions={"tenant": tenant, "status": status})
            emit_metric(
                "OverdueTickets", report.overdue_tickets[tenant], dimensions={"tenant": tenant}
            )
        return report

    def _count_open(self, report: ScanReport) -> None:
        """Hourly gauges for the dashboard: open tickets by status, and how many are overdue."""
        for tenant in self._tenants.all():
            by_status: dict[str, int] = {}
            overdue = 0
            for status in Status:
                if status in CLOSED_STATES:
                    continue
                count, late = self._tickets.count_by_status(tenant.tenant_id, status.value)
                by_status[status.value] = count
                overdue += late
            report.open_tickets[tenant.tenant_id] = by_status
            report.overdue_tickets[tenant.tenant_id] = overdue

    def _handle(self, ticket: Ticket, report: ScanReport) -> None:
        for _ in range(ATTEMPTS):
            now = self._clock.now()
            current = ticket.current_assignment
            if current is None or not current.running or current.due_at is None:
                report.unchanged += 1
                return
            index = len(ticket.assignments) - 1
            if now >= current.due_at:
                self._sanction(ticket, index, now)
                jurisdiction = self._tenants.jurisdiction(ticket.tenant)
                parent = jurisdiction.parent(current.unit_id)
                ticket.mark_overdue(now, parent.unit_id if parent else None)
                counted = "sanctioned"
            elif (
                current.remind_at is not None and now >= current.remind_at and not current.reminded
            ):
                ticket.mark_reminded()
                counted = "reminded"
            else:
                report.unchanged += 1
                return
            try:
                self._tickets.save(ticket)
            except StaleWrite:
                # Someone acted on the ticket meanwhile (or another scan ran): look again.
                fresh = self._tickets.get(ticket.tenant, ticket.ticket_id)
                if fresh is None:
                    return
                ticket = fresh
                continue
            setattr(report, counted, getattr(report, counted) + 1)
            report.tenants[ticket.tenant] += 1
            return
        raise StaleWrite(f"ticket {ticket.ticket_id} kept changing during the scan")

    def _sanction(self, ticket: Ticket, index: int, now: object) -> None:
        assignment = ticket.assignments[index]
        assert assignment.due_at is not None
        tenant = self._tenants.get(ticket.tenant)
        assert tenant is not None
        head = self._heads.head_at(ticket.tenant, assignment.unit_id, assignment.due_at)
        recorded = self._ledger.record(
            Sanction(
                tenant=ticket.tenant,
                period=payroll_period(assignment.due_at, tenant.zone),
                unit_id=assignment.unit_id,
                unit_name=assignment.unit_name,
                ticket_id=ticket.ticket_id,
                number=ticket.number,
                assignment=index,
                due_at=assignment.due_at,
                detected_at=self._clock.now(),
                cut_percent=tenant.sla.cut_percent,
                official_name=head.name if head else None,
                official_username=head.username if head else None,
                official_nip=head.nip if head else None,
            )
        )
        if not recorded:
            log.info("sanction already recorded", extra={"ticket": ticket.ticket_id})
