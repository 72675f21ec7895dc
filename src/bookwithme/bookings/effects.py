"""What a booking change sets going, written in the change's own transaction: the two
emails, the reminders, the webhook deliveries and the write-back to the organizer's
calendars. Each is a row plus a job, so they happen exactly when the change commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bookwithme.bookings.views import booking_detail
from bookwithme.calendars import writeback
from bookwithme.models import Booking, MeetingType, User
from bookwithme.notifications import reminders
from bookwithme.notifications.emails import Change, Event
from bookwithme.notifications.outbox import enqueue_booking_emails, question_labels
from bookwithme.webhooks import service as webhooks


def booking_changed(
    session: Session,
    booking: Booking,
    organizer: User,
    event: Event,
    *,
    meeting_type: MeetingType | None,
    manage_url: str | None,
    secret_key: str,
    now: datetime,
    change: Change | None = None,
) -> None:
    """``change``: for a move, the time the booking had before (the emails show old → new),
    the reason given, and who moved it."""
    session.flush()
    if event == "created":
        entries: list[dict[str, Any]] = meeting_type.reminders if meeting_type else []
        reminders.booking_created(
            session, booking, entries, manage_url=manage_url, secret_key=secret_key, now=now
        )
    elif event == "rescheduled":
        reminders.booking_moved(
            session, booking, manage_url=manage_url, secret_key=secret_key, now=now
        )
    else:
        reminders.booking_cancelled(session, booking)
    enqueue_booking_emails(
        session,
        booking,
        organizer,
        event,
        manage_url=manage_url,
        labels=question_labels(meeting_type.questions) if meeting_type else {},
        now=now,
        secret_key=secret_key,
        change=change,
    )
    webhooks.emit(
        session,
        organizer.id,
        f"booking.{event}",
        lambda: booking_detail(session, booking).model_dump(mode="json"),
        now,
    )
    writeback.booking_changed(session, organizer.id, now)
