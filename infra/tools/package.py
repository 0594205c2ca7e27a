"""`make package`: one deployable SAM template (Chalice's functions + infra/template.yaml) and
the Lambda zip, then cfn-lint and the packaging check.

The functions get every setting from the stack itself (Ref/GetAtt), and their event sources
point at the template's queues and stream with partial batch responses, retries and the
dead-letter destinations, so nothing is configured by hand after a deploy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.provision import TEMPLATE_PATH, ProvisionError, creation_order, load_template
from infra.tools.check_package import check_package

ROOT = Path(__file__).resolve().parents[2]
# Chalice's logical id of each function -> (the name after "${AWS::StackName}-", its role).
# The roles and log groups (<LogicalId>Logs) are in infra/template.yaml.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "APIHandler": ("api", "APIHandlerRole"),
    "ProcessPhotos": ("process-photos", "ProcessPhotosRole"),
    "TriageDeadPhotos": ("triage-dead-photos", "TriageDeadPhotosRole"),
    "NotifyTicketChanges": ("notify-ticket-changes", "NotifyTicketChangesRole"),
    "OverdueScan": ("overdue-scan", "OverdueScanRole"),
    "AdminRunOverdueScan": ("admin-run-overdue-scan", "OverdueScanRole"),
    "AdminLoadTenant": ("admin-load-tenant", "AdminLoadTenantRole"),
    "AdminAppointHead": ("admin-appoint-head", "AdminAppointHeadRole"),
    "AdminReassignTicket": ("admin-reassign-ticket", "AdminReassignTicketRole"),
    "AdminExportLedger": ("admin-export-ledger", "AdminExportLedgerRole"),
}

ENVIRONMENT: dict[str, Any] = {
    "TICKETS_TABLE": {"Ref": "TicketsTable"},
    "TENANTS_TABLE": {"Ref": "TenantsTable"},
    "SANCTIONS_TABLE": {"Ref": "SanctionsTable"},
    "UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
    "MEDIA_BUCKET": {"Ref": "MediaBucket"},
    "MEDIA_BASE_URL": {"Fn::Sub": "https://${MediaBucket}.s3.${AWS::Region}.amazonaws.com"},
    "USER_POOL_ID": {"Ref": "UserPool"},
    "USER_POOL_CLIENT_ID": {"Ref": "UserPoolClient"},
    "UNIT_TOPIC_ARN": {"Ref": "UnitNotificationsTopic"},
    "REPORTER_TOPIC_ARN": {"Ref": "ReporterNotificationsTopic"},
    "TICKETS_STREAM_ARN": {"Fn::GetAtt": ["TicketsTable", "StreamArn"]},
    "PHOTO_QUEUE_NAME": {"Fn::GetAtt": ["PhotoQueue", "QueueName"]},
    "PHOTO_DLQ_NAME": {"Fn::GetAtt": ["PhotoDeadLetterQueue", "QueueName"]},
    "OPERATIONS_BUCKET": {"Ref": "OperationsBucket"},
    # A parameter, not a reference to the API: the API refers to the function, so the function
    # cannot refer to the API without a circular dependency.
    "PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
}


def merge_template() -> dict[str, Any]:
    """infra/template.yaml plus what ties Chalice's functions to its resources."""
    template = load_template(TEMPLATE_PATH)
    template.setdefault("Parameters", {})["PublicBaseUrl"] = {
        "Type": "String",
        "Default": "",
        "AllowedPattern": "^(https://[^/]+(/.*[^/])?)?$",
        "Description": "Where citizens and staff reach the API, without a trailing slash "
        "(the EndpointURL output, or a custom domain): links in notifications and Open311",
    }
    resources = template["Resources"]
    for name in FUNCTIONS:
        resources[name] = {"Properties": {"Environment": {"Variables": dict(ENVIRONMENT)}}}
    sqs_batch = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    resources["ProcessPhotos"]["Properties"]["Events"] = {
        "ProcessPhotosSqsEventSource": {
            "Properties": {"Queue": {"Fn::GetAtt": ["PhotoQueue", "Arn"]}, **sqs_batch}
        }
    }
    resources["TriageDeadPhotos"]["Properties"]["Events"] = {
        "TriageDeadPhotosSqsEventSource": {
            "Properties": {"Queue": {"Fn::GetAtt": ["PhotoDeadLetterQueue", "Arn"]}, **sqs_batch}
        }
    }
    resources["NotifyTicketChanges"]["Properties"]["Events"] = {
        "NotifyTicketChangesDynamodbEventSource": {
            "Properties": {
                "Stream": {"Fn::GetAtt": ["TicketsTable", "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumRetryAttempts": 3,
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {
                    "OnFailure": {
                        "Destination": {"Fn::GetAtt": ["TicketEventsDeadLetterQueue", "Arn"]}
                    }
                },
            }
        }
    }
    resources.update(operations_resources())
    return template


def bind_functions(sam: dict[str, Any]) -> dict[str, Any]:
    """Give each packaged function its name, its role and log group, and exact event sources.

    A merge can only add keys, so what Chalice wrote itself is replaced here: the placeholder
    role of .chalice/config.json, and the queue ARN it spells from the app's default queue name.
    """
    resources = sam["Resources"]
    packaged = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    if packaged != set(FUNCTIONS):
        raise SystemExit(
            f"functions in the app {sorted(packaged)} differ from FUNCTIONS {sorted(FUNCTIONS)}: "
            "add the new function, its role and its log group"
        )
    for logical_id, (name, role) in FUNCTIONS.items():
        function = resources[logical_id]
        properties = function["Properties"]
        properties["FunctionName"] = {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
        properties["Role"] = {"Fn::GetAtt": [role, "Arn"]}
        function["DependsOn"] = [f"{logical_id}Logs"]
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]
                event["Properties"]["Queue"] = {"Fn::GetAtt": queue["Fn::GetAtt"]}
    return sam


def _alarm(description: str, metric: dict[str, Any], threshold: float) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "OperationsAlarmsTopic"}],
            **metric,
        },
    }


