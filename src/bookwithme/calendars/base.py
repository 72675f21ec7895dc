"""What every remote calendar source provides: its busy time over a window.

A source is chosen by the connection's ``kind`` through ``SOURCES``; adding one (Microsoft
Graph, Google) is a new class registered there, with nothing to change elsewhere. The
organizer's own busy time (bookings and busy blocks) is read straight from the database by
the slot query, next to the cached copy of every remote source's busy time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bookwithme.calendars.problems import Problem
from bookwithme.models import CalendarConnection


def seconds(value: float) -> str:
    """A duration as a sentence says it: "1 second", "20 seconds" (rounded up)."""
    whole = math.ceil(value)
    return f"{whole} second{'s' if whole != 1 else ''}"


class SourceError(Exception):
    """The source could not be read; the message is shown to the organizer as it is, so it
    says what happened in the product's words and never repeats what the server sent."""


@dataclass
class SourceBusy:
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # HTTP validators for the next fetch; ``unchanged`` when the server said 304.
    etag: str | None = None
    last_modified: str | None = None
    unchanged: bool = False


@dataclass(frozen=True)
class ReadContext:
    """What a source may need besides the connection: the organizer's zone (all-day and
    floating times), the key to stored credentials, the UIDs of the organizer's own
    bookings (written back to a calendar, they must not count twice), the moment
    (``time.monotonic()``) by which the whole read must be over, and whether the calendar
    may be on a non-public network (``ALLOW_PRIVATE_TARGETS``, see ``targets.py``)."""

    zone: str
    secret_key: str
    own_uids: frozenset[str] = frozenset()
    deadline: float = float("inf")
    allow_private: bool = False

    def remaining(self) -> float:
        """Seconds left before the deadline (never below zero)."""
        return max(0.0, self.deadline - time.monotonic())


class BusySource(Protocol):
    def busy(
        self, connection: CalendarConnection, start: datetime, end: datetime, context: ReadContext
    ) -> SourceBusy:
        """Busy intervals reaching into ``[start, end)``; raises ``SourceError``."""
        ...
