"""Keeping a cached copy of each connected calendar's busy time.

The worker syncs every source when it is due (``SYNC_EVERY``), workers sharing the load
through leases like the outbox; an organizer can also ask for a sync at once, and a
calendar is read once when it is connected. A failed sync keeps the last good copy and
records the error; the slot engine only ever reads the copy, so it never waits on a
remote calendar.

A read has three steps, so no transaction is open while a remote server is asked:
``prepare`` (a short read of the connection), ``read_source`` (the remote read, over in
``READ_DEADLINE`` seconds whatever the server does) and ``record`` (a short write).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars.base import (
    BusySource,
    ReadContext,
    SourceBusy,
    SourceError,
    seconds,
)
from bookwithme.calendars.busy_blocks import whole_seconds
from bookwithme.calendars.caldav_source import CalDAVSource
from bookwithme.calendars.feeds import IcsFeed
from bookwithme.calendars.problems import summary
from bookwithme.db import session_scope
from bookwithme.models import Booking, CalendarBusyInterval, CalendarConnection, User, utcnow
from bookwithme.scheduling import versions

log = logging.getLogger("bookwithme.calendars")

SYNC_EVERY = timedelta(minutes=15)
RETRY_AFTER_ERROR = timedelta(minutes=5)
FULL_REFRESH = timedelta(hours=24)  # ignore "not modified" after this: the window moves
LEASE = timedelta(minutes=5)
PAST = timedelta(days=1)
AHEAD = timedelta(days=731)  # the longest max_advance_days, and a day
READ_DEADLINE = 20.0  # seconds for one whole read: connecting, downloading and reading
# Sources stop themselves at the deadline; this much later the caller stops waiting anyway.
GRACE = 2.0

SOURCES: dict[str, BusySource] = {"ics": IcsFeed(), "caldav": CalDAVSource()}


def register(kind: str, source: BusySource) -> None:
    SOURCES[kind] = source


@dataclass
class Outcome:
    result: SourceBusy | None = None
    error: str | None = None


def _within(limit: float, work: Callable[[], SourceBusy]) -> SourceBusy:
    """``work()`` in its own thread, waited for at most ``limit`` seconds: a source that does not
    stop by itself (a library without an overall timeout) cannot hold its caller longer.
    The abandoned thread ends when that source's own per-request timeouts fire."""
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=run, name="calendar-read", daemon=True).start()
    if not finished.wait(limit):
        raise SourceError(f"The calendar did not finish answering within {seconds(READ_DEADLINE)}.")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def read_source(connection: CalendarConnection, context: ReadContext, now: datetime) -> Outcome:
    """Ask the remote source (no database involved), for at most ``READ_DEADLINE`` seconds."""
    source = SOURCES.get(connection.kind)
    if source is None:
        return Outcome(error=f"No source knows how to read a '{connection.kind}' calendar.")
    if connection.last_success_at is None or now - connection.last_success_at > FULL_REFRESH:
        # The window moves with time: now and then read everything again.
        connection.etag = None
        connection.last_modified = None
    context = replace(context, deadline=time.monotonic() + READ_DEADLINE)
    try:
        return Outcome(
            result=_within(
                READ_DEADLINE + GRACE,
                lambda: source.busy(connection, now - PAST, now + AHEAD, context),
            )
        )
    except SourceError as exc:
        return Outcome(error=str(exc))
    except Exception as exc:  # a bug in one source must not stop the others
        log.exception("calendar %s failed to sync", connection.id)
        return Outcome(error=f"The calendar could not be read ({type(exc).__name__}).")


def record(
    session: Session, connection: CalendarConnection, outcome: Outcome, now: datetime
) -> None:
    """Store what a read gave: the new busy time, or the error next to the last good copy."""
    connection.last_synced_at = now
    result = outcome.result
    if result is None:
        connection.last_error = outcome.error
        connection.next_sync_at = now + RETRY_AFTER_ERROR
        session.flush()
        return
    connection.etag, connection.last_modified = result.etag, result.last_modified
    connection.last_success_at = now
    connection.next_sync_at = now + SYNC_EVERY
    connection.last_error = summary(result.problems)
    if result.unchanged:
        session.flush()
        return
    versions.raise_version(session, [connection.user_id])
    session.execute(
        delete(CalendarBusyInterval)
        .where(CalendarBusyInterval.connection_id == connection.id)
        .execution_options(**versions.ALREADY_RAISED)
    )
    rows = []
    for start, end in result.intervals:
        start, end = whole_seconds(start, end)
        rows.append(
            {
                "id": uuid.uuid4(),
                "connection_id": connection.id,
                "user_id": connection.user_id,
                "start_at": start,
                "end_at": end,
            }
        )
    if rows:
        stored = insert(CalendarBusyInterval).execution_options(**versions.ALREADY_RAISED)
        session.execute(stored, rows)
    connection.busy_count = len(rows)
    session.flush()


def prepare(
    session: Session, connection: CalendarConnection, now: datetime, secret_key: str
) -> ReadContext:
    """What reading ``connection`` needs from the database (read before the remote call)."""
    own_uids: frozenset[str] = frozenset()
    if connection.write_back:
        own_uids = frozenset(
            session.scalars(
                select(Booking.ical_uid).where(
                    Booking.user_id == connection.user_id, Booking.end_at > now - PAST
                )
            )
        )
    return ReadContext(
        zone=session.get_one(User, connection.user_id).time_zone,
        secret_key=secret_key,
        own_uids=own_uids,
    )


def store(
    session: Session,
    connection_id: uuid.UUID,
    outcome: Outcome,
    now: datetime,
    worker: str | None = None,
) -> bool:
    """Record ``outcome`` on the connection if it still exists (and, with ``worker``, only
    while that worker still holds its lease)."""
    current = session.get(CalendarConnection, connection_id)
    if current is None or (worker is not None and current.lease_owner != worker):
        return False
    record(session, current, outcome, now)
    current.lease_owner = None
    current.lease_expires_at = None
    return True


def sync_one(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    now: datetime,
    secret_key: str,
    worker: str | None = None,
) -> bool:
    """Read one source outside any transaction, then record the result in a short one.
    With ``worker``, only while that worker still holds the lease."""
    with factory() as reader:
        connection = reader.get(CalendarConnection, connection_id)
        if connection is None:
            return False
        context = prepare(reader, connection, now, secret_key)
        reader.expunge(connection)
    outcome = read_source(connection, context, now)
    with session_scope(factory, write=True) as session:
        return store(session, connection_id, outcome, now, worker)


def sync_due(
    factory: sessionmaker[Session],
    worker: str,
    secret_key: str,
    now: datetime | None = None,
    limit: int = 10,
) -> int:
    """Sync the sources that are due; returns how many were synced."""
    now = now or utcnow()
    with session_scope(factory, write=True) as session:
        due = (
            select(CalendarConnection.id)
            .where(
                CalendarConnection.next_sync_at <= now,
                or_(
                    CalendarConnection.lease_expires_at.is_(None),
                    CalendarConnection.lease_expires_at < now,
                ),
            )
            .order_by(CalendarConnection.next_sync_at)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if ids:
            session.execute(
                update(CalendarConnection)
                .where(CalendarConnection.id.in_(ids))
                .values(lease_owner=worker, lease_expires_at=now + LEASE)
                .execution_options(**versions.LEAVES_UNCHANGED)
            )
    return sum(sync_one(factory, connection_id, now, secret_key, worker) for connection_id in ids)
