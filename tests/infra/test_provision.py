"""The CloudFormation template, deployed into moto by infra/provision.py, behaves as designed."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import jwt
import pytest
import yaml
from cfnlint.api import lint_file

from infra.provision import (
    API_CREATED_TYPES,
    TEMPLATE_PATH,
    ProvisionError,
    load_template,
    moto_enforceable_policy,
    provision,
)
from tests.infra.conftest import REGION

STACK_NAME = "cepat-respon-test"
ACCOUNT_ID = "123456789012"  # moto's default account
OUTPUT_NAMES = {
    "TicketsTableName",
    "TenantsTableName",
    "UploadsBucketName",
    "MediaBucketName",
    "PhotoQueueUrl",
    "PhotoQueueArn",
    "PhotoDeadLetterQueueUrl",
    "PhotoDeadLetterQueueArn",
    "UserPoolId",
    "UserPoolArn",
    "UserPoolClientId",
    "TicketsStreamArn",
    "TicketEventsDeadLetterQueueUrl",
    "SanctionsTableName",
    "UnitNotificationsTopicArn",
    "ReporterNotificationsTopicArn",
    "OperationsBucketName",
}


@pytest.fixture(scope="module")
def stack(session: boto3.session.Session) -> dict[str, str]:
    return provision(session, STACK_NAME)


def _write_template(tmp_path: Path, template: dict[str, Any]) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template), encoding="utf-8")
    return path


def _receive_photo_events(session: boto3.session.Session, queue_url: str) -> list[dict[str, Any]]:
    """Every S3 event record on the queue, without the s3:TestEvent S3 sends on configuration."""
    sqs = session.client("sqs")
    records: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return records
        for message in messages:
            body = json.loads(message["Body"])
            records.extend(body.get("Records", []))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


# ---------------------------------------------------------------------------- the template


def test_template_passes_cfn_lint_without_errors() -> None:
    matches = lint_file(TEMPLATE_PATH)
    errors = [
        f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id[0] == "E"
    ]
    assert errors == []


def test_load_template_turns_short_form_intrinsics_into_their_long_form() -> None:
    template = load_template()
    queue = template["Resources"]["PhotoQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${AWS::StackName}-photo"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["PhotoDeadLetterQueue", "Arn"]
    }
    assert template["Outputs"]["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"


def test_every_resource_type_is_created_by_moto_cloudformation_or_by_its_api() -> None:
    from moto.cloudformation.parsing import get_model_map

    moto_types = set(get_model_map())
    for logical_id, resource in load_template()["Resources"].items():
        by_moto = resource["Type"] in moto_types
        by_api = resource["Type"] in API_CREATED_TYPES
        assert by_moto != by_api, f"{logical_id} ({resource['Type']})"


def test_stateful_resources_are_retained_when_the_stack_goes() -> None:
    stateful = {"AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::DynamoDB::Table"}
    stateful.add("AWS::Cognito::UserPool")
    for logical_id, resource in load_template()["Resources"].items():
        if resource["Type"] in stateful:
            assert resource["DeletionPolicy"] == "Retain", logical_id
            assert resource["UpdateReplacePolicy"] == "Retain", logical_id


def test_template_bucket_policy_denies_requests_without_tls() -> None:
    resources = load_template()["Resources"]
    (statement,) = resources["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_moto_gets_the_bucket_policy_without_conditional_denies_it_would_apply_to_all() -> None:
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    deny_tls = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    document = {"Version": "2012-10-17", "Statement": [allow, deny_tls]}
    assert moto_enforceable_policy(document)["Statement"] == [allow]


# ---------------------------------------------------------------------------- provisioning


def test_provision_returns_every_output_named_after_the_stack(stack: dict[str, str]) -> None:
    assert set(stack) == OUTPUT_NAMES
    assert stack["TicketsTableName"] == f"{STACK_NAME}-tickets"
    assert stack["TenantsTableName"] == f"{STACK_NAME}-tenants"
    assert stack["UploadsBucketName"] == f"{STACK_NAME}-uploads-{ACCOUNT_ID}"
    assert stack["OperationsBucketName"] == f"{STACK_NAME}-operations-{ACCOUNT_ID}"
    assert stack["PhotoQueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{STACK_NAME}-photo"
    assert stack["PhotoDeadLetterQueueUrl"].endswith(f"/{STACK_NAME}-photo-dlq")
    assert stack["UserPoolArn"].endswith(f":userpool/{stack['UserPoolId']}")
    assert stack["UnitNotificationsTopicArn"].endswith(f":{STACK_NAME}-unit-notifications")
    assert stack["ReporterNotificationsTopicArn"].endswith(f":{STACK_NAME}-reporter-notifications")
    assert f":table/{STACK_NAME}-tickets/stream/" in stack["TicketsStreamArn"]


def test_two_stages_in_one_account_do_not_collide(session: boto3.session.Session) -> None:
    dev = provision(session, "cepat-respon-dev")
    prod = provision(session, "cepat-respon-prod")
    assert not set(dev.values()) & set(prod.values())


def test_tickets_table_is_keyed_by_pk_with_reporter_index_ttl_and_recovery(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    dynamodb = session.client("dynamodb")
    table = dynamodb.describe_table(TableName=stack["TicketsTableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_reporter", "by_cell", "by_unit", "by_status", "by_month", "by_due"}
    assert indexes["by_reporter"]["KeySchema"] == [
        {"AttributeName": "reporter_key", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert indexes["by_cell"]["KeySchema"] == [
        {"AttributeName": "cell", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert indexes["by_month"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    ttl = dynamodb.describe_time_to_live(TableName=stack["TicketsTableName"])
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    backups = dynamodb.describe_continuous_backups(TableName=stack["TicketsTableName"])
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_tenants_table_is_keyed_by_pk_and_sk(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    dynamodb = session.client("dynamodb")
    table = dynamodb.describe_table(TableName=stack["TenantsTableName"])["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    backups = dynamodb.describe_continuous_backups(TableName=stack["TenantsTableName"])
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_photo_queue_redrives_to_the_dead_letter_queue_after_five_receives(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=stack["PhotoQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack["PhotoDeadLetterQueueArn"],
        "maxReceiveCount": 5,
    }
    assert attributes["VisibilityTimeout"] == "180"
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_dead_letter_queue_keeps_messages_for_fourteen_days(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=stack["PhotoDeadLetterQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_photo_queue_accepts_messages_only_from_the_uploads_bucket_of_this_account(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=stack["PhotoQueueUrl"], AttributeNames=["Policy"]
    )["Attributes"]
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == stack["PhotoQueueArn"]
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{stack['UploadsBucketName']}"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }


def test_upload_under_uploads_prefix_puts_an_object_created_event_on_the_photo_queue(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    _receive_photo_events(session, stack["PhotoQueueUrl"])
    key = "uploads/jakarta/ticket 1/photo.jpg"

    session.client("s3").put_object(Bucket=stack["UploadsBucketName"], Key=key, Body=b"\xff\xd8")

    (record,) = _receive_photo_events(session, stack["PhotoQueueUrl"])
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == stack["UploadsBucketName"]
    # Event keys are URL-encoded (AWS and moto alike): the consumer must unquote_plus them.
    assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_upload_outside_uploads_prefix_puts_nothing_on_the_photo_queue(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    _receive_photo_events(session, stack["PhotoQueueUrl"])

    s3 = session.client("s3")
    s3.put_object(Bucket=stack["UploadsBucketName"], Key="public/ticket-1/photo.jpg", Body=b"x")

    assert _receive_photo_events(session, stack["PhotoQueueUrl"]) == []


def test_uploads_bucket_is_private_encrypted_and_versioned(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    s3 = session.client("s3")
    bucket = stack["UploadsBucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (ownership,) = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_uploads_bucket_lifecycle_keeps_originals_and_cleans_up_the_rest(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    rules = session.client("s3").get_bucket_lifecycle_configuration(
        Bucket=stack["UploadsBucketName"]
    )["Rules"]
    by_id = {rule["ID"]: rule for rule in rules}
    assert all(rule["Status"] == "Enabled" for rule in rules)
    abort = by_id["abort-incomplete-multipart-uploads"]
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    noncurrent = by_id["expire-noncurrent-versions"]
    assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    originals = by_id["originals-to-infrequent-access"]
    assert originals["Filter"] == {"Prefix": "uploads/"}
    assert originals["Transitions"] == [{"Days": 90, "StorageClass": "STANDARD_IA"}]
    # Originals are evidence: no rule may expire current versions.
    assert not any("Expiration" in rule for rule in rules)


def test_uploads_bucket_accepts_browser_uploads_from_the_web_channel(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    (rule,) = session.client("s3").get_bucket_cors(Bucket=stack["UploadsBucketName"])["CORSRules"]
    assert set(rule["AllowedMethods"]) == {"POST", "GET"}
    assert rule["AllowedOrigins"] == ["*"]
    assert rule["AllowedHeaders"] == ["*"]
    assert rule["MaxAgeSeconds"] == 3000


def test_user_pool_has_staff_groups_custom_attributes_and_strong_passwords(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    idp = session.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=stack["UserPoolId"])["UserPool"]
    attributes = {attribute["Name"]: attribute for attribute in pool["SchemaAttributes"]}
    assert attributes["custom:tenant"]["StringAttributeConstraints"]["MaxLength"] == "64"
    assert attributes["custom:unit"]["StringAttributeConstraints"]["MaxLength"] == "128"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool["MfaConfiguration"] == "OPTIONAL"
    mfa = idp.get_user_pool_mfa_config(UserPoolId=stack["UserPoolId"])
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    groups = idp.list_groups(UserPoolId=stack["UserPoolId"])["Groups"]
    assert {group["GroupName"] for group in groups} == {
        "officials",
        "validators",
        "operators",
        "admins",
    }


def test_app_client_can_read_but_never_write_tenant_or_unit(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    client = session.client("cognito-idp").describe_user_pool_client(
        UserPoolId=stack["UserPoolId"], ClientId=stack["UserPoolClientId"]
    )["UserPoolClient"]
    assert {"custom:tenant", "custom:unit"} <= set(client["ReadAttributes"])
    assert not {"custom:tenant", "custom:unit"} & set(client["WriteAttributes"])
    assert "ClientSecret" not in client
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]


def test_official_signs_in_and_gets_an_id_token_with_group_and_tenant(
    session: boto3.session.Session, stack: dict[str, str]
) -> None:
    idp = session.client("cognito-idp")
    pool_id, username, password = stack["UserPoolId"], "lurah.gambir", "Gambir-Lurah-2026"
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "lurah.gambir@example.org"},
            {"Name": "custom:tenant", "Value": "jakarta"},
            {"Name": "custom:unit", "Value": "kel-31.71.01.1001"},
        ],
    )
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="officials")

    result = idp.initiate_auth(
        ClientId=stack["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]

    claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    assert claims["token_use"] == "id"
    assert claims["aud"] == stack["UserPoolClientId"]
    assert claims["cognito:groups"] == ["officials"]
    assert claims["custom:tenant"] == "jakarta"
    assert claims["custom:unit"] == "kel-31.71.01.1001"


# ---------------------------------------------------------------------------- failing loudly


def test_provision_refuses_a_bucket_property_it_cannot_bring_to_moto(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    template = {
        "Resources": {
            "Site": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"WebsiteConfiguration": {"IndexDocument": "index.html"}},
            }
        }
    }
    with pytest.raises(ProvisionError, match="WebsiteConfiguration"):
        provision(session, "drift", _write_template(tmp_path, template))


def test_provision_refuses_an_intrinsic_it_cannot_resolve(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    template = {
        "Resources": {
            "Pool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {"UserPoolName": {"Fn::ImportValue": "shared-pool-name"}},
            }
        }
    }
    with pytest.raises(ProvisionError, match="Fn::ImportValue"):
        provision(session, "unresolved", _write_template(tmp_path, template))
