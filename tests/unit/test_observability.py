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
