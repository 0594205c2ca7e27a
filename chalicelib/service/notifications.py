"""Publish what a ticket change means to its unit and its reporter."""

from __future__ import annotations

import logging
from typing import Protocol

from chalicelib.domain.notifications import Notification, notifications_for
from chalicelib.domain.tickets import Ticket

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, notification: Notification) -> None: ...


class Notifier:
    def __init__(self, publisher: Publisher, base_url: str) -> None:
        self._publisher = publisher
        self._base_url = base_url.rstrip("/")

    def ticket_changed(self, before: Ticket | None, after: Ticket) -> list[Notification]:
        sent = notifications_for(before, after, base_url=self._base_url)
        for notification in sent:
            self._publisher.publish(notification)
        if sent:
            log.info(
                "notified",
                extra={"tenant": after.tenant, "ticket": after.ticket_id, "count": len(sent)},
            )
        return sent
