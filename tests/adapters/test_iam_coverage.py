"""Every AWS action each Lambda function performs is allowed by its own role, and nothing more.

One scenario drives every function through its real entry point in app.py against the stack in
moto: the API (every route that touches AWS), the photo and dead-letter consumers, the stream
consumer, the hourly scan and the five admin functions. Every botocore call and presigned POST is
recorded under the function that made it (infra/tools/iam.py) and checked against the policy of
that function's role, read back from moto's IAM, where CloudFormation created it from
infra/template.yaml with every ARN resolved. What Lambda itself does with a function's role
(logs, polling its queue or stream, the on-failure destination) is listed from AWS's
documentation in `platform_permissions`, from the packaged event sources.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from chalice.test import Client

import app as app_module
from chalicelib import bootstrap
from chalicelib.admin import read_bundle
from chalicelib.config import Settings
from infra.local.demo_users import GAMBIR_KELURAHAN, create_demo_users
from infra.local.stack import REGION, deliver_stream_batch, sqs_record
from infra.provision import load_template
from infra.tools.iam import ApiCallRecorder, Permission, Policy
from infra.tools.package import FUNCTIONS, merge_template
from tests.adapters.conftest import AwsStack
from tests.fakes import FixedClock
from tests.photos import jpeg

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "cepat-respon-test"
MONAS = (-6.1754, 106.8272)
GAMBIR = GAMBIR_KELURAHAN
GAMBIR_KECAMATAN = "kecamatan:31.71.01"
ROLES = sorted({role for _, role in FUNCTIONS.values()})


@dataclasses.dataclass
class Recording:
    recorder: ApiCallRecorder
    policies: dict[str, Policy]
    platform: dict[str, set[Permission]]

    def performed(self, function: str) -> set[Permission]:
        return self.recorder.by_function().get(function, set())

    def needed_by_role(self, role: str) -> set[Permission]:
        needed: set[Permission] = set()
        for function, (_, role_of) in FUNCTIONS.items():
            if role_of == role:
                needed |= self.performed(function) | self.platform[function]
        return needed


def _users(aws_stack: AwsStack) -> dict[str, str]:
    """ID tokens of one user per role: the local stack's demo users, in the stack's pool."""
    users = create_demo_users(
        aws_stack.client("cognito-idp"),
        aws_stack.outputs["UserPoolId"],
        aws_stack.outputs["UserPoolClientId"],
    )
    by_name = {user["username"]: user["id_token"] for user in users}
    return {
        "citizen": by_name["warga1.jakarta"],
        "official": by_name["lurah.gambir"],
        "validator": by_name["validator.jakarta"],
        "operator": by_name["operator.jakarta"],
        "admin": by_name["admin.jakarta"],
    }


def _role_policies(aws_stack: AwsStack) -> dict[str, Policy]:
    cloudformation, iam = aws_stack.client("cloudformation"), aws_stack.client("iam")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=STACK_NAME)["StackResources"]
    }
    policies = {}
    for role in ROLES:
        name = physical[role]
        documents = []
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            # boto3 decodes AWS's URL-encoded JSON; moto hands back the text of the dict that
            # CloudFormation created the role with (Python's repr, not JSON).
            if isinstance(document, str):
                document = ast.literal_eval(document)
            documents.append(document)
        policies[role] = Policy.from_documents(documents)
    return policies


def platform_permissions(aws_stack: AwsStack, account: str) -> dict[str, set[Permission]]:
    """What Lambda does with each function's role: logs, and its event source's polling.

    From AWS's documentation: the execution role needs logs:CreateLogStream and
    logs:PutLogEvents on the function's log group; sqs:ReceiveMessage, sqs:DeleteMessage and
    sqs:GetQueueAttributes on a queue it consumes; dynamodb:DescribeStream, GetRecords,
    GetShardIterator and ListStreams on a stream it consumes; sqs:SendMessage on an on-failure
    destination queue.
    """
    outputs = aws_stack.outputs
    dlq_name = outputs["TicketEventsDeadLetterQueueUrl"].rsplit("/", 1)[-1]
    attributes = {
        ("PhotoQueue", "Arn"): outputs["PhotoQueueArn"],
        ("PhotoDeadLetterQueue", "Arn"): outputs["PhotoDeadLetterQueueArn"],
        ("TicketsTable", "StreamArn"): outputs["TicketsStreamArn"],
        ("TicketEventsDeadLetterQueue", "Arn"): f"arn:aws:sqs:{REGION}:{account}:{dlq_name}",
    }
    resources = merge_template()["Resources"]
    needed: dict[str, set[Permission]] = {}
    for function, (name, _) in FUNCTIONS.items():
        stream = (
            f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{STACK_NAME}-{name}"
            ":log-stream:2026/12/04/[$LATEST]0123456789abcdef"
        )
        permissions = {
            Permission("logs:CreateLogStream", stream),
            Permission("logs:PutLogEvents", stream),
        }
        events = resources.get(function, {}).get("Properties", {}).get("Events", {})
        for event in events.values():
            source = event["Properties"]
            if "Queue" in source:
                queue = attributes[tuple(source["Queue"]["Fn::GetAtt"])]
                for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
                    permissions.add(Permission(f"sqs:{action}", queue))
            if "Stream" in source:
                arn = attributes[tuple(source["Stream"]["Fn::GetAtt"])]
                for action in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
                    permissions.add(Permission(f"dynamodb:{action}", arn))
                on_failure = source["DestinationConfig"]["OnFailure"]["Destination"]
                permissions.add(
                    Permission("sqs:SendMessage", attributes[tuple(on_failure["Fn::GetAtt"])])
                )
        needed[function] = permissions
    return needed


def _upload(post: dict[str, Any], photo: bytes) -> None:
    sent = requests.post(
        post["url"], data=post["fields"], files={"file": ("p.jpg", photo)}, timeout=10
    )
    assert sent.status_code == 204, sent.text


def _queue_messages(aws_stack: AwsStack, queue_url: str) -> list[dict[str, Any]]:
    sqs = aws_stack.client("sqs")
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["All"],
    ).get("Messages", [])
    return messages


@pytest.fixture(scope="module")
def recording(aws_stack: AwsStack) -> Iterator[Recording]:
    outputs = aws_stack.outputs
    account = outputs["PhotoQueueArn"].split(":")[4]
    clock = FixedClock()
    settings = dataclasses.replace(
        aws_stack.settings(),
        operations_bucket=outputs["OperationsBucketName"],
        unit_topic_arn=outputs["UnitNotificationsTopicArn"],
        reporter_topic_arn=outputs["ReporterNotificationsTopicArn"],
        public_base_url="https://api.example.org",
    )
    services = bootstrap.build(settings, clock)
    bootstrap.override(services)
    recorder = ApiCallRecorder(region=REGION, account=account)
    s3, sqs = aws_stack.client("s3"), aws_stack.client("sqs")
    streams = aws_stack.client("dynamodbstreams")
    try:
        # Set-up an admin does outside the functions.
        services.tenants.put(read_bundle(ROOT / "tenants" / "jakarta"))
        tokens = _users(aws_stack)
        api_key, _ = services.keys.issue("jakarta", "IAM coverage client")
        for name in ("tenant.json", "boundaries.geojson"):
            s3.put_object(
                Bucket=outputs["OperationsBucketName"],
                Key=f"tenants/jakarta/{name}",
                Body=(ROOT / "tenants" / "jakarta" / name).read_bytes(),
            )
        # Skip what earlier tests left in the queues and the stream.
        for queue in (outputs["PhotoQueueUrl"], outputs["PhotoDeadLetterQueueUrl"]):
            sqs.purge_queue(QueueUrl=queue)
        stream_arn = outputs["TicketsStreamArn"]
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        iterators = {
            shard["ShardId"]: streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }
        with recorder.active():
            _scenario(aws_stack, recorder, settings, tokens, api_key, clock, iterators)
        yield Recording(
            recorder, _role_policies(aws_stack), platform_permissions(aws_stack, account)
        )
    finally:
        bootstrap.override(None)


def _scenario(
    aws_stack: AwsStack,
    recorder: ApiCallRecorder,
    settings: Settings,
    tokens: dict[str, str],
    api_key: str,
    clock: FixedClock,
    iterators: dict[str, str],
) -> None:
    outputs = aws_stack.outputs
    client = Client(app_module.app)
    sqs = aws_stack.client("sqs")

    @contextmanager
    def cold(function: str) -> Iterator[None]:
        """One invocation in a new container: no cache of an earlier call hides a read."""
        with recorder.paused():
            bootstrap.override(bootstrap.build(settings, clock))
        with recorder.running(function):
            yield

    def call(method: str, path: str, role: str | None = None, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if role:
            headers["Authorization"] = f"Bearer {tokens[role]}"
        with cold("APIHandler"):
            response = getattr(client.http, method)(
                path, headers=headers, body=json.dumps(body) if body is not None else b""
            )
        assert response.status_code < 300, (method, path, response.status_code, response.body)
        return response.json_body if response.body else None

    def process_photos() -> None:
        with recorder.paused():
            messages = _queue_messages(aws_stack, outputs["PhotoQueueUrl"])
        assert messages, "the upload should have notified the photo queue"
        event = {"Records": [sqs_record(m, outputs["PhotoQueueArn"]) for m in messages]}
        with cold("ProcessPhotos"):
            result = app_module.on_photo_uploaded(event, None)
        assert result == {"batchItemFailures": []}
        with recorder.paused():
            for m in messages:
                sqs.delete_message(
                    QueueUrl=outputs["PhotoQueueUrl"], ReceiptHandle=m["ReceiptHandle"]
                )

    def report(photo: bytes) -> dict[str, Any]:
        created: dict[str, Any] = call(
            "post",
            "/v1/jakarta/reports",
            "citizen",
            {
                "category": "sampah",
                "description": "Sampah menumpuk di trotoar",
                "photo": {"content_type": "image/jpeg", "content_length": len(photo)},
            },
        )
        with recorder.paused():
            _upload(created["upload"], photo)
        return created

    # --- The API, and the photo consumer behind it -------------------------------------------
    call("get", "/v1/tenants")
    call("get", "/v1/jakarta/categories")
    first = report(jpeg(lat=MONAS[0], lon=MONAS[1]))
    ticket = first["ticket_id"]
    process_photos()
    call("get", f"/v1/jakarta/reports/{ticket}", "citizen")
    call("get", f"/v1/jakarta/reports?near={MONAS[0]},{MONAS[1]}&category=sampah")
    call("get", "/v1/jakarta/me/reports", "citizen")
    unplaced = report(jpeg())["ticket_id"]
    process_photos()
    call(
        "post",
        f"/v1/jakarta/reports/{unplaced}/location",
        "citizen",
        {"lat": MONAS[0], "lon": MONAS[1]},
    )
    intake = call(
        "post",
        "/v1/jakarta/intake",
        "operator",
        {
            "category": "sampah",
            "description": "Sampah di depan Stasiun Gambir",
            "channel": "twitter",
            "received_at": "2026-12-04T08:15:00+07:00",
            "location": {"lat": MONAS[0], "lon": MONAS[1]},
        },
    )["ticket_id"]
    call("get", "/v1/jakarta/tickets?status=waiting", "validator")
    call("get", f"/v1/jakarta/tickets?unit={GAMBIR}", "official")
    call("get", f"/v1/jakarta/tickets/{ticket}", "official")
    call("get", "/v1/jakarta/stats", "validator")
    call("post", f"/v1/jakarta/tickets/{ticket}/actions", "official", {"action": "process"})
    evidence = call(
        "post",
        f"/v1/jakarta/tickets/{ticket}/evidence",
        "official",
        {"content_type": "image/jpeg", "content_length": 40_000},
    )
    with recorder.paused():
        _upload(evidence["upload"], jpeg(lat=MONAS[0], lon=MONAS[1]))
    process_photos()
    call(
        "post",
        f"/v1/jakarta/tickets/{ticket}/actions",
        "official",
        {"action": "submit_follow_up", "note": "Sampah sudah diangkut"},
    )
    call("post", f"/v1/jakarta/tickets/{ticket}/actions", "validator", {"action": "validate"})
    call("post", f"/v1/jakarta/reports/{ticket}/feedback", "citizen", {"rating": 5})
    call("post", f"/v1/jakarta/reports/{ticket}/reopen", "citizen", {"reason": "Menumpuk lagi"})
    call(
        "post",
        f"/v1/jakarta/tickets/{intake}/actions",
        "validator",
        {"action": "reject", "reason": "duplicate", "duplicate_of": ticket},
    )
    call("get", "/open311/v2/discovery.json")
    call("get", "/open311/v2/services.json?jurisdiction_id=jakarta")
    call("get", "/open311/v2/services/sampah.json?jurisdiction_id=jakarta")
    form = urllib.parse.urlencode(
        {
            "api_key": api_key,
            "jurisdiction_id": "jakarta",
            "service_code": "sampah",
            "description": "Sampah menumpuk di depan Stasiun Gambir",
            "lat": str(MONAS[0]),
            "long": str(MONAS[1]),
        }
    )
    with cold("APIHandler"):
        posted = client.http.post(
            "/open311/v2/requests.json",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=form,
        )
    assert posted.status_code == 201, posted.body
    request_id = posted.json_body[0]["service_request_id"]
    call("get", "/open311/v2/requests.json?jurisdiction_id=jakarta")
    call("get", f"/open311/v2/requests/{request_id}.json?jurisdiction_id=jakarta")

    # --- A photo that failed five times reaches the dead-letter consumer ----------------------
    report(jpeg(lat=MONAS[0], lon=MONAS[1]))
    with recorder.paused():
        dead = _queue_messages(aws_stack, outputs["PhotoQueueUrl"])
    assert dead

    with cold("TriageDeadPhotos"):
        event = {"Records": [sqs_record(m, outputs["PhotoDeadLetterQueueArn"]) for m in dead]}
        assert app_module.on_photo_dead_lettered(event, None) == {"batchItemFailures": []}

    # --- The SLA: the scan after the due time, run by the schedule and from the console ------
    call("post", f"/v1/jakarta/tickets/{unplaced}/actions", "official", {"action": "process"})
    clock.advance(days=8)
    scheduled = {
        "version": "0",
        "id": "5f7b3c3e-0000-0000-0000-000000000000",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-12T09:30:00Z",
        "region": REGION,
        "resources": [],
        "detail": {},
    }
    with cold("OverdueScan"):
        scanned = app_module.overdue_scan(scheduled, None)
    assert scanned["sanctioned"] >= 1, scanned
    with cold("AdminRunOverdueScan"):
        assert app_module.admin_run_overdue_scan({}, None)["ok"] is True
    call("get", "/v1/jakarta/sanctions?period=2026-12", "admin")
    with cold("APIHandler"):
        csv = client.http.get(
            "/v1/jakarta/sanctions?period=2026-12&format=csv",
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
    assert csv.status_code == 200

    # --- The admin functions ------------------------------------------------------------------
    # An updated bundle (a new revision), as when a region's boundaries or categories change.
    with recorder.paused():
        config = json.loads((ROOT / "tenants" / "jakarta" / "tenant.json").read_text())
        config["name"] += " (revisi)"
        aws_stack.client("s3").put_object(
            Bucket=outputs["OperationsBucketName"],
            Key="tenants/jakarta/tenant.json",
            Body=json.dumps(config).encode(),
        )
    for function, handler, event in (
        ("AdminLoadTenant", app_module.admin_load_tenant, {"tenant": "jakarta"}),
        (
            "AdminAppointHead",
            app_module.admin_appoint_head,
            {"tenant": "jakarta", "unit": GAMBIR, "name": "Lurah Gambir Baru"},
        ),
        (
            "AdminReassignTicket",
            app_module.admin_reassign_ticket,
            {
                "tenant": "jakarta",
                "ticket": unplaced,
                "unit": GAMBIR_KECAMATAN,
                "note": "Dialihkan ke kecamatan",
                "by": "admin.jakarta",
            },
        ),
        (
            "AdminExportLedger",
            app_module.admin_export_ledger,
            {"tenant": "jakarta", "period": "2026-12"},
        ),
    ):
        with cold(function):
            result = handler(event, None)
        assert result["ok"] is True, (function, result)
    with recorder.paused():
        bootstrap.services().tenants.put(read_bundle(ROOT / "tenants" / "jakarta"))

    # --- Every change so far, through the stream consumer -------------------------------------
    with recorder.paused():
        streams = aws_stack.client("dynamodbstreams")
        records: list[dict[str, Any]] = []
        for iterator in iterators.values():
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page["Records"]
    assert records
    with cold("NotifyTicketChanges"):
        delivered = deliver_stream_batch(
            records,
            app_module.on_ticket_changed,
            outputs["TicketsStreamArn"],
            dead_letter=lambda body: pytest.fail(f"a stream record failed: {body}"),
        )
    assert delivered["delivered"] == len(records)


def test_the_scenario_runs_every_function_and_every_call_is_understood(
    recording: Recording,
) -> None:
    functions = recording.recorder.by_function()
    assert recording.recorder.unmapped == []
    assert None not in functions, "every call should be made inside a function"
    assert set(functions) == set(FUNCTIONS)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_action_a_function_performs_is_allowed_by_its_role(
    recording: Recording, function: str
) -> None:
    policy = recording.policies[FUNCTIONS[function][1]]
    needed = recording.performed(function) | recording.platform[function]

    denied = sorted(str(p) for p in needed if not policy.allows(p))

    assert recording.performed(function)
    assert denied == []


@pytest.mark.parametrize("role", ROLES)
def test_every_action_a_role_grants_is_needed_by_its_functions(
    recording: Recording, role: str
) -> None:
    used = {p.action.lower() for p in recording.needed_by_role(role)}

    unused = sorted(a for a in recording.policies[role].granted_actions() if a.lower() not in used)

    assert unused == []


@pytest.mark.parametrize("role", ROLES)
def test_every_resource_a_role_names_is_used_by_each_action_granted_on_it(
    recording: Recording, role: str
) -> None:
    """Finer than the test above: no table, index, prefix or topic is granted in vain."""
    assert recording.policies[role].unused_grants(recording.needed_by_role(role)) == []


@pytest.mark.parametrize("role", ROLES)
def test_no_role_grants_a_wildcard_action_or_every_resource(
    recording: Recording, role: str
) -> None:
    assert recording.policies[role].wildcards() == []


def _granted_pairs() -> list[tuple[str, str]]:
    resources = load_template()["Resources"]
    pairs = set()
    for role in ROLES:
        for policy in resources[role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    pairs.add((role, action))
    return sorted(pairs)


@pytest.mark.parametrize(("role", "action"), _granted_pairs())
def test_taking_any_action_out_of_a_role_denies_a_call_its_functions_make(
    recording: Recording, role: str, action: str
) -> None:
    """The check above is not vacuous: each grant is the only one allowing some needed call."""
    narrowed = recording.policies[role].without_action(action)

    denied = [p for p in recording.needed_by_role(role) if not narrowed.allows(p)]

    assert denied, f"{role} still allows everything its functions need without {action}"
    assert {p.action.lower() for p in denied} == {action.lower()}
