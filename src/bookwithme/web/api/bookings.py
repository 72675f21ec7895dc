"""The organizer's bookings."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingDetail, BookingOut, CancelIn
from bookwithme.bookings.service import BookingCancelled
from bookwithme.errors import SlotUnavailable
from bookwithme.instants import InputInstant
from bookwithme.models import utcnow
from bookwithme.validation import NO_CONTROL
from bookwithme.web.api.common import DATE_OR_INSTANT, json_in_zone, window, zone_query
from bookwithme.web.deps import BookingLane, CurrentUser, SessionDep, SettingsDep
from bookwithme.web.openapi import raises

router = APIRouter(tags=["bookings"])


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


ZoneDep = Annotated[str | None, Depends(zone_query)]

REASON_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


class MoveIn(BaseModel):
    """The organizer moves a booking: ``start`` must be a time the slot rule offers for
    the booking's meeting type (its own time counting as free); ``reason`` goes to the
    invitee in the email that shows the old time and the new one."""

    model_config = ConfigDict(extra="forbid")

    start: InputInstant
    reason: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=REASON_MAX),
            AfterValidator(_no_control),
            NO_CONTROL,
            Field(description=f"Told to the invitee; at most {REASON_MAX} characters"),
        ]
        | None
    ) = None


@router.get("/bookings", response_model=BookingPage)
def list_bookings(
    user: CurrentUser,
    session: SessionDep,
    tz: ZoneDep,
    start: Annotated[
        str | None,
        Query(max_length=40, description="Bookings ending after: a date (in tz) or an instant"),
        DATE_OR_INSTANT,
    ] = None,
    end: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Bookings starting before: a date (whole day, in tz) or an instant",
        ),
        DATE_OR_INSTANT,
    ] = None,
    status: Literal["confirmed", "cancelled"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = bookings.PAGE_SIZE,
) -> Response:
    low, high = window(start, end, tz or user.time_zone)
    rows, next_cursor = bookings.list_bookings(session, user, low, high, status, cursor, limit)
    found = BookingPage(items=[bookings.booking_out(b) for b in rows], next_cursor=next_cursor)
    return json_in_zone(found, tz)


@router.get("/bookings/{booking_id}", response_model=BookingDetail)
def get_booking(booking_id: str, user: CurrentUser, session: SessionDep, tz: ZoneDep) -> Response:
    """One booking, with its reminders and their state."""
    booking = bookings.organizer_booking(session, user, booking_id)
    return json_in_zone(bookings.booking_detail(session, booking), tz)


@router.post("/bookings/{booking_id}/cancel", dependencies=[BookingLane])
def cancel_booking(
    booking_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    body: CancelIn | None = None,
) -> BookingDetail:
    booking = bookings.organizer_booking(session, user, booking_id)
    reason = body.reason if body else None
    bookings.cancel(session, booking, reason, "organizer", utcnow(), settings)
    return bookings.booking_detail(session, booking)


@router.post(
    "/bookings/{booking_id}/reschedule",
    dependencies=[BookingLane],
    responses=raises(SlotUnavailable, BookingCancelled),
)
def reschedule_booking(
    booking_id: str,
    body: MoveIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> BookingDetail:
    """Move one of your bookings to another time the slot rule offers for its meeting type
    (its own time counts as free). The invitee and you each get an email with the old time,
    the new one and the reason. 409 ``slot_unavailable`` for a time not offered, 409
    ``booking_cancelled`` for a cancelled booking."""
    booking = bookings.organizer_booking(session, user, booking_id)
    try:
        moved = bookings.reschedule(
            session, booking, body.start, utcnow(), settings, reason=body.reason, by="organizer"
        )
    except BookingCancelled:
        raise BookingCancelled("This booking is cancelled, so it cannot be moved.") from None
    return bookings.booking_detail(session, moved)