def _queue_depth(queue: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
        "Statistic": "Maximum",
        "Period": 300,
    }


def _widget(title: str, *, width: int = 12, **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {"title": title, "region": "${AWS::Region}", **properties},
    }


def operations_resources() -> dict[str, Any]:
    """What an admin watches in the console: a dashboard, and alarms that mail the on-call."""
    widgets = [
        ("Photo pipeline errors", "AWS/Lambda", "Errors", "FunctionName", {"Ref": "ProcessPhotos"}),
        ("Overdue scan errors", "AWS/Lambda", "Errors", "FunctionName", {"Ref": "OverdueScan"}),
        ("Notification errors", "AWS/Lambda", "Errors", "FunctionName",
         {"Ref": "NotifyTicketChanges"}),
        ("API 5xx", "AWS/ApiGateway", "5XXError", "ApiName", "cepat-respon"),
    ]  # fmt: skip
    body_widgets: list[Any] = [
        _widget(
            title,
            stat="Sum",
            period=300,
            metrics=[[namespace, metric, dimension, f"${{W{index}}}"]],
        )
        for index, (title, namespace, metric, dimension, _) in enumerate(widgets)
    ]
    # The app's own metrics (EMF, chalicelib/observability.py), one line per dimension value.
    for title, search in (
        ("Reports per channel", '{CepatRespon,channel,tenant} MetricName="ReportsFiled"'),
        ("Photos by outcome", '{CepatRespon,outcome,tenant} MetricName="PhotosProcessed"'),
        ("Sanctions recorded", '{CepatRespon,scope} MetricName="SanctionsRecorded"'),
        # Gauges the hourly scan writes: a sum over an hour is the one value of that hour.
        ("Open tickets by status", '{CepatRespon,status,tenant} MetricName="OpenTickets"'),
        ("Overdue open tickets", '{CepatRespon,tenant} MetricName="OverdueTickets"'),
    ):
        body_widgets.append(
            _widget(
                title,
                period=3600,
                metrics=[[{"expression": f"SEARCH('{search}', 'Sum', 3600)"}]],
            )
        )
    body_widgets.append(
        _widget(
            "Sanctions, last 30 days",
            width=6,
            view="singleValue",
            stat="Sum",
            period=2592000,
            metrics=[["CepatRespon", "SanctionsRecorded", "scope", "all"]],
        )
    )
    depth = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"]
    body_widgets.append(
        _widget(
            "Dead-letter queues (messages)",
            stat="Maximum",
            period=300,
            metrics=[[*depth, "${PhotoDlq}"], [*depth, "${EventsDlq}"]],
        )
    )
    variables: dict[str, Any] = {f"W{i}": w[4] for i, w in enumerate(widgets)}
    variables["PhotoDlq"] = {"Fn::GetAtt": ["PhotoDeadLetterQueue", "QueueName"]}
    variables["EventsDlq"] = {"Fn::GetAtt": ["TicketEventsDeadLetterQueue", "QueueName"]}
    return {
        "OperationsAlarmsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": "Cepat Respon - operations alarms"},
        },
        "OperationsDashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": {"Fn::Sub": "${AWS::StackName}-operations"},
                "DashboardBody": {"Fn::Sub": [json.dumps({"widgets": body_widgets}), variables]},
            },
        },
        "PhotoDeadLettersAlarm": _alarm(
            "Photos failed five times and wait in the dead-letter queue: triage them",
            _queue_depth("PhotoDeadLetterQueue"),
            0,
        ),
        "TicketEventsDeadLettersAlarm": _alarm(
            "Ticket changes whose notifications kept failing wait in the dead-letter queue",
            _queue_depth("TicketEventsDeadLetterQueue"),
            0,
        ),
        "OverdueScanFailedAlarm": _alarm(
            "The hourly overdue scan failed: sanctions and reminders are not being recorded",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "OverdueScan"}}],
                "Statistic": "Sum",
                "Period": 3600,
            },
            0,
        ),
        "Api5xxAlarm": _alarm(
            "The API answered 5xx more than 5 times in 5 minutes",
            {
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": [{"Name": "ApiName", "Value": "cepat-respon"}],
                "Statistic": "Sum",
                "Period": 300,
            },
            5,
        ),
    }


