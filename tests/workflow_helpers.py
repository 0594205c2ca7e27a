"""Shared set-up for the workflow tests: Jakarta's units, callers, tickets built in any status."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import (
    Assignment,
    Channel,
    Location,
    LocationSource,
    Photo,
    PhotoKind,
    Status,
    Ticket,
    TimelineEvent,
)
from tests.fakes import shipped_bundles

GAMBIR = "kelurahan:31.71.01.1001"
MENTENG = "kelurahan:31.71.06.1001"
SUDIN_BINA_MARGA_JP = "sudin-bina-marga:31.71"
SUDIN_BINA_MARGA_JU = "sudin-bina-marga:31.72"
DINAS_BINA_MARGA = "dinas-bina-marga:31"
DINAS_SDA = "dinas-sda:31"
SUDIN_SDA_JP = "sudin-sda:31.71"
MONAS = (-6.1754, 106.8272)
REPORTER = "reporter-sub-7f3a"


def unit(unit_id: str, tenant: str = "jakarta") -> dict[str, str]:
    bundle = next(b for b in shipped_bundles() if b.tenant.tenant_id == tenant)
    found = bundle.jurisdiction.unit(unit_id)
    assert found is not None, unit_id
    return found.summary()


def citizen(subject: str = "citizen-sub-9d1c") -> Principal:
    return Principal(subject=subject, username=subject, roles=frozenset({Role.CITIZEN}))


def reporter() -> Principal:
    return citizen(REPORTER)


def staff(
    *roles: Role, tenant: str = "jakarta", unit: str | None = None, subject: str | None = None
) -> Principal:
    name = subject or f"{'-'.join(r.value for r in roles)}-{tenant}-{unit or 'tenant'}"
    return Principal(
        subject=name,
        username=name,
        roles=frozenset({Role.CITIZEN, *roles}),
        tenant=tenant,
        unit=unit,
    )


def official(unit_id: str, tenant: str = "jakarta") -> Principal:
    return staff(Role.OFFICIAL, tenant=tenant, unit=unit_id)


def validator(tenant: str = "jakarta") -> Principal:
    return staff(Role.VALIDATOR, tenant=tenant)


def point_north_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point `metres` due north: one degree of latitude is about 111,195 m everywhere."""
    return lat + math.degrees(metres / 6_371_000), lon


def make_ticket(
    status: Status,
    *,
    at: datetime,
    unit_id: str = GAMBIR,
    ticket_id: str = "a" * 32,
    number: str = "JKT-261204-0001",
    evidence: bool = False,
    reporter_id: str = REPORTER,
) -> Ticket:
    """A Jakarta ticket whose timeline ends in `status`, with one assignment to `unit_id`.

    The assignment began two hours before `at`, the last status change one hour before `at`,
    and the evidence photo (when asked for) arrived half an hour before `at`.
    """
    assigned = unit(unit_id)
    started = at - timedelta(hours=2)
    changed = at - timedelta(hours=1)
    closed = status in (Status.COMPLETED, Status.REJECTED)
    ticket = Ticket(
        tenant="jakarta",
        ticket_id=ticket_id,
        number=number,
        status=status,
        category="jalan_rusak",
        description="Jalan berlubang di depan halte",
        channel=Channel.JAKI,
        private=True,
        reporter_id=reporter_id,
        created_at=started,
        updated_at=changed,
        location=Location(MONAS[0], MONAS[1], LocationSource.DEVICE),
        timeline=[
            TimelineEvent(
                at=started,
                from_status=Status.LOCATING,
                to_status=Status.WAITING,
                actor_role="system",
                unit=unit_id,
            ),
        ],
        assigned_unit=assigned,
        assignments=[
            Assignment(
                unit_id=assigned["id"],
                unit_name=assigned["name"],
                unit_type=assigned["type"],
                started_at=started,
                ended_at=changed if closed else None,
            )
        ],
    )
    if status is not Status.WAITING:
        ticket.timeline.append(
            TimelineEvent(
                at=changed, from_status=Status.WAITING, to_status=status, actor_role="system"
            )
        )
    if evidence:
        ticket.photos.append(
            Photo(
                key=f"uploads/jakarta/{ticket_id}/evidence-0123456789ab.jpg",
                kind=PhotoKind.EVIDENCE,
                content_type="image/jpeg",
                received_at=at - timedelta(minutes=30),
                public_key=f"public/jakarta/{ticket_id}/evidence-0123456789ab.jpg",
                thumbnail_key=f"public/jakarta/{ticket_id}/evidence-0123456789ab-thumb.jpg",
            )
        )
    return ticket
