"""Deploy infra/template.yaml into moto, so tests and the local stack use production's resources.

Works against moto's in-process mock (``moto.mock_aws()``) and against moto's server (boto3
clients follow the ``AWS_ENDPOINT_URL`` environment variable). The template is the only source
of truth; nothing here repeats a property value:

0. A packaged template (``make package``'s dist/sam.json, with the SAM transform) first loses
   what needs a Lambda runtime: its functions, API and permissions (``MOTO_DROPPED_TYPES``), with
   every reference to them replaced (see ``deployable_in_moto``). The rest is infra/template.yaml
   plus the operations resources, and is deployed like it.
1. Resources moto's CloudFormation cannot create (Cognito, SQS queue policies, S3 bucket
   policies, CloudWatch alarms) are taken out of the template, together with the outputs that
   name them, and the rest is created as a real moto CloudFormation stack. A resource moto's
   CloudFormation skips (a type it has no model for) is an error.
2. The taken-out resources are created through their service APIs from their own template
   properties, with a small resolver for the intrinsics they use. One deliberate gap: bucket
   policy statements that deny under a condition are left out, because moto would deny every
   request with them (see ``moto_enforceable_policy``).
3. Properties that moto's CloudFormation accepts but silently drops (most S3 bucket
   configuration, DynamoDB TTL and point-in-time recovery) are applied through the service APIs.
   A property of those resource types that is neither applied by moto nor here is an error, so a
   template change cannot drift away from what moto runs.
4. The template's outputs are returned, resolved.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import yaml

TEMPLATE_PATH: Path = Path(__file__).with_name("template.yaml")

_STACK_TIMEOUT_S = 60.0

_log = logging.getLogger(__name__)


class ProvisionError(RuntimeError):
    """The template cannot be deployed into moto as it stands."""


# --------------------------------------------------------------------------------------------
# Loading


# PyYAML's safe loader plus CloudFormation's short-form intrinsics (!Ref ...). Built with type()
# because PyYAML has no type stubs in this environment, and mypy refuses a subclass of Any.
_TemplateLoader: Any = type("_TemplateLoader", (yaml.SafeLoader,), {})


# CloudFormation reads unquoted dates (2010-09-09) as strings, not timestamps.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_intrinsic(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - PyYAML has no other node kinds
        raise ProvisionError(f"unexpected YAML node for !{suffix}")
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation template, JSON or YAML, into its JSON form (``!Ref`` -> ``Ref``)."""
    with path.open(encoding="utf-8") as stream:
        if path.suffix == ".json":
            template = json.load(stream)
        else:
            template = yaml.load(stream, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ProvisionError(f"{path} is not a CloudFormation template (no Resources)")
    return template


# --------------------------------------------------------------------------------------------
# Resolving intrinsics


@dataclass
class _Resource:
    type: str
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class _Context:
    """What the resolver knows: (pseudo-)parameters, and every resource created so far."""

    def __init__(self, session: boto3.session.Session, stack_name: str, stack_id: str) -> None:
        self.session = session
        region = session.region_name
        if not region:
            raise ProvisionError("the boto3 session has no region (set AWS_DEFAULT_REGION)")
        self.region: str = region
        self._clients: dict[str, Any] = {}
        account_id: str = self.client("sts").get_caller_identity()["Account"]
        self.partition: str = session.get_partition_for_region(region)
        self.pseudo: dict[str, str] = {
            "AWS::StackName": stack_name,
            "AWS::StackId": stack_id,
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": self.partition,
        }
        self.resources: dict[str, _Resource] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = _getatt_parts(argument)
                return self._getatt(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                delimiter, items = argument
                return str(delimiter).join(str(item) for item in self.resolve(items))
            if key.startswith("Fn::") or key == "Condition":
                raise ProvisionError(f"provision.py cannot resolve {key}: {argument!r}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return self.resources[name].ref
        raise ProvisionError(f"cannot resolve Ref {name}: not a known parameter or resource")

    def _getatt(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise ProvisionError(
                f"cannot resolve GetAtt {logical_id}.{attribute}: no such resource"
            )
        if attribute not in resource.attributes:
            getter = _ATTRIBUTE_GETTERS.get(resource.type)
            if getter is None:
                raise ProvisionError(
                    f"cannot resolve GetAtt {logical_id}.{attribute}: {resource.type} attributes "
                    "are not supported by provision.py"
                )
            resource.attributes[attribute] = getter(self, resource.ref, attribute)
        return resource.attributes[attribute]

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, raw_variables = argument
            variables = {name: self.resolve(item) for name, item in raw_variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name not in self.pseudo:
                return self._getatt(*name.split(".", 1))
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _getatt_parts(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
        return logical_id, attribute
    logical_id, attribute = argument
    return str(logical_id), str(attribute)


def _references(value: Any) -> set[str]:
    """Logical ids and pseudo-parameters a template fragment refers to."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(_getatt_parts(argument)[0])
            elif key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("!") and name not in variables:
                        found.add(name if name.startswith("AWS::") else name.split(".", 1)[0])
                found |= _references(variables)
            else:
                found |= _references(argument)
    return found


# GetAtt of resources moto's CloudFormation created; its stack API does not expose attributes.
def _queue_attribute(context: _Context, url: str, attribute: str) -> str:
    if attribute == "Arn":
        attributes = context.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]
        return str(attributes["QueueArn"])
    if attribute == "QueueName":
        return url.rstrip("/").rsplit("/", 1)[-1]
    if attribute == "QueueUrl":
        return url
    raise ProvisionError(f"GetAtt {attribute} of AWS::SQS::Queue is not supported")


def _bucket_attribute(context: _Context, name: str, attribute: str) -> str:
    if attribute == "Arn":
        return f"arn:{context.partition}:s3:::{name}"
    if attribute == "DomainName":
        return f"{name}.s3.amazonaws.com"
    if attribute == "RegionalDomainName":
        return f"{name}.s3.{context.region}.amazonaws.com"
    raise ProvisionError(f"GetAtt {attribute} of AWS::S3::Bucket is not supported")


def _table_attribute(context: _Context, name: str, attribute: str) -> str:
    table = context.client("dynamodb").describe_table(TableName=name)["Table"]
    if attribute == "Arn":
        return str(table["TableArn"])
    if attribute == "StreamArn" and "LatestStreamArn" in table:
        return str(table["LatestStreamArn"])
    raise ProvisionError(f"GetAtt {attribute} of AWS::DynamoDB::Table is not supported")


_ATTRIBUTE_GETTERS: dict[str, Callable[[_Context, str, str], str]] = {
    "AWS::SQS::Queue": _queue_attribute,
    "AWS::S3::Bucket": _bucket_attribute,
    "AWS::DynamoDB::Table": _table_attribute,
}


# --------------------------------------------------------------------------------------------
# Step 2: resources moto's CloudFormation cannot create


def _rename(properties: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(key, key): value for key, value in properties.items()}


def _create_user_pool(context: _Context, logical_id: str, properties: dict[str, Any]) -> _Resource:
    idp = context.client("cognito-idp")
    params = _rename(dict(properties), {"UserPoolName": "PoolName"})
    # CreateUserPool has no EnabledMfas; CloudFormation sets it with SetUserPoolMfaConfig.
    enabled_mfas: list[str] = params.pop("EnabledMfas", [])
    pool = idp.create_user_pool(**params)["UserPool"]
    if enabled_mfas:
        mfa: dict[str, Any] = {"MfaConfiguration": params.get("MfaConfiguration", "OFF")}
        for kind in enabled_mfas:
            if kind == "SOFTWARE_TOKEN_MFA":
                mfa["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
            elif kind == "SMS_MFA":
                mfa["SmsMfaConfiguration"] = {"SmsConfiguration": params["SmsConfiguration"]}
            else:
                raise ProvisionError(f"{logical_id}: EnabledMfas {kind} is not supported")
        idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], **mfa)
    provider_name = f"cognito-idp.{context.region}.amazonaws.com/{pool['Id']}"
    return _Resource(
        type="AWS::Cognito::UserPool",
        ref=pool["Id"],
        attributes={
            "Arn": pool["Arn"],
            "UserPoolId": pool["Id"],
            "ProviderName": provider_name,
            "ProviderURL": f"https://{provider_name}",
        },
    )


def _create_user_pool_group(
    context: _Context, logical_id: str, properties: dict[str, Any]
) -> _Resource:
    group = context.client("cognito-idp").create_group(**properties)["Group"]
    return _Resource(type="AWS::Cognito::UserPoolGroup", ref=group["GroupName"])


def _create_user_pool_client(
    context: _Context, logical_id: str, properties: dict[str, Any]
) -> _Resource:
    client = context.client("cognito-idp").create_user_pool_client(**properties)["UserPoolClient"]
    attributes = {"ClientId": client["ClientId"], "Name": client["ClientName"]}
    if "ClientSecret" in client:
        attributes["ClientSecret"] = client["ClientSecret"]
    return _Resource(
        type="AWS::Cognito::UserPoolClient", ref=client["ClientId"], attributes=attributes
    )


def _create_queue_policy(
    context: _Context, logical_id: str, properties: dict[str, Any]
) -> _Resource:
    policy = json.dumps(properties["PolicyDocument"])
    for queue_url in properties["Queues"]:
        context.client("sqs").set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": policy}
        )
    return _Resource(
        type="AWS::SQS::QueuePolicy", ref=f"{context.pseudo['AWS::StackName']}-{logical_id}"
    )


def _create_bucket_policy(
    context: _Context, logical_id: str, properties: dict[str, Any]
) -> _Resource:
    document = moto_enforceable_policy(properties["PolicyDocument"])
    if document["Statement"]:
        context.client("s3").put_bucket_policy(
            Bucket=properties["Bucket"], Policy=json.dumps(document)
        )
    return _Resource(type="AWS::S3::BucketPolicy", ref=properties["Bucket"])


def moto_enforceable_policy(document: dict[str, Any]) -> dict[str, Any]:
    """A bucket policy without the statements moto 5 would enforce wrongly.

    Moto enforces bucket policies on object requests but evaluates their conditions without any
    request context (aws:SecureTransport, aws:SourceIp ...), so every condition holds: a
    conditional Deny, such as "deny when not over TLS", denies every request. Those statements
    are left out in moto; AWS applies the template's full policy.
    """
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [
        statement
        for statement in statements
        if not (statement.get("Effect") == "Deny" and statement.get("Condition"))
    ]
    for statement in statements:
        if statement not in kept:
            _log.info("moto: bucket policy statement %s left out", statement.get("Sid", statement))
    return {**document, "Statement": kept}


def _create_alarm(context: _Context, logical_id: str, properties: dict[str, Any]) -> _Resource:
    # CloudFormation names an unnamed alarm after the stack and the logical id.
    name = properties.get("AlarmName", f"{context.pseudo['AWS::StackName']}-{logical_id}")
    cloudwatch = context.client("cloudwatch")
    cloudwatch.put_metric_alarm(**{**properties, "AlarmName": name})
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return _Resource(
        type="AWS::CloudWatch::Alarm", ref=name, attributes={"Arn": str(alarm["AlarmArn"])}
    )


# Resource types moto 5's CloudFormation has no model for (it skips them with a warning).
API_CREATED_TYPES: dict[str, Callable[[_Context, str, dict[str, Any]], _Resource]] = {
    "AWS::Cognito::UserPool": _create_user_pool,
    "AWS::Cognito::UserPoolGroup": _create_user_pool_group,
    "AWS::Cognito::UserPoolClient": _create_user_pool_client,
    "AWS::SQS::QueuePolicy": _create_queue_policy,
    "AWS::S3::BucketPolicy": _create_bucket_policy,
    "AWS::CloudWatch::Alarm": _create_alarm,
}


# --------------------------------------------------------------------------------------------
# Step 3: properties moto's CloudFormation accepts and drops


def _translate(item: dict[str, Any], names: dict[str, str], where: str) -> dict[str, Any]:
    unknown = set(item) - set(names)
    if unknown:
        raise ProvisionError(f"{where}: provision.py cannot apply {sorted(unknown)} to moto")
    return {names[key]: value for key, value in item.items()}


_LIFECYCLE_RULE_NAMES = {
    "Id": "ID",
    "Status": "Status",
    "AbortIncompleteMultipartUpload": "AbortIncompleteMultipartUpload",
    "NoncurrentVersionExpiration": "NoncurrentVersionExpiration",
    "Transitions": "Transitions",
    "NoncurrentVersionTransitions": "NoncurrentVersionTransitions",
    "Prefix": "Prefix",
    "ExpirationInDays": "ExpirationInDays",
    "ExpiredObjectDeleteMarker": "ExpiredObjectDeleteMarker",
}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    api = _translate(rule, _LIFECYCLE_RULE_NAMES, "LifecycleConfiguration.Rules")
    api["Filter"] = {"Prefix": api.pop("Prefix", "")}
    expiration = {}
    if "ExpirationInDays" in api:
        expiration["Days"] = api.pop("ExpirationInDays")
    if "ExpiredObjectDeleteMarker" in api:
        expiration["ExpiredObjectDeleteMarker"] = api.pop("ExpiredObjectDeleteMarker")
    if expiration:
        api["Expiration"] = expiration
    if "Transitions" in api:
        api["Transitions"] = [
            _translate(
                transition,
                {"StorageClass": "StorageClass", "TransitionInDays": "Days"},
                "LifecycleConfiguration.Rules.Transitions",
            )
            for transition in api["Transitions"]
        ]
    if "NoncurrentVersionTransitions" in api:
        api["NoncurrentVersionTransitions"] = [
            _translate(
                transition,
                {
                    "StorageClass": "StorageClass",
                    "TransitionInDays": "NoncurrentDays",
                    "NewerNoncurrentVersions": "NewerNoncurrentVersions",
                },
                "LifecycleConfiguration.Rules.NoncurrentVersionTransitions",
            )
            for transition in api["NoncurrentVersionTransitions"]
        ]
    return api


def _put_lifecycle(s3: Any, bucket: str, value: dict[str, Any]) -> None:
    rules = [_lifecycle_rule(rule) for rule in value["Rules"]]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def _put_cors(s3: Any, bucket: str, value: dict[str, Any]) -> None:
    names = {
        "Id": "ID",
        "AllowedHeaders": "AllowedHeaders",
        "AllowedMethods": "AllowedMethods",
        "AllowedOrigins": "AllowedOrigins",
        "ExposedHeaders": "ExposeHeaders",
        "MaxAge": "MaxAgeSeconds",
    }
    rules = [_translate(rule, names, "CorsConfiguration.CorsRules") for rule in value["CorsRules"]]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


# CloudFormation's list name, and its destination key -> the API's.
_NOTIFICATION_KINDS = {
    "QueueConfigurations": ("Queue", "QueueArn"),
    "TopicConfigurations": ("Topic", "TopicArn"),
    "LambdaConfigurations": ("Function", "LambdaFunctionArn"),
}


def _put_notifications(s3: Any, bucket: str, value: dict[str, Any]) -> None:
    unknown = set(value) - set(_NOTIFICATION_KINDS)
    if unknown:
        raise ProvisionError(f"NotificationConfiguration: cannot apply {sorted(unknown)}")
    api: dict[str, Any] = {}
    for kind, entries in value.items():
        destination, api_destination = _NOTIFICATION_KINDS[kind]
        api[kind] = []
        for entry in entries:
            item = _translate(
                entry,
                {"Event": "Event", "Filter": "Filter", destination: api_destination},
                f"NotificationConfiguration.{kind}",
            )
            item["Events"] = [item.pop("Event")]
            if "Filter" in item:
                rules = item.pop("Filter")["S3Key"]["Rules"]
                item["Filter"] = {"Key": {"FilterRules": rules}}
            api[kind].append(item)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=api)


_BUCKET_APPLIERS: dict[str, Callable[[Any, str, Any], None]] = {
    "PublicAccessBlockConfiguration": lambda s3, bucket, value: s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=value
    ),
    "OwnershipControls": lambda s3, bucket, value: s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls=value
    ),
    "VersioningConfiguration": lambda s3, bucket, value: s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration=value
    ),
    "LifecycleConfiguration": _put_lifecycle,
    "CorsConfiguration": _put_cors,
    "NotificationConfiguration": _put_notifications,
}
# What moto's FakeBucket.create_from_cloudformation_json applies itself.
_BUCKET_APPLIED_BY_MOTO = {"BucketName", "BucketEncryption", "Tags"}


def _complete_bucket(context: _Context, bucket: str, properties: dict[str, Any]) -> None:
    s3 = context.client("s3")
    for name, value in properties.items():
        if name in _BUCKET_APPLIED_BY_MOTO:
            continue
        applier = _BUCKET_APPLIERS.get(name)
        if applier is None:
            raise ProvisionError(
                f"moto's CloudFormation drops AWS::S3::Bucket property {name} and provision.py "
                "does not apply it"
            )
        applier(s3, bucket, context.resolve(value))


def _complete_table(context: _Context, table: str, properties: dict[str, Any]) -> None:
    dynamodb = context.client("dynamodb")
    for name, value in properties.items():
        if name in _TABLE_APPLIED_BY_MOTO:
            continue
        if name == "TimeToLiveSpecification":
            dynamodb.update_time_to_live(
                TableName=table, TimeToLiveSpecification=context.resolve(value)
            )
        elif name == "PointInTimeRecoverySpecification":
            dynamodb.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification=context.resolve(value),
            )
        else:
            raise ProvisionError(
                f"moto's CloudFormation drops AWS::DynamoDB::Table property {name} and "
                "provision.py does not apply it"
            )


# What moto's Table.create_from_cloudformation_json applies itself.
_TABLE_APPLIED_BY_MOTO = {
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
    "StreamSpecification",
    "Tags",
    "DeletionProtectionEnabled",
    "SSESpecification",
    "WarmThroughput",
    "BillingMode",
}

_COMPLETERS: dict[str, Callable[[_Context, str, dict[str, Any]], None]] = {
    "AWS::S3::Bucket": _complete_bucket,
    "AWS::DynamoDB::Table": _complete_table,
}


# --------------------------------------------------------------------------------------------
# Step 0: packaged (SAM) templates

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

# Resource types of a packaged template that provisioning leaves out: moto cannot run the
# functions (no deployment package, no Lambda runtime), expands no SAM resource, and a
# permission, version or event source mapping only names a function. The local stack and the
# tests run the handlers in-process instead. Every other type must be created by moto's
# CloudFormation or by API_CREATED_TYPES; a type that is neither fails provisioning.
MOTO_DROPPED_TYPES: frozenset[str] = frozenset(
    {
        "AWS::Serverless::Function",
        "AWS::Serverless::Api",
        "AWS::Serverless::LayerVersion",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Version",
        "AWS::Lambda::LayerVersion",
    }
)
_FUNCTION_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})


def dropped_placeholder(logical_id: str, attribute: str = "") -> str:
    """What a reference to a left-out resource becomes when it has no value of its own."""
    suffix = f"-{attribute.replace('.', '-')}" if attribute else ""
    return f"not-in-moto-{logical_id}{suffix}"


class _DroppedReferences:
    """Replaces references to left-out resources inside the resources that stay."""

    def __init__(self, dropped: dict[str, Any]) -> None:
        self.dropped = dropped
        self._expanding: set[str] = set()

    def ref(self, logical_id: str) -> Any:
        """A function's FunctionName (still to be resolved), else a placeholder."""
        resource = self.dropped[logical_id]
        name = resource.get("Properties", {}).get("FunctionName")
        if resource["Type"] not in _FUNCTION_TYPES or name is None:
            return dropped_placeholder(logical_id)
        if logical_id in self._expanding:
            raise ProvisionError(f"{logical_id}: FunctionName refers to itself")
        self._expanding.add(logical_id)
        try:
            return self.rewrite(name)
        finally:
            self._expanding.discard(logical_id)

    def rewrite(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument in self.dropped:
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = _getatt_parts(argument)
                if logical_id in self.dropped:
                    return dropped_placeholder(logical_id, attribute)
            if key == "Fn::Sub":
                return {"Fn::Sub": self._sub(argument)}
        return {key: self.rewrite(item) for key, item in value.items()}

    def _sub(self, argument: Any) -> Any:
        listed = not isinstance(argument, str)
        text, raw_variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self.rewrite(item) for name, item in raw_variables.items()}
        for name in dict.fromkeys(_SUB_VARIABLE.findall(text)):
            logical_id, _, attribute = name.partition(".")
            if name.startswith("!") or name in variables or logical_id not in self.dropped:
                continue
            replacement = (
                dropped_placeholder(logical_id, attribute) if attribute else self.ref(logical_id)
            )
            if isinstance(replacement, str):
                text = text.replace("${" + name + "}", replacement)
            else:
                variables[name] = replacement
        return [text, variables] if listed or variables else text


def deployable_in_moto(template: dict[str, Any]) -> dict[str, Any]:
    """A packaged SAM template as a plain CloudFormation template that provisioning can deploy.

    Drops the transform and every resource of ``MOTO_DROPPED_TYPES``. In the resources that stay,
    a ``Ref`` to a dropped function becomes its ``FunctionName`` property, and any other reference
    to a dropped resource (``Ref``, ``Fn::GetAtt``, ``${...}`` in ``Fn::Sub``) a placeholder from
    ``dropped_placeholder``; ``DependsOn`` forgets them, and outputs naming them are left out.
    """
    transform = template.get("Transform")
    if transform not in (SAM_TRANSFORM, [SAM_TRANSFORM]):
        raise ProvisionError(f"cannot deploy a template with Transform {transform!r} into moto")
    resources: dict[str, Any] = template["Resources"]
    dropped = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] in MOTO_DROPPED_TYPES
    }
    references = _DroppedReferences(dropped)
    kept: dict[str, Any] = {}
    for logical_id, resource in resources.items():
        if logical_id in dropped:
            continue
        resource = references.rewrite(resource)
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        if set(depends_on) & set(dropped):
            del resource["DependsOn"]
            if remaining := [name for name in depends_on if name not in dropped]:
                resource["DependsOn"] = remaining
        kept[logical_id] = resource
    deployable = {
        key: value
        for key, value in template.items()
        if key not in ("Transform", "Resources", "Outputs")
    }
    deployable["Resources"] = kept
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not _references(output) & set(dropped)
    }
    if outputs:
        deployable["Outputs"] = outputs
    return deployable


# --------------------------------------------------------------------------------------------
# Orchestration


def _moto_template(template: dict[str, Any], api_created: set[str]) -> dict[str, Any]:
    """The template without the resources (and outputs naming them) moto cannot create."""
    resources: dict[str, Any] = {}
    for logical_id, resource in template["Resources"].items():
        if logical_id in api_created:
            continue
        blocked = _references(resource.get("Properties", {})) & api_created
        if blocked:
            raise ProvisionError(
                f"{logical_id} refers to {sorted(blocked)}, which moto's CloudFormation cannot "
                "create; provision.py only creates those after the stack"
            )
        resource = dict(resource)
        depends_on = resource.pop("DependsOn", [])
        # Ordering against an API-created resource cannot be expressed to moto; those are created
        # after the stack, and moto checks neither queue policies nor bucket policies.
        kept = [
            name
            for name in ([depends_on] if isinstance(depends_on, str) else depends_on)
            if name not in api_created
        ]
        if kept:
            resource["DependsOn"] = kept
        resources[logical_id] = resource
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not _references(output) & api_created
    }
    moto_template = {key: value for key, value in template.items() if key != "Outputs"}
    moto_template["Resources"] = resources
    if outputs:
        moto_template["Outputs"] = outputs
    return moto_template


def creation_order(resources: dict[str, Any], logical_ids: set[str]) -> list[str]:
    """``logical_ids`` sorted so that each comes after the resources it refers to or depends on."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered:
            return
        if logical_id in visiting:
            raise ProvisionError(f"circular dependency through {logical_id}")
        visiting.add(logical_id)
        resource = resources[logical_id]
        depends_on = resource.get("DependsOn", [])
        needs = _references(resource.get("Properties", {})) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        for other in sorted(needs & logical_ids):
            visit(other)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in sorted(logical_ids):
        visit(logical_id)
    return ordered


def _wait_for_stack(cloudformation: Any, stack_name: str) -> dict[str, Any]:
    deadline = time.monotonic() + _STACK_TIMEOUT_S
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            return stack
        if not status.endswith("_IN_PROGRESS"):
            events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [
                f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason')}"
                for event in events
                if event.get("ResourceStatusReason")
            ]
            raise ProvisionError(f"stack {stack_name} ended in {status}: {reasons}")
        if time.monotonic() > deadline:
            raise ProvisionError(f"stack {stack_name} still {status} after {_STACK_TIMEOUT_S}s")
        time.sleep(0.2)


def provision(
    session: boto3.session.Session, stack_name: str, template_path: Path = TEMPLATE_PATH
) -> dict[str, str]:
    """Create stack ``stack_name`` from the template in moto and return its outputs by name.

    The template is infra/template.yaml or a packaged SAM template (``make package``'s
    dist/sam.json), recognised by its ``Transform``.
    """
    template = load_template(template_path)
    if "Transform" in template:
        template = deployable_in_moto(template)
    resources: dict[str, Any] = template["Resources"]
    api_created = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in API_CREATED_TYPES
    }

    cloudformation = session.client("cloudformation")
    moto_template = _moto_template(template, api_created)
    try:
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(moto_template))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        # A resource moto fails on; moto may answer with a body botocore cannot parse.
        raise ProvisionError(
            f"moto's CloudFormation failed to create {stack_name}: {error}"
        ) from error
    stack = _wait_for_stack(cloudformation, stack_name)

    context = _Context(session, stack_name, stack["StackId"])
    for parameter in stack.get("Parameters", []):  # the values moto created the stack with
        context.pseudo[parameter["ParameterKey"]] = parameter.get("ParameterValue", "")
    for summary in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]:
        # moto lists a resource it skipped without a logical id.
        if "LogicalResourceId" in summary:
            context.resources[summary["LogicalResourceId"]] = _Resource(
                type=summary["ResourceType"], ref=summary["PhysicalResourceId"]
            )
    skipped = {
        f"{logical_id} ({resource['Type']})"
        for logical_id, resource in moto_template["Resources"].items()
        if logical_id not in context.resources
    }
    if skipped:
        raise ProvisionError(
            f"moto's CloudFormation did not create {sorted(skipped)}: a type it does not support, "
            "which provision.py neither creates through its API (API_CREATED_TYPES) nor leaves "
            "out of packaged templates (MOTO_DROPPED_TYPES)"
        )

    for logical_id in creation_order(resources, api_created):
        resource = resources[logical_id]
        create = API_CREATED_TYPES[resource["Type"]]
        properties = context.resolve(resource.get("Properties", {}))
        context.resources[logical_id] = create(context, logical_id, properties)

    for logical_id, resource in resources.items():
        complete = _COMPLETERS.get(resource["Type"])
        if complete is not None and logical_id not in api_created:
            complete(context, context.resources[logical_id].ref, resource.get("Properties", {}))

    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    for name, output in template.get("Outputs", {}).items():
        if name not in outputs:
            outputs[name] = str(context.resolve(output["Value"]))
    return outputs
