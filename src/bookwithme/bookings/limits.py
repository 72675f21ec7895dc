"""Limits on what invitees write without signing in: booking, moving and cancelling.

Each of these emails the address typed in (and the organizer), and nobody signs in to do
it, so without limits a script could use bookwithme to mail-bomb anyone, or fill an
organizer's calendar. The counts live in the database (``rate_limit_hits``), so every
server process shares them. A limit counts the hits of the last ``window`` for one key;
once ``most`` of them are there, the request answers 429 ``rate_limited`` with
``Retry-After`` (the seconds until the oldest of them leaves the window) and writes
nothing: no booking, no change, no email, and not even a hit of its own, so a refused
script does not push its own wait further out.

Each kind of write has two kinds of key. The client's address (as the sign-in limits
count it: IPv4 as it is, IPv6 per /64 network, ``accounts/ratelimit.address_key``) stops
one machine from flooding; the email address, or the booking, stops a crowd of machines
from all writing to one person:

``BOOKINGS_FROM_ADDRESS`` = 20 per 10 minutes: *every* attempt to book from one address
    counts, whatever becomes of it (booked, 409 time taken, 404, 410 link gone, a missing
    answer), because failures cost the server as much as successes and a flood is mostly
    failures. It is counted in a short transaction of its own, committed before the booking
    is tried, so a failed booking cannot roll its count back. An office of fifty people
    behind one NAT address books far fewer than 20 meetings in 10 minutes, and a person
    retrying a taken time a few times is nowhere near it.
``BOOKINGS_FOR_EMAIL`` = 5 per 10 minutes: the bookings *made* for one email address (the
    one typed in; ``+tags`` are dropped, since they reach the same inbox), each of which
    sends it a confirmation. Counted in the booking's own transaction, so only a booking
    that is written (and emailed) counts; nobody books six meetings for themselves in 10
    minutes, and a script booking for someone else's address from many machines sends
    them at most 30 confirmations an hour.
``CHANGES_FROM_ADDRESS`` = 20 per 10 minutes: every attempt to move or cancel a booking
    from one address, counted like the booking attempts (this is also what makes guessing
    manage links slow, beyond their 128 random bits).
``CHANGES_TO_BOOKING`` = 10 per hour: the moves and cancellations *made* to one booking
    (counted in their transaction; the key is the booking's id, never its token). Moving a
    meeting ten times in an hour is more than anyone does; each move emails both sides.
``CHANGES_FOR_EMAIL`` = 20 per hour: the moves and cancellations made to all the bookings
    of one invitee email together. The booking API answers the manage token, so without
    this a script could book five meetings for someone's address and move each of them
    ten times an hour.

``BOOKWITHME_PUBLIC_WRITE_LIMITS=false`` turns all of them off (a load test from one
machine, a kiosk that books for many people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bookwithme.accounts.ratelimit import address_key
from bookwithme.db import lock_key
from bookwithme.errors import RateLimited
from bookwithme.models import Booking, RateLimitHit


@dataclass(frozen=True)
class Limit:
    bucket: str  # stored with each hit: what is counted
    most: int  # hits allowed within the window
    window: timedelta
    message: str  # "{wait}" becomes "7 minutes"


BOOKINGS_FROM_ADDRESS = Limit(
    "book:address",
    20,
    timedelta(minutes=10),
    "Too many bookings were tried from your network in a short time. Nothing was booked; "
    "try again in {wait}.",
)
BOOKINGS_FOR_EMAIL = Limit(
    "book:email",
    5,
    timedelta(minutes=10),
    "Too many meetings were booked for this email address in a short time. Nothing was "
    "booked; try again in {wait}.",
)
CHANGES_FROM_ADDRESS = Limit(
    "change:address",
    20,
    timedelta(minutes=10),
    "Too many changes to bookings were tried from your network in a short time. Nothing "
    "was changed; try again in {wait}.",
)
CHANGES_TO_BOOKING = Limit(
    "change:booking",
    10,
    timedelta(hours=1),
    "This meeting has been moved or cancelled too many times in a short time. Nothing was "
    "changed; try again in {wait}.",
)
CHANGES_FOR_EMAIL = Limit(
    "change:email",
    20,
    timedelta(hours=1),
    "The meetings of this email address have been changed too many times in a short time. "
    "Nothing was changed; try again in {wait}.",
)
LIMITS = (
    BOOKINGS_FROM_ADDRESS,
    BOOKINGS_FOR_EMAIL,
    CHANGES_FROM_ADDRESS,
    CHANGES_TO_BOOKING,
    CHANGES_FOR_EMAIL,
)
# Hits older than this count for no limit any more, and are deleted as new ones come.
LONGEST_WINDOW = max(limit.window for limit in LIMITS)
SWEEP_AT_MOST = 500  # old rows deleted per counted attempt: a short statement, always


def email_key(email: str) -> str:
    """What an email address counts as: lower case, without a ``+tag``
    (``Ada+1@Example.com`` and ``ada@example.com`` reach the same inbox)."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain[:254]
    return f"{local.split('+', 1)[0] or local}@{domain}"[:254]


def _in_minutes(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def take(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """Count one hit of ``key`` against ``limit`` in the session's transaction, or raise
    ``RateLimited`` (counting nothing) when the window already holds ``limit.most``.

    Requests with the same key take turns until their transaction ends (an advisory lock
    on PostgreSQL; SQLite has one writer at a time), so a burst sent at once is counted
    exactly rather than all let through on the same stale count."""
    lock_key(session, f"rate:{limit.bucket}:{key}")
    since = now - limit.window
    mine = (RateLimitHit.bucket == limit.bucket) & (RateLimitHit.key == key)
    recent = RateLimitHit.at > since
    count = session.scalar(select(func.count()).where(mine, recent)) or 0
    if count >= limit.most:
        # Open again once all but most - 1 of these hits are older than the window.
        freed_by = session.scalar(
            select(RateLimitHit.at)
            .where(mine, recent)
            .order_by(RateLimitHit.at)
            .offset(count - limit.most)
            .limit(1)
        )
        assert freed_by is not None
        wait = max(1, int((freed_by + limit.window - now).total_seconds()) + 1)
        raise RateLimited(limit.message.format(wait=_in_minutes(wait)), retry_after=wait)
    session.add(RateLimitHit(bucket=limit.bucket, key=key, at=now))
    session.flush()


def take_for_address(session: Session, limit: Limit, address: str, now: datetime) -> None:
    """``take`` for a client address (or its /64 network), and forget hits too old to count
    for any limit."""
    take(session, limit, address_key(address), now)
    forget_old(session, now)


def take_booking(session: Session, email: str, now: datetime) -> None:
    """In the transaction that books for ``email``: count it, or refuse it."""
    take(session, BOOKINGS_FOR_EMAIL, email_key(email), now)


def take_change(session: Session, booking: Booking, now: datetime) -> None:
    """In the transaction that moves or cancels ``booking``: count it, or refuse it."""
    take(session, CHANGES_TO_BOOKING, str(booking.id), now)
    take(session, CHANGES_FOR_EMAIL, email_key(booking.invitee_email), now)


def forget_old(session: Session, now: datetime) -> None:
    """Delete (some of) the hits that no limit counts any more. Rows another transaction
    is deleting at this moment are skipped (PostgreSQL), never waited for."""
    old = (
        select(RateLimitHit.id)
        .where(RateLimitHit.at < now - LONGEST_WINDOW)
        .limit(SWEEP_AT_MOST)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(old.scalar_subquery())))
