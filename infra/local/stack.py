"""Start everything on loopback in one process: moto, the template's resources, the app, events.

moto server (S3, SQS, DynamoDB, SNS, Cognito, CloudFormation)   127.0.0.1:8002 by default
the API, served by Chalice's local server                       127.0.0.1:8000
the control endpoint (clock, schedules, health)                 127.0.0.1:8001
a poller that feeds photo-queue messages to the Lambda handler
a scheduler that runs the app's @app.schedule functions on the (shiftable) clock
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-3"
STACK_NAME = "cepat-respon-local"
LOCAL_DIR = Path(os.environ.get("CR_LOCAL_DIR") or ROOT / ".local")
TENANTS_DIR = ROOT / "tenants"

log = logging.getLogger("cepat-respon.local")


@dataclass
class Ports:
    api: int = 8000
    control: int = 8001
    moto: int = 8002


@dataclass
class ScheduleJob:
    name: str
    handler: Any
    every: timedelta | None
    last_run: Any = None
    runs: int = 0


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    quiet: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _servers: list[Any] = field(default_factory=list)
    _moto: Any = None
    _clock: Any = None
    _app_module: ModuleType | None = None
    _api_server: Any = None
    _jobs: dict[str, ScheduleJob] = field(default_factory=dict)
    _jobs_lock: threading.Lock = field(default_factory=threading.Lock)

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        self._start_moto()
        self._provision()
        self._configure_app()
        self._bind_api()
        self._load_tenants()
        self._create_users()
        self._spawn("api", self._api_server.serve_forever)
        self._start_control()
        self._start_queue_pollers()
        self._spawn("ticket-stream", self._poll_ticket_stream)
        self._start_scheduler()

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.ports.moto, verbose=False)
        self._moto.start()
        self.ports.moto = self._moto.get_host_and_port()[1]
        moto_url = f"http://{self.host}:{self.ports.moto}"
        # Every boto3/PynamoDB client in this process, the app's included, talks to moto.
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": moto_url,
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)

    def _provision(self) -> None:
        import boto3

        from infra.provision import provision

        self.outputs = provision(boto3.Session(region_name=REGION), STACK_NAME)

    def _configure_app(self) -> None:
        out = self.outputs
        moto_url = os.environ["AWS_ENDPOINT_URL"]
        os.environ.update(
            {
                "TICKETS_TABLE": out["TicketsTableName"],
                "TENANTS_TABLE": out["TenantsTableName"],
                "SANCTIONS_TABLE": out["SanctionsTableName"],
                "UPLOADS_BUCKET": out["UploadsBucketName"],
                "MEDIA_BUCKET": out["MediaBucketName"],
                "MEDIA_BASE_URL": f"{moto_url}/{out['MediaBucketName']}",
                "USER_POOL_ID": out["UserPoolId"],
                "USER_POOL_CLIENT_ID": out["UserPoolClientId"],
                "PHOTO_QUEUE_NAME": out["PhotoQueueUrl"].rsplit("/", 1)[-1],
                "PHOTO_DLQ_NAME": out["PhotoDeadLetterQueueUrl"].rsplit("/", 1)[-1],
                "TICKETS_STREAM_ARN": out["TicketsStreamArn"],
                "UNIT_TOPIC_ARN": out["UnitNotificationsTopicArn"],
                "REPORTER_TOPIC_ARN": out["ReporterNotificationsTopicArn"],
                "OPERATIONS_BUCKET": out["OperationsBucketName"],
                # On AWS the JWKS lives at the issuer; moto serves the same document locally.
                "COGNITO_JWKS_URL": f"{moto_url}/{out['UserPoolId']}/.well-known/jwks.json",
            }
        )
        from chalicelib import bootstrap
        from chalicelib.clock import ShiftableClock

        self._clock = ShiftableClock()
        bootstrap.use_clock(self._clock)
        sys.path.insert(0, str(ROOT))
        self._app_module = importlib.import_module("app")

    def _load_tenants(self) -> None:
        from chalicelib import bootstrap
        from chalicelib.admin import appoint_head, load_bundles
        from chalicelib.domain.ports import Head
        from infra.local.demo_users import DEMO_USERS

        services = bootstrap.services()
        folders = sorted(p for p in TENANTS_DIR.iterdir() if (p / "tenant.json").exists())
        load_bundles(folders, services.tenants)
        # The bucket admin-load-tenant reads, holding the shipped bundles as an admin uploads them.
        import boto3

        s3 = boto3.client("s3", region_name=REGION)
        for folder in folders:
            for file in sorted(folder.iterdir()):
                s3.put_object(
                    Bucket=self.outputs["OperationsBucketName"],
                    Key=f"tenants/{folder.name}/{file.name}",
                    Body=file.read_bytes(),
                )
        since = self._clock.now()
        for user in DEMO_USERS:
            if user.role == "official" and user.unit:
                appoint_head(
                    services.tenants,
                    services.heads,
                    tenant=user.tenant,
                    unit_id=user.unit,
                    head=Head(name=user.name, since=since, username=user.username),
                )

    def _create_users(self) -> None:
        import boto3

        from infra.local.demo_users import create_demo_users

        cognito = boto3.client("cognito-idp", region_name=REGION)
        self.users = create_demo_users(
            cognito, self.outputs["UserPoolId"], self.outputs["UserPoolClientId"]
        )
        LOCAL_DIR.mkdir(exist_ok=True)
        from chalicelib import bootstrap

        open311_key, _ = bootstrap.services().keys.issue("jakarta", "Demo Open311 client")
        document = {
            "open311_api_key": open311_key,
            "api_url": self.api_url,
            "control_url": self.control_url,
            "aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"],
            "region": REGION,
            "user_pool_id": self.outputs["UserPoolId"],
            "user_pool_client_id": self.outputs["UserPoolClientId"],
            "users": self.users,
        }
        target = LOCAL_DIR / "demo-users.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        tmp.replace(target)

    def _bind_api(self) -> None:
        from chalice.config import Config
        from chalice.local import create_local_server

        assert self._app_module is not None
        app = self._app_module.app
        config = Config.create(
            chalice_app=app,
            chalice_stage="local",
            function_name="api_handler",
            lambda_timeout=30,
            lambda_memory_size=512,
        )
        server = create_local_server(app, config, self.host, self.ports.api)
        self.ports.api = server.server.server_address[1]
        self._servers.append(server.server)
        self._api_server = server
        # Links in notifications point at this API.
        os.environ["PUBLIC_BASE_URL"] = self.api_url

    def _start_control(self) -> None:
        handler = type("Handler", (ControlHandler,), {"stack": self})
        server = ThreadingHTTPServer((self.host, self.ports.control), handler)
        server.daemon_threads = True
        self.ports.control = server.server_address[1]
        self._servers.append(server)
        self._spawn("control", server.serve_forever)

    def _start_scheduler(self) -> None:
        from chalice.app import Rate, ScheduledEventConfig

        assert self._app_module is not None
        app = self._app_module.app
        for source in app.event_sources:
            if not isinstance(source, ScheduledEventConfig):
                continue
            expr = source.schedule_expression
            every = None
            if isinstance(expr, Rate):
                unit = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}[expr.unit.upper()]
                every = timedelta(seconds=expr.value * unit)
            handler = getattr(self._app_module, source.handler_string.split(".")[-1])
            self._jobs[source.name] = ScheduleJob(source.name, handler, every, self._clock.now())
        self._spawn("scheduler", self._run_schedules)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- running ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.ports.api}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.ports.control}"

    def _start_queue_pollers(self) -> None:
        """One poller per @app.on_sqs_message handler, on the queue it names."""
        import boto3
        from chalice.app import SQSEventConfig

        assert self._app_module is not None
        sqs = boto3.client("sqs", region_name=REGION)
        for source in self._app_module.app.event_sources:
            if not isinstance(source, SQSEventConfig) or source.queue is None:
                continue
            url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            handler = getattr(self._app_module, source.handler_string.split(".")[-1])
            self._spawn(
                f"sqs-{source.name}",
                lambda url=url, arn=arn, handler=handler: self._poll_queue(url, arn, handler),
            )

    def _poll_queue(self, queue_url: str, queue_arn: str, handler: Any) -> None:
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        while not self._stop.is_set():
            try:
                deliver_sqs_batch(sqs, queue_url, queue_arn, handler)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("queue %s: delivery failed", queue_url)
                time.sleep(1)

    def _poll_ticket_stream(self) -> None:
        """Feed the tickets table's stream to the ticket-events handler, as Lambda would."""
        import boto3

        streams = boto3.client("dynamodbstreams", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        arn = self.outputs["TicketsStreamArn"]
        assert self._app_module is not None
        handler = self._app_module.on_ticket_changed
        iterators: dict[str, str] = {}
        while not self._stop.is_set():
            try:
                shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
                for shard in shards:
                    if shard["ShardId"] not in iterators:
                        iterators[shard["ShardId"]] = streams.get_shard_iterator(
                            StreamArn=arn,
                            ShardId=shard["ShardId"],
                            ShardIteratorType="TRIM_HORIZON",
                        )["ShardIterator"]
                busy = False
                for shard_id, iterator in list(iterators.items()):
                    page = streams.get_records(ShardIterator=iterator, Limit=25)
                    iterators[shard_id] = page["NextShardIterator"]
                    if page["Records"]:
                        busy = True
                        deliver_stream_batch(
                            page["Records"],
                            handler,
                            arn,
                            dead_letter=lambda body: sqs.send_message(
                                QueueUrl=self.outputs["TicketEventsDeadLetterQueueUrl"],
                                MessageBody=body,
                            ),
                        )
                if not busy:
                    self._stop.wait(0.2)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("ticket stream: delivery failed")
                time.sleep(1)

    def _run_schedules(self) -> None:
        while not self._stop.wait(0.5):
            now = self._clock.now()
            for job in list(self._jobs.values()):
                if job.every is not None and now - job.last_run >= job.every:
                    try:
                        self.run_schedule(job.name)
                    except Exception:
                        log.exception("schedule %s failed", job.name)

    def run_schedule(self, name: str) -> Any:
        job = self._jobs[name]
        with self._jobs_lock:
            now = self._clock.now()
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{name}"],
                "detail": {},
            }
            result = job.handler(event, _lambda_context(name))
            job.last_run = now
            job.runs += 1
            return result

    def advance_clock(self, delta: timedelta) -> Any:
        return self._clock.advance(delta)

    # --- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._moto is not None:
            self._moto.stop()


