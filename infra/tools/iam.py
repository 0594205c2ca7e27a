"""Least privilege, checked: the AWS actions each function performs, and whether its role allows
them.

`ApiCallRecorder` records every call botocore makes (boto3 and PynamoDB alike) and every presigned
POST (whoever uses it acts with the signer's permissions), under the name of the Lambda function
running at the time. `permissions_for` turns one call into the IAM actions and resource ARNs AWS
authorizes it against, and `Policy.allows` evaluates them against a role's policy documents the
way IAM evaluates identity policies: an explicit Deny wins, then any Allow whose Action and
Resource patterns match. tests/adapters/test_iam_coverage.py puts these together.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import botocore.client
import botocore.signers


@dataclass(frozen=True, order=True)
class Permission:
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}"


class UnmappedCall(LookupError):
    """A call this module cannot translate into IAM terms: extend `permissions_for`."""


# S3 operations authorized as another action, and the actions that act on the bucket itself.
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
}
_S3_BUCKET_ACTIONS = frozenset({"ListBucket"})
_DYNAMODB_TRANSACT = (
    ("Put", "PutItem"),
    ("Update", "UpdateItem"),
    ("Delete", "DeleteItem"),
    ("ConditionCheck", "ConditionCheckItem"),
    ("Get", "GetItem"),
)


def permissions_for(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    partition: str = "aws",
) -> list[Permission]:
    """The IAM (action, resource) pairs AWS checks for one API call."""

    def table(name: str) -> str:
        return f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"

    if service == "dynamodb":
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [Permission(f"dynamodb:{operation}", table(t)) for t in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            found = []
            for item in params["TransactItems"]:
                for kind, action in _DYNAMODB_TRANSACT:
                    if kind in item:
                        found.append(
                            Permission(f"dynamodb:{action}", table(item[kind]["TableName"]))
                        )
            return found
        if "TableName" not in params:
            raise UnmappedCall(f"dynamodb:{operation} without a TableName")
        resource = table(params["TableName"])
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Permission(f"dynamodb:{operation}", resource)]
    if service == "s3":
        if operation in ("CopyObject", "DeleteObjects", "UploadPartCopy"):
            raise UnmappedCall(f"s3:{operation}")
        action = _S3_ACTIONS.get(operation, operation)
        resource = f"arn:{partition}:s3:::{params['Bucket']}"
        if action not in _S3_BUCKET_ACTIONS:
            if "Key" not in params:
                raise UnmappedCall(f"s3:{operation} without a Key")
            resource += f"/{params['Key']}"
        return [Permission(f"s3:{action}", resource)]
    if service == "sns" and operation == "Publish":
        return [Permission("sns:Publish", str(params.get("TopicArn") or params["TargetArn"]))]
    if service == "sqs" and "QueueUrl" in params:
        name = urlparse(str(params["QueueUrl"])).path.rstrip("/").rsplit("/", 1)[-1]
        action = "SendMessage" if operation == "SendMessageBatch" else operation
        return [Permission(f"sqs:{action}", f"arn:{partition}:sqs:{region}:{account}:{name}")]
    raise UnmappedCall(f"{service}:{operation}")


@dataclass(frozen=True)
class Call:
    function: str | None
    operation: str
    permissions: tuple[Permission, ...]


@dataclass
class ApiCallRecorder:
    """Records AWS calls while active; `running(name)` attributes them to a function."""

    region: str
    account: str
    calls: list[Call] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)

    def _record(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        if getattr(self._local, "paused", False):
            return
        function = getattr(self._local, "function", None)
        try:
            permissions = permissions_for(
                service, operation, params, region=self.region, account=self.account
            )
        except UnmappedCall as exc:
            self.unmapped.append(f"{function}: {exc}")
            return
        self.calls.append(Call(function, f"{service}:{operation}", tuple(permissions)))

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        previous = getattr(self._local, "function", None)
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = previous

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made here are not the functions' own (set-up, or Lambda's pollers)."""
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = False

    @contextmanager
    def active(self) -> Iterator[ApiCallRecorder]:
        recorder = self
        make_api_call = botocore.client.BaseClient._make_api_call
        presign_post = botocore.signers.S3PostPresigner.generate_presigned_post

        def recording_call(client: Any, operation_name: str, api_params: Any) -> Any:
            recorder._record(client.meta.service_model.service_name, operation_name, api_params)
            return make_api_call(client, operation_name, api_params)

        def recording_presign(presigner: Any, request_dict: Any, fields: Any = None,
                              conditions: Any = None, expires_in: int = 3600,
                              region_name: Any = None) -> Any:  # fmt: skip
            bucket = next(
                (c["bucket"] for c in conditions or [] if isinstance(c, dict) and "bucket" in c),
                None,
            )
            key = (fields or {}).get("key")
            if bucket is None or key is None:
                recorder.unmapped.append("s3 presigned POST without a bucket or key condition")
            else:
                recorder._record("s3", "PutObject", {"Bucket": bucket, "Key": key})
            return presign_post(
                presigner, request_dict, fields, conditions, expires_in, region_name
            )

        setattr(botocore.client.BaseClient, "_make_api_call", recording_call)  # noqa: B010
        setattr(botocore.signers.S3PostPresigner, "generate_presigned_post", recording_presign)  # noqa: B010
        try:
            yield self
        finally:
            setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)  # noqa: B010
            setattr(botocore.signers.S3PostPresigner, "generate_presigned_post", presign_post)  # noqa: B010

    def by_function(self) -> dict[str | None, set[Permission]]:
        found: dict[str | None, set[Permission]] = {}
        for call in self.calls:
            found.setdefault(call.function, set()).update(call.permissions)
        return found


