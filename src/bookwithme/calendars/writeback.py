"""Bookings written back to the organizer's CalDAV calendar: each confirmed booking becomes an
event there, updated when it moves and removed when it is cancelled.

It works by reconciliation, so no change is lost to a crash or an unreachable server: a
``calendar.write_back`` job per calendar (queued by every booking change of its organizer,
and by each sync) compares each booking's SEQUENCE with the one last written there and does
what is missing, outside any transaction, recording each step after it. The job's key is
the calendar, so no two workers ever write one calendar at once, and each step is recorded
only while this worker still holds the job.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import caldav
from icalendar import Calendar, Event
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import jobs
from bookwithme.calendars.base import SourceError
from bookwithme.calendars.caldav_source import explain, open_calendar
from bookwithme.db import session_scope
from bookwithme.models import Booking, BookingCalendarEvent, CalendarConnection, utcnow
from bookwithme.notifications.ical import PRODID
from bookwithme.scheduling import versions

log = logging.getLogger("bookwithme.calendars")
KEEP_PAST = timedelta(days=1)  # bookings that ended before this are left alone
BATCH = 50
WRITE_BACK_JOB = "calendar.write_back"


def calendar_entry(booking: Booking) -> str:
    """The booking as an event of the organizer's own calendar: no METHOD, no attendees
    (so the server sends no invitations of its own), the booking's UID and SEQUENCE."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    event.add("summary", f"{booking.title} with {booking.invitee_name}")
    lines = [f"{booking.invitee_name} <{booking.invitee_email}>"]
    lines += [
        f"{key}: {value}" for key, value in booking.answers.items() if value not in ("", None)
    ]
    if booking.notes:
        lines.append(booking.notes)
    event.add("description", "\n".join(lines))
    where = booking.online_meeting_url or booking.location_details
    if where:
        event.add("location", where)
    if booking.online_meeting_url:
        event.add("url", booking.online_meeting_url)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return str(calendar.to_ical().decode("utf-8"))


@dataclass
class Pending:
    booking: Booking
    written: BookingCalendarEvent | None


def _needs_writing(now: datetime) -> Any:
    """Bookings whose calendar copy is missing, out of date, or should be gone."""
    return or_(
        and_(
            Booking.status == "confirmed",
            Booking.end_at > now - KEEP_PAST,
            or_(
                BookingCalendarEvent.id.is_(None),
                BookingCalendarEvent.sequence < Booking.sequence,
            ),
        ),
        and_(Booking.status == "cancelled", BookingCalendarEvent.id.is_not(None)),
    )


def _written(connection_id: Any) -> Any:
    return and_(
        BookingCalendarEvent.booking_id == Booking.id,
        BookingCalendarEvent.connection_id == connection_id,
    )


def _pending(session: Session, connection: CalendarConnection, now: datetime) -> list[Pending]:
    rows = session.execute(
        select(Booking, BookingCalendarEvent)
        .outerjoin(BookingCalendarEvent, _written(connection.id))
        .where(Booking.user_id == connection.user_id, _needs_writing(now))
        .order_by(Booking.start_at)
        .limit(BATCH)
    ).all()
    return [Pending(booking, written) for booking, written in rows]


def event_at(calendar: Any, href: str, data: str | None = None) -> Any:
    event_class: Any = caldav.Event
    return event_class(calendar.client, url=href, data=data, parent=calendar)


def _write(calendar: Any, item: Pending) -> tuple[str | None, str | None]:
    """Do one change on the server; returns the event's (href, etag), or (None, None) once
    it is removed."""
    booking, written = item.booking, item.written
    if booking.status == "cancelled":
        assert written is not None
        try:
            event_at(calendar, written.href).delete()
        except Exception as exc:
            if "NotFound" not in type(exc).__name__:
                raise
        return None, None
    data = calendar_entry(booking)
    if written is None:
        saved = calendar.save_event(data)
    else:
        saved = event_at(calendar, written.href, data)
        saved.save(increase_seqno=False)  # the booking's own SEQUENCE is the truth
    return str(saved.url), None


def write_back_one(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    secret_key: str,
    now: datetime,
    hold: Callable[[Session], None] | None = None,
    allow_private: bool = False,
) -> int:
    """Bring one write-back calendar up to date; returns how many changes were made. With
    ``hold``, each step is recorded only while the caller's job is still its own.
    Raises ``SourceError`` when the calendar could not take a change (tried again later)."""
    with factory() as reader:
        connection = reader.get(CalendarConnection, connection_id)
        if connection is None or not connection.write_back:
            return 0
        pending = _pending(reader, connection, now)
        reader.expunge_all()
    if not pending:
        return 0
    # SourceError: tried again later
    calendar = open_calendar(connection, secret_key, allow_private=allow_private)
    done = 0
    for item in pending:
        try:
            href, etag = _write(calendar, item)
        except Exception as exc:
            reason = explain(exc)
            log.warning("write-back of booking %s failed: %s", item.booking.id, reason)
            with session_scope(factory, write=True) as session:
                if hold is not None:
                    hold(session)
                session.execute(
                    update(CalendarConnection)
                    .where(CalendarConnection.id == connection_id)
                    .values(last_error=f"Writing bookings back failed: {reason}")
                    .execution_options(**versions.LEAVES_UNCHANGED)
                )
            raise SourceError(f"Writing bookings back failed: {reason}") from exc  # in order
        with session_scope(factory, write=True) as session:
            if hold is not None:
                hold(session)
            if href is None:
                session.execute(
                    delete(BookingCalendarEvent).where(
                        BookingCalendarEvent.booking_id == item.booking.id,
                        BookingCalendarEvent.connection_id == connection_id,
                    )
                )
            elif item.written is None:
                session.add(
                    BookingCalendarEvent(
                        booking_id=item.booking.id,
                        connection_id=connection_id,
                        href=href,
                        etag=etag,
                        sequence=item.booking.sequence,
                    )
                )
            else:
                session.execute(
                    update(BookingCalendarEvent)
                    .where(BookingCalendarEvent.id == item.written.id)
                    .values(href=href, sequence=item.booking.sequence)
                )
        done += 1
    if len(pending) == BATCH:
        with session_scope(factory, write=True) as session:
            schedule_write_back(session, connection_id, utcnow())  # there may be more
    return done


def schedule_write_back(session: Session, connection_id: uuid.UUID, at: datetime) -> None:
    jobs.enqueue(session, WRITE_BACK_JOB, str(connection_id), run_at=at)


def booking_changed(session: Session, organizer_id: uuid.UUID, now: datetime) -> None:
    """In the transaction of a booking change: bring the organizer's write-back calendars
    up to date once it commits."""
    for connection_id in session.scalars(
        select(CalendarConnection.id).where(
            CalendarConnection.user_id == organizer_id,
            CalendarConnection.write_back.is_(True),
            CalendarConnection.kind == "caldav",
        )
    ):
        schedule_write_back(session, connection_id, now)


def _write_back(context: jobs.JobContext) -> None:
    write_back_one(
        context.factory,
        uuid.UUID(context.job.key),
        context.settings.resolved_secret_key,
        utcnow(),
        context.hold,
        allow_private=context.settings.allow_private_targets,
    )


jobs.register(
    jobs.Kind(
        WRITE_BACK_JOB,
        _write_back,
        lane="calendars",
        retry=jobs.RetryPolicy(
            first=timedelta(seconds=30), longest=timedelta(hours=1), give_up_after=timedelta(days=3)
        ),
        lease=timedelta(minutes=5),
        batch=1,
    )
)