def deliver_sqs_batch(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    handler: Any,
    *,
    wait_seconds: int = 1,
    visibility_timeout: int | None = None,
) -> dict[str, int]:
    """One round of what Lambda's SQS poller does: receive, invoke, delete what succeeded.

    Messages the handler reports in batchItemFailures (or all of them, if it raises) stay on the
    queue, come back after the visibility timeout and go to the DLQ after maxReceiveCount.
    """
    receive: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": 10,
        "WaitTimeSeconds": wait_seconds,
        "MessageSystemAttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
    }
    if visibility_timeout is not None:
        receive["VisibilityTimeout"] = visibility_timeout
    messages = sqs.receive_message(**receive).get("Messages", [])
    if not messages:
        return {"received": 0, "deleted": 0}
    event = {"Records": [sqs_record(m, queue_arn) for m in messages]}
    try:
        result = handler(event, _lambda_context("process_photos"))
    except Exception:
        log.exception("photo queue: handler failed; the batch returns after the timeout")
        return {"received": len(messages), "deleted": 0}
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ],
        )
    return {"received": len(messages), "deleted": len(done)}


def deliver_stream_batch(
    records: list[dict[str, Any]],
    handler: Any,
    stream_arn: str,
    *,
    dead_letter: Any,
    attempts: int = 3,
) -> dict[str, int]:
    """Lambda's stream poller in small: retry from the first failed record, then give up on it.

    A record still failing after `attempts` goes to the dead-letter queue (Lambda's on-failure
    destination) and the batch carries on after it.
    """
    pending = [_stream_record(r, stream_arn) for r in records]
    delivered = dead = 0
    tries = 0
    while pending:
        result = handler({"Records": pending}, _lambda_context("notify_ticket_changes"))
        failures = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
        if not failures:
            delivered += len(pending)
            break
        seqs = [r["dynamodb"]["SequenceNumber"] for r in pending]
        first = seqs.index(failures[0]) if failures[0] in seqs else 0
        delivered += first
        pending = pending[first:]
        tries += 1
        if tries >= attempts:
            dead_letter(json.dumps({"stream": stream_arn, "record": pending[0]}, default=str))
            dead += 1
            pending = pending[1:]
            tries = 0
    return {"delivered": delivered, "dead_lettered": dead}


