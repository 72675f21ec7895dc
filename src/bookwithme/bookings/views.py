"""How a booking reads in the API."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme.bookings.schemas import BookingDetail, BookingOut, InviteeOut, ReminderOut
from bookwithme.meeting_types.schemas import Location
from bookwithme.models import Booking, BookingReminder


def booking_out(booking: Booking) -> BookingOut:
    return BookingOut(
        id=booking.id,
        meeting_type_id=booking.meeting_type_id,
        title=booking.title,
        status=booking.status,
        start=booking.start_at,
        end=booking.end_at,
        invitee=InviteeOut(
            name=booking.invitee_name,
            email=booking.invitee_email,
            time_zone=booking.invitee_time_zone,
            locale=booking.invitee_locale,
        ),
        answers=booking.answers,
        notes=booking.notes,
        location=Location(kind=booking.location_kind, details=booking.location_details),
        online_meeting_url=booking.online_meeting_url,
        created_at=booking.created_at,
        cancelled_at=booking.cancelled_at,
        cancel_reason=booking.cancel_reason,
    )


def booking_detail(session: Session, booking: Booking) -> BookingDetail:
    """The booking as ``GET /api/v1/bookings/{id}`` shows it (and webhooks send it), with
    its reminders."""
    rows = session.scalars(
        select(BookingReminder)
        .where(BookingReminder.booking_id == booking.id)
        .order_by(BookingReminder.due_at, BookingReminder.recipient)
    )
    return BookingDetail(
        **booking_out(booking).model_dump(),
        reminders=[
            ReminderOut(
                minutes_before=r.minutes_before, to=r.recipient, due_at=r.due_at, status=r.status
            )
            for r in rows
        ],
    )


def reminders_of_bookings(
    session: Session, booking_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[BookingReminder]]:
    """The reminders of several bookings (a page of a list) in one query, each booking's in
    the order they are due."""
    found: dict[uuid.UUID, list[BookingReminder]] = {}
    if not booking_ids:
        return found
    rows = session.scalars(
        select(BookingReminder)
        .where(BookingReminder.booking_id.in_(list(booking_ids)))
        .order_by(BookingReminder.due_at, BookingReminder.recipient)
    )
    for row in rows:
        found.setdefault(row.booking_id, []).append(row)
    return found
