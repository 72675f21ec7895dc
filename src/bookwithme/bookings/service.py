"""Create, reschedule and cancel bookings.

The race-proof write: the slot rule is checked again inside the transaction that writes the
booking, after the organizer's bookings are serialized (SQLite: the request is an IMMEDIATE
transaction, one writer at a time; PostgreSQL: the organizer's row is locked), and
PostgreSQL's exclusion constraint refuses any overlap whatever happens above it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bookwithme.bookings.effects import booking_changed
from bookwithme.bookings.schemas import BookingCreate
from bookwithme.bookings.views import booking_detail as booking_detail
from bookwithme.bookings.views import booking_out as booking_out
from bookwithme.config import Settings
from bookwithme.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    SlotUnavailable,
)
from bookwithme.i18n import N_, preferences
from bookwithme.lookup import parse_id
from bookwithme.meeting_types.bookable import Bookable, bookable_type
from bookwithme.meeting_types.schemas import NO_LINK_KINDS
from bookwithme.meeting_types.service import require_usable
from bookwithme.models import Booking, MeetingType, Page, PrivateLink, User
from bookwithme.notifications.emails import Change
from bookwithme.paging import page_after
from bookwithme.scheduling import versions
from bookwithme.scheduling.service import is_offered
from bookwithme.scheduling.slots import SlotRules
from bookwithme.security import hash_token, new_token

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BookingCancelled(Conflict):
    code = "booking_cancelled"
    default_message = "This booking has been cancelled; book a new time instead."


def validate_answers(
    questions: list[dict[str, Any]], answers: dict[str, str | bool]
) -> dict[str, str | bool]:
    """The answers to the meeting type's questions, checked against them (SPEC 2.5)."""
    by_id = {q["id"]: q for q in questions}
    errors: list[dict[str, str]] = []
    for key in answers:
        if key not in by_id:
            errors.append({"field": f"answers.{key}", "message": "there is no such question"})
    clean: dict[str, str | bool] = {}
    for q in questions:
        field = f"answers.{q['id']}"
        value = answers.get(q["id"])
        if q["kind"] == "checkbox":
            if value is None:
                value = False
            if not isinstance(value, bool):
                errors.append({"field": field, "message": "must be true or false"})
                continue
            if q["required"] and value is not True:
                errors.append({"field": field, "message": f"'{q['label']}' must be checked"})
                continue
        else:
            if isinstance(value, bool):
                errors.append({"field": field, "message": "must be text"})
                continue
            value = (value or "").strip()
            if _CONTROL.search(value):
                errors.append({"field": field, "message": "must not contain control characters"})
                continue
            if q["required"] and not value:
                errors.append({"field": field, "message": f"'{q['label']}' is required"})
                continue
            if q["kind"] == "select" and value and value not in q["options"]:
                errors.append(
                    {"field": field, "message": "must be one of: " + ", ".join(q["options"])}
                )
                continue
        clean[q["id"]] = value
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        raise InvalidInput(summary, details=errors)
    return clean


def lock_organizer(session: Session, organizer_id: uuid.UUID) -> None:
    """One booking write per organizer at a time (create, reschedule and cancel all take
    it). On SQLite the request already holds the database's write lock (an IMMEDIATE
    transaction), so FOR UPDATE is left out there. On PostgreSQL the wait is bounded by
    ``lock_timeout`` (see ``db.py``): past it the request answers 503."""
    session.execute(select(User.id).where(User.id == organizer_id).with_for_update())


def _check_link(session: Session, link_id: uuid.UUID, now: datetime) -> PrivateLink:
    link = session.scalar(select(PrivateLink).where(PrivateLink.id == link_id).with_for_update())
    if link is None:
        raise NotFound(N_("This booking link does not exist."))
    require_usable(link, now)
    return link


def _online_meeting_url(settings: Settings) -> str:
    return settings.online_meeting_url_template.replace("{token}", secrets.token_urlsafe(16))


