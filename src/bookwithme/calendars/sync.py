"""Keeping a cached copy of each connected calendar's busy time.

The worker syncs every source when it is due (``SYNC_EVERY``), workers sharing the load
through leases like the outbox; an organizer can also ask for a sync at once. A failed sync
keeps the last good copy and records the error; the slot engine only ever reads the copy,
so it never waits on a remote calendar.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars.base import BusySource, ReadContext, SourceBusy, SourceError
from bookwithme.calendars.busy_blocks import whole_seconds
from bookwithme.calendars.caldav_source import CalDAVSource
from bookwithme.calendars.feeds import IcsFeed
from bookwithme.db import session_scope
from bookwithme.models import Booking, CalendarBusyInterval, CalendarConnection, User, utcnow

log = logging.getLogger("bookwithme.calendars")

SYNC_EVERY = timedelta(minutes=15)
RETRY_AFTER_ERROR = timedelta(minutes=5)
FULL_REFRESH = timedelta(hours=24)  # ignore "not modified" after this: the window moves
LEASE = timedelta(minutes=5)
PAST = timedelta(days=1)
AHEAD = timedelta(days=731)  # the longest max_advance_days, and a day

SOURCES: dict[str, BusySource] = {"ics": IcsFeed(), "caldav": CalDAVSource()}


def register(kind: str, source: BusySource) -> None:
    SOURCES[kind] = source


@dataclass
class Outcome:
    result: SourceBusy | None = None
    error: str | None = None


def read_source(connection: CalendarConnection, context: ReadContext, now: datetime) -> Outcome:
    """Ask the remote source (no database involved: this may take seconds)."""
    source = SOURCES.get(connection.kind)
    if source is None:
        return Outcome(error=f"No source knows how to read a '{connection.kind}' calendar.")
    if connection.last_success_at is None or now - connection.last_success_at > FULL_REFRESH:
        # The window moves with time: now and then read everything again.
        connection.etag = None
        connection.last_modified = None
    try:
        return Outcome(result=source.busy(connection, now - PAST, now + AHEAD, context))
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
    connection.last_error = (
        f"{len(result.problems)} event(s) could not be read and were skipped: "
        + "; ".join(result.problems[:3])
        if result.problems
        else None
    )
    if result.unchanged:
        session.flush()
        return
    session.execute(
        delete(CalendarBusyInterval).where(CalendarBusyInterval.connection_id == connection.id)
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
        session.execute(insert(CalendarBusyInterval), rows)
    connection.busy_count = len(rows)
    session.flush()


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
        own_uids: frozenset[str] = frozenset()
        if connection.write_back:
            own_uids = frozenset(
                reader.scalars(
                    select(Booking.ical_uid).where(
                        Booking.user_id == connection.user_id, Booking.end_at > now - PAST
                    )
                )
            )
        context = ReadContext(
            zone=reader.get_one(User, connection.user_id).time_zone,
            secret_key=secret_key,
            own_uids=own_uids,
        )
        reader.expunge(connection)
    outcome = read_source(connection, context, now)
    with session_scope(factory, write=True) as session:
        current = session.get(CalendarConnection, connection_id)
        if current is None or (worker is not None and current.lease_owner != worker):
            return False
        record(session, current, outcome, now)
        current.lease_owner = None
        current.lease_expires_at = None
    return True


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
            )
    return sum(sync_one(factory, connection_id, now, secret_key, worker) for connection_id in ids)
