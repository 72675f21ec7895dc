"""Free times for invitees: find what is being booked (through a page or a private link),
read everything the slot rule needs in a constant number of queries, and run the engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.errors import InvalidInput, NotFound
from bookwithme.lookup import parse_id
from bookwithme.meeting_types.service import require_usable
from bookwithme.models import (
    Booking,
    BusyBlock,
    CalendarBusyInterval,
    CalendarConnection,
    MeetingType,
    Organization,
    Page,
    PrivateLink,
    Schedule,
    User,
)
from bookwithme.models.base import UTCDateTime
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import FIRST_DATE, LAST_DATE, ScheduleData
from bookwithme.scheduling.slots import BusyTimes, Slot, SlotRules, compute_slots, localize
from bookwithme.security import hash_token

MAX_WINDOW_DAYS = 62
MAX_ADVANCE_DAYS = 730  # the longest horizon a meeting type may have
# How far around the window busy time and bookings are read: the widest buffer (4 h), the
# longest meeting (12 h) and a whole local date on either side all fit in two days.
READ_MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class Bookable:
    """One meeting type as an invitee reaches it, with all the slot rule needs of it."""

    meeting_type: MeetingType
    organizer: User
    organization: Organization
    schedule: ScheduleData
    page: Page | None = None
    link: PrivateLink | None = None
    # A connected calendar that never synced: its busy time is unknown, so nothing is offered.
    calendar_never_synced: bool = False

    @property
    def rules(self) -> SlotRules:
        mt = self.meeting_type
        return SlotRules(
            duration_minutes=mt.duration_minutes,
            slot_interval_minutes=mt.slot_interval_minutes,
            buffer_before_minutes=mt.buffer_before_minutes,
            buffer_after_minutes=mt.buffer_after_minutes,
            minimum_notice_minutes=mt.minimum_notice_minutes,
            max_advance_days=mt.max_advance_days,
            max_bookings_per_day=mt.max_bookings_per_day,
        )


def _context_query() -> Select[MeetingType, User, Organization, Schedule, bool]:
    """Meeting type, organizer, organization and the schedule in force, in one query."""
    never_synced = (
        exists()
        .where(CalendarConnection.user_id == User.id, CalendarConnection.last_success_at.is_(None))
        .correlate(User)
    )
    return (
        select(MeetingType, User, Organization, Schedule, never_synced.label("never_synced"))
        .join(User, User.id == MeetingType.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .join(
            Schedule,
            or_(
                Schedule.id == MeetingType.schedule_id,
                and_(
                    MeetingType.schedule_id.is_(None),
                    Schedule.user_id == User.id,
                    Schedule.is_default.is_(True),
                ),
            ),
        )
        .where(MeetingType.deleted_at.is_(None), MeetingType.active.is_(True))
    )


def _bookable(
    row: Any, page: Page | None = None, link: PrivateLink | None = None
) -> Bookable | None:
    mt, user, organization, schedule, never_synced = row
    if not personal_bookings_status(organization, user).enabled:
        return None
    return Bookable(
        meeting_type=mt,
        organizer=user,
        organization=organization,
        schedule=store.to_data(schedule),
        page=page,
        link=link,
        calendar_never_synced=bool(never_synced),
    )


def published_page(session: Session, key: str) -> tuple[Page, User, Organization]:
    """A published page of an organizer whose personal bookings is on; else 404."""
    row = session.execute(
        select(Page, User, Organization)
        .join(User, User.id == Page.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(Page.key == key, Page.published.is_(True))
    ).first()
    if row is None or not personal_bookings_status(row[2], row[1]).enabled:
        raise NotFound("There is no booking page at this address.")
    return row[0], row[1], row[2]


def public_types(session: Session, user: User) -> list[MeetingType]:
    return list(
        session.scalars(
            select(MeetingType)
            .where(
                MeetingType.user_id == user.id,
                MeetingType.visibility == "public",
                MeetingType.active.is_(True),
                MeetingType.deleted_at.is_(None),
            )
            .order_by(MeetingType.position, MeetingType.created_at)
        )
    )


def bookable_through_page(session: Session, key: str, type_id: str) -> Bookable:
    parsed = parse_id(type_id)
    row = None
    if parsed is not None:
        row = session.execute(
            _context_query()
            .add_columns(Page)
            .join(Page, Page.user_id == User.id)
            .where(
                Page.key == key,
                Page.published.is_(True),
                MeetingType.id == parsed,
                MeetingType.visibility == "public",
            )
        ).first()
    found = _bookable(row[:5], page=row[5]) if row is not None else None
    if found is None:
        raise NotFound("There is no such meeting type on this booking page.")
    return found


def bookable_through_link(session: Session, token: str, now: datetime) -> Bookable:
    """404 for an unknown link (or one whose organizer cannot take bookings now), 410 with
    the reason for an expired, used or revoked one."""
    row = session.execute(
        _context_query()
        .add_columns(PrivateLink)
        .join(PrivateLink, PrivateLink.meeting_type_id == MeetingType.id)
        .where(PrivateLink.token_hash == hash_token(token))
    ).first()
    found = _bookable(row[:5], link=row[5]) if row is not None else None
    if found is None:
        raise NotFound("This booking link does not exist.")
    assert found.link is not None
    require_usable(found.link, now)
    return found


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since the epoch of a timestamp column, computed by the database."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # Stored as naive UTC text: strftime reads it as UTC.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def bookable_type(session: Session, meeting_type_id: uuid.UUID) -> Bookable:
    """A meeting type reached from an existing booking (rescheduling): any visibility, but
    still active, not deleted, and its organizer able to take bookings."""
    row = session.execute(_context_query().where(MeetingType.id == meeting_type_id)).first()
    found = _bookable(row) if row is not None else None
    if found is None:
        raise NotFound("This meeting can no longer be moved; cancel it and book again.")
    return found


def is_offered(
    session: Session,
    bookable: Bookable,
    start: datetime,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
) -> bool:
    """SPEC 2.3 step 7: a start is accepted only if the rule offers exactly it, now."""
    if not now - timedelta(days=1) <= start <= now + timedelta(days=MAX_ADVANCE_DAYS + 2):
        return False  # in the past or beyond any horizon (and years like 9999 stay sane)
    window_end = start + timedelta(seconds=1)
    offered = slots_for(session, bookable, start, window_end, now, exclude_booking_id, rules)
    return any(slot.start == start for slot in offered)


@dataclass(frozen=True)
class OrganizerBusy:
    busy: BusyTimes
    type_booking_starts: list[int]


def _busy_statement() -> CompoundSelect[Any]:
    """Built once: the organizer's busy time in ``[:lo, :hi)``, sorted by start."""
    organizer = bindparam("organizer", type_=Uuid)
    lo = bindparam("lo", type_=UTCDateTime())
    hi = bindparam("hi", type_=UTCDateTime())
    exclude = bindparam("exclude", type_=Uuid)
    no_type = literal(0)
    no_start = cast(null(), BigInteger)
    bookings = select(
        epoch_seconds(Booking.blocked_start_at).label("s"),
        epoch_seconds(Booking.blocked_end_at).label("e"),
        case((Booking.meeting_type_id == bindparam("meeting_type", type_=Uuid), 1), else_=0),
        epoch_seconds(Booking.start_at),
    ).where(
        Booking.user_id == organizer,
        Booking.status == "confirmed",
        Booking.blocked_start_at < hi,
        Booking.blocked_end_at > lo,
        or_(exclude.is_(None), Booking.id != exclude),
    )
    blocks = select(
        epoch_seconds(BusyBlock.start_at), epoch_seconds(BusyBlock.end_at), no_type, no_start
    ).where(BusyBlock.user_id == organizer, BusyBlock.start_at < hi, BusyBlock.end_at > lo)
    calendars = select(
        epoch_seconds(CalendarBusyInterval.start_at),
        epoch_seconds(CalendarBusyInterval.end_at),
        no_type,
        no_start,
    ).where(
        CalendarBusyInterval.user_id == organizer,
        CalendarBusyInterval.start_at < hi,
        CalendarBusyInterval.end_at > lo,
    )
    return union_all(bookings, blocks, calendars).order_by("s")


