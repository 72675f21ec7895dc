"""The organizer's bookings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingOut, CancelIn
from bookwithme.models import utcnow
from bookwithme.web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["bookings"])


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


@router.get("/bookings")
def list_bookings(
    user: CurrentUser,
    session: SessionDep,
    start: Annotated[AwareDatetime | None, Query(description="Bookings ending after")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Bookings starting before")] = None,
    status: Literal["confirmed", "cancelled"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = bookings.PAGE_SIZE,
) -> BookingPage:
    rows, next_cursor = bookings.list_bookings(session, user, start, end, status, cursor, limit)
    return BookingPage(items=[bookings.booking_out(b) for b in rows], next_cursor=next_cursor)


@router.get("/bookings/{booking_id}")
def get_booking(booking_id: str, user: CurrentUser, session: SessionDep) -> BookingOut:
    return bookings.booking_out(bookings.organizer_booking(session, user, booking_id))


@router.post("/bookings/{booking_id}/cancel")
def cancel_booking(
    booking_id: str, user: CurrentUser, session: SessionDep, body: CancelIn | None = None
) -> BookingOut:
    booking = bookings.organizer_booking(session, user, booking_id)
    reason = body.reason if body else None
    return bookings.booking_out(bookings.cancel(session, booking, reason, "organizer", utcnow()))
