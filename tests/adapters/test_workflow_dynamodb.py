"""The follow-up workflow with the production wiring on moto: locking, evidence, the public view."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import Conflict, StaleWrite
from chalicelib.domain.identity import Principal, Role
from chalicelib.domain.tickets import Status, Ticket
from chalicelib.service.photos import EVIDENCE_FAR, EVIDENCE_WITHOUT_GEOTAG, PhotoOutcome
from tests.adapters.conftest import AwsStack
from tests.fakes import shipped_bundles
from tests.photos import jpeg
from tests.workflow_helpers import GAMBIR, MONAS, SUDIN_BINA_MARGA_JP, point_north_of


def person(kind: str, role: Role | None = None, unit: str | None = None) -> Principal:
    """A caller with a fresh, recognisable subject and username (to look for leaks)."""
    tag = uuid.uuid4().hex[:10]
    roles = {Role.CITIZEN} | ({role} if role else set())
    return Principal(
        subject=f"sub-{kind}-{tag}",
        username=f"user-{kind}-{tag}",
        roles=frozenset(roles),
        tenant="jakarta" if role else None,
        unit=unit,
    )


@pytest.fixture
def services(real_services: bootstrap.Services) -> bootstrap.Services:
    # The moto server lives for the whole session: the bundles need storing only once.
    for bundle in shipped_bundles():
        if real_services.tenants.get(bundle.tenant.tenant_id) is None:
            real_services.tenants.put(bundle)
    return real_services


def photo_at(lat: float | None = None, lon: float | None = None) -> bytes:
    return jpeg(lat=lat, lon=lon, size=(320, 240))


def file_report(services: bootstrap.Services, reporter: Principal) -> str:
    body = {
        "category": "jalan_rusak",
        "description": "Jalan berlubang di sisi barat Monas",
        "location": {"lat": MONAS[0], "lon": MONAS[1]},
    }
    return services.reports.submit("jakarta", reporter, body).ticket.ticket_id


def load(services: bootstrap.Services, ticket_id: str) -> Ticket:
    ticket = services.tickets.get("jakarta", ticket_id)
    assert ticket is not None
    return ticket


def send_evidence(
    services: bootstrap.Services,
    aws_stack: AwsStack,
    ticket_id: str,
    official: Principal,
    photo: bytes,
) -> PhotoOutcome:
    """Ask for the upload, put the photo where the presigned POST points, run the pipeline."""
    issued = services.actions.evidence_upload(
        "jakarta", ticket_id, official, {"content_type": "image/jpeg", "content_length": len(photo)}
    )
    key = issued["upload"]["fields"]["key"]
    aws_stack.client("s3").put_object(
        Bucket=aws_stack.outputs["UploadsBucketName"], Key=key, Body=photo
    )
    return services.photos.uploaded(key, len(photo))


# --- optimistic locking ------------------------------------------------------------------------


def test_two_officials_pressing_process_on_one_version_apply_it_once(
    services: bootstrap.Services,
) -> None:
    ticket_id = file_report(services, person("reporter"))
    first, second = person("lurah", Role.OFFICIAL, GAMBIR), person("sekel", Role.OFFICIAL, GAMBIR)
    seen = load(services, ticket_id).version
    body = {"action": "process", "note": "Menuju lokasi", "expected_version": seen}

    services.actions.act("jakarta", ticket_id, first, body)
    with pytest.raises(Conflict):
        services.actions.act("jakarta", ticket_id, second, body)

    after = load(services, ticket_id)
    assert [e.to_status for e in after.timeline].count(Status.IN_PROGRESS) == 1
    assert after.timeline[-1].actor_id == first.subject
    assert after.version == (seen or 0) + 1


def test_second_press_on_an_outdated_version_is_answered_as_a_stale_write(
    services: bootstrap.Services,
) -> None:
    # The second official decided on the version they read: "reload, it changed" is the answer,
    # whatever the ticket's status is now (issue 5: a stale write returns 409 stale_version).
    ticket_id = file_report(services, person("reporter"))
    first, second = person("lurah", Role.OFFICIAL, GAMBIR), person("sekel", Role.OFFICIAL, GAMBIR)
    seen = load(services, ticket_id).version
    body = {"action": "process", "expected_version": seen}
    services.actions.act("jakarta", ticket_id, first, body)

    with pytest.raises(Conflict) as refused:
        services.actions.act("jakarta", ticket_id, second, body)

    assert isinstance(refused.value, StaleWrite), refused.value.code


def test_expected_version_behind_the_stored_one_changes_nothing(
    services: bootstrap.Services,
) -> None:
    ticket_id = file_report(services, person("reporter"))
    lurah = person("lurah", Role.OFFICIAL, GAMBIR)
    before = load(services, ticket_id)

    with pytest.raises(StaleWrite):
        services.actions.act(
            "jakarta",
            ticket_id,
            lurah,
            {"action": "process", "expected_version": (before.version or 0) - 1},
        )

    after = load(services, ticket_id)
    assert (after.status, after.version, len(after.timeline)) == (
        Status.WAITING,
        before.version,
        len(before.timeline),
    )


def test_two_racing_process_calls_that_read_the_same_version_apply_once(
    services: bootstrap.Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = file_report(services, person("reporter"))
    officials = [person("lurah", Role.OFFICIAL, GAMBIR), person("sekel", Role.OFFICIAL, GAMBIR)]
    repository = services.tickets
    both_read = threading.Barrier(2, timeout=30)
    real_get: Callable[[str, str], Ticket | None] = repository.get

    def get_then_wait(tenant: str, wanted: str) -> Ticket | None:
        found = real_get(tenant, wanted)
        both_read.wait()
        return found

    # moto's DynamoDB checks a condition and writes without holding a lock, so two overlapping
    # conditional puts can both pass there (real DynamoDB applies them atomically per item).
    # Both reads happen before either write; the two writes reach moto one after the other.
    one_write_at_a_time = threading.Lock()
    real_save: Callable[[Ticket], None] = repository.save

    def save_alone(ticket: Ticket) -> None:
        with one_write_at_a_time:
            real_save(ticket)

    monkeypatch.setattr(repository, "get", get_then_wait)
    monkeypatch.setattr(repository, "save", save_alone)

    def press(official: Principal) -> str:
        try:
            services.actions.act("jakarta", ticket_id, official, {"action": "process"})
        except StaleWrite:
            return "stale"
        return "applied"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(press, officials))
    monkeypatch.undo()

    assert outcomes == ["applied", "stale"]
    after = load(services, ticket_id)
    assert [e.to_status for e in after.timeline].count(Status.IN_PROGRESS) == 1


# --- end to end ----------------------------------------------------------------------------------


def test_pothole_at_monas_goes_from_report_to_rating_with_a_clean_public_timeline(
    services: bootstrap.Services, aws_stack: AwsStack
) -> None:
    reporter = person("reporter")
    lurah = person("lurah-gambir", Role.OFFICIAL, GAMBIR)
    sudin = person("sudin-bm-jp", Role.OFFICIAL, SUDIN_BINA_MARGA_JP)
    checker = person("validator", Role.VALIDATOR)
    near = point_north_of(*MONAS, 50)

    ticket_id = file_report(services, reporter)
    services.actions.act("jakarta", ticket_id, lurah, {"action": "process"})
    services.actions.act(
        "jakarta",
        ticket_id,
        lurah,
        {
            "action": "coordinate",
            "note": "Perbaikan jalan wewenang Suku Dinas Bina Marga",
            "unit": SUDIN_BINA_MARGA_JP,
        },
    )
    services.actions.act("jakarta", ticket_id, sudin, {"action": "process", "note": "Dicek"})
    outcome = send_evidence(services, aws_stack, ticket_id, sudin, photo_at(near[0], near[1]))
    services.actions.act(
        "jakarta", ticket_id, sudin, {"action": "submit_follow_up", "note": "Lubang ditambal"}
    )
    services.actions.act("jakarta", ticket_id, checker, {"action": "validate", "note": "Sesuai"})
    services.actions.feedback(
        "jakarta", ticket_id, reporter, {"rating": 5, "comment": "Terima kasih"}
    )

    public = services.reports.view("jakarta", ticket_id, None)

    stored = load(services, ticket_id)
    assert outcome is PhotoOutcome.ACCEPTED
    assert EVIDENCE_FAR not in stored.flags
    assert stored.feedback is not None and stored.feedback.rating == 5
    assert public["status"] == "completed"
    assert [(e["from"], e["to"]) for e in public["timeline"]] == [
        (None, "locating"),
        ("locating", "waiting"),
        ("waiting", "in_progress"),
        ("in_progress", "coordination"),
        ("coordination", "in_progress"),
        ("in_progress", "awaiting_validation"),
        ("awaiting_validation", "completed"),
    ]
    assert [e["actor_role"] for e in public["timeline"][2:]] == [
        "official",
        "official",
        "official",
        "official",
        "validator",
    ]
    assert [p["kind"] for p in public["photos"]] == ["evidence"]
    assert public["photos"][0]["url"].endswith(".jpg")
    text = json.dumps(public)
    for secret in ("actor_id", "reporter_id", "flags"):
        assert secret not in text
    for who in (reporter, lurah, sudin, checker):
        assert who.subject not in text
        assert who.username not in text


def in_progress_with(services: bootstrap.Services) -> tuple[str, Principal]:
    ticket_id = file_report(services, person("reporter"))
    lurah = person("lurah-gambir", Role.OFFICIAL, GAMBIR)
    services.actions.act("jakarta", ticket_id, lurah, {"action": "process"})
    return ticket_id, lurah


@pytest.mark.parametrize(
    ("photo", "flag"),
    [
        pytest.param(
            lambda: photo_at(*point_north_of(*MONAS, 1000)),
            EVIDENCE_FAR,
            id="taken-1-km-away",
        ),
        pytest.param(lambda: photo_at(), EVIDENCE_WITHOUT_GEOTAG, id="without-gps"),
    ],
)
def test_evidence_that_does_not_show_the_reported_place_is_flagged_for_the_validator(
    services: bootstrap.Services, aws_stack: AwsStack, photo: Callable[[], bytes], flag: str
) -> None:
    ticket_id, lurah = in_progress_with(services)

    outcome = send_evidence(services, aws_stack, ticket_id, lurah, photo())

    stored = load(services, ticket_id)
    assert outcome is PhotoOutcome.ACCEPTED
    assert flag in stored.flags
    assert [p.kind.value for p in stored.photos] == ["evidence"]
    checker = person("validator", Role.VALIDATOR)
    staff_view: dict[str, Any] = services.reports.staff_view("jakarta", ticket_id, checker)
    assert flag in staff_view["flags"]
    assert "flags" not in services.reports.view("jakarta", ticket_id, None)


def test_evidence_within_200_m_is_not_flagged(
    services: bootstrap.Services, aws_stack: AwsStack
) -> None:
    ticket_id, lurah = in_progress_with(services)
    near = point_north_of(*MONAS, 150)

    outcome = send_evidence(services, aws_stack, ticket_id, lurah, photo_at(near[0], near[1]))

    stored = load(services, ticket_id)
    assert outcome is PhotoOutcome.ACCEPTED
    assert not {EVIDENCE_FAR, EVIDENCE_WITHOUT_GEOTAG} & set(stored.flags)