_BUSY = _busy_statement()


def busy_time(
    session: Session,
    organizer_id: uuid.UUID,
    meeting_type_id: uuid.UUID,
    lo: datetime,
    hi: datetime,
    exclude_booking_id: uuid.UUID | None = None,
) -> OrganizerBusy:
    """Every busy interval of the organizer that reaches into ``[lo, hi)``, in one query:
    confirmed bookings (widened by their own buffers), busy blocks and calendar time, as
    epoch seconds sorted by start (busy time is stored in whole seconds)."""
    rows = session.execute(
        _BUSY,
        {
            "organizer": organizer_id,
            "meeting_type": meeting_type_id,
            "lo": lo,
            "hi": hi,
            "exclude": exclude_booking_id,
        },
    ).all()
    return OrganizerBusy(
        busy=BusyTimes([r[0] for r in rows], [r[1] for r in rows]),
        type_booking_starts=[r[3] for r in rows if r[2]],
    )


def plausible(day: date, name: str) -> date:
    """A date a request may ask about; 422 for one outside the years bookwithme plans for."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidInput(
            f"{name}: must be between {FIRST_DATE} and {LAST_DATE}",
            details=[{"field": name, "message": f"between {FIRST_DATE} and {LAST_DATE}"}],
        )
    return day


def window_of(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """Dates inclusive in ``zone`` as the instants ``[start 00:00, end + 1 00:00)``."""
    if end < start:
        raise InvalidInput(
            "end must not be before start",
            details=[{"field": "end", "message": "must not be before start"}],
        )
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise InvalidInput(
            f"Ask for at most {MAX_WINDOW_DAYS} days of slots at a time.",
            details=[{"field": "end", "message": f"at most {MAX_WINDOW_DAYS} days after start"}],
        )
    plausible(start, "start")
    plausible(end, "end")
    z = ZoneInfo(zone)
    return localize(start, 0, z), localize(end + timedelta(days=1), 0, z)


def slots_for(
    session: Session,
    bookable: Bookable,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
) -> list[Slot]:
    """The offered slots. ``exclude_booking_id`` lets a booking's own time count as free
    (rescheduling); ``rules`` replaces the type's (a booking keeps its own duration)."""
    if bookable.calendar_never_synced:
        return []
    busy = busy_time(
        session,
        bookable.organizer.id,
        bookable.meeting_type.id,
        window_start - READ_MARGIN,
        window_end + READ_MARGIN,
        exclude_booking_id,
    )
    return compute_slots(
        bookable.schedule,
        rules or bookable.rules,
        window_start,
        window_end,
        now,
        busy.busy,
        busy.type_booking_starts,
    )


