"""The one place that wires real adapters to use cases. Tests wire fakes instead (`override`)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.config import Settings
from chalicelib.domain.ports import (
    ApiKeys,
    Clock,
    SanctionLedger,
    TenantDirectory,
    TicketRepository,
    TokenVerifier,
    UnitHeads,
)
from chalicelib.service.notifications import Notifier
from chalicelib.service.open311 import Open311Service
from chalicelib.service.operations import ConsoleOperations
from chalicelib.service.photos import PhotoService
from chalicelib.service.reports import ReportService
from chalicelib.service.routing import Router
from chalicelib.service.sla import OverdueScan
from chalicelib.service.staff import SanctionsService, StaffService
from chalicelib.service.workflow import TicketActions


@dataclass
class Services:
    settings: Settings | None
    clock: Clock
    tickets: TicketRepository
    tenants: TenantDirectory
    heads: UnitHeads
    verifier: TokenVerifier
    reports: ReportService
    photos: PhotoService
    actions: TicketActions
    staff: StaffService
    ledger: SanctionLedger
    scan: OverdueScan
    sanctions: SanctionsService
    keys: ApiKeys
    open311: Open311Service
    notifier: Notifier | None = None
    operations: ConsoleOperations | None = None

    def require_notifier(self) -> Notifier:
        if self.notifier is None:
            raise RuntimeError("UNIT_TOPIC_ARN and REPORTER_TOPIC_ARN are not configured")
        return self.notifier

    def require_operations(self) -> ConsoleOperations:
        if self.operations is None:
            raise RuntimeError("OPERATIONS_BUCKET is not configured")
        return self.operations


_lock = threading.Lock()
_services: Services | None = None
_clock_override: Clock | None = None


def new_id() -> str:
    return uuid.uuid4().hex


def build(settings: Settings, clock: Clock) -> Services:
    import boto3
    from botocore.config import Config

    from chalicelib.adapters import dynamodb
    from chalicelib.adapters.cognito import CognitoTokenVerifier, issuer_for
    from chalicelib.adapters.s3 import S3OperationsFiles, S3PhotoStore, S3UploadSigner
    from chalicelib.adapters.sns import SnsPublisher
    from chalicelib.domain.notifications import Audience

    dynamodb.bind(
        tickets_table=settings.tickets_table,
        tenants_table=settings.tenants_table,
        region=settings.region,
        host=settings.endpoint_url,
        sanctions_table=settings.sanctions_table,
    )
    s3: Any = boto3.client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=Config(signature_version="s3v4", retries={"mode": "standard"}),
    )
    tickets = dynamodb.DynamoTicketRepository()
    tenants = dynamodb.DynamoTenantDirectory()
    heads = dynamodb.DynamoUnitHeads()
    ledger = dynamodb.DynamoSanctionLedger()
    keys = dynamodb.DynamoApiKeys()
    verifier = CognitoTokenVerifier(
        issuer=issuer_for(settings.region, settings.user_pool_id),
        client_id=settings.user_pool_client_id,
        jwks_url=settings.jwks_url,
    )
    router = Router(tenants, heads, clock)
    signer = S3UploadSigner(s3, settings.uploads_bucket)
    actions = TicketActions(
        tickets=tickets,
        tenants=tenants,
        heads=heads,
        uploads=signer,
        clock=clock,
        new_id=new_id,
        media_base_url=settings.media_base_url,
    )
    reports = ReportService(
        tickets=tickets,
        tenants=tenants,
        uploads=signer,
        clock=clock,
        new_id=new_id,
        router=router,
        media_base_url=settings.media_base_url,
    )
    photos = PhotoService(
        tickets=tickets,
        tenants=tenants,
        store=S3PhotoStore(s3, settings.uploads_bucket, settings.media_bucket),
        router=router,
        clock=clock,
    )
    notifier = None
    if settings.unit_topic_arn and settings.reporter_topic_arn:
        sns: Any = boto3.client(
            "sns", region_name=settings.region, endpoint_url=settings.endpoint_url
        )
        topics = {
            Audience.UNIT: settings.unit_topic_arn,
            Audience.REPORTER: settings.reporter_topic_arn,
        }
        notifier = Notifier(SnsPublisher(sns, topics), settings.public_base_url)
    sanctions = SanctionsService(tenants, ledger)
    operations = None
    if settings.operations_bucket:
        operations = ConsoleOperations(
            tenants=tenants,
            heads=heads,
            actions=actions,
            sanctions=sanctions,
            files=S3OperationsFiles(s3, settings.operations_bucket),
            clock=clock,
        )
    return Services(
        notifier=notifier,
        operations=operations,
        settings=settings,
        clock=clock,
        tickets=tickets,
        tenants=tenants,
        heads=heads,
        verifier=verifier,
        reports=reports,
        photos=photos,
        actions=actions,
        staff=StaffService(tickets, tenants, settings.media_base_url, ledger),
        ledger=ledger,
        scan=OverdueScan(tickets, ledger, tenants, heads, clock),
        sanctions=sanctions,
        keys=keys,
        open311=Open311Service(
            tickets,
            tenants,
            keys,
            reports,
            clock,
            media_base_url=settings.media_base_url,
            base_url=settings.public_base_url,
        ),
    )


def services() -> Services:
    """Built lazily on first use, once per Lambda container."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                from chalicelib.clock import SystemClock

                _services = build(Settings.from_env(), _clock_override or SystemClock())
    return _services


def override(replacement: Services | None) -> None:
    """Install prebuilt services (tests) or drop them so the next call rebuilds from settings."""
    global _services
    with _lock:
        _services = replacement


def use_clock(clock: Clock | None) -> None:
    """Choose the clock for the next build (the local stack's shiftable clock)."""
    global _clock_override, _services
    with _lock:
        _clock_override = clock
        _services = None
