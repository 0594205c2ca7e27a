"""JSON log lines and EMF metric records as CloudWatch reads them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib.observability import JsonFormatter, configure_logging, emit_metric


def test_log_line_is_one_json_object_with_the_extra_fields() -> None:
    record = logging.LogRecord("chalicelib.x", logging.INFO, "f.py", 1, "photo %s", ("ok",), None)
    record.tenant = "jakarta"
    record.ticket = "ab" * 16

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "photo ok"
    assert line["level"] == "INFO"
    assert line["tenant"] == "jakarta"
    assert line["ticket"] == "ab" * 16


def test_emf_record_names_the_metric_its_dimensions_and_value() -> None:
    out = io.StringIO()

    emit_metric("ReportsFiled", dimensions={"tenant": "jakarta", "channel": "jaki"}, stream=out)

    record = json.loads(out.getvalue())
    spec = record["_aws"]["CloudWatchMetrics"][0]
    assert spec["Namespace"] == "CepatRespon"
    assert spec["Dimensions"] == [["channel", "tenant"]]
    assert spec["Metrics"] == [{"Name": "ReportsFiled", "Unit": "Count"}]
    assert record["ReportsFiled"] == 1
    assert record["tenant"] == "jakarta"


def test_outside_lambda_nothing_is_printed_and_logging_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    before = [h.formatter for h in logging.getLogger().handlers]

    emit_metric("ReportsFiled", dimensions={"tenant": "jakarta"})
    configure_logging()

    assert capsys.readouterr().out == ""
    assert [h.formatter for h in logging.getLogger().handlers] == before


def test_the_hourly_scan_reports_open_tickets_by_status_and_the_overdue_ones_as_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.domain.identity import Principal, Role
    from tests.fakes import FixedClock, fake_services

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "cepat-respon-prod-overdue-scan")
    clock = FixedClock()
    services = fake_services(clock=clock)
    citizen = Principal(subject="warga-1", username="warga", roles=frozenset({Role.CITIZEN}))
    body = {
        "category": "sampah",
        "description": "Sampah",
        "location": {"lat": -6.1754, "lon": 106.8272},
    }
    for _ in range(2):
        services.reports.submit("jakarta", citizen, body)
    clock.advance(days=6, hours=1)
    capsys.readouterr()

    services.scan.run()

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    gauges = {(r["tenant"], r["status"]): r["OpenTickets"] for r in records if "OpenTickets" in r}
    overdue = {r["tenant"]: r["OverdueTickets"] for r in records if "OverdueTickets" in r}
    assert gauges[("jakarta", "waiting")] == 2
    assert gauges[("banda-aceh", "waiting")] == 0
    assert ("jakarta", "completed") not in gauges
    assert overdue == {"jakarta": 2, "banda-aceh": 0, "bandar-lampung": 0}
    definition = next(r for r in records if "OpenTickets" in r)["_aws"]["CloudWatchMetrics"][0]
    assert definition["Dimensions"] == [["status", "tenant"]]
