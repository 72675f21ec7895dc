"""Keeping a cached copy of each connected calendar's busy time.

Each source has one ``calendar.sync`` job (``jobs.py``), queued again for ``SYNC_EVERY``
later by every read, so workers share the load like any other job; an organizer can also
ask for a sync at once, and a calendar is read once when it is connected. A failed sync
keeps the last good copy and records the error; the slot engine only ever reads the copy,
so it never waits on a remote calendar.

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

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import jobs
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
from bookwithme.calendars.writeback import schedule_write_back
from bookwithme.db import session_scope
from bookwithme.models import Booking, CalendarBusyInterval, CalendarConnection, User, utcnow
from bookwithme.scheduling import versions

log = logging.getLogger("bookwithme.calendars")

SYNC_EVERY = timedelta(minutes=15)
RETRY_AFTER_ERROR = timedelta(minutes=5)
FULL_REFRESH = timedelta(hours=24)  # ignore "not modified" after this: the window moves
SYNC_JOB = "calendar.sync"
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
        schedule_sync(session, connection.id, now + RETRY_AFTER_ERROR)
        session.flush()
        return
    connection.etag, connection.last_modified = result.etag, result.last_modified
    connection.last_success_at = now
    schedule_sync(session, connection.id, now + SYNC_EVERY)
    if connection.write_back:
        # Now and then, check the calendar has every booking (it may have been changed
        # on the server, or have failed for longer than write-back retries).
        schedule_write_back(session, connection.id, now)
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
    session: Session,
    connection: CalendarConnection,
    now: datetime,
    secret_key: str,
    allow_private: bool = False,
) -> ReadContext:
    """What reading ``connection`` needs from the database (read before the remote call);
    ``allow_private`` is ``Settings.allow_private_targets``."""
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
        allow_private=allow_private,
    )


def schedule_sync(session: Session, connection_id: uuid.UUID, at: datetime) -> None:
    jobs.enqueue(session, SYNC_JOB, str(connection_id), run_at=at, replace=True)


def store(
    session: Session,
    connection_id: uuid.UUID,
    outcome: Outcome,
    now: datetime,
) -> bool:
    """Record ``outcome`` on the connection if it still exists."""
    current = session.get(CalendarConnection, connection_id)
    if current is None:
        return False
    record(session, current, outcome, now)
    return True


def sync_one(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    now: datetime,
    secret_key: str,
    hold: Callable[[Session], None] | None = None,
    allow_private: bool = False,
) -> bool:
    """Read one source outside any transaction, then record the result in a short one
    (with ``hold``, only while the caller's job is still its own)."""
    with factory() as reader:
        connection = reader.get(CalendarConnection, connection_id)
        if connection is None:
            return False
        context = prepare(reader, connection, now, secret_key, allow_private)
        reader.expunge(connection)
    outcome = read_source(connection, context, now)
    with session_scope(factory, write=True) as session:
        if hold is not None:
            hold(session)
        return store(session, connection_id, outcome, now)


def _sync(context: jobs.JobContext) -> None:
    sync_one(
        context.factory,
        uuid.UUID(context.job.key),
        utcnow(),
        context.settings.resolved_secret_key,
        context.hold,
        allow_private=context.settings.allow_private_targets,
    )


jobs.register(
    jobs.Kind(
        SYNC_JOB,
        _sync,
        lane="calendars",
        # A failed read is recorded and read again later by the job itself; this is for
        # the database being unreachable meanwhile.
        retry=jobs.RetryPolicy(first=timedelta(seconds=30), longest=timedelta(minutes=15)),
        lease=timedelta(seconds=READ_DEADLINE + GRACE + 30),
        batch=1,
    )
)