def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: * is any run of characters, ? is any one character; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    sid: str = ""

    def matches(self, permission: Permission) -> bool:
        return any(
            _pattern(a, ignore_case=True).fullmatch(permission.action) for a in self.actions
        ) and any(
            _pattern(r, ignore_case=False).fullmatch(permission.resource) for r in self.resources
        )


@dataclass(frozen=True)
class Policy:
    """A role's identity policies; the elements this project uses (no Not*, no Conditions)."""

    statements: tuple[Statement, ...]

    @classmethod
    def from_documents(cls, documents: Sequence[Mapping[str, Any]]) -> Policy:
        statements = []
        for document in documents:
            for raw in _listed_statements(document.get("Statement", [])):
                unsupported = set(raw) - {"Sid", "Effect", "Action", "Resource"}
                if unsupported:
                    raise ValueError(
                        f"statement {raw.get('Sid', '?')}: {sorted(unsupported)} not evaluated here"
                    )
                statements.append(
                    Statement(
                        effect=str(raw["Effect"]),
                        actions=tuple(_listed(raw["Action"])),
                        resources=tuple(_listed(raw["Resource"])),
                        sid=str(raw.get("Sid", "")),
                    )
                )
        return cls(tuple(statements))

    def allows(self, permission: Permission) -> bool:
        if any(s.effect == "Deny" and s.matches(permission) for s in self.statements):
            return False
        return any(s.effect == "Allow" and s.matches(permission) for s in self.statements)

    def granted_actions(self) -> set[str]:
        return {a for s in self.statements if s.effect == "Allow" for a in s.actions}

    def unused_grants(self, needed: set[Permission]) -> list[str]:
        """Each Allow's (action, resource pattern) pair that no needed permission matches."""
        unused = []
        for s in self.statements:
            if s.effect != "Allow":
                continue
            for action in s.actions:
                for resource in s.resources:
                    probe = Statement("Allow", (action,), (resource,))
                    if not any(probe.matches(p) for p in needed):
                        unused.append(f"{s.sid}: {action} on {resource}")
        return unused

    def without_action(self, action: str) -> Policy:
        """The same policy with `action` taken out of every statement (statements left empty go)."""
        kept = []
        for statement in self.statements:
            actions = tuple(a for a in statement.actions if a.lower() != action.lower())
            if actions:
                kept.append(
                    Statement(statement.effect, actions, statement.resources, statement.sid)
                )
        return Policy(tuple(kept))

    def wildcards(self) -> list[str]:
        """Grants of every action of a service (or all services), or on every resource."""
        found = []
        for s in self.statements:
            if s.effect != "Allow":
                continue
            found += [f"{s.sid}: action {a}" for a in s.actions if "*" in a]
            found += [f"{s.sid}: resource {r}" for r in s.resources if r == "*"]
        return found


def _listed_statements(value: Any) -> list[Mapping[str, Any]]:
    return [value] if isinstance(value, Mapping) else list(value)
