"""Clocks the app can be given. The app never calls datetime.now() itself (see bootstrap)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftableClock:
    """Real time plus an offset that only moves forward: the local stack's 'advance the clock'."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()

    @property
    def offset(self) -> timedelta:
        return self._offset
