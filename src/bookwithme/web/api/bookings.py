"""The organizer's bookings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingDetail, BookingOut, CancelIn
from bookwithme.models import utcnow
from bookwithme.web.api.common import DATE_OR_INSTANT, json_in_zone, window, zone_query
from bookwithme.web.deps import BookingLane, CurrentUser, SessionDep, SettingsDep

router = APIRouter(tags=["bookings"])


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


ZoneDep = Annotated[str | None, Depends(zone_query)]


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
