"""Fakes of our own ports, for use-case and route tests (moto is for adapters and end to end)."""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.admin import read_bundle
from chalicelib.bootstrap import Services
from chalicelib.domain.bundle import TenantBundle
from chalicelib.domain.errors import InvalidRequest, NotAuthenticated, StaleWrite
from chalicelib.domain.geo import geohash
from chalicelib.domain.jurisdiction import Jurisdiction
from chalicelib.domain.ports import ApiClient, Head, Page, PresignedPost, TicketSummary
from chalicelib.domain.sanctions import Sanction
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Ticket
from chalicelib.service.open311 import Open311Service
from chalicelib.service.photos import PhotoService
from chalicelib.service.reports import ReportService
from chalicelib.service.routing import Router
from chalicelib.service.sla import OverdueScan
from chalicelib.service.staff import SanctionsService, StaffService
from chalicelib.service.workflow import TicketActions

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@functools.cache
def shipped_bundles() -> tuple[TenantBundle, ...]:
    return tuple(read_bundle(p) for p in sorted((ROOT / "tenants").iterdir()) if p.is_dir())


def shipped_tenants() -> list[Tenant]:
    return [bundle.tenant for bundle in shipped_bundles()]


class FixedClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


class FakeTicketRepository:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Ticket] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.fail_next_save: Exception | None = None

    def add(self, ticket: Ticket) -> None:
        key = (ticket.tenant, ticket.ticket_id)
        if key in self.items:
            raise StaleWrite("exists")
        ticket.version = 1
        self.items[key] = copy.deepcopy(ticket)

    def get(self, tenant: str, ticket_id: str) -> Ticket | None:
        found = self.items.get((tenant, ticket_id))
        return copy.deepcopy(found) if found else None

    def save(self, ticket: Ticket) -> None:
        if self.fail_next_save is not None:
            error, self.fail_next_save = self.fail_next_save, None
            raise error
        key = (ticket.tenant, ticket.ticket_id)
        stored = self.items.get(key)
        if stored is None or stored.version != ticket.version:
            raise StaleWrite("stale")
        ticket.version = (ticket.version or 0) + 1
        self.items[key] = copy.deepcopy(ticket)

    def list_by_reporter(
        self, tenant: str, reporter_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        mine = sorted(
            (
                t
                for (ten, _), t in self.items.items()
                if ten == tenant and t.reporter_id == reporter_id
            ),
            key=lambda t: t.created_at,
            reverse=True,
        )
        start = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidRequest("bad cursor", field="cursor")
            start = int(cursor)
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return Page(
            items=[copy.deepcopy(t) for t in page], cursor=str(start + limit) if more else None
        )

    def _page(self, found: list[Ticket], limit: int, cursor: str | None) -> Page:
        start = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidRequest("bad cursor", field="cursor")
            start = int(cursor)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return Page(
            items=[copy.deepcopy(t) for t in page], cursor=str(start + limit) if more else None
        )

    def list_by_unit(
        self, tenant: str, unit_id: str, status: str | None, *, limit: int, cursor: str | None
    ) -> Page:
        found = [
            t
            for (ten, _), t in self.items.items()
            if ten == tenant
            and (t.assigned_unit or {}).get("id") == unit_id
            and (status is None or t.status.value == status)
        ]
        found.sort(key=lambda t: (t.status.value, t.updated_at), reverse=True)
        return self._page(found, limit, cursor)

    def list_by_status(self, tenant: str, status: str, *, limit: int, cursor: str | None) -> Page:
        found = [
            t for (ten, _), t in self.items.items() if ten == tenant and t.status.value == status
        ]
        found.sort(key=lambda t: t.updated_at, reverse=True)
        return self._page(found, limit, cursor)

    def count_by_status(self, tenant: str, status: str) -> tuple[int, int]:
        found = [
            t for (ten, _), t in self.items.items() if ten == tenant and t.status.value == status
        ]
        return len(found), sum(1 for t in found if t.overdue)

    def summaries_by_month(self, tenant: str, months: Sequence[str]) -> list[TicketSummary]:
        return [
            TicketSummary(
                ticket_id=t.ticket_id,
                created_at=t.created_at,
                status=t.status,
                channel=t.channel,
                unit_id=(t.assigned_unit or {}).get("id"),
                unit_name=(t.assigned_unit or {}).get("name"),
                overdue=t.overdue,
                category=t.category,
                private=t.private,
            )
            for (ten, _), t in self.items.items()
            if ten == tenant and t.month in months
        ]

    def clock_events_due(self, shard: int, until: datetime) -> Sequence[Ticket]:
        found = []
        for ticket in self.items.values():
            current = ticket.current_assignment
            if not ticket.is_open or current is None or not current.running:
                continue
            assert current.due_at is not None
            when = current.due_at
            if not current.reminded and current.remind_at and current.remind_at < when:
                when = current.remind_at
            if when <= until and int(ticket.ticket_id[-4:], 16) % 8 == shard:
                found.append(copy.deepcopy(ticket))
        return found

    def open_in_cells(self, tenant: str, category: str, cells: Sequence[str]) -> list[Ticket]:
        wanted = set(cells)
        return [
            copy.deepcopy(t)
            for (ten, _), t in self.items.items()
            if ten == tenant
            and t.category == category
            and t.is_open
            and t.location is not None
            and geohash(t.location.lat, t.location.lon) in wanted
        ]

    def next_sequence(self, tenant: str, day: str) -> int:
        key = (tenant, day)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]