def _stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """boto3 parses what Lambda passes as epoch seconds; give the handler Lambda's shape."""
    change = dict(record.get("dynamodb", {}))
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A message as SQS's Lambda integration hands it to a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def _lambda_context(function_name: str) -> Any:
    deadline = time.monotonic() + 60
    return SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        aws_request_id=str(uuid.uuid4()),
        memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function_name}",
        get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000),
    )


# The functions an admin runs from the Lambda console (app.py), invokable here the same way.
ADMIN_FUNCTIONS = (
    "admin_load_tenant",
    "admin_appoint_head",
    "admin_reassign_ticket",
    "admin_run_overdue_scan",
    "admin_export_ledger",
)


class ControlHandler(BaseHTTPRequestHandler):
    """Loopback-only control endpoint; never part of the app or its package."""

    stack: LocalStack

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("control: " + format, *args)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw or b"{}")

    def do_GET(self) -> None:
        if self.path == "/health":
            clock = self.stack._clock
            self._send(
                200,
                {
                    "status": "ok",
                    "api_url": self.stack.api_url,
                    "now": clock.now().isoformat(),
                    "clock_offset_seconds": clock.offset.total_seconds(),
                    "schedules": sorted(self.stack._jobs),
                },
            )
        else:
            self._send(404, {"error": {"code": "not_found", "message": self.path}})

    def do_POST(self) -> None:
        try:
            body = self._json()
        except ValueError as exc:
            self._send(400, {"error": {"code": "malformed_request", "message": str(exc)}})
            return
        if self.path == "/clock/advance":
            self._advance(body)
        elif self.path.startswith("/schedules/") and self.path.endswith("/run"):
            name = self.path.removeprefix("/schedules/").removesuffix("/run")
            if name not in self.stack._jobs:
                known = ", ".join(sorted(self.stack._jobs)) or "none"
                self._send(
                    404,
                    {"error": {"code": "unknown_schedule", "message": f"known: {known}"}},
                )
                return
            result = self.stack.run_schedule(name)
            self._send(200, {"schedule": name, "result": result})
        elif self.path.startswith("/functions/") and self.path.endswith("/invoke"):
            self._invoke(self.path.removeprefix("/functions/").removesuffix("/invoke"), body)
        else:
            self._send(404, {"error": {"code": "not_found", "message": self.path}})

    def _invoke(self, name: str, event: Any) -> None:
        """An admin function with `event`, as the Lambda console's Test button does."""
        module = self.stack._app_module
        if name not in ADMIN_FUNCTIONS or module is None:
            known = ", ".join(ADMIN_FUNCTIONS)
            self._send(404, {"error": {"code": "unknown_function", "message": f"known: {known}"}})
            return
        self._send(200, getattr(module, name)(event, _lambda_context(name)))

    def _advance(self, body: Any) -> None:
        if not isinstance(body, dict) or set(body) - {"days", "hours"} or not body:
            self._send(
                400,
                {
                    "error": {
                        "code": "validation_error",
                        "message": 'send {"days": N} or {"hours": N}',
                    }
                },
            )
            return
        values = [body.get("days", 0), body.get("hours", 0)]
        if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in values):
            self._send(
                400,
                {"error": {"code": "validation_error", "message": "days/hours must be >= 0"}},
            )
            return
        now = self.stack.advance_clock(timedelta(days=values[0], hours=values[1]))
        self._send(
            200,
            {"now": now.isoformat(), "offset_seconds": self.stack._clock.offset.total_seconds()},
        )


