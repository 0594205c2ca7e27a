"""SNS: one topic for units (filter on the `unit` attribute), one for reporters."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.notifications import Audience, Notification


class SnsPublisher:
    def __init__(self, client: Any, topics: dict[Audience, str]) -> None:
        self._client = client
        self._topics = topics

    def publish(self, notification: Notification) -> None:
        self._client.publish(
            TopicArn=self._topics[notification.audience],
            Message=json.dumps(notification.message, ensure_ascii=False),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in {
                    **notification.attributes,
                    "event_id": notification.event_id,
                }.items()
                if value
            },
        )
