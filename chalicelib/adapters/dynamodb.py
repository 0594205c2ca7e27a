"""DynamoDB through PynamoDB: tickets, per-day ticket counters and the tenant directory.

Table names come from configuration (`bind`); production tables are created by infra/, never here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.domain.bundle import TenantBundle
from chalicelib.domain.errors import InvalidRequest, StaleWrite
from chalicelib.domain.geo import geohash
from chalicelib.domain.jurisdiction import Jurisdiction, Village

if TYPE_CHECKING:
    from chalicelib.domain.bundle import TenantBundle
from chalicelib.domain.ports import ApiClient, Head, Page, TicketSummary
from chalicelib.domain.sanctions import Sanction
from chalicelib.domain.tenants import Tenant, parse_tenant, tenant_document
from chalicelib.domain.tickets import (
    Assignment,
    Channel,
    Feedback,
    Location,
    LocationSource,
    PendingUpload,
    Photo,
    PhotoKind,
    Rejection,
    Status,
    Ticket,
    TimelineEvent,
)


class ByReporterIndex(GlobalSecondaryIndex["TicketModel"]):
    class Meta:
        index_name = "by_reporter"
        projection = AllProjection()

    reporter_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByCellIndex(GlobalSecondaryIndex["TicketModel"]):
    """Sparse: only open, located tickets carry a cell ("{tenant}#{category}#{geohash6}")."""

    class Meta:
        index_name = "by_cell"
        projection = AllProjection()

    cell = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByUnitIndex(GlobalSecondaryIndex["TicketModel"]):
    """A unit's work queue: "{tenant}#{unit}", sorted by "{status}#{updated_at}"."""

    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_key = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class ByStatusIndex(GlobalSecondaryIndex["TicketModel"]):
    """A tenant's tickets in one status ("{tenant}#{status}"), most recently changed last."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status_key = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class ByMonthIndex(GlobalSecondaryIndex["TicketModel"]):
    """Tickets by the month they came in ("{tenant}#{YYYY-MM}", tenant's zone): statistics."""

    class Meta:
        index_name = "by_month"
        projection = IncludeProjection(
            ["status", "channel", "assigned_unit", "overdue", "category", "private"]
        )

    month_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByDueIndex(GlobalSecondaryIndex["TicketModel"]):
    """Sparse: only tickets whose current assignment's clock runs, by shard and next SLA event.

    `sla_next` is "{when}#{tenant}#{ticket}", when = the reminder time until the reminder is
    sent, then the due time; the ticket leaves the index when the clock stops or it goes
    overdue. The scan reads only what falls due, never the table.
    """

    class Meta:
        index_name = "by_due"
        projection = AllProjection()

    sla_shard = UnicodeAttribute(hash_key=True)
    sla_next = UnicodeAttribute(range_key=True)


class TicketModel(Model):
    class Meta:
        table_name = "tickets"

    pk = UnicodeAttribute(hash_key=True)
    tenant = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    number = UnicodeAttribute()
    status = UnicodeAttribute()
    category = UnicodeAttribute()
    description = UnicodeAttribute()
    channel = UnicodeAttribute()
    private = BooleanAttribute()
    reporter_id = UnicodeAttribute()
    reporter_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    device_location: MapAttribute[str, Any] = MapAttribute(null=True)
    location: MapAttribute[str, Any] = MapAttribute(null=True)
    pending_upload: MapAttribute[str, Any] = MapAttribute(null=True)
    photos: ListAttribute[Any] = ListAttribute(default=list)
    timeline: ListAttribute[Any] = ListAttribute(default=list)
    area: MapAttribute[str, Any] = MapAttribute(null=True)
    assigned_unit: MapAttribute[str, Any] = MapAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    overdue = BooleanAttribute(default=False)
    flags: ListAttribute[Any] = ListAttribute(default=list)
    rejection: MapAttribute[str, Any] = MapAttribute(null=True)
    assignments: ListAttribute[Any] = ListAttribute(default=list)
    feedback: MapAttribute[str, Any] = MapAttribute(null=True)
    cell = UnicodeAttribute(null=True)
    unit_key = UnicodeAttribute(null=True)
    queue_sort = UnicodeAttribute(null=True)
    status_key = UnicodeAttribute()
    month_key = UnicodeAttribute()
    reporter_contact: MapAttribute[str, Any] = MapAttribute(null=True)
    address = UnicodeAttribute(null=True)
    client = UnicodeAttribute(null=True)
    media_url = UnicodeAttribute(null=True)
    sla_shard = UnicodeAttribute(null=True)
    sla_next = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_reporter = ByReporterIndex()
    by_cell = ByCellIndex()
    by_unit = ByUnitIndex()
    by_status = ByStatusIndex()
    by_month = ByMonthIndex()
    by_due = ByDueIndex()


class CounterModel(Model):
    """Per-tenant, per-day ticket sequence, kept in the tickets table under its own key space."""

    class Meta:
        table_name = "tickets"

    pk = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class TenantModel(Model):
    """pk "TENANTS", sk tenant id: the tenant's config, naming the revision of its areas."""

    class Meta:
        table_name = "tenants"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    config: MapAttribute[str, Any] = MapAttribute()
    area_count = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()


class AreaModel(Model):
    """pk "AREAS#{tenant}#{revision}", sk village code: its names and its polygon (WKB)."""

    class Meta:
        table_name = "tenants"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    village: MapAttribute[str, Any] = MapAttribute()
    geometry = BinaryAttribute(legacy_encoding=False)


class HeadModel(Model):
    """pk "HEADS#{tenant}#{unit id}", sk the ISO time the appointment starts."""

    class Meta:
        table_name = "tenants"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    username = UnicodeAttribute(null=True)
    nip = UnicodeAttribute(null=True)
    recorded_at = UnicodeAttribute()


def bind(
    *,
    tickets_table: str,
    tenants_table: str,
    region: str,
    sanctions_table: str,
    host: str | None = None,
) -> None:
    """Point the models at the configured tables (once per container, or per test)."""
    tables: list[tuple[type[Model], str]] = [
        (TicketModel, tickets_table),
        (CounterModel, tickets_table),
        (TenantModel, tenants_table),
        (AreaModel, tenants_table),
        (HeadModel, tenants_table),
        (ApiKeyModel, tenants_table),
        (SanctionModel, sanctions_table),
    ]
    for model, table in tables:
        meta: Any = model.Meta
        meta.table_name = table
        meta.region = region
        meta.host = host
        # PynamoDB caches one connection per model class; a rebind must drop it.
        model._connection = None


# --- mapping between the domain and the stored shape ---------------------------------------


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _location_out(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {
        "lat": loc.lat,
        "lon": loc.lon,
        "source": loc.source.value,
        "accuracy_m": loc.accuracy_m,
    }


def _location_in(raw: Any) -> Location | None:
    if not raw:
        return None
    data = raw.as_dict() if isinstance(raw, MapAttribute) else dict(raw)
    return Location(
        lat=float(data["lat"]),
        lon=float(data["lon"]),
        source=LocationSource(data["source"]),
        accuracy_m=float(data["accuracy_m"]) if data.get("accuracy_m") is not None else None,
    )


def _plain(raw: Any) -> Any:
    if isinstance(raw, MapAttribute):
        return {k: _plain(v) for k, v in raw.as_dict().items()}
    if isinstance(raw, dict):
        return {k: _plain(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_plain(v) for v in raw]
    return raw


def _feedback(raw: Any) -> Feedback | None:
    if not raw:
        return None
    data = _plain(raw)
    return Feedback(
        rating=int(data["rating"]), comment=data.get("comment") or "", at=_dt(data["at"])
    )


SLA_SHARDS = 8


def sla_shard(ticket_id: str) -> str:
    # Spreads the clock index's writes over SLA_SHARDS partitions (write sharding).
    return f"SLA#{int(ticket_id[-4:], 16) % SLA_SHARDS}"


def sla_keys(ticket: Ticket) -> tuple[str | None, str | None]:
    """(shard, next event) for the clock index; (None, None) keeps the ticket out of it."""
    current = ticket.current_assignment
    if not ticket.is_open or current is None or not current.running or current.due_at is None:
        return None, None
    when = current.due_at
    if not current.reminded and current.remind_at is not None and current.remind_at < when:
        when = current.remind_at
    return sla_shard(ticket.ticket_id), f"{_ts(when)}#{ticket.tenant}#{ticket.ticket_id}"


def cell_key(ticket: Ticket) -> str | None:
    if not ticket.is_open or ticket.location is None:
        return None
    return f"{ticket.tenant}#{ticket.category}#{geohash(ticket.location.lat, ticket.location.lon)}"


def ticket_to_model(ticket: Ticket) -> TicketModel:
    pending = ticket.pending_upload
    unit_id = (ticket.assigned_unit or {}).get("id")
    item = TicketModel(
        pk=f"{ticket.tenant}#{ticket.ticket_id}",
        tenant=ticket.tenant,
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        status=ticket.status.value,
        category=ticket.category,
        description=ticket.description,
        channel=ticket.channel.value,
        private=ticket.private,
        reporter_id=ticket.reporter_id,
        reporter_key=f"{ticket.tenant}#{ticket.reporter_id}",
        created_at=_ts(ticket.created_at),
        updated_at=_ts(ticket.updated_at),
        device_location=_location_out(ticket.device_location),
        location=_location_out(ticket.location),
        pending_upload=(
            {
                "key": pending.key,
                "content_type": pending.content_type,
                "max_bytes": pending.max_bytes,
                "expires_at": _ts(pending.expires_at),
                "kind": pending.kind.value,
            }
            if pending
            else None
        ),
        photos=[
            {
                "key": p.key,
                "kind": p.kind.value,
                "content_type": p.content_type,
                "received_at": _ts(p.received_at),
                "size": p.size,
                "public_key": p.public_key,
                "thumbnail_key": p.thumbnail_key,
            }
            for p in ticket.photos
        ],
        timeline=[
            {
                "at": _ts(e.at),
                "from": e.from_status.value if e.from_status else None,
                "to": e.to_status.value,
                "actor_role": e.actor_role,
                "actor_id": e.actor_id,
                "unit": e.unit,
                "note": e.note,
            }
            for e in ticket.timeline
        ],
        area=ticket.area,
        assigned_unit=ticket.assigned_unit,
        due_at=_ts(ticket.due_at) if ticket.due_at else None,
        overdue=ticket.overdue,
        flags=list(ticket.flags),
        rejection=(
            {"reason": ticket.rejection.reason, "message": ticket.rejection.message}
            if ticket.rejection
            else None
        ),
        assignments=[
            {
                "unit_id": a.unit_id,
                "unit_name": a.unit_name,
                "unit_type": a.unit_type,
                "started_at": _ts(a.started_at),
                "head": a.head,
                "due_at": _ts(a.due_at) if a.due_at else None,
                "ended_at": _ts(a.ended_at) if a.ended_at else None,
                "reason": a.reason,
                "paused_at": _ts(a.paused_at) if a.paused_at else None,
                "remind_at": _ts(a.remind_at) if a.remind_at else None,
                "reminded": a.reminded,
                "overdue_at": _ts(a.overdue_at) if a.overdue_at else None,
                "escalated_to": a.escalated_to,
            }
            for a in ticket.assignments
        ],
        feedback=(
            {
                "rating": ticket.feedback.rating,
                "comment": ticket.feedback.comment,
                "at": _ts(ticket.feedback.at),
            }
            if ticket.feedback
            else None
        ),
        cell=cell_key(ticket),
        unit_key=f"{ticket.tenant}#{unit_id}" if unit_id else None,
        queue_sort=f"{ticket.status.value}#{_ts(ticket.updated_at)}" if unit_id else None,
        status_key=f"{ticket.tenant}#{ticket.status.value}",
        month_key=f"{ticket.tenant}#{ticket.month or f'{ticket.created_at:%Y-%m}'}",
        reporter_contact=dict(ticket.reporter_contact) if ticket.reporter_contact else None,
        address=ticket.address,
        client=ticket.client,
        media_url=ticket.media_url,
    )
    item.sla_shard, item.sla_next = sla_keys(ticket)
    if ticket.version is not None:
        item.version = ticket.version
    return item


def ticket_from_model(item: TicketModel) -> Ticket:
    pending = _plain(item.pending_upload) if item.pending_upload else None
    rejection = _plain(item.rejection) if item.rejection else None
    return Ticket(
        tenant=item.tenant,
        ticket_id=item.ticket_id,
        number=item.number,
        status=Status(item.status),
        category=item.category,
        description=item.description,
        channel=Channel(item.channel),
        private=bool(item.private),
        reporter_id=item.reporter_id,
        created_at=_dt(item.created_at),
        updated_at=_dt(item.updated_at),
        device_location=_location_in(item.device_location),
        location=_location_in(item.location),
        pending_upload=(
            PendingUpload(
                key=pending["key"],
                content_type=pending["content_type"],
                max_bytes=int(pending["max_bytes"]),
                expires_at=_dt(pending["expires_at"]),
                kind=PhotoKind(pending.get("kind", PhotoKind.REPORT.value)),
            )
            if pending
            else None
        ),
        photos=[
            Photo(
                key=p["key"],
                kind=PhotoKind(p["kind"]),
                content_type=p["content_type"],
                received_at=_dt(p["received_at"]),
                size=int(p["size"]) if p.get("size") is not None else None,
                public_key=p.get("public_key"),
                thumbnail_key=p.get("thumbnail_key"),
            )
            for p in _plain(item.photos or [])
        ],
        timeline=[
            TimelineEvent(
                at=_dt(e["at"]),
                from_status=Status(e["from"]) if e.get("from") else None,
                to_status=Status(e["to"]),
                actor_role=e["actor_role"],
                actor_id=e.get("actor_id"),
                unit=e.get("unit"),
                note=e.get("note") or "",
            )
            for e in _plain(item.timeline or [])
        ],
        area=_plain(item.area) if item.area else None,
        assigned_unit=_plain(item.assigned_unit) if item.assigned_unit else None,
        due_at=_dt(item.due_at) if item.due_at else None,
        overdue=bool(item.overdue),
        flags=[str(f) for f in _plain(item.flags or [])],
        rejection=Rejection(**rejection) if rejection else None,
        assignments=[
            Assignment(
                unit_id=a["unit_id"],
                unit_name=a["unit_name"],
                unit_type=a["unit_type"],
                started_at=_dt(a["started_at"]),
                head=a.get("head"),
                due_at=_dt(a["due_at"]) if a.get("due_at") else None,
                ended_at=_dt(a["ended_at"]) if a.get("ended_at") else None,
                reason=a.get("reason") or "routing",
                paused_at=_dt(a["paused_at"]) if a.get("paused_at") else None,
                remind_at=_dt(a["remind_at"]) if a.get("remind_at") else None,
                reminded=bool(a.get("reminded")),
                overdue_at=_dt(a["overdue_at"]) if a.get("overdue_at") else None,
                escalated_to=a.get("escalated_to"),
            )
            for a in _plain(item.assignments or [])
        ],
        feedback=_feedback(item.feedback),
        reporter_contact=_plain(item.reporter_contact) if item.reporter_contact else None,
        address=item.address,
        client=item.client,
        media_url=item.media_url,
        month=item.month_key.split("#", 1)[1] if item.month_key else "",
        version=item.version,
    )


def ticket_from_stream_image(image: dict[str, Any] | None) -> Ticket | None:
    """A ticket from a DynamoDB stream image; None for other items (counters) or no image."""
    if not image or "ticket_id" not in image:
        return None
    return ticket_from_model(TicketModel.from_raw_data(image))


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str | None, expected: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this API issued", field="cursor") from None
    if (
        not isinstance(key, dict)
        or set(key) != expected
        or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str)
            for v in key.values()
        )
    ):
        raise InvalidRequest("cursor is not one this API issued", field="cursor")
    return key


class DynamoTicketRepository:
    def __init__(self) -> None:
        # What the clock-index queries returned: the overdue scan's read cost.
        self.items_read = 0
        self.pages_read = 0

    def add(self, ticket: Ticket) -> None:
        item = ticket_to_model(ticket)
        try:
            item.save(condition=TicketModel.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StaleWrite(f"ticket {ticket.ticket_id} already exists") from exc
            raise
        ticket.version = item.version

    def get(self, tenant: str, ticket_id: str) -> Ticket | None:
        try:
            item = TicketModel.get(f"{tenant}#{ticket_id}", consistent_read=True)
        except TicketModel.DoesNotExist:
            return None
        if item.tenant != tenant:
            return None
        return ticket_from_model(item)

    def save(self, ticket: Ticket) -> None:
        item = ticket_to_model(ticket)
        try:
            # VersionAttribute adds "version = <read version>" to the condition and increments it.
            item.save()
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StaleWrite(
                    f"ticket {ticket.number} was changed by someone else; reload and retry"
                ) from exc
            raise
        ticket.version = item.version

    @staticmethod
    def _page(
        index: Any,
        keys: tuple[str, str],
        hash_key: str,
        *,
        limit: int,
        cursor: str | None,
        condition: Any = None,
    ) -> Page:
        """One page of an index, newest first; the cursor must come from the same listing."""
        hash_name, range_name = keys
        start = _decode_cursor(cursor, {"pk", hash_name, range_name})
        if start is not None and start[hash_name]["S"] != hash_key:
            raise InvalidRequest("cursor belongs to another listing", field="cursor")
        result = index.query(
            hash_key,
            condition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
            page_size=limit,
        )
        items = [ticket_from_model(item) for item in result]
        return Page(items=items, cursor=_encode_cursor(result.last_evaluated_key))

    def list_by_reporter(
        self, tenant: str, reporter_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        return self._page(
            TicketModel.by_reporter,
            ("reporter_key", "created_at"),
            f"{tenant}#{reporter_id}",
            limit=limit,
            cursor=cursor,
        )

    def list_by_unit(
        self, tenant: str, unit_id: str, status: str | None, *, limit: int, cursor: str | None
    ) -> Page:
        return self._page(
            TicketModel.by_unit,
            ("unit_key", "queue_sort"),
            f"{tenant}#{unit_id}",
            limit=limit,
            cursor=cursor,
            condition=TicketModel.queue_sort.startswith(f"{status}#") if status else None,
        )

    def list_by_status(self, tenant: str, status: str, *, limit: int, cursor: str | None) -> Page:
        return self._page(
            TicketModel.by_status,
            ("status_key", "updated_at"),
            f"{tenant}#{status}",
            limit=limit,
            cursor=cursor,
        )

    def count_by_status(self, tenant: str, status: str) -> tuple[int, int]:
        tickets = overdue = 0
        # Only the red mark is read: a few bytes per ticket, whatever the ticket holds.
        for item in TicketModel.by_status.query(
            f"{tenant}#{status}", attributes_to_get=["overdue"]
        ):
            tickets += 1
            overdue += bool(item.overdue)
        return tickets, overdue

    def summaries_by_month(self, tenant: str, months: Sequence[str]) -> list[TicketSummary]:
        found: list[TicketSummary] = []
        for month in months:
            for item in TicketModel.by_month.query(f"{tenant}#{month}"):
                found.append(
                    TicketSummary(
                        ticket_id=item.pk.split("#", 1)[1],
                        created_at=_dt(item.created_at),
                        status=Status(item.status),
                        channel=Channel(item.channel),
                        unit_id=(_plain(item.assigned_unit) or {}).get("id")
                        if item.assigned_unit
                        else None,
                        unit_name=(_plain(item.assigned_unit) or {}).get("name")
                        if item.assigned_unit
                        else None,
                        overdue=bool(item.overdue),
                        category=item.category,
                        private=bool(item.private),
                    )
                )
        return found

    def clock_events_due(self, shard: int, until: datetime) -> Sequence[Ticket]:
        found: list[Ticket] = []
        # "~" sorts after every "{time}#{tenant}#{ticket}" that starts with `until`.
        result = TicketModel.by_due.query(f"SLA#{shard}", TicketModel.sla_next <= f"{_ts(until)}~")
        for item in result:
            found.append(ticket_from_model(item))
        self.items_read += len(found)
        self.pages_read += 1 + max(0, (len(found) - 1) // 1000)
        return found

    def open_in_cells(self, tenant: str, category: str, cells: Sequence[str]) -> list[Ticket]:
        found: list[Ticket] = []
        for cell in cells:
            for item in TicketModel.by_cell.query(f"{tenant}#{category}#{cell}"):
                if item.tenant == tenant:
                    found.append(ticket_from_model(item))
        return found

    def next_sequence(self, tenant: str, day: str) -> int:
        counter = CounterModel(pk=f"SEQ#{tenant}#{day}")
        # Counters are only needed while the day's numbers are being handed out.
        expires = int(time.time()) + 40 * 86_400
        response = counter.update(
            actions=[CounterModel.seq.add(1), CounterModel.expires_at.set(expires)]
        )
        return int(response["Attributes"]["seq"]["N"])


class DynamoTenantDirectory:
    """Tenant configs, cached per container for `ttl_seconds` so edits apply without a deploy.

    A bundle's areas are written under a new revision first; the config item that names the
    revision is written last, so a reader never sees a half-loaded tenant.
    """

    def __init__(self, ttl_seconds: float = 60.0, monotonic: Callable[[], float] = time.monotonic):
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Tenant, int]] | None = None
        self._loaded_at = 0.0
        self._jurisdictions: dict[str, tuple[str, Jurisdiction]] = {}

    def _load(self) -> dict[str, tuple[Tenant, int]]:
        with self._lock:
            if self._cache is None or self._monotonic() - self._loaded_at > self._ttl:
                tenants: dict[str, tuple[Tenant, int]] = {}
                for item in TenantModel.query("TENANTS"):
                    tenant = parse_tenant(_plain(item.config), source=f"tenants/{item.sk}")
                    tenants[tenant.tenant_id] = (tenant, int(item.area_count or 0))
                self._cache = tenants
                self._loaded_at = self._monotonic()
            return self._cache

    def get(self, tenant_id: str) -> Tenant | None:
        found = self._load().get(tenant_id)
        return found[0] if found else None

    def all(self) -> Sequence[Tenant]:
        return [tenant for tenant, _ in self._load().values()]

    def jurisdiction(self, tenant_id: str) -> Jurisdiction:
        for attempt in range(2):
            found = self._load().get(tenant_id)
            if found is None:
                raise KeyError(tenant_id)
            tenant, expected = found
            cached = self._jurisdictions.get(tenant_id)
            if cached is not None and cached[0] == tenant.revision:
                return cached[1]
            villages: list[Village] = []
            blobs: list[tuple[str, bytes]] = []
            for item in AreaModel.query(f"AREAS#{tenant_id}#{tenant.revision}"):
                villages.append(Village(**_plain(item.village)))
                blobs.append((item.sk, bytes(item.geometry)))
            if len(villages) == expected:
                # Imported here: shapely and numpy load only when a tenant's areas are needed.
                from chalicelib.domain.areas import from_wkb
                from chalicelib.domain.bundle import build_jurisdiction

                jurisdiction = build_jurisdiction(
                    tenant, villages, from_wkb(blobs), f"tenants/{tenant_id}"
                )
                self._jurisdictions[tenant_id] = (tenant.revision, jurisdiction)
                return jurisdiction
            if attempt == 0:
                # The cached config names a revision replaced since: read the config again.
                with self._lock:
                    self._cache = None
        raise RuntimeError(
            f"{tenant_id} revision {tenant.revision}: {len(villages)} of {expected} areas"
        )

    def put(self, bundle: TenantBundle) -> None:
        from chalicelib.domain.areas import to_wkb

        tenant = bundle.tenant
        previous = self._stored_revision(tenant.tenant_id)
        area_pk = f"AREAS#{tenant.tenant_id}#{tenant.revision}"
        geometries = to_wkb(bundle.shapes)
        with AreaModel.batch_write() as batch:
            for village in bundle.jurisdiction.villages.values():
                batch.save(
                    AreaModel(
                        pk=area_pk,
                        sk=village.code,
                        village=asdict(village),
                        geometry=geometries[village.code],
                    )
                )
        TenantModel(
            pk="TENANTS",
            sk=tenant.tenant_id,
            config=tenant_document(tenant),
            area_count=len(bundle.jurisdiction.villages),
            updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ).save()
        if previous and previous != tenant.revision:
            with AreaModel.batch_write() as batch:
                for item in AreaModel.query(f"AREAS#{tenant.tenant_id}#{previous}"):
                    batch.delete(item)
        with self._lock:
            self._cache = None

    @staticmethod
    def _stored_revision(tenant_id: str) -> str | None:
        try:
            item = TenantModel.get("TENANTS", tenant_id, consistent_read=True)
        except TenantModel.DoesNotExist:
            return None
        revision = _plain(item.config).get("revision")
        return revision if isinstance(revision, str) else None


class DynamoUnitHeads:
    def appoint(self, tenant: str, unit_id: str, head: Head) -> None:
        HeadModel(
            pk=f"HEADS#{tenant}#{unit_id}",
            sk=_ts(head.since),
            name=head.name,
            username=head.username,
            nip=head.nip,
            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ).save()

    def head_at(self, tenant: str, unit_id: str, at: datetime) -> Head | None:
        for item in HeadModel.query(
            f"HEADS#{tenant}#{unit_id}",
            HeadModel.sk <= _ts(at),
            scan_index_forward=False,
            limit=1,
        ):
            return _head(item)
        return None

    def history(self, tenant: str, unit_id: str) -> Sequence[Head]:
        return [_head(item) for item in HeadModel.query(f"HEADS#{tenant}#{unit_id}")]


def _head(item: HeadModel) -> Head:
    return Head(name=item.name, since=_dt(item.sk), username=item.username, nip=item.nip)


class SanctionModel(Model):
    """pk "{tenant}#{YYYY-MM}", sk "{unit}#{ticket}#{assignment}": one per overdue assignment."""

    class Meta:
        table_name = "sanctions"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant = UnicodeAttribute()
    period = UnicodeAttribute()
    unit_id = UnicodeAttribute()
    unit_name = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    number = UnicodeAttribute()
    assignment = NumberAttribute()
    due_at = UnicodeAttribute()
    detected_at = UnicodeAttribute()
    cut_percent = NumberAttribute()
    official_name = UnicodeAttribute(null=True)
    official_username = UnicodeAttribute(null=True)
    official_nip = UnicodeAttribute(null=True)


class DynamoSanctionLedger:
    def record(self, sanction: Sanction) -> bool:
        item = SanctionModel(
            pk=f"{sanction.tenant}#{sanction.period}",
            sk=sanction.key,
            tenant=sanction.tenant,
            period=sanction.period,
            unit_id=sanction.unit_id,
            unit_name=sanction.unit_name,
            ticket_id=sanction.ticket_id,
            number=sanction.number,
            assignment=sanction.assignment,
            due_at=_ts(sanction.due_at),
            detected_at=_ts(sanction.detected_at),
            cut_percent=sanction.cut_percent,
            official_name=sanction.official_name,
            official_username=sanction.official_username,
            official_nip=sanction.official_nip,
        )
        try:
            item.save(condition=SanctionModel.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def period(self, tenant: str, period: str) -> Sequence[Sanction]:
        return [
            Sanction(
                tenant=item.tenant,
                period=item.period,
                unit_id=item.unit_id,
                unit_name=item.unit_name,
                ticket_id=item.ticket_id,
                number=item.number,
                assignment=int(item.assignment),
                due_at=_dt(item.due_at),
                detected_at=_dt(item.detected_at),
                cut_percent=float(item.cut_percent),
                official_name=item.official_name,
                official_username=item.official_username,
                official_nip=item.official_nip,
            )
            for item in SanctionModel.query(f"{tenant}#{period}")
        ]


class ApiKeyModel(Model):
    """pk "APIKEYS", sk the SHA-256 of the key: the key itself is never stored."""

    class Meta:
        table_name = "tenants"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    key_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    name = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()


def key_hash(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(key.encode()).hexdigest()


class DynamoApiKeys:
    def issue(self, tenant: str, name: str) -> tuple[str, ApiClient]:
        key = secrets.token_urlsafe(32)
        client = ApiClient(key_id=secrets.token_hex(6), tenant=tenant, name=name)
        ApiKeyModel(
            pk="APIKEYS",
            sk=key_hash(key),
            key_id=client.key_id,
            tenant=tenant,
            name=name,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ).save()
        return key, client

    def lookup(self, key: str) -> ApiClient | None:
        try:
            item = ApiKeyModel.get("APIKEYS", key_hash(key))
        except ApiKeyModel.DoesNotExist:
            return None
        return ApiClient(
            key_id=item.key_id, tenant=item.tenant, name=item.name, revoked=bool(item.revoked)
        )

    def revoke(self, key_id: str) -> bool:
        for item in ApiKeyModel.query("APIKEYS", filter_condition=ApiKeyModel.key_id == key_id):
            item.update(actions=[ApiKeyModel.revoked.set(True)])
            return True
        return False
