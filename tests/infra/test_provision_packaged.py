"""The packaged template (``make package``'s dist/sam.json) deploys into moto like its source.

The SAM template is built here the way the packager builds it: ``merge_template()``, the
functions, API and permission ``chalice package`` adds (shaped like its output), then
``bind_functions()``, so these tests do not need ``make package`` to have run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.provision import (
    API_CREATED_TYPES,
    MOTO_DROPPED_TYPES,
    SAM_TRANSFORM,
    ProvisionError,
    deployable_in_moto,
    dropped_placeholder,
    load_template,
    provision,
)
from infra.tools.package import FUNCTIONS, bind_functions, merge_template

STACK_NAME = "cepat-respon-packaged"
CHALICE_OUTPUTS = {"RestAPIId", "APIHandlerName", "APIHandlerArn", "EndpointURL"}
# .chalice/config.json's iam_role_arn, which bind_functions replaces.
CHALICE_ROLE = "arn:aws:iam::000000000000:role/replaced-by-infra-tools-package"


def chalice_output() -> dict[str, Any]:
    """What ``chalice package --merge-template`` writes from ``merge_template()``."""
    template = merge_template()
    resources: dict[str, Any] = template["Resources"]
    for name in FUNCTIONS:
        function = resources[name]
        function["Type"] = "AWS::Serverless::Function"
        properties = function["Properties"]
        properties.update(
            Runtime="python3.13",
            Handler=f"app.{name}",
            CodeUri="./deployment.zip",
            Timeout=30,
            MemorySize=1024,
            Role=CHALICE_ROLE,
        )
        for event in properties.get("Events", {}).values():
            source = event["Properties"]
            if "Queue" in source:
                event["Type"] = "SQS"
                # Chalice spells the ARN of the app's default queue next to the merged GetAtt.
                source["Queue"]["Fn::Sub"] = (
                    "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:cepat-respon-photo"
                )
            else:
                event["Type"] = "DynamoDB"
    resources["OverdueScan"]["Properties"].setdefault("Events", {})["OverdueScanEvent"] = {
        "Type": "Schedule",
        "Properties": {"Schedule": "rate(1 hour)"},
    }
    integration = {
        "uri": {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
            "functions/${APIHandler.Arn}/invocations"
        },
        "httpMethod": "POST",
        "type": "aws_proxy",
    }
    resources["RestAPI"] = {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            "EndpointConfiguration": "EDGE",
            "StageName": "v1",
            "DefinitionBody": {
                "swagger": "2.0",
                "info": {"version": "1.0", "title": "cepat-respon"},
                "paths": {"/v1/tenants": {"get": {"x-amazon-apigateway-integration": integration}}},
            },
        },
    }
    resources["APIHandlerInvokePermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": "APIHandler"},
            "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                    "${RestAPIId}/*",
                    {"RestAPIId": {"Ref": "RestAPI"}},
                ]
            },
        },
    }
    template["Outputs"].update(
        {
            "RestAPIId": {"Value": {"Ref": "RestAPI"}},
            "APIHandlerName": {"Value": {"Ref": "APIHandler"}},
            "APIHandlerArn": {"Value": {"Fn::GetAtt": ["APIHandler", "Arn"]}},
            "EndpointURL": {
                "Value": {
                    "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/"
                }
            },
        }
    )
    return {"Transform": SAM_TRANSFORM, **template}


def packaged_template() -> dict[str, Any]:
    """dist/sam.json as ``make package`` writes it."""
    return bind_functions(chalice_output())


def _function_name(name: str) -> str:
    return f"{STACK_NAME}-{FUNCTIONS[name][0]}"


def _write(directory: Path, template: dict[str, Any]) -> Path:
    path = directory / "sam.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return path


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return packaged_template()


@pytest.fixture(scope="module")
def stack(
    session: boto3.session.Session,
    template: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    return provision(session, STACK_NAME, _write(tmp_path_factory.mktemp("dist"), template))


@pytest.fixture(scope="module")
def physical_ids(session: boto3.session.Session, stack: dict[str, str]) -> dict[str, str]:
    """Logical id -> physical id of what moto's CloudFormation created."""
    summaries = session.client("cloudformation").describe_stack_resources(StackName=STACK_NAME)
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for summary in summaries["StackResources"]
    }


# ---------------------------------------------------------------------------- the conversion


