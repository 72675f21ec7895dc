"""Reminders of a booking (SPEC 2.8).

Each confirmed booking gets one reminder per entry of its meeting type's ``reminders``, due
``minutes_before`` its start, each with a ``reminder`` job (``jobs.py``) due then. One whose
moment has passed when the booking is made or moved is ``skipped``; cancelling marks the
waiting ones ``cancelled``; rescheduling moves them (and their jobs). A reminder is sent
once: its emails are queued in the same transaction that marks it ``sent``, and only while
the worker still holds its job.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.db import session_scope
from bookwithme.models import Booking, BookingReminder, MeetingType, User, utcnow
from bookwithme.notifications.emails import reminder_emails
from bookwithme.notifications.outbox import enqueue_email, opened, question_labels
from bookwithme.secrets_box import MAIL, seal

REMINDER_JOB = "reminder"
TOO_LATE = timedelta(0)  # a reminder not sent by the meeting's start is skipped


def of_booking(session: Session, booking_id: uuid.UUID) -> list[BookingReminder]:
    return list(
        session.scalars(select(BookingReminder).where(BookingReminder.booking_id == booking_id))
    )


def _seal_for(reminder: BookingReminder, manage_url: str | None, secret_key: str) -> None:
    if manage_url and reminder.recipient in ("invitee", "both"):
        reminder.manage_url_sealed = seal(secret_key, manage_url, MAIL)


def _plan(session: Session, reminder: BookingReminder, start: datetime, now: datetime) -> None:
    """Due ``minutes_before`` ``start``: scheduled with its job, or skipped if already past."""
    reminder.due_at = start - timedelta(minutes=reminder.minutes_before)
    if reminder.due_at > now:
        reminder.status = "scheduled"
        session.flush()
        jobs.enqueue(session, REMINDER_JOB, str(reminder.id), run_at=reminder.due_at, replace=True)
    else:
        reminder.status = "skipped"
        reminder.manage_url_sealed = None
        jobs.cancel(session, REMINDER_JOB, str(reminder.id))


def booking_created(
    session: Session,
    booking: Booking,
    entries: list[dict[str, Any]],
    *,
    manage_url: str | None,
    secret_key: str,
    now: datetime,
) -> None:
    for entry in entries:
        reminder = BookingReminder(
            id=uuid.uuid4(),
            booking_id=booking.id,
            minutes_before=entry["minutes_before"],
            recipient=entry["to"],
            created_at=now,
        )
        _seal_for(reminder, manage_url, secret_key)
        session.add(reminder)
        _plan(session, reminder, booking.start_at, now)


def booking_moved(
    session: Session,
    booking: Booking,
    *,
    manage_url: str | None,
    secret_key: str,
    now: datetime,
) -> None:
    """The reminders follow the booking to its new time; one sent already for the old time
    is due again for the new one."""
    for reminder in of_booking(session, booking.id):
        if reminder.status == "cancelled":
            continue
        _seal_for(reminder, manage_url, secret_key)
        _plan(session, reminder, booking.start_at, now)


def booking_cancelled(session: Session, booking: Booking) -> None:
    for reminder in of_booking(session, booking.id):
        if reminder.status == "scheduled":
            reminder.status = "cancelled"
            reminder.manage_url_sealed = None
            jobs.cancel(session, REMINDER_JOB, str(reminder.id))
    session.flush()


def send_due(session: Session, reminder_id: uuid.UUID, secret_key: str, now: datetime) -> bool:
    """Queue the reminder's emails if it is due and still wanted; returns whether it was
    sent. Called in the transaction that holds its job."""
    query = select(BookingReminder).where(BookingReminder.id == reminder_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    reminder = session.scalar(query)
    if reminder is None or reminder.status != "scheduled":
        return False
    if reminder.due_at > now + timedelta(seconds=1):
        return False  # moved later: its job for the new time is queued
    booking = session.get_one(Booking, reminder.booking_id)
    if booking.status != "confirmed":
        reminder.status = "cancelled"
        reminder.manage_url_sealed = None
        return False
    if now >= booking.start_at - TOO_LATE:
        reminder.status = "skipped"  # the worker was down until the meeting began
        reminder.manage_url_sealed = None
        return False
    organizer = session.get_one(User, booking.user_id)
    meeting_type = (
        session.get(MeetingType, booking.meeting_type_id) if booking.meeting_type_id else None
    )
    for email in reminder_emails(
        booking,
        organizer,
        reminder.recipient,  # type: ignore[arg-type]
        manage_url=opened(secret_key, reminder.manage_url_sealed),
        labels=question_labels(meeting_type.questions) if meeting_type else {},
        now=now,
    ):
        enqueue_email(session, email, booking_id=booking.id, secret_key=secret_key, now=now)
    reminder.status = "sent"
    reminder.sent_at = now
    reminder.manage_url_sealed = None
    session.flush()
    return True


def _send(context: jobs.JobContext) -> None:
    with session_scope(context.factory, write=True) as session:
        context.hold(session)
        send_due(
            session, uuid.UUID(context.job.key), context.settings.resolved_secret_key, utcnow()
        )


jobs.register(
    jobs.Kind(
        REMINDER_JOB,
        _send,
        lane="mail",
        retry=jobs.RetryPolicy(
            first=timedelta(seconds=10),
            longest=timedelta(minutes=10),
            give_up_after=timedelta(days=1),
        ),
        batch=20,
    )
)