def valid_until(
    bookable: Bookable, slots: list[Slot], now: datetime, zone: str, max_age: timedelta
) -> datetime:
    """Until when the clock alone cannot change this answer (the database aside):
    the first offered slot stops being offered once its minimum notice starts, the horizon
    and the default dates move at midnight (in the schedule's zone and the asked zone), and
    a private link expires."""
    limits = [now + max_age]
    for name in {bookable.schedule.time_zone, zone}:
        z = ZoneInfo(name)
        limits.append(localize(now.astimezone(z).date() + timedelta(days=1), 0, z))
    if slots:
        notice = timedelta(minutes=bookable.meeting_type.minimum_notice_minutes)
        limits.append(min(s.start for s in slots) - notice + timedelta(microseconds=1))
    if bookable.link is not None:
        limits.append(bookable.link.expires_at)
    return min(limits)


def month_window(month: date, zone: str) -> tuple[datetime, datetime]:
    """The instants of a calendar month in ``zone``: ``[1st 00:00, 1st of next 00:00)``."""
    first = plausible(month.replace(day=1), "month")
    following = (first + timedelta(days=32)).replace(day=1)
    z = ZoneInfo(zone)
    return localize(first, 0, z), localize(following, 0, z)


def days_with_room(slots: list[Slot], zone: str) -> list[tuple[date, int]]:
    """Each local date in ``zone`` that has slots, with how many, in order (the dots of a
    month calendar)."""
    z = ZoneInfo(zone)
    counts: dict[date, int] = {}
    for slot in slots:
        day = slot.start.astimezone(z).date()
        counts[day] = counts.get(day, 0) + 1
    return sorted(counts.items())