def test_conversion_drops_the_transform_functions_api_and_permission_and_their_outputs() -> None:
    template = packaged_template()

    deployable = deployable_in_moto(template)

    assert template["Transform"] == SAM_TRANSFORM
    assert {"AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Lambda::Permission"} <= {
        resource["Type"] for resource in template["Resources"].values()
    }
    assert "Transform" not in deployable
    assert {r["Type"] for r in deployable["Resources"].values()}.isdisjoint(MOTO_DROPPED_TYPES)
    kept = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] not in MOTO_DROPPED_TYPES
    }
    assert set(deployable["Resources"]) == kept
    assert set(deployable["Outputs"]) == set(template["Outputs"]) - CHALICE_OUTPUTS
    assert deployable["Resources"]["TicketsTable"] == template["Resources"]["TicketsTable"]


def test_a_reference_to_a_named_function_becomes_its_function_name() -> None:
    resources = deployable_in_moto(packaged_template())["Resources"]

    dimensions = resources["OverdueScanFailedAlarm"]["Properties"]["Dimensions"]
    assert dimensions == [
        {"Name": "FunctionName", "Value": {"Fn::Sub": "${AWS::StackName}-overdue-scan"}}
    ]
    _, variables = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert {"Fn::Sub": "${AWS::StackName}-process-photos"} in variables.values()
    assert {"Ref": "ProcessPhotos"} not in variables.values()


def test_other_references_to_dropped_resources_become_placeholders() -> None:
    template = packaged_template()
    resources = template["Resources"]
    del resources["NotifyTicketChanges"]["Properties"]["FunctionName"]  # as Chalice writes it
    resources["ApiLinks"] = {
        "Type": "AWS::SNS::Topic",
        "DependsOn": ["RestAPI", "TicketsTable"],
        "Properties": {
            "DisplayName": {"Fn::Sub": "${RestAPI} ${APIHandler.Arn} ${!RestAPI} ${AWS::Region}"},
            "Tags": [
                {"Key": "api", "Value": {"Ref": "RestAPI"}},
                {"Key": "handler", "Value": {"Fn::GetAtt": ["APIHandler", "Arn"]}},
                {"Key": "unnamed", "Value": {"Ref": "NotifyTicketChanges"}},
            ],
        },
    }

    links = deployable_in_moto(template)["Resources"]["ApiLinks"]

    assert links["DependsOn"] == ["TicketsTable"]
    assert links["Properties"]["DisplayName"] == {
        "Fn::Sub": f"{dropped_placeholder('RestAPI')} {dropped_placeholder('APIHandler', 'Arn')} "
        "${!RestAPI} ${AWS::Region}"
    }
    assert links["Properties"]["Tags"] == [
        {"Key": "api", "Value": dropped_placeholder("RestAPI")},
        {"Key": "handler", "Value": dropped_placeholder("APIHandler", "Arn")},
        {"Key": "unnamed", "Value": dropped_placeholder("NotifyTicketChanges")},
    ]
    # The template it came from is left as it was.
    assert resources["ApiLinks"]["DependsOn"] == ["RestAPI", "TicketsTable"]


def test_a_named_function_in_a_sub_string_becomes_a_sub_variable() -> None:
    template = packaged_template()
    template["Resources"]["PhotoLogs"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${ProcessPhotos}"}},
    }

    converted = deployable_in_moto(template)["Resources"]["PhotoLogs"]["Properties"]

    assert converted["LogGroupName"] == {
        "Fn::Sub": [
            "/aws/lambda/${ProcessPhotos}",
            {"ProcessPhotos": {"Fn::Sub": "${AWS::StackName}-process-photos"}},
        ]
    }


def test_only_the_serverless_transform_is_converted() -> None:
    template = packaged_template()
    template["Transform"] = ["AWS::LanguageExtensions", SAM_TRANSFORM]

    with pytest.raises(ProvisionError, match="AWS::LanguageExtensions"):
        deployable_in_moto(template)


# ---------------------------------------------------------------------------- the deployed stack


def test_outputs_are_the_source_templates_own(stack: dict[str, str]) -> None:
    assert set(stack) == set(load_template()["Outputs"])
    assert stack["TicketsTableName"] == f"{STACK_NAME}-tickets"
    assert stack["PhotoQueueUrl"].endswith(f"/{STACK_NAME}-photo")


def test_moto_creates_every_resource_that_is_neither_dropped_nor_api_created(
    session: boto3.session.Session, template: dict[str, Any], physical_ids: dict[str, str]
) -> None:
    expected = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] not in MOTO_DROPPED_TYPES | set(API_CREATED_TYPES)
    }
    assert set(physical_ids) == expected
    assert session.client("lambda").list_functions()["Functions"] == []
    assert session.client("apigateway").get_rest_apis()["items"] == []


