"""Due-time arithmetic of the SLA clock (DESIGN.md section 5, issue 6 "must show").

Expected dates are worked out by hand from the 2026 Indonesian calendar (public holidays and
cuti bersama), never computed with the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.sla import (
    SlaPolicy,
    due_time,
    is_working_day,
    parse_policy,
    payroll_period,
    start_clock,
)

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")
CALENDAR_DAYS = SlaPolicy()
WORKING_DAYS = SlaPolicy(counting="working")


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(WIB)


# --- calendar days ---------------------------------------------------------------------------


def test_six_calendar_days_run_across_a_month_end() -> None:
    start = datetime.fromisoformat("2026-01-28T10:00:00+07:00")

    due = due_time(start, CALENDAR_DAYS, WIB)

    assert due == datetime.fromisoformat("2026-02-03T10:00:00+07:00")


def test_calendar_days_are_the_default_policy() -> None:
    policy = parse_policy(None, "tenants/jakarta")

    assert (policy.days, policy.counting) == (6, "calendar")


def test_calendar_days_do_not_skip_weekends_or_holidays() -> None:
    # Tuesday before Nyepi and Idul Fitri: every one of the six days is a day off.
    start = datetime.fromisoformat("2026-03-17T09:00:00+07:00")

    due = due_time(start, CALENDAR_DAYS, WIB)

    assert due == datetime.fromisoformat("2026-03-23T09:00:00+07:00")


def test_due_time_keeps_the_zone_of_the_start() -> None:
    start = datetime.fromisoformat("2026-12-04T02:30:00+00:00")

    due = due_time(start, CALENDAR_DAYS, WIB)

    assert due.utcoffset() == timedelta(0)
    assert due == datetime.fromisoformat("2026-12-10T09:30:00+07:00")


# --- working days ----------------------------------------------------------------------------


def test_six_working_days_from_a_friday_skip_two_weekends() -> None:
    start = wib("2026-12-04T10:00:00+07:00")  # Friday

    due = due_time(start, WORKING_DAYS, WIB)

    assert due == wib("2026-12-14T10:00:00+07:00")  # Monday
    assert due.astimezone(WIB).strftime("%a") == "Mon"
    for weekend in (date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 12), date(2026, 12, 13)):
        assert not is_working_day(weekend, WORKING_DAYS)


def test_working_days_skip_nyepi_idul_fitri_and_their_cuti_bersama_in_2026() -> None:
    start = wib("2026-03-17T09:00:00+07:00")  # Tuesday

    due = due_time(start, WORKING_DAYS, WIB)

    # Off: 18 cuti Nyepi, 19 Nyepi, 20 cuti Idul Fitri, 21-22 Idul Fitri (a weekend too),
    # 23-24 cuti Idul Fitri. Working: 25, 26, 27, 30, 31 March and 1 April.
    assert due == wib("2026-04-01T09:00:00+07:00")
    for day in range(18, 25):
        assert not is_working_day(date(2026, 3, day), WORKING_DAYS), f"2026-03-{day}"
    for working in (date(2026, 3, 17), date(2026, 3, 25), date(2026, 3, 31), date(2026, 4, 1)):
        assert is_working_day(working, WORKING_DAYS), working


def test_christmas_and_its_cuti_bersama_are_days_off() -> None:
    start = wib("2026-12-21T08:00:00+07:00")  # Monday

    due = due_time(start, WORKING_DAYS, WIB)

    # 22, 23 working; 24 cuti, 25 Natal, 26-27 weekend; 28, 29, 30, 31 working.
    assert not is_working_day(date(2026, 12, 24), WORKING_DAYS)
    assert not is_working_day(date(2026, 12, 25), WORKING_DAYS)
    assert due == wib("2026-12-31T08:00:00+07:00")


def test_a_start_on_a_saturday_counts_from_the_beginning_of_monday() -> None:
    saturday = wib("2026-12-05T14:00:00+07:00")
    monday_midnight = wib("2026-12-07T00:00:00+07:00")

    due = due_time(saturday, WORKING_DAYS, WIB)

    assert due == wib("2026-12-15T00:00:00+07:00")
    assert due == due_time(monday_midnight, WORKING_DAYS, WIB)


def test_a_start_on_a_holiday_counts_from_the_next_working_day() -> None:
    nyepi = wib("2026-03-19T11:00:00+07:00")

    due = due_time(nyepi, WORKING_DAYS, WIB)

    # Next working day Wed 25 March; six after it: 26, 27, 30, 31 March, 1, 2 April.
    assert due == wib("2026-04-02T00:00:00+07:00")


def test_tenant_extra_days_off_are_skipped() -> None:
    policy = SlaPolicy(
        counting="working", extra_days_off=frozenset({date(2026, 12, 8), date(2026, 12, 9)})
    )
    start = wib("2026-12-04T10:00:00+07:00")

    due = due_time(start, policy, WIB)

    assert not is_working_day(date(2026, 12, 8), policy)
    assert is_working_day(date(2026, 12, 8), WORKING_DAYS)
    assert due == wib("2026-12-16T10:00:00+07:00")


def test_working_days_are_counted_on_the_local_date_not_the_utc_date() -> None:
    # Monday 01:00 in Jakarta is still Sunday 18:00 in UTC.
    start = datetime.fromisoformat("2026-12-06T18:00:00+00:00")

    due = due_time(start, WORKING_DAYS, WIB)

    assert due == wib("2026-12-15T01:00:00+07:00")


# --- 23:30 WIB -------------------------------------------------------------------------------


def test_report_filed_at_2330_wib_is_due_at_2330_wib_six_days_later() -> None:
    filed = datetime.fromisoformat("2026-12-04T16:30:00+00:00")  # 23:30 WIB

    due = due_time(filed, CALENDAR_DAYS, WIB)

    assert due == datetime.fromisoformat("2026-12-10T23:30:00+07:00")
    assert due.astimezone(WIB).isoformat() == "2026-12-10T23:30:00+07:00"
    assert payroll_period(due, WIB) == "2026-12"


def test_report_filed_at_2330_wib_on_the_last_friday_of_a_month_is_due_in_the_next_month() -> None:
    filed = datetime.fromisoformat("2026-12-25T23:30:00+07:00")

    due = due_time(filed, CALENDAR_DAYS, WIB)

    assert due == datetime.fromisoformat("2026-12-31T23:30:00+07:00")
    assert payroll_period(due, WIB) == "2026-12"


def test_working_days_from_2330_wib_on_a_friday_keep_the_local_time() -> None:
    filed = datetime.fromisoformat("2026-12-04T16:30:00+00:00")

    due = due_time(filed, WORKING_DAYS, WIB)

    assert due == datetime.fromisoformat("2026-12-14T23:30:00+07:00")


def test_payroll_period_is_the_month_in_the_tenant_zone_not_in_utc() -> None:
    # 1 January 00:30 in Jakarta is still 31 December in UTC.
    due = datetime.fromisoformat("2026-12-31T17:30:00+00:00")

    assert payroll_period(due, WIB) == "2027-01"
    assert payroll_period(due, ZoneInfo("UTC")) == "2026-12"


# --- a tenant in WIT (UTC+9) -----------------------------------------------------------------


def test_wit_tenant_counts_six_calendar_days_across_new_year() -> None:
    start = datetime.fromisoformat("2026-12-31T20:00:00+09:00")

    due = due_time(start, CALENDAR_DAYS, WIT)

    assert due == datetime.fromisoformat("2027-01-06T20:00:00+09:00")
    assert due.astimezone(WIT).isoformat() == "2027-01-06T20:00:00+09:00"


def test_the_same_instant_falls_in_january_in_wit_and_in_december_in_wib() -> None:
    due = datetime.fromisoformat("2026-12-31T16:00:00+00:00")

    assert payroll_period(due, WIT) == "2027-01"
    assert payroll_period(due, WIB) == "2026-12"


def test_wit_working_days_use_the_date_in_wit() -> None:
    # Saturday 2 January 2027 at 06:00 WIT is still Friday 1 January (New Year, off) in WIB;
    # in WIT it is a Saturday, so the clock starts on Monday 4 January.
    start = datetime.fromisoformat("2027-01-02T06:00:00+09:00")

    due = due_time(start, WORKING_DAYS, WIT)

    # Working after Mon 4 (Tue 5 is Isra Mikraj): 6, 7, 8, 11, 12, 13 January.
    assert not is_working_day(date(2027, 1, 5), WORKING_DAYS)
    assert due == datetime.fromisoformat("2027-01-13T00:00:00+09:00")


# --- start_clock -----------------------------------------------------------------------------


def test_start_clock_reminds_a_day_before_the_due_time() -> None:
    start = datetime.fromisoformat("2026-12-04T09:30:00+00:00")

    clock = start_clock(start, CALENDAR_DAYS, WIB)

    assert clock.due_at == datetime.fromisoformat("2026-12-10T09:30:00+00:00")
    assert clock.remind_at == clock.due_at - timedelta(hours=24)


def test_start_clock_without_reminder_hours_sets_no_reminder() -> None:
    start = datetime.fromisoformat("2026-12-04T09:30:00+00:00")

    clock = start_clock(start, SlaPolicy(reminder_hours=0), WIB)

    assert clock.remind_at is None


def test_start_clock_sets_no_reminder_before_the_start() -> None:
    start = datetime.fromisoformat("2026-12-04T09:30:00+00:00")

    clock = start_clock(start, SlaPolicy(days=1, reminder_hours=48), WIB)

    assert clock.due_at == start + timedelta(days=1)
    assert clock.remind_at is None


# --- parse_policy ----------------------------------------------------------------------------


def test_parse_policy_reads_every_field() -> None:
    raw = {
        "days": 5,
        "counting": "working",
        "reminder_hours": 12,
        "extra_days_off": ["2026-06-22"],
        "cut_percent": 5,
        "max_cut_percent": 50,
    }

    policy = parse_policy(raw, "tenants/x")

    assert policy == SlaPolicy(
        days=5,
        counting="working",
        reminder_hours=12,
        extra_days_off=frozenset({date(2026, 6, 22)}),
        cut_percent=5.0,
        max_cut_percent=50.0,
    )


def test_jakarta_default_cut_is_ten_percent_capped_at_a_hundred() -> None:
    policy = parse_policy({}, "tenants/jakarta")

    assert (policy.cut_percent, policy.max_cut_percent, policy.reminder_hours) == (10.0, 100.0, 24)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        pytest.param({"days": 0}, "sla.days", id="days-0"),
        pytest.param({"days": 6.0}, "sla.days", id="days-float"),
        pytest.param({"days": True}, "sla.days", id="days-bool"),
        pytest.param({"days": "6"}, "sla.days", id="days-text"),
        pytest.param({"counting": "lunar"}, "sla.counting", id="counting-lunar"),
        pytest.param({"reminder_hours": -1}, "sla.reminder_hours", id="reminder-negative"),
        pytest.param({"cut_percent": 150}, "sla.cut_percent", id="cut-150"),
        pytest.param({"cut_percent": -5}, "sla.cut_percent", id="cut-negative"),
        pytest.param({"max_cut_percent": 101}, "sla.max_cut_percent", id="cap-101"),
        pytest.param(
            {"extra_days_off": ["2026-02-30"]}, "sla.extra_days_off[0]", id="extra-day-30-feb"
        ),
        pytest.param(
            {"extra_days_off": ["2026-06-22", "besok"]},
            "sla.extra_days_off[1]",
            id="extra-day-word",
        ),
    ],
)
def test_parse_policy_refuses_bad_values_naming_the_field(raw: dict[str, Any], named: str) -> None:
    with pytest.raises(TenantConfigError) as refused:
        parse_policy(raw, "tenants/maluku-utara")

    assert named in str(refused.value)
    assert "tenants/maluku-utara" in str(refused.value)


def test_parse_policy_refuses_a_policy_that_is_not_an_object() -> None:
    with pytest.raises(TenantConfigError) as refused:
        parse_policy(["days", 6], "tenants/x")

    assert "sla" in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [pytest.param(20261231, id="number"), pytest.param(None, id="null")],
)
def test_parse_policy_refuses_extra_days_off_that_are_not_a_list(value: object) -> None:
    with pytest.raises(TenantConfigError) as refused:
        parse_policy({"extra_days_off": value}, "tenants/x")

    assert "sla.extra_days_off" in str(refused.value)
