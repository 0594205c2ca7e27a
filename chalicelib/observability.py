"""Structured JSON logs and CloudWatch Embedded Metric Format (EMF) metrics.

On Lambda every log line is one JSON object carrying the `extra` fields the code passes
(tenant, ticket, unit, key, ...), so CloudWatch Logs Insights can filter by tenant or ticket.
Metrics are EMF lines on stdout: CloudWatch turns them into metrics with no API call.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

NAMESPACE = "CepatRespon"
# Attributes every LogRecord has; anything else was passed through `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on Lambda (where the runtime installs the root handler); untouched elsewhere."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())


def emit_metric(
    name: str,
    value: float = 1,
    *,
    dimensions: Mapping[str, str],
    unit: str = "Count",
    stream: TextIO | None = None,
) -> None:
    """One EMF record: the metric `name` with `dimensions` (e.g. tenant, channel).

    Written on Lambda only (or to an explicit stream): elsewhere stdout is a developer's console.
    """
    if stream is None and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    record = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        **dimensions,
        name: value,
    }
    print(json.dumps(record), file=stream or sys.stdout, flush=True)