def test_tables_have_their_indexes_and_the_tickets_table_its_stream(
    session: boto3.session.Session,
    template: dict[str, Any],
    stack: dict[str, str],
    physical_ids: dict[str, str],
) -> None:
    dynamodb = session.client("dynamodb")
    tables = _of_type(template, "AWS::DynamoDB::Table")
    assert {"TicketsTable", "TenantsTable", "SanctionsTable"} <= set(tables)
    for logical_id, properties in tables.items():
        table = dynamodb.describe_table(TableName=physical_ids[logical_id])["Table"]
        assert table["KeySchema"] == properties["KeySchema"], logical_id
        indexes = {index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == indexes
    tickets = dynamodb.describe_table(TableName=stack["TicketsTableName"])["Table"]
    stream = tables["TicketsTable"]["StreamSpecification"]
    assert tickets["LatestStreamArn"] == stack["TicketsStreamArn"]
    assert tickets["StreamSpecification"]["StreamViewType"] == stream["StreamViewType"]
    ttl = dynamodb.describe_time_to_live(TableName=stack["TicketsTableName"])
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_buckets_exist_with_the_configuration_moto_would_drop(
    session: boto3.session.Session,
    template: dict[str, Any],
    stack: dict[str, str],
    physical_ids: dict[str, str],
) -> None:
    s3 = session.client("s3")
    buckets = _of_type(template, "AWS::S3::Bucket")
    assert {"UploadsBucket", "MediaBucket"} <= set(buckets)
    for logical_id, properties in buckets.items():
        bucket = physical_ids[logical_id]
        s3.head_bucket(Bucket=bucket)
        if "VersioningConfiguration" in properties:
            status = properties["VersioningConfiguration"]["Status"]
            assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == status, logical_id
    notifications = s3.get_bucket_notification_configuration(Bucket=stack["UploadsBucketName"])
    (queue,) = notifications["QueueConfigurations"]
    assert queue["QueueArn"] == stack["PhotoQueueArn"]


def test_queues_redrive_to_their_dead_letter_queue(
    session: boto3.session.Session, template: dict[str, Any], stack: dict[str, str]
) -> None:
    redrive = template["Resources"]["PhotoQueue"]["Properties"]["RedrivePolicy"]
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=stack["PhotoQueueUrl"], AttributeNames=["RedrivePolicy", "Policy"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack["PhotoDeadLetterQueueArn"],
        "maxReceiveCount": redrive["maxReceiveCount"],
    }
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Resource"] == stack["PhotoQueueArn"]


def test_every_topic_exists_including_the_operations_alarms_topic(
    session: boto3.session.Session, template: dict[str, Any], physical_ids: dict[str, str]
) -> None:
    topics = set(_of_type(template, "AWS::SNS::Topic"))
    assert {
        "UnitNotificationsTopic",
        "ReporterNotificationsTopic",
        "OperationsAlarmsTopic",
    } <= topics
    listed = {topic["TopicArn"] for topic in session.client("sns").list_topics()["Topics"]}
    assert {physical_ids[logical_id] for logical_id in topics} <= listed


def test_alarms_notify_the_operations_topic_and_name_the_function_and_queues(
    session: boto3.session.Session,
    template: dict[str, Any],
    stack: dict[str, str],
    physical_ids: dict[str, str],
) -> None:
    alarms = {
        alarm["AlarmName"]: alarm
        for alarm in session.client("cloudwatch").describe_alarms()["MetricAlarms"]
        if alarm["AlarmName"].startswith(f"{STACK_NAME}-")
    }
    expected = {
        f"{STACK_NAME}-{logical_id}" for logical_id in _of_type(template, "AWS::CloudWatch::Alarm")
    }
    assert len(expected) == 4
    assert set(alarms) == expected
    topic = physical_ids["OperationsAlarmsTopic"]
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms.values())
    scan = alarms[f"{STACK_NAME}-OverdueScanFailedAlarm"]
    assert scan["Dimensions"] == [{"Name": "FunctionName", "Value": _function_name("OverdueScan")}]
    photo_dead_letters = alarms[f"{STACK_NAME}-PhotoDeadLettersAlarm"]
    dead_letter_queue = stack["PhotoDeadLetterQueueUrl"].rsplit("/", 1)[-1]
    assert photo_dead_letters["Dimensions"] == [{"Name": "QueueName", "Value": dead_letter_queue}]
    assert photo_dead_letters["Threshold"] == 0