def _banner(stack: LocalStack) -> str:
    users = {u["username"]: u for u in stack.users}
    citizen = users["warga1.jakarta"]
    exports = "\n".join(
        f"  export TOKEN_{name.split('.')[0].upper()}={users[name]['id_token']}"
        for name in ("warga1.jakarta", "lurah.gambir", "validator.jakarta", "admin.jakarta")
    )
    return f"""
Cepat Respon local stack is up.

  API               {stack.api_url}        (try: curl {stack.api_url}/v1/tenants)
  control endpoint  {stack.control_url}        (POST /clock/advance, POST /schedules/NAME/run,
                                              POST /functions/admin_NAME/invoke, GET /health)
  AWS (moto)        {os.environ["AWS_ENDPOINT_URL"]}        (region {REGION}, any credentials)

Demo users, passwords and ID tokens (valid 1 hour): {LOCAL_DIR / "demo-users.json"}
  {", ".join(sorted(users))}
Ready to paste (a fresh token any time: .venv/bin/python -m infra.local.token NAME):
{exports}

File a report as {citizen["username"]}:
  TOKEN=$(.venv/bin/python -m infra.local.token {citizen["username"]})
  curl -s -X POST {stack.api_url}/v1/jakarta/reports \\
       -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"category":"sampah","description":"Sampah menumpuk","location":{{"lat":-6.1754,"lon":106.8272}}}}'

Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("CR_API_PORT", 8000)))
    parser.add_argument(
        "--control-port", type=int, default=int(os.environ.get("CR_CONTROL_PORT", 8001))
    )
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("CR_MOTO_PORT", 8002)))
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the local stack listens on loopback only")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stack = LocalStack(
        host=args.host,
        ports=Ports(api=args.api_port, control=args.control_port, moto=args.moto_port),
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = time.monotonic()
    try:
        stack.start()
        print(_banner(stack), flush=True)
        log.info("ready in %.1f s", time.monotonic() - started)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: {exc} (is another local stack running? see --api-port)", file=sys.stderr)
        stack.stop()
        return 1
    finally:
        if stack._stop.is_set() is False:
            print("stopping...", flush=True)
            stack.stop()
    return 0