def _uid_domain(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "bookwithme"


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # The exclusion constraint (PostgreSQL): someone else took overlapping time.
        raise SlotUnavailable() from exc


def create_booking(
    session: Session,
    bookable: Bookable,
    data: BookingCreate,
    locale: str,
    now: datetime,
    settings: Settings,
) -> tuple[Booking, str]:
    """Book ``data.start`` if the rule offers it at this moment; returns the booking and its
    manage token (shown once, stored as a hash)."""
    mt = bookable.meeting_type
    answers = validate_answers(mt.questions, data.answers)
    lock_organizer(session, bookable.organizer.id)
    link = _check_link(session, bookable.link.id, now) if bookable.link is not None else None
    start = data.start.astimezone(UTC)
    if not is_offered(session, bookable, start, now):
        raise SlotUnavailable()
    end = start + timedelta(minutes=mt.duration_minutes)
    token = new_token()
    # The organizer's "online meeting for every booking" covers meetings that can be held
    # online; one in a room or on the phone gets a link only when its type asks for it.
    online = mt.add_online_meeting or (
        bookable.organizer.add_online_meeting and mt.location_kind not in NO_LINK_KINDS
    )
    booking = Booking(
        user_id=bookable.organizer.id,
        meeting_type_id=mt.id,
        private_link_id=link.id if link else None,
        status="confirmed",
        start_at=start,
        end_at=end,
        blocked_start_at=start - timedelta(minutes=mt.buffer_before_minutes),
        blocked_end_at=end + timedelta(minutes=mt.buffer_after_minutes),
        title=mt.title,
        duration_minutes=mt.duration_minutes,
        buffer_before_minutes=mt.buffer_before_minutes,
        buffer_after_minutes=mt.buffer_after_minutes,
        location_kind=mt.location_kind,
        location_details=mt.location_details,
        online_meeting_url=_online_meeting_url(settings) if online else None,
        invitee_name=data.name,
        invitee_email=data.email,
        invitee_time_zone=data.time_zone,
        invitee_locale=locale,
        answers=answers,
        notes=data.notes,
        manage_token_hash=hash_token(token),
        ical_uid=f"{uuid.uuid4()}@{_uid_domain(settings)}",
        sequence=0,
    )
    session.add(booking)
    if link is not None and link.single_use:
        link.used_at = now
    _flush_or_conflict(session)
    booking_changed(
        session,
        booking,
        bookable.organizer,
        "created",
        meeting_type=mt,
        manage_url=manage_url(settings, token),
        secret_key=settings.resolved_secret_key,
        now=now,
    )
    return booking, token


def booking_rules(bookable: Bookable, booking: Booking) -> SlotRules:
    """The type's rules, with the booking's own duration and buffers (its snapshot)."""
    return replace(
        bookable.rules,
        duration_minutes=booking.duration_minutes,
        buffer_before_minutes=booking.buffer_before_minutes,
        buffer_after_minutes=booking.buffer_after_minutes,
    )


def reschedule_context(session: Session, booking: Booking) -> Bookable:
    if booking.status != "confirmed":
        raise BookingCancelled()
    if booking.meeting_type_id is None:
        raise NotFound("This meeting can no longer be moved; cancel it and book again.")
    return bookable_type(session, booking.meeting_type_id)


def reschedule(
    session: Session,
    booking: Booking,
    start: datetime,
    now: datetime,
    settings: Settings,
    manage_url: str | None = None,
    *,
    reason: str | None = None,
    by: Literal["invitee", "organizer"] = "invitee",
) -> Booking:
    """Move a confirmed booking to another offered start (its own time counts as free);
    both sides are told, the invitee with ``manage_url``, each email showing the old time,
    the new one and ``reason``."""
    bookable = reschedule_context(session, booking)
    lock_organizer(session, booking.user_id)
    session.refresh(booking)
    if booking.status != "confirmed":
        raise BookingCancelled()
    start = start.astimezone(UTC)
    if start == booking.start_at:
        # Already there (a second click, or the same move sent twice at once): one move,
        # one sequence bump, one pair of emails.
        return booking
    rules = booking_rules(bookable, booking)
    if not is_offered(session, bookable, start, now, exclude_booking_id=booking.id, rules=rules):
        raise SlotUnavailable()
    end = start + timedelta(minutes=booking.duration_minutes)
    previous = (booking.start_at, booking.end_at)
    booking.start_at = start
    booking.end_at = end
    booking.blocked_start_at = start - timedelta(minutes=booking.buffer_before_minutes)
    booking.blocked_end_at = end + timedelta(minutes=booking.buffer_after_minutes)
    booking.sequence += 1
    _flush_or_conflict(session)
    booking_changed(
        session,
        booking,
        bookable.organizer,
        "rescheduled",
        meeting_type=bookable.meeting_type,
        manage_url=manage_url,
        secret_key=settings.resolved_secret_key,
        now=now,
        change=Change(previous=previous, reason=reason or None, by=by),
    )
    return booking


def cancel(
    session: Session,
    booking: Booking,
    reason: str | None,
    by: str,
    now: datetime,
    settings: Settings,
) -> Booking:
    """Cancel (once; cancelling again changes nothing and sends nothing). A cancelled
    booking frees its time; both sides get a CANCEL invitation.

    The change is one conditional UPDATE on the booking's state, so of several cancels at
    once (double clicks, the invitee and the organizer together, several servers) exactly
    one takes effect: one sequence bump, one pair of emails. The others wait for the
    organizer's lock (which a reschedule also takes), find the booking cancelled and answer
    it unchanged."""
    lock_organizer(session, booking.user_id)
    versions.raise_version(session, [booking.user_id])
    changed = session.execute(
        update(Booking)
        .returning(Booking.id)
        .where(Booking.id == booking.id, Booking.status == "confirmed")
        .values(
            status="cancelled",
            cancelled_at=now,
            cancel_reason=reason or None,
            cancelled_by=by,
            sequence=Booking.sequence + 1,
        )
        .execution_options(synchronize_session=False, **versions.ALREADY_RAISED)
    ).first()
    session.refresh(booking)
    if changed is None:
        return booking
    meeting_type = (
        session.get(MeetingType, booking.meeting_type_id) if booking.meeting_type_id else None
    )
    booking_changed(
        session,
        booking,
        session.get_one(User, booking.user_id),
        "cancelled",
        meeting_type=meeting_type,
        manage_url=None,
        secret_key=settings.resolved_secret_key,
        now=now,
    )
    return booking


# Whose lane a booking change joins (web/admission.py), from the key in its address.


def organizer_of_page(session: Session, key: str) -> uuid.UUID | None:
    return session.scalar(select(Page.user_id).where(Page.key == key))


def organizer_of_link(session: Session, token: str) -> uuid.UUID | None:
    return session.scalar(
        select(MeetingType.user_id)
        .join(PrivateLink, PrivateLink.meeting_type_id == MeetingType.id)
        .where(PrivateLink.token_hash == hash_token(token))
    )


def organizer_of_manage_token(session: Session, token: str) -> uuid.UUID | None:
    return session.scalar(
        select(Booking.user_id).where(Booking.manage_token_hash == hash_token(token))
    )


def organizer_of_booking(session: Session, booking_id: str) -> uuid.UUID | None:
    parsed = parse_id(booking_id)
    return session.scalar(select(Booking.user_id).where(Booking.id == parsed)) if parsed else None


def by_manage_token(session: Session, token: str) -> Booking:
    booking = session.scalar(select(Booking).where(Booking.manage_token_hash == hash_token(token)))
    if booking is None:
        raise NotFound(N_("There is no booking at this address."))
    return booking


def organizer_booking(session: Session, user: User, booking_id: str) -> Booking:
    parsed = parse_id(booking_id)
    booking = session.get(Booking, parsed) if parsed else None
    if booking is None or booking.user_id != user.id:
        raise NotFound("No booking with this id.")
    return booking


PAGE_SIZE = 100


def list_bookings(
    session: Session,
    user: User,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Booking], str | None]:
    """The organizer's bookings by start time, ``limit`` at a time, with the next cursor."""
    query = select(Booking).where(Booking.user_id == user.id)
    if start is not None:
        query = query.where(Booking.end_at > start)
    if end is not None:
        query = query.where(Booking.start_at < end)
    if status is not None:
        query = query.where(Booking.status == status)
    return page_after(session, query, Booking.start_at, Booking.id, cursor, limit)


def manage_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/b/{token}"


def locale_from(requested: str | None, accept_language: str | None) -> str:
    """The invitee's ``locale`` if given, else the first of English or French their browser
    prefers, else English."""
    if requested:
        return requested
    best: tuple[float, str] | None = None
    for quality, tag in preferences(accept_language):
        lang = tag.lower()[:2]
        if lang in ("en", "fr") and (best is None or quality > best[0]):
            best = (quality, lang)
    return best[1] if best else "en"
