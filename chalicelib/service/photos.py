"""The photo pipeline: an uploaded original becomes a location, flags and a public copy.

Safe under at-least-once delivery: everything it writes is keyed by the upload (the public copy
keys derive from the original's key) and the ticket changes under optimistic locking, so a
redelivered message finds the photo already received and changes nothing. Errors of S3 or
DynamoDB propagate, so SQS retries the message and finally dead-letters it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.geo import Coordinates, haversine_m
from chalicelib.domain.geotag import ImageFormat, read_geotag
from chalicelib.domain.imaging import NotAnImage, public_copies
from chalicelib.domain.location_policy import decide_location
from chalicelib.domain.ports import Clock, PhotoStore, TenantDirectory, TicketRepository
from chalicelib.domain.reports import MAX_PHOTO_BYTES
from chalicelib.domain.tickets import Ticket
from chalicelib.observability import emit_metric
from chalicelib.service.routing import Router

log = logging.getLogger(__name__)

# Keys the server hands out: uploads/{tenant}/{ticket_id}/{kind}-{token}.{ext}
UPLOAD_KEY = re.compile(
    r"^uploads/(?P<tenant>[a-z][a-z0-9-]{1,40})/(?P<ticket>[0-9a-f]{32})/"
    r"(?P<name>(?P<stem>[a-z]+-[0-9a-f]{6,32})\.(?P<ext>[a-z]{3,4}))$"
)
SAVE_ATTEMPTS = 5
NOT_AN_IMAGE = "not_an_image"
EVIDENCE_NEAR_M = 200.0
EVIDENCE_FAR = "evidence_far_from_report"
EVIDENCE_WITHOUT_GEOTAG = "evidence_without_geotag"
EVIDENCE_NOT_AN_IMAGE = "evidence_not_an_image"
PHOTO_PROCESSING_FAILED = "photo_processing_failed"

DECLARED_FORMATS: dict[str, frozenset[ImageFormat]] = {
    "image/jpeg": frozenset({ImageFormat.JPEG}),
    "image/heic": frozenset({ImageFormat.HEIC}),
    "image/heif": frozenset({ImageFormat.HEIC}),
    "image/webp": frozenset({ImageFormat.WEBP}),
    "image/png": frozenset({ImageFormat.PNG}),
}


class PhotoOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass
class Examined:
    """What the pipeline learnt from the file, computed once even if the save is retried."""

    public_key: str | None = None
    thumbnail_key: str | None = None
    problem: str | None = None
    lat: float | None = None
    lon: float | None = None
    taken_at: datetime | None = None
    geotag_problem: str | None = None


class PhotoService:
    def __init__(
        self,
        tickets: TicketRepository,
        tenants: TenantDirectory,
        store: PhotoStore,
        router: Router,
        clock: Clock,
    ) -> None:
        self._tickets = tickets
        self._tenants = tenants
        self._store = store
        self._router = router
        self._clock = clock

    def uploaded(self, key: str, size: int | None = None) -> PhotoOutcome:
        match = UPLOAD_KEY.match(key)
        if match is None:
            log.warning("upload key outside the scheme, ignored", extra={"key": key})
            return PhotoOutcome.IGNORED
        tenant_id, ticket_id = match["tenant"], match["ticket"]
        ticket = self._tickets.get(tenant_id, ticket_id)
        if ticket is None:
            log.warning("upload for no known ticket, ignored", extra={"key": key})
            return PhotoOutcome.IGNORED
        if ticket.expects_evidence(key):
            return self._evidence(ticket, key, size, match["stem"])
        if not ticket.expects_photo(key):
            return self._already(ticket, key)
        assert ticket.pending_upload is not None
        examined = self._examine(key, ticket.pending_upload.content_type, match["stem"])
        for _ in range(SAVE_ATTEMPTS):
            if not ticket.expects_photo(key):
                return self._already(ticket, key)
            outcome = self._apply(ticket, key, size, examined)
            try:
                self._tickets.save(ticket)
            except StaleWrite:
                reloaded = self._tickets.get(tenant_id, ticket_id)
                if reloaded is None:
                    return PhotoOutcome.IGNORED
                ticket = reloaded
                continue
            log.info(
                "photo processed",
                extra={"tenant": tenant_id, "ticket": ticket_id, "outcome": outcome.value},
            )
            emit_metric(
                "PhotosProcessed", dimensions={"tenant": tenant_id, "outcome": outcome.value}
            )
            return outcome
        raise StaleWrite(f"ticket for {key} kept changing; will be retried")

    def _evidence(self, ticket: Ticket, key: str, size: int | None, stem: str) -> PhotoOutcome:
        """Follow-up evidence: geotag checked against the report's place, never trusted blindly."""
        assert ticket.pending_upload is not None
        examined = self._examine(key, ticket.pending_upload.content_type, stem)
        for _ in range(SAVE_ATTEMPTS):
            if not ticket.expects_evidence(key):
                return self._already(ticket, key)
            now = self._clock.now()
            if examined.problem is not None:
                ticket.pending_upload = None
                ticket.flag(EVIDENCE_NOT_AN_IMAGE)
            else:
                ticket.receive_evidence(
                    key,
                    at=now,
                    size=size,
                    public_key=examined.public_key,
                    thumbnail_key=examined.thumbnail_key,
                )
                for flag in evidence_flags(ticket, examined.lat, examined.lon):
                    ticket.flag(flag)
            try:
                self._tickets.save(ticket)
            except StaleWrite:
                reloaded = self._tickets.get(ticket.tenant, ticket.ticket_id)
                if reloaded is None:
                    return PhotoOutcome.IGNORED
                ticket = reloaded
                continue
            return PhotoOutcome.REJECTED if examined.problem else PhotoOutcome.ACCEPTED
        raise StaleWrite(f"ticket for {key} kept changing; will be retried")

    def dead_lettered(self, key: str) -> bool:
        """The photo of `key` failed every retry: flag its ticket for manual triage."""
        match = UPLOAD_KEY.match(key)
        if match is None:
            return False
        for _ in range(SAVE_ATTEMPTS):
            ticket = self._tickets.get(match["tenant"], match["ticket"])
            if ticket is None:
                return False
            if PHOTO_PROCESSING_FAILED in ticket.flags:
                return True
            ticket.flag(PHOTO_PROCESSING_FAILED)
            try:
                self._tickets.save(ticket)
            except StaleWrite:
                continue
            log.error(
                "photo dead-lettered; ticket flagged for manual triage",
                extra={"tenant": ticket.tenant, "ticket": ticket.ticket_id, "key": key},
            )
            return True
        raise StaleWrite(f"ticket for {key} kept changing; will be retried")

    @staticmethod
    def _already(ticket: Ticket, key: str) -> PhotoOutcome:
        if any(p.key == key for p in ticket.photos):
            return PhotoOutcome.DUPLICATE
        return PhotoOutcome.IGNORED

    def _examine(self, key: str, declared: str, stem: str) -> Examined:
        size = self._store.size(key)

        def read(offset: int, length: int) -> bytes:
            return self._store.read_range(key, offset, length)

        geotag = read_geotag(read, size)
        allowed = DECLARED_FORMATS.get(declared, frozenset())
        if geotag.format not in allowed:
            found = geotag.format.value.upper() if geotag.format else "not an image we accept"
            return Examined(
                problem=f"the uploaded file is {found}, but a {declared} photo was declared"
            )
        if size > MAX_PHOTO_BYTES:
            return Examined(problem=f"the uploaded file is over {MAX_PHOTO_BYTES} bytes")
        try:
            copies = public_copies(self._store.read_all(key, MAX_PHOTO_BYTES))
        except NotAnImage as exc:
            return Examined(problem=str(exc))
        folder = key.removeprefix("uploads/").rsplit("/", 1)[0]
        public_key = f"public/{folder}/{stem}.jpg"
        thumbnail_key = f"public/{folder}/{stem}-thumb.jpg"
        self._store.publish(public_key, copies.full)
        self._store.publish(thumbnail_key, copies.thumbnail)
        examined = Examined(
            public_key=public_key,
            thumbnail_key=thumbnail_key,
            lat=geotag.lat,
            lon=geotag.lon,
            taken_at=geotag.taken_at,
            geotag_problem=geotag.problem,
        )
        return examined

    def _apply(
        self, ticket: Ticket, key: str, size: int | None, examined: Examined
    ) -> PhotoOutcome:
        now = self._clock.now()
        ticket.receive_photo(
            key,
            at=now,
            size=size,
            public_key=examined.public_key,
            thumbnail_key=examined.thumbnail_key,
        )
        if examined.problem is not None:
            ticket.reject(NOT_AN_IMAGE, examined.problem, at=now)
            return PhotoOutcome.REJECTED
        tenant = self._tenants.get(ticket.tenant)
        decision = decide_location(
            photo_lat=examined.lat,
            photo_lon=examined.lon,
            taken_at=examined.taken_at,
            device=ticket.device_location,
            reported_at=ticket.created_at,
            zone=tenant.zone if tenant else ZoneInfo("UTC"),
        )
        ticket.location = decision.location
        for flag in decision.flags:
            ticket.flag(flag)
        log.info(
            "photo located",
            extra={
                "tenant": ticket.tenant,
                "ticket": ticket.ticket_id,
                "decision": decision.note,
                "geotag_problem": examined.geotag_problem,
            },
        )
        self._router.route(ticket)
        return PhotoOutcome.ACCEPTED


def evidence_flags(ticket: Ticket, lat: float | None, lon: float | None) -> list[str]:
    """Evidence must show the reported place: no geotag, or one over 200 m away, is flagged."""
    if lat is None or lon is None:
        return [EVIDENCE_WITHOUT_GEOTAG]
    if ticket.location is None:
        return []
    distance = haversine_m(
        Coordinates(lat, lon), Coordinates(ticket.location.lat, ticket.location.lon)
    )
    return [EVIDENCE_FAR] if distance > EVIDENCE_NEAR_M else []
