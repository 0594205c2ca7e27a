"""The interfaces use cases depend on; adapters implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.tenants import Tenant
from chalicelib.domain.tickets import Ticket


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class Page:
    items: Sequence[Ticket]
    cursor: str | None


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

    def next_sequence(self, tenant: str, day: str) -> int:
        """Atomically increment and return the tenant's ticket counter for `day` (YYMMDD)."""
        ...


class TenantDirectory(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...

    def all(self) -> Sequence[Tenant]: ...

    def put(self, tenant: Tenant) -> None: ...


@dataclass(frozen=True, slots=True)
class PresignedPost:
    url: str
    fields: Mapping[str, str]
    expires_at: datetime


class UploadSigner(Protocol):
    def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost: ...


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Mapping[str, Any]:
        """Verified claims of a Cognito ID token; raises NotAuthenticated otherwise."""
        ...
