"""The limits on what invitees write (``bookings/limits.py``), as the routes that book, move
and cancel apply them: a small call at the start of the route for the client's address,
and one just before the write for the email address or the booking.

Both use the request's own session (``SessionDep``, begun as a writer). The address is
counted in a short transaction of its own, committed at once, so that the attempt counts
whatever becomes of the request; the route's work then runs in the next transaction, begun
as a writer again. The email or booking is counted in the transaction of the write itself,
so it counts only when the booking or change is saved. Over a limit, ``RateLimited`` is
raised and the request's transaction rolls back: nothing is written.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from bookwithme import proxies
from bookwithme.bookings import limits
from bookwithme.db import begin_immediate
from bookwithme.models import Booking
from bookwithme.web.deps import client_address, get_settings


def enabled(request: Request) -> bool:
    return get_settings(request).public_write_limits


def _attempt(request: Request, session: Session, limit: limits.Limit, now: datetime) -> None:
    address = client_address(request)
    if not enabled(request) or address == proxies.UNKNOWN:
        # No address (a Unix socket without a proxy header): counting every such request
        # as one machine would limit the whole site; the other keys still apply.
        return
    limits.take_for_address(session, limit, address, now)
    session.commit()  # counted, whatever the route does next
    begin_immediate(session)


def booking_attempt(request: Request, session: Session, now: datetime) -> None:
    """First thing when a route is asked to book: count the attempt for the client's
    address, or refuse it."""
    _attempt(request, session, limits.BOOKINGS_FROM_ADDRESS, now)


def change_attempt(request: Request, session: Session, now: datetime) -> None:
    """First thing when a route is asked to move or cancel a booking: count the attempt for
    the client's address, or refuse it."""
    _attempt(request, session, limits.CHANGES_FROM_ADDRESS, now)


def booking_for(request: Request, session: Session, email: str, now: datetime) -> None:
    """Just before booking for ``email``, in the booking's transaction."""
    if enabled(request):
        limits.take_booking(session, email, now)


def change_of(request: Request, session: Session, booking: Booking, now: datetime) -> None:
    """Just before moving or cancelling ``booking``, in that change's transaction."""
    if enabled(request):
        limits.take_change(session, booking, now)