class FakeTenantDirectory:
    def __init__(self, bundles: Sequence[TenantBundle] | None = None) -> None:
        self.bundles = {
            b.tenant.tenant_id: b for b in (bundles if bundles is not None else shipped_bundles())
        }

    def get(self, tenant_id: str) -> Tenant | None:
        bundle = self.bundles.get(tenant_id)
        return bundle.tenant if bundle else None

    def all(self) -> Sequence[Tenant]:
        return [b.tenant for b in self.bundles.values()]

    def jurisdiction(self, tenant_id: str) -> Jurisdiction:
        return self.bundles[tenant_id].jurisdiction

    def put(self, bundle: TenantBundle) -> None:
        self.bundles[bundle.tenant.tenant_id] = bundle


class FakeUnitHeads:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[Head]] = {}

    def appoint(self, tenant: str, unit_id: str, head: Head) -> None:
        history = self.records.setdefault((tenant, unit_id), [])
        history.append(head)
        history.sort(key=lambda h: h.since)

    def head_at(self, tenant: str, unit_id: str, at: datetime) -> Head | None:
        earlier = [h for h in self.records.get((tenant, unit_id), []) if h.since <= at]
        return earlier[-1] if earlier else None

    def history(self, tenant: str, unit_id: str) -> Sequence[Head]:
        return list(self.records.get((tenant, unit_id), []))


class FakeUploadSigner:
    def __init__(self) -> None:
        self.issued: list[dict[str, Any]] = []

    def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        self.issued.append(
            {
                "key": key,
                "content_type": content_type,
                "max_bytes": max_bytes,
                "expires_in": expires_in,
            }
        )
        return PresignedPost(
            url="https://uploads.example/bucket",
            fields={"key": key, "Content-Type": content_type},
            expires_at=datetime(2026, 12, 4, 9, 45, tzinfo=UTC),
        )


class FakePhotoStore:
    """Uploaded originals by key (put them with `upload`); public copies land in `published`."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.published: dict[str, bytes] = {}
        self.bytes_read = 0

    def upload(self, key: str, data: bytes) -> None:
        self.objects[key] = data

    def size(self, key: str) -> int:
        return len(self.objects[key])

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        data = self.objects[key][offset : offset + max(length, 0)]
        self.bytes_read += len(data)
        return data

    def read_all(self, key: str, max_bytes: int) -> bytes:
        return self.read_range(key, 0, max_bytes)

    def publish(self, key: str, data: bytes) -> None:
        self.published[key] = data


class FakeSanctionLedger:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], Sanction] = {}

    def record(self, sanction: Sanction) -> bool:
        key = (sanction.tenant, sanction.period, sanction.key)
        if key in self.records:
            return False
        self.records[key] = sanction
        return True

    def period(self, tenant: str, period: str) -> Sequence[Sanction]:
        return [s for (t, p, _), s in sorted(self.records.items()) if t == tenant and p == period]


class FakeApiKeys:
    def __init__(self) -> None:
        self.clients: dict[str, ApiClient] = {}

    def issue(self, tenant: str, name: str) -> tuple[str, ApiClient]:
        key = f"key-{len(self.clients) + 1}-{tenant}"
        client = ApiClient(key_id=f"id{len(self.clients) + 1}", tenant=tenant, name=name)
        self.clients[key] = client
        return key, client

    def lookup(self, key: str) -> ApiClient | None:
        return self.clients.get(key)

    def revoke(self, key_id: str) -> bool:
        for key, client in self.clients.items():
            if client.key_id == key_id:
                self.clients[key] = replace(client, revoked=True)
                return True
        return False


class FakeVerifier:
    """Tokens are plain names registered with their claims."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def register(
        self,
        token: str,
        *,
        groups: Sequence[str] = (),
        tenant: str | None = None,
        unit: str | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "sub": f"sub-{next(self._ids)}-{token}",
            "cognito:username": token,
        }
        if groups:
            claims["cognito:groups"] = list(groups)
        if tenant:
            claims["custom:tenant"] = tenant
        if unit:
            claims["custom:unit"] = unit
        self.tokens[token] = claims
        return token

    def verify(self, token: str) -> Mapping[str, Any]:
        if token not in self.tokens:
            raise NotAuthenticated("invalid token", code="invalid_token")
        return self.tokens[token]


def fake_services(clock: FixedClock | None = None, store: FakePhotoStore | None = None) -> Services:
    clock = clock or FixedClock()
    tickets = FakeTicketRepository()
    tenants = FakeTenantDirectory()
    heads = FakeUnitHeads()
    ledger = FakeSanctionLedger()
    keys = FakeApiKeys()
    ids = (f"{n:032x}" for n in itertools.count(0xA0000000))
    router = Router(tenants, heads, clock)
    signer = FakeUploadSigner()
    reports = ReportService(
        tickets=tickets,
        tenants=tenants,
        uploads=signer,
        clock=clock,
        new_id=lambda: next(ids),
        router=router,
    )
    actions = TicketActions(
        tickets=tickets,
        tenants=tenants,
        heads=heads,
        uploads=signer,
        clock=clock,
        new_id=lambda: next(ids),
    )
    photos = PhotoService(
        tickets=tickets,
        tenants=tenants,
        store=store if store is not None else FakePhotoStore(),
        router=router,
        clock=clock,
    )
    return Services(
        settings=None,
        clock=clock,
        tickets=tickets,
        tenants=tenants,
        heads=heads,
        verifier=FakeVerifier(),
        reports=reports,
        photos=photos,
        actions=actions,
        staff=StaffService(tickets, tenants, ledger=ledger),
        ledger=ledger,
        scan=OverdueScan(tickets, ledger, tenants, heads, clock),
        sanctions=SanctionsService(tenants, ledger),
        keys=keys,
        open311=Open311Service(tickets, tenants, keys, reports, clock),
    )
