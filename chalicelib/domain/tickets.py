"""The ticket: CRM statuses, the append-only timeline and the transitions the platform performs.

Staff actions (process, coordinate, dispose, ...) extend `TRANSITIONS`; every change of status goes
through `Ticket.transition`, so the timeline is complete by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.errors import Conflict


class Status(StrEnum):
    AWAITING_PHOTO = "awaiting_photo"
    LOCATING = "locating"
    NEEDS_LOCATION = "needs_location"
    WAITING = "waiting"
    COORDINATION = "coordination"
    DISPOSITION = "disposition"
    IN_PROGRESS = "in_progress"
    AWAITING_VALIDATION = "awaiting_validation"
    FOLLOW_UP_REJECTED = "follow_up_rejected"
    COMPLETED = "completed"
    REJECTED = "rejected"


# CRM's own labels (Indonesian) with English; the platform-only states have no CRM label.
STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.AWAITING_PHOTO: ("Menunggu Foto", "Awaiting photo"),
    Status.LOCATING: ("Menentukan Lokasi", "Locating"),
    Status.NEEDS_LOCATION: ("Perlu Lokasi", "Needs location"),
    Status.WAITING: ("Menunggu", "Waiting"),
    Status.COORDINATION: ("Koordinasi", "Coordination"),
    Status.DISPOSITION: ("Disposisi", "Disposition"),
    Status.IN_PROGRESS: ("Proses", "In progress"),
    Status.AWAITING_VALIDATION: ("Menunggu Validasi", "Awaiting validation"),
    Status.FOLLOW_UP_REJECTED: ("TL Ditolak", "Follow-up rejected"),
    Status.COMPLETED: ("Selesai", "Completed"),
    Status.REJECTED: ("Ditolak", "Rejected"),
}

CLOSED_STATES: frozenset[Status] = frozenset({Status.COMPLETED, Status.REJECTED})
OPEN_STATES: frozenset[Status] = frozenset(Status) - CLOSED_STATES
# States before the ticket has reached a unit: no SLA clock runs yet.
INTAKE_STATES: frozenset[Status] = frozenset(
    {Status.AWAITING_PHOTO, Status.LOCATING, Status.NEEDS_LOCATION}
)

SYSTEM = "system"

# Every status change the ticket allows; who may make which is decided in domain.workflow.
_WORKING = frozenset(
    {
        Status.WAITING,
        Status.COORDINATION,
        Status.DISPOSITION,
        Status.IN_PROGRESS,
        Status.FOLLOW_UP_REJECTED,
    }
)
_FROM_WORKING = frozenset(
    {
        Status.IN_PROGRESS,
        Status.COORDINATION,
        Status.DISPOSITION,
        Status.AWAITING_VALIDATION,
        Status.REJECTED,
    }
)
TRANSITIONS: dict[Status | None, frozenset[Status]] = {
    None: frozenset({Status.AWAITING_PHOTO, Status.LOCATING, Status.NEEDS_LOCATION}),
    Status.AWAITING_PHOTO: frozenset({Status.LOCATING}),
    Status.LOCATING: frozenset({Status.NEEDS_LOCATION, Status.WAITING, Status.REJECTED}),
    Status.NEEDS_LOCATION: frozenset({Status.LOCATING, Status.REJECTED}),
    **dict.fromkeys(_WORKING, _FROM_WORKING),
    Status.AWAITING_VALIDATION: frozenset({Status.COMPLETED, Status.FOLLOW_UP_REJECTED}),
    # A reporter may reopen a completed ticket (domain.workflow bounds when).
    Status.COMPLETED: frozenset({Status.WAITING}),
}


class LocationSource(StrEnum):
    EXIF = "exif"
    DEVICE = "device"
    MANUAL = "manual"
    OPERATOR = "operator"


class PhotoKind(StrEnum):
    REPORT = "report"
    EVIDENCE = "evidence"


class Channel(StrEnum):
    """The 13 CRM channels (DESIGN.md section 7) plus Open311 clients."""

    JAKI = "jaki"
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    EMAIL = "email"
    GOVERNOR_SOCIAL_MEDIA = "governor_social_media"
    SMS = "sms"
    BALAI_WARGA = "balai_warga"
    KELURAHAN_OFFICE = "kelurahan_office"
    KECAMATAN_OFFICE = "kecamatan_office"
    MAYOR_OFFICE = "mayor_office"
    PENDOPO_BALAI_KOTA = "pendopo_balai_kota"
    INSPEKTORAT = "inspektorat"
    LAPOR_1708 = "lapor_1708"
    OPEN311 = "open311"


# Channels a citizen reaches without an operator: the app and the Balai Warga web portal.
SELF_SERVICE_CHANNELS: frozenset[Channel] = frozenset({Channel.JAKI, Channel.BALAI_WARGA})


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    source: LocationSource
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """An upload URL was issued for this key; the photo is expected there."""

    key: str
    content_type: str
    max_bytes: int
    expires_at: datetime
    kind: PhotoKind = PhotoKind.REPORT


@dataclass(frozen=True, slots=True)
class Photo:
    key: str
    kind: PhotoKind
    content_type: str
    received_at: datetime
    size: int | None = None
    public_key: str | None = None
    thumbnail_key: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    from_status: Status | None
    to_status: Status
    actor_role: str
    actor_id: str | None = None
    unit: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """One stretch of a ticket with one unit; the SLA clock of that unit runs on it."""

    unit_id: str
    unit_name: str
    unit_type: str
    started_at: datetime
    head: str | None = None
    due_at: datetime | None = None
    ended_at: datetime | None = None
    # "routing" (the first), "handover" (coordination or disposition) or "reopen".
    reason: str = "routing"
    # The clock stops while a follow-up awaits validation; a rejected follow-up resumes it.
    paused_at: datetime | None = None
    remind_at: datetime | None = None
    reminded: bool = False
    # Set once the assignment went overdue and its sanction was recorded ("red mark").
    overdue_at: datetime | None = None
    escalated_to: str | None = None

    @property
    def running(self) -> bool:
        return (
            self.ended_at is None
            and self.paused_at is None
            and self.overdue_at is None
            and self.due_at is not None
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    rating: int
    comment: str
    at: datetime


@dataclass(slots=True)
class Ticket:
    tenant: str
    ticket_id: str
    number: str
    status: Status
    category: str
    description: str
    channel: Channel
    private: bool
    reporter_id: str
    created_at: datetime
    updated_at: datetime
    device_location: Location | None = None
    location: Location | None = None
    pending_upload: PendingUpload | None = None
    photos: list[Photo] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    area: dict[str, dict[str, str]] | None = None
    assigned_unit: dict[str, str] | None = None
    due_at: datetime | None = None
    overdue: bool = False
    flags: list[str] = field(default_factory=list)
    rejection: Rejection | None = None
    assignments: list[Assignment] = field(default_factory=list)
    feedback: Feedback | None = None
    # Contact details the reporter chose to share with staff (or an operator recorded).
    reporter_contact: dict[str, str] | None = None
    # An address given instead of coordinates (operator intake), until someone places it.
    address: str | None = None
    # Open311: the client application that sent it, and a media link it gave (never fetched).
    client: str | None = None
    media_url: str | None = None
    # The month it came in, in the tenant's zone (YYYY-MM): the statistics period.
    month: str = ""
    version: int | None = None

    def __post_init__(self) -> None:
        if not self.month:
            # Creators pass the month in the tenant's zone; UTC is only the fallback.
            self.month = f"{self.created_at:%Y-%m}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def transition(
        self,
        to: Status,
        *,
        at: datetime,
        actor_role: str = SYSTEM,
        actor_id: str | None = None,
        unit: str | None = None,
        note: str = "",
    ) -> None:
        current: Status | None = self.status if self.timeline else None
        allowed = TRANSITIONS.get(current, frozenset())
        if to not in allowed:
            raise Conflict(
                f"ticket {self.number} cannot go from {current} to {to}",
                code="invalid_transition",
            )
        self.timeline.append(
            TimelineEvent(
                at=at,
                from_status=current,
                to_status=to,
                actor_role=actor_role,
                actor_id=actor_id,
                unit=unit,
                note=note,
            )
        )
        self.status = to
        self.updated_at = at
        if self.assignments:
            job = self.assignments[-1]
            if to is Status.AWAITING_VALIDATION and job.paused_at is None:
                self.assignments[-1] = replace(job, paused_at=at)
            elif to is Status.FOLLOW_UP_REJECTED and job.paused_at is not None:
                # The same assignment's clock resumes: the time spent waiting does not count.
                paused = at - job.paused_at
                self.assignments[-1] = replace(
                    job,
                    paused_at=None,
                    due_at=job.due_at + paused if job.due_at else None,
                    remind_at=job.remind_at + paused if job.remind_at else None,
                )
            elif to in CLOSED_STATES:
                self.end_assignment(at)
        self._sync_clock()

    def expects_photo(self, key: str) -> bool:
        pending = self.pending_upload
        return self.status is Status.AWAITING_PHOTO and pending is not None and pending.key == key

    def expects_evidence(self, key: str) -> bool:
        pending = self.pending_upload
        return (
            pending is not None
            and pending.kind is PhotoKind.EVIDENCE
            and pending.key == key
            and self.is_open
        )

    def receive_evidence(
        self,
        key: str,
        *,
        at: datetime,
        public_key: str | None,
        thumbnail_key: str | None,
        size: int | None = None,
    ) -> bool:
        """An evidence photo of the follow-up: kept with the ticket, status unchanged."""
        pending = self.pending_upload
        if pending is None or not self.expects_evidence(key):
            return False
        self.photos.append(
            Photo(
                key=key,
                kind=PhotoKind.EVIDENCE,
                content_type=pending.content_type,
                received_at=at,
                size=size,
                public_key=public_key,
                thumbnail_key=thumbnail_key,
            )
        )
        self.pending_upload = None
        return True

    def receive_photo(
        self,
        key: str,
        *,
        at: datetime,
        size: int | None = None,
        public_key: str | None = None,
        thumbnail_key: str | None = None,
    ) -> bool:
        """Record the uploaded report photo; False when it changes nothing (a redelivery)."""
        pending = self.pending_upload
        if pending is None or not self.expects_photo(key):
            return False
        self.photos.append(
            Photo(
                key=key,
                kind=pending.kind,
                content_type=pending.content_type,
                received_at=at,
                size=size,
                public_key=public_key,
                thumbnail_key=thumbnail_key,
            )
        )
        self.pending_upload = None
        self.transition(Status.LOCATING, at=at, note="photo received")
        return True

    def assign(
        self,
        *,
        unit: dict[str, str],
        area: dict[str, dict[str, str]],
        location: Location,
        at: datetime,
        head: str | None = None,
        note: str = "",
        due_at: datetime | None = None,
        remind_at: datetime | None = None,
    ) -> None:
        """Place the ticket and hand it to its first unit (locating -> waiting)."""
        self.location = location
        self.area = area
        self._start_assignment(unit, at, head, "routing", due_at, remind_at)
        self.transition(Status.WAITING, at=at, unit=unit["id"], note=note or f"to {unit['name']}")

    def reject(
        self,
        reason: str,
        message: str,
        *,
        at: datetime,
        actor_role: str = SYSTEM,
        actor_id: str | None = None,
        unit: str | None = None,
    ) -> None:
        self.rejection = Rejection(reason=reason, message=message)
        self.transition(
            Status.REJECTED,
            at=at,
            actor_role=actor_role,
            actor_id=actor_id,
            unit=unit,
            note=message,
        )
        self.end_assignment(at)

    def end_assignment(self, at: datetime) -> None:
        if self.assignments and self.assignments[-1].ended_at is None:
            last = self.assignments[-1]
            self.assignments[-1] = replace(last, ended_at=at)

    @property
    def current_assignment(self) -> Assignment | None:
        return self.assignments[-1] if self.assignments else None

    def _sync_clock(self) -> None:
        """due_at and the red mark show the current assignment's clock."""
        current = self.current_assignment
        self.due_at = current.due_at if current else None
        self.overdue = bool(current and current.overdue_at and current.ended_at is None)

    def mark_reminded(self) -> None:
        current = self.current_assignment
        if current is not None:
            self.assignments[-1] = replace(current, reminded=True)

    def mark_overdue(self, at: datetime, escalated_to: str | None) -> None:
        current = self.current_assignment
        if current is not None and current.overdue_at is None:
            self.assignments[-1] = replace(current, overdue_at=at, escalated_to=escalated_to)
            self.updated_at = at
        self._sync_clock()

    def hand_over(
        self,
        to: Status,
        *,
        unit: dict[str, str],
        at: datetime,
        actor_role: str,
        actor_id: str | None,
        note: str,
        head: str | None = None,
        reason: str = "handover",
        due_at: datetime | None = None,
        remind_at: datetime | None = None,
    ) -> None:
        """A new assignment for the receiving unit; the giving unit's clock stops."""
        from_unit = (self.assigned_unit or {}).get("id")
        self.end_assignment(at)
        self._start_assignment(unit, at, head, reason, due_at, remind_at)
        self.transition(
            to, at=at, actor_role=actor_role, actor_id=actor_id, unit=from_unit, note=note
        )

    def _start_assignment(
        self,
        unit: dict[str, str],
        at: datetime,
        head: str | None,
        reason: str,
        due_at: datetime | None,
        remind_at: datetime | None,
    ) -> None:
        # The transition that follows syncs due_at and the red mark with this assignment.
        self.assigned_unit = dict(unit)
        self.assignments.append(
            Assignment(
                unit_id=unit["id"],
                unit_name=unit["name"],
                unit_type=unit["type"],
                started_at=at,
                head=head,
                reason=reason,
                due_at=due_at,
                remind_at=remind_at,
            )
        )

    def flag(self, flag: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)


def ticket_number(prefix: str, local_day: datetime, sequence: int) -> str:
    """Short and readable aloud at a kelurahan counter: JKT-261204-0042."""
    return f"{prefix}-{local_day:%y%m%d}-{sequence:04d}"