def test_dashboard_plots_the_functions_by_their_names(
    session: boto3.session.Session, physical_ids: dict[str, str]
) -> None:
    body = session.client("cloudwatch").get_dashboard(
        DashboardName=physical_ids["OperationsDashboard"]
    )["DashboardBody"]

    assert "${" not in body
    metrics = {
        widget["properties"]["title"]: widget["properties"]["metrics"]
        for widget in json.loads(body)["widgets"]
    }
    assert metrics["Photo pipeline errors"] == [
        ["AWS/Lambda", "Errors", "FunctionName", _function_name("ProcessPhotos")]
    ]
    assert metrics["Notification errors"] == [
        ["AWS/Lambda", "Errors", "FunctionName", _function_name("NotifyTicketChanges")]
    ]
    assert physical_ids["OperationsDashboard"] == f"{STACK_NAME}-operations"


def test_every_functions_role_and_log_group_exists_with_its_policies_resolved(
    session: boto3.session.Session, template: dict[str, Any], physical_ids: dict[str, str]
) -> None:
    resources = template["Resources"]
    iam = session.client("iam")
    for name in FUNCTIONS:
        role_id = resources[name]["Properties"]["Role"]["Fn::GetAtt"][0]
        role = physical_ids[role_id]
        declared = {p["PolicyName"] for p in resources[role_id]["Properties"]["Policies"]}
        assert set(iam.list_role_policies(RoleName=role)["PolicyNames"]) == declared, name
        for policy in declared:
            document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            assert "Fn::" not in str(document), (name, policy)
            assert "${" not in str(document), (name, policy)
    groups = {
        group["logGroupName"]: group
        for group in session.client("logs").describe_log_groups()["logGroups"]
    }
    # bind_functions makes each function depend on its own log group.
    log_groups = {log_group for name in FUNCTIONS for log_group in resources[name]["DependsOn"]}
    assert log_groups <= set(_of_type(template, "AWS::Logs::LogGroup"))
    for logical_id in log_groups:
        group = groups[physical_ids[logical_id]]
        retention = resources[logical_id]["Properties"].get("RetentionInDays")
        assert group.get("retentionInDays") == retention, logical_id


def test_user_pool_has_its_groups_and_app_client(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    idp = session.client("cognito-idp")
    groups = idp.list_groups(UserPoolId=stack["UserPoolId"])["Groups"]
    assert {group["GroupName"] for group in groups} >= {"officials", "validators", "admins"}
    client = idp.describe_user_pool_client(
        UserPoolId=stack["UserPoolId"], ClientId=stack["UserPoolClientId"]
    )["UserPoolClient"]
    assert client["UserPoolId"] == stack["UserPoolId"]


def test_resources_created_through_their_api_resolve_parameters_and_placeholders(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    template = packaged_template()
    del template["Resources"]["OverdueScan"]["Properties"]["FunctionName"]  # as Chalice writes it
    template.setdefault("Parameters", {})["RunbookUrl"] = {
        "Type": "String",
        "Default": "https://wiki.example.org/runbook",
    }
    alarm = template["Resources"]["PhotoDeadLettersAlarm"]["Properties"]
    alarm["AlarmDescription"] = {"Fn::Sub": "Triage the photos: ${RunbookUrl}"}

    provision(session, "parameterised", _write(tmp_path, template))

    cloudwatch = session.client("cloudwatch")
    alarms = {
        alarm["AlarmName"]: alarm
        for alarm in cloudwatch.describe_alarms(AlarmNamePrefix="parameterised-")["MetricAlarms"]
    }
    dead_letters = alarms["parameterised-PhotoDeadLettersAlarm"]
    assert dead_letters["AlarmDescription"] == "Triage the photos: https://wiki.example.org/runbook"
    assert alarms["parameterised-OverdueScanFailedAlarm"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": dropped_placeholder("OverdueScan")}
    ]


# ---------------------------------------------------------------------------- failing loudly


def test_a_type_moto_skips_fails_provisioning_by_name(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    template = packaged_template()
    template["Resources"]["WebSocketAPI"] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {"Name": "cepat-respon-ws", "ProtocolType": "WEBSOCKET"},
    }

    with (
        pytest.raises(ProvisionError, match=r"did not create.*WebSocketAPI \(AWS::ApiGatewayV2"),
        pytest.warns(UserWarning, match="AWS::ApiGatewayV2::Api but it's not supported"),
    ):
        provision(session, "unsupported-type", _write(tmp_path, template))


def test_a_resource_moto_refuses_fails_provisioning(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    template = packaged_template()
    template["Resources"]["PhotoQueue"]["Properties"]["FifoQueue"] = True

    with pytest.raises(ProvisionError, match="failed to create refused-queue"):
        provision(session, "refused-queue", _write(tmp_path, template))
