"""The merge template ties every packaged function to the stack's own resources."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.config import Settings
from infra.provision import load_template
from infra.tools.package import ENVIRONMENT, FUNCTIONS, dependency_cycle, merge_template


def test_every_function_gets_every_setting_the_app_requires_from_the_stack() -> None:
    template = merge_template()

    settings = Settings.from_env(dict.fromkeys(ENVIRONMENT, "x"))
    for name in FUNCTIONS:
        variables = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert set(variables) == set(ENVIRONMENT)
    assert settings.sanctions_table == "x"


def test_every_reference_in_the_settings_names_a_resource_or_parameter_of_the_template() -> None:
    merged = merge_template()
    names = set(load_template()["Resources"]) | set(merged["Parameters"])

    for value in ENVIRONMENT.values():
        if "Ref" in value:
            assert value["Ref"] in names
        elif "Fn::GetAtt" in value:
            assert value["Fn::GetAtt"][0] in names


def test_no_setting_refers_to_the_api_which_refers_to_the_functions() -> None:
    # RestAPI's definition names APIHandler; a setting naming RestAPI would be a cycle that
    # CloudFormation refuses at deploy time.
    assert "RestAPI" not in json.dumps(ENVIRONMENT)


def test_event_sources_use_partial_batch_responses_and_the_dead_letter_destination() -> None:
    resources = merge_template()["Resources"]

    photos = resources["ProcessPhotos"]["Properties"]["Events"]["ProcessPhotosSqsEventSource"]
    stream = resources["NotifyTicketChanges"]["Properties"]["Events"][
        "NotifyTicketChangesDynamodbEventSource"
    ]
    assert photos["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert photos["Properties"]["Queue"] == {"Fn::GetAtt": ["PhotoQueue", "Arn"]}
    assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    assert stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["TicketEventsDeadLetterQueue", "Arn"]
    }


def test_admins_get_a_dashboard_and_alarms_on_dead_letters_scan_failures_and_5xx() -> None:
    resources = merge_template()["Resources"]

    alarms = {
        name: r["Properties"]
        for name, r in resources.items()
        if r.get("Type") == "AWS::CloudWatch::Alarm"
    }
    assert resources["OperationsDashboard"]["Type"] == "AWS::CloudWatch::Dashboard"
    assert {a["MetricName"] for a in alarms.values()} == {
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "5XXError",
    }
    assert len(alarms) == 4
    assert all(a["AlarmActions"] == [{"Ref": "OperationsAlarmsTopic"}] for a in alarms.values())
    dead_letter_queues = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms.values()
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert dead_letter_queues == {"PhotoDeadLetterQueue", "TicketEventsDeadLetterQueue"}


def test_the_dashboard_shows_what_the_issue_asks_an_admin_to_watch() -> None:
    body = merge_template()["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]
    widgets = json.loads(body["Fn::Sub"][0])["widgets"]
    titles = {w["properties"]["title"] for w in widgets}
    metrics = json.dumps(widgets)

    assert {
        "Reports per channel",
        "Open tickets by status",
        "Overdue open tickets",
        "Sanctions, last 30 days",
        "Photo pipeline errors",
        "Dead-letter queues (messages)",
    } <= titles
    # Each app metric on the dashboard is one the code emits through emit_metric.
    chalicelib = Path(__file__).resolve().parents[2] / "chalicelib"
    code = "".join(f.read_text() for f in chalicelib.rglob("*.py"))
    for metric in ("ReportsFiled", "OpenTickets", "OverdueTickets", "SanctionsRecorded"):
        assert metric in metrics
        assert f'"{metric}"' in code


def test_a_function_setting_naming_the_api_is_caught_as_a_circular_dependency() -> None:
    merged = merge_template()
    resources = merged["Resources"]
    # The API's definition names the function, as Chalice's packaged RestAPI does.
    resources["RestAPI"] = {
        "Type": "AWS::Serverless::Api",
        "Properties": {"DefinitionBody": {"Fn::Sub": "arn:${APIHandler.Arn}/invocations"}},
    }
    for name in FUNCTIONS:
        resources[name]["Type"] = "AWS::Serverless::Function"
    assert dependency_cycle(merged) is None

    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    variables["PUBLIC_BASE_URL"] = {"Fn::Sub": "https://${RestAPI}.execute-api"}

    assert dependency_cycle(merged) == "circular dependency through APIHandler"