def dependency_cycle(template: dict[str, Any]) -> str | None:
    """What CloudFormation would refuse as a circular dependency (cfn-lint misses some through
    the API's definition), or None."""
    resources = template["Resources"]
    try:
        creation_order(resources, set(resources))
    except ProvisionError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.tools.package")
    parser.add_argument("--stage", default="prod", choices=("dev", "prod"))
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge.json"
    merge.write_text(json.dumps(merge_template(), indent=1), encoding="utf-8")
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-3"),
    }
    chalice = Path(sys.executable).with_name("chalice")
    build = subprocess.run(
        [str(chalice), "package", "--stage", args.stage, "--merge-template", str(merge), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = build.stdout + build.stderr
    (out / "chalice-package.log").write_text(log, encoding="utf-8")
    print(log.strip())
    if build.returncode != 0:
        print(f"chalice package failed ({build.returncode})", file=sys.stderr)
        return 1
    sam_path = out / "sam.json"
    sam = bind_functions(json.loads(sam_path.read_text(encoding="utf-8")))
    sam_path.write_text(json.dumps(sam, indent=2), encoding="utf-8")
    cycle = dependency_cycle(sam)
    if cycle:
        print(f"the packaged template has a {cycle}", file=sys.stderr)
        return 1
    lint = subprocess.run(
        [sys.executable, "-m", "cfnlint", str(out / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint exits 0 clean, 2 errors, 4 warnings, 6 both, 8 informational.
    if lint.returncode & 2:
        print(lint.stdout + lint.stderr, file=sys.stderr)
        print("cfn-lint found errors in the packaged template", file=sys.stderr)
        return 1
    print(f"cfn-lint: no errors in {out / 'sam.json'}")
    report = check_package(out / "deployment.zip", log)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
