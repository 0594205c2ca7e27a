"""The SLA clock of an assignment: its due time, pauses, reminders and the TKD sanction.

Due times count in the tenant's zone, as calendar days (the default: which CRM uses is not
public) or as working days that skip weekends, Indonesian public holidays, cuti bersama (the
`holidays` package, categories public and government) and the tenant's own extra days off.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import TenantConfigError

CALENDAR = "calendar"
WORKING = "working"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    days: int = 6
    counting: str = CALENDAR
    reminder_hours: int = 24
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    # Jakarta (Pergub 2018): 10% of the TKD per follow-up not done in time.
    cut_percent: float = 10.0
    max_cut_percent: float = 100.0


def parse_policy(raw: Any, source: str) -> SlaPolicy:
    if raw is None:
        return SlaPolicy()
    if not isinstance(raw, Mapping):
        raise TenantConfigError(f"{source}: field 'sla' must be an object")
    policy = SlaPolicy()
    days = raw.get("days", policy.days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise TenantConfigError(f"{source}: sla.days must be a whole number from 1 to 60")
    counting = raw.get("counting", policy.counting)
    if counting not in (CALENDAR, WORKING):
        raise TenantConfigError(f"{source}: sla.counting must be 'calendar' or 'working'")
    reminder = raw.get("reminder_hours", policy.reminder_hours)
    if isinstance(reminder, bool) or not isinstance(reminder, int) or not 0 <= reminder <= 240:
        raise TenantConfigError(f"{source}: sla.reminder_hours must be 0 to 240")
    extra: set[date] = set()
    days_off = raw.get("extra_days_off", [])
    if not isinstance(days_off, list):
        raise TenantConfigError(f"{source}: sla.extra_days_off must be a list of dates")
    for index, text in enumerate(days_off):
        try:
            extra.add(date.fromisoformat(str(text)))
        except ValueError:
            raise TenantConfigError(
                f"{source}: sla.extra_days_off[{index}] is not a date (YYYY-MM-DD)"
            ) from None
    cut = raw.get("cut_percent", policy.cut_percent)
    cap = raw.get("max_cut_percent", policy.max_cut_percent)
    for name, value in (("cut_percent", cut), ("max_cut_percent", cap)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise TenantConfigError(f"{source}: sla.{name} must be a number from 0 to 100")
    return SlaPolicy(
        days=days,
        counting=counting,
        reminder_hours=reminder,
        extra_days_off=frozenset(extra),
        cut_percent=float(cut),
        max_cut_percent=float(cap),
    )


@functools.lru_cache(maxsize=16)
def _national_days_off(year: int) -> frozenset[date]:
    import holidays

    found = holidays.country_holidays(
        "ID", years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT)
    )
    return frozenset(found)


def is_working_day(day: date, policy: SlaPolicy) -> bool:
    return (
        day.weekday() < 5
        and day not in _national_days_off(day.year)
        and day not in policy.extra_days_off
    )


def due_time(start: datetime, policy: SlaPolicy, zone: ZoneInfo) -> datetime:
    """When an assignment that started at `start` is due.

    Calendar: the same local time `days` days later. Working days: the same local time on the
    `days`-th working day after the start's day (a start on a day off counts from the next
    working day's beginning).
    """
    local = start.astimezone(zone)
    if policy.counting == CALENDAR:
        return (local + timedelta(days=policy.days)).astimezone(start.tzinfo)
    day = local.date()
    clock = local.timetz().replace(tzinfo=None)
    if not is_working_day(day, policy):
        # Assigned on a day off: the clock starts when the next working day begins.
        clock = time(0, 0)
        day += timedelta(days=1)
        while not is_working_day(day, policy):
            day += timedelta(days=1)
    counted = 0
    while counted < policy.days:
        day += timedelta(days=1)
        if is_working_day(day, policy):
            counted += 1
    return datetime.combine(day, clock, zone).astimezone(start.tzinfo)


def payroll_period(due: datetime, zone: ZoneInfo) -> str:
    """The month whose TKD a sanction cuts: the month of the due time, in the tenant's zone."""
    return f"{due.astimezone(zone):%Y-%m}"


@dataclass(frozen=True, slots=True)
class Clock:
    due_at: datetime
    remind_at: datetime | None


def start_clock(start: datetime, policy: SlaPolicy, zone: ZoneInfo) -> Clock:
    due = due_time(start, policy, zone)
    remind = due - timedelta(hours=policy.reminder_hours) if policy.reminder_hours else None
    return Clock(due_at=due, remind_at=remind if remind and remind > start else None)
