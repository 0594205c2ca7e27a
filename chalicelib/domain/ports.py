"""The interfaces use cases depend on; adapters implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.sanctions import Sanction
from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Channel, Status, Ticket

if TYPE_CHECKING:
    from chalicelib.domain.bundle import TenantBundle
    from chalicelib.domain.jurisdiction import Jurisdiction


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class Page:
    items: Sequence[Ticket]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """What statistics need of a ticket, read from a narrow index projection."""

    ticket_id: str
    created_at: datetime
    status: Status
    channel: Channel
    unit_id: str | None
    unit_name: str | None
    overdue: bool
    category: str = ""
    private: bool = True


class TicketRepository(Protocol):
    def add(self, ticket: Ticket) -> None:
        """Store a new ticket; fails if the id exists."""
        ...

    def get(self, tenant: str, ticket_id: str) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> None:
        """Write back a ticket read earlier; raises StaleWrite if its version moved on."""
        ...

    def list_by_reporter(
        self, tenant: str, reporter_id: str, *, limit: int, cursor: str | None
    ) -> Page: ...

    def list_by_unit(
        self, tenant: str, unit_id: str, status: str | None, *, limit: int, cursor: str | None
    ) -> Page:
        """A unit's tickets, most recently changed first, optionally of one status."""
        ...

    def list_by_status(
        self, tenant: str, status: str, *, limit: int, cursor: str | None
    ) -> Page: ...

    def count_by_status(self, tenant: str, status: str) -> tuple[int, int]:
        """(tickets in `status`, of them overdue): the operations dashboard's gauges."""
        ...

    def summaries_by_month(self, tenant: str, months: Sequence[str]) -> list[TicketSummary]:
        """Every ticket that came in during the given months (YYYY-MM, tenant's zone)."""
        ...

    def clock_events_due(self, shard: int, until: datetime) -> Sequence[Ticket]:
        """Tickets of one shard of the clock index whose next SLA event is at or before `until`."""
        ...

    def open_in_cells(self, tenant: str, category: str, cells: Sequence[str]) -> list[Ticket]:
        """Open, located tickets of a category whose location falls in any geohash cell."""
        ...

    def next_sequence(self, tenant: str, day: str) -> int:
        """Atomically increment and return the tenant's ticket counter for `day` (YYMMDD)."""
        ...


class TenantDirectory(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...

    def all(self) -> Sequence[Tenant]: ...

    def jurisdiction(self, tenant_id: str) -> Jurisdiction:
        """Areas, units and routing of a served tenant, built once per revision."""
        ...

    def put(self, bundle: TenantBundle) -> None:
        """Store a validated bundle; readers switch to it only once it is complete."""
        ...


@dataclass(frozen=True, slots=True)
class Head:
    """Who heads a unit from `since` (until the next record): the person a sanction names."""

    name: str
    since: datetime
    username: str | None = None
    nip: str | None = None


class UnitHeads(Protocol):
    def appoint(self, tenant: str, unit_id: str, head: Head) -> None: ...

    def head_at(self, tenant: str, unit_id: str, at: datetime) -> Head | None: ...

    def history(self, tenant: str, unit_id: str) -> Sequence[Head]: ...


@dataclass(frozen=True, slots=True)
class PresignedPost:
    url: str
    fields: Mapping[str, str]
    expires_at: datetime


class UploadSigner(Protocol):
    def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost: ...


class PhotoStore(Protocol):
    def size(self, key: str) -> int:
        """Size in bytes of an uploaded original."""
        ...

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes of an original from `offset` (a ranged GET)."""
        ...

    def read_all(self, key: str, max_bytes: int) -> bytes: ...

    def publish(self, key: str, data: bytes) -> None:
        """Store a public (EXIF-free) JPEG under `key` in the public media bucket."""
        ...


class SanctionLedger(Protocol):
    def record(self, sanction: Sanction) -> bool:
        """Store a sanction once; False when that assignment already has one."""
        ...

    def period(self, tenant: str, period: str) -> Sequence[Sanction]: ...


class OperationsFiles(Protocol):
    """The private operations bucket: tenant bundles in, ledger exports out."""

    def read(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes; TenantConfigError naming the location when it is missing."""
        ...

    def write(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key`; returns its location (s3://bucket/key)."""
        ...

    def location(self, key: str) -> str:
        """How `key` is named to an admin (s3://bucket/key)."""
        ...


@dataclass(frozen=True, slots=True)
class ApiClient:
    """An Open311 client application, allowed to post requests for one tenant."""

    key_id: str
    tenant: str
    name: str
    revoked: bool = False


class ApiKeys(Protocol):
    def issue(self, tenant: str, name: str) -> tuple[str, ApiClient]:
        """A new key (shown once) and its record; only a hash of the key is stored."""
        ...

    def lookup(self, key: str) -> ApiClient | None: ...

    def revoke(self, key_id: str) -> bool: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Mapping[str, Any]:
        """Verified claims of a Cognito ID token; raises NotAuthenticated otherwise."""
        ...
