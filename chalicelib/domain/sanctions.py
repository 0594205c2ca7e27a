"""The TKD sanction ledger: one record per overdue assignment, summed per official for payroll."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Sanction:
    tenant: str
    period: str  # YYYY-MM: the month of the due time in the tenant's zone
    unit_id: str
    unit_name: str
    ticket_id: str
    number: str
    assignment: int  # index of the assignment within the ticket
    due_at: datetime
    detected_at: datetime
    cut_percent: float
    official_name: str | None = None
    official_username: str | None = None
    official_nip: str | None = None

    @property
    def key(self) -> str:
        """What makes a sanction unique: one per assignment, ever."""
        return f"{self.unit_id}#{self.ticket_id}#{self.assignment:03d}"


def payroll_rows(sanctions: Iterable[Sanction], max_cut_percent: float) -> list[dict[str, Any]]:
    """One row per official, the cut summed over all their units and capped by policy.

    A unit whose head is unknown at the due time gets a row of its own (no one to cut), so the
    violation is still visible to payroll.
    """
    rows: dict[str, dict[str, Any]] = {}
    for s in sorted(sanctions, key=lambda s: (s.due_at, s.unit_id, s.ticket_id)):
        who = s.official_nip or s.official_username or s.official_name
        row = rows.setdefault(
            f"official:{who}" if who else f"unit:{s.unit_id}",
            {
                "official_name": s.official_name,
                "official_username": s.official_username,
                "official_nip": s.official_nip,
                "unit_id": s.unit_id,
                "unit_name": s.unit_name,
                "units": [],
                "violations": 0,
                "tickets": [],
                "cut_percent": 0.0,
            },
        )
        if s.unit_id not in row["units"]:
            row["units"].append(s.unit_id)
        row["violations"] += 1
        row["tickets"].append(s.number)
        row["cut_percent"] = min(max_cut_percent, row["cut_percent"] + s.cut_percent)
    return sorted(rows.values(), key=lambda r: (r["unit_id"], r["official_name"] or ""))
