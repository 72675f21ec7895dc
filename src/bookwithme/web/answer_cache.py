"""Whole answers served again, exactly: the public slot endpoints opt in.

An answer depends on its organizer's data and on the clock. It is kept until either
changes it:

* the data: the answer carries the organizer's availability version it was computed
  under (read first in its transaction, ``scheduling/versions.py``); a repeated question
  asks the database for that one version (one row by primary key) and is answered from
  memory when it did not move. This works the same on SQLite and PostgreSQL, across
  processes;
* the clock: each answer carries the instant until which time alone cannot change it
  (``valid_until``).

``ResponseCache`` serves hits before routing, so a repeated question costs a dictionary
lookup and that one row.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookwithme.meeting_types.bookable import Bookable, Owner
from bookwithme.models.base import utcnow
from bookwithme.scheduling import versions
from bookwithme.scheduling.slots import localize
from bookwithme.timezones import named_zone
from bookwithme.web.admission import Admission

MAX_ENTRIES = 2048
MAX_AGE = timedelta(minutes=5)
# A private header a route sends to have its answer kept: "<organizer> <version> <until>".
CACHE_HEADER = b"x-bookwithme-cache"


def valid_until(
    bookable: Bookable,
    first_start: datetime | None,
    now: datetime,
    zone: str,
    max_age: timedelta = MAX_AGE,
) -> datetime:
    """Until when the clock alone cannot change this answer (the data aside): the first
    offered slot stops being offered once its minimum notice starts, the horizon and the
    default dates move at midnight (in the schedule's zone and the asked zone), and a
    private link expires."""
    limits = [now + max_age]
    for name in {bookable.schedule.time_zone, zone}:
        z = named_zone(name)
        limits.append(localize(now.astimezone(z).date() + timedelta(days=1), 0, z))
    if first_start is not None:
        notice = timedelta(minutes=bookable.meeting_type.minimum_notice_minutes)
        limits.append(first_start - notice + timedelta(microseconds=1))
    if bookable.link is not None:
        limits.append(bookable.link.expires_at)
    return min(limits)


def keep(response: Response, owner: Owner, until: datetime) -> None:
    """Mark ``response`` as one the cache may keep, under ``owner``'s version, until
    ``until``."""
    response.headers[CACHE_HEADER.decode()] = (
        f"{owner.organizer_id} {owner.version} {until.isoformat()}"
    )


@dataclass(frozen=True)
class CachedAnswer:
    organizer_id: uuid.UUID
    version: int
    valid_until: datetime
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class AnswerCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> CachedAnswer | None:
        """The answer kept for ``key`` that the clock has not outdated (its version is
        for the caller to check)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry.valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def discard(self, key: Hashable, entry: CachedAnswer) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]

    def put(self, key: Hashable, answer: CachedAnswer) -> None:
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _marker(value: bytes) -> tuple[uuid.UUID, int, datetime]:
    organizer, version, until = value.decode().split(" ")
    return uuid.UUID(organizer), int(version), datetime.fromisoformat(until)


class ResponseCache:
    """Serves repeated GETs from the ``AnswerCache`` before any routing, once the
    organizer's version has been asked (admitted at the database gate like any read)."""

    def __init__(self, app: ASGIApp, cache: AnswerCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        hit = self.cache.get(key, utcnow())
        if hit is not None:
            admission: Admission = scope["app"].state.admission
            organizer = hit.organizer_id
            version = await admission.quick_read(
                lambda session: versions.version_of(session, organizer), Admission.deadline()
            )
            if version == hit.version:
                await send(
                    {"type": "http.response.start", "status": hit.status, "headers": hit.headers}
                )
                await send({"type": "http.response.body", "body": hit.body})
                return
            self.cache.discard(key, hit)

        start: Message | None = None
        marker: tuple[uuid.UUID, int, datetime] | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start, marker
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                found = [v for k, v in headers if k.lower() == CACHE_HEADER]
                if found:
                    headers = [(k, v) for k, v in headers if k.lower() != CACHE_HEADER]
                    message = {**message, "headers": headers}
                    if message["status"] == 200:
                        marker = _marker(found[0])
                        start = message
            elif message["type"] == "http.response.body" and marker is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    organizer, version, until = marker
                    self.cache.put(
                        key,
                        CachedAnswer(
                            organizer, version, until, 200, list(start["headers"]), b"".join(chunks)
                        ),
                    )
            await send(message)

        await self.app(scope, receive, capture)
