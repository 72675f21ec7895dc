"""Free times for invitees: read the organizer's busy time (from memory while their
availability version holds) and run the slot engine on it."""

from __future__ import annotations

import threading
import uuid
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Uuid,
    bindparam,
    cast,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bookwithme.db import longer_read
from bookwithme.errors import InvalidInput
from bookwithme.meeting_types.bookable import Bookable, BookableCache, Owner
from bookwithme.models import Booking, BusyBlock, CalendarBusyInterval
from bookwithme.models.base import UTCDateTime
from bookwithme.scheduling.schedules import FIRST_DATE, LAST_DATE
from bookwithme.scheduling.slots import (
    BusyTimes,
    Slot,
    SlotRules,
    localize,
    localize_seconds,
    offered_starts,
)
from bookwithme.sql import epoch_seconds, epoch_seconds_up
from bookwithme.timezones import named_zone

MAX_WINDOW_DAYS = 62
MAX_ADVANCE_DAYS = 730  # the longest horizon a meeting type may have
# How far around the window busy time and bookings are read: the widest buffer (4 h), the
# longest meeting (12 h) and a whole local date on either side all fit in two days.
READ_MARGIN = timedelta(days=2)


def is_offered(
    session: Session,
    bookable: Bookable,
    start: datetime,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
    busy: OrganizerBusy | None = None,
) -> bool:
    """SPEC 2.3 step 7: a start is accepted only if the rule offers exactly it, now."""
    if not now - timedelta(days=1) <= start <= now + timedelta(days=MAX_ADVANCE_DAYS + 2):
        return False  # in the past or beyond any horizon (and years like 9999 stay sane)
    window_end = start + timedelta(seconds=1)
    offered = slots_for(session, bookable, start, window_end, now, exclude_booking_id, rules, busy)
    return any(slot.start == start for slot in offered)


@dataclass(frozen=True)
class OrganizerBusy:
    """An organizer's busy time over ``[lo, hi)`` (epoch seconds): the merged union as a
    sorted, disjoint ``BusyTimes``, and the starts of each meeting type's confirmed
    bookings (for ``max_bookings_per_day``)."""

    busy: BusyTimes
    starts_by_type: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    lo: int = 0
    hi: int = 0

    def covers(self, lo: datetime, hi: datetime) -> bool:
        return self.lo <= lo.timestamp() and hi.timestamp() <= self.hi

    def type_booking_starts(self, meeting_type_id: uuid.UUID) -> list[int]:
        return self.starts_by_type.get(meeting_type_id, [])


def _busy_statement() -> CompoundSelect[Any]:
    """Built once: the organizer's busy time in ``[:lo, :hi)``, sorted by start; starts
    rounded down and ends up to whole seconds, so rounding never frees any time."""
    organizer = bindparam("organizer", type_=Uuid)
    lo = bindparam("lo", type_=UTCDateTime())
    hi = bindparam("hi", type_=UTCDateTime())
    exclude = bindparam("exclude", type_=Uuid)
    no_type = cast(null(), Uuid)
    no_start = cast(null(), BigInteger)
    bookings = select(
        epoch_seconds(Booking.blocked_start_at).label("s"),
        epoch_seconds_up(Booking.blocked_end_at).label("e"),
        Booking.meeting_type_id,
        epoch_seconds(Booking.start_at),
    ).where(
        Booking.user_id == organizer,
        Booking.status == "confirmed",
        Booking.blocked_start_at < hi,
        Booking.blocked_end_at > lo,
        or_(exclude.is_(None), Booking.id != exclude),
    )
    blocks = select(
        epoch_seconds(BusyBlock.start_at), epoch_seconds_up(BusyBlock.end_at), no_type, no_start
    ).where(BusyBlock.user_id == organizer, BusyBlock.start_at < hi, BusyBlock.end_at > lo)
    calendars = select(
        epoch_seconds(CalendarBusyInterval.start_at),
        epoch_seconds_up(CalendarBusyInterval.end_at),
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
    lo: datetime,
    hi: datetime,
    exclude_booking_id: uuid.UUID | None = None,
) -> OrganizerBusy:
    """Every busy interval of the organizer that reaches into ``[lo, hi)``, in one query:
    confirmed bookings (widened by their own buffers), busy blocks and calendar time."""
    longer_read(session)
    rows = session.execute(
        _BUSY,
        {"organizer": organizer_id, "lo": lo, "hi": hi, "exclude": exclude_booking_id},
    ).all()
    starts_by_type: dict[uuid.UUID, list[int]] = {}
    for row in rows:
        if row[2] is not None:
            starts_by_type.setdefault(row[2], []).append(row[3])
    return OrganizerBusy(
        busy=BusyTimes.merged([r[0] for r in rows], [r[1] for r in rows]),
        starts_by_type=starts_by_type,
        lo=int(lo.timestamp()),
        hi=int(hi.timestamp()),
    )


class BusyCache:
    """Each organizer's busy time from a little before now to the end of the horizon asked
    for, kept in memory under their availability version (``scheduling/versions.py``): a
    version that did not move means the copy is exact."""

    def __init__(self, max_organizers: int = 2048) -> None:
        self.max_organizers = max_organizers
        self._entries: OrderedDict[uuid.UUID, tuple[int, OrganizerBusy]] = OrderedDict()
        self._lock = threading.Lock()

    def busy(
        self,
        session: Session,
        organizer_id: uuid.UUID,
        version: int,
        now: datetime,
        horizon_days: int,
        lo: datetime,
        hi: datetime,
    ) -> OrganizerBusy:
        """Busy time covering ``[lo, hi)``. ``version`` must have been read in this
        transaction before anything else of the organizer's (what ``page_owner`` and
        ``link_owner`` do), so a change committed meanwhile is never kept under it."""
        with self._lock:
            entry = self._entries.get(organizer_id)
            if entry is not None and entry[0] == version and entry[1].covers(lo, hi):
                self._entries.move_to_end(organizer_id)
                return entry[1]
        # Read what any request of the coming days may ask: from the margin before now to
        # the end of the horizon, or what this one asks if that is wider.
        # (A day more than ``Reached.busy`` asks at most, so the copy keeps covering what
        # is asked while the clock moves on.)
        read_lo = min(lo, now - READ_MARGIN)
        read_hi = max(hi, now + timedelta(days=horizon_days + 2) + READ_MARGIN)
        found = busy_time(session, organizer_id, read_lo, read_hi)
        with self._lock:
            self._entries[organizer_id] = (version, found)
            self._entries.move_to_end(organizer_id)
            while len(self._entries) > self.max_organizers:
                self._entries.popitem(last=False)
        return found


@dataclass(frozen=True)
class Reached:
    """A meeting type reached from an invitee's address, with its organizer's busy time
    at hand (``Availability``)."""

    bookable: Bookable
    owner: Owner
    _busy: BusyCache

    def busy(self, session: Session, lo: datetime, hi: datetime, now: datetime) -> OrganizerBusy:
        """Busy time for slots starting in ``[lo, hi)``: only what can touch a slot that
        may be offered at all (none starts before now or after the type's horizon)."""
        horizon = self.bookable.meeting_type.max_advance_days
        first = max(lo - READ_MARGIN, now - READ_MARGIN)
        last = min(hi + READ_MARGIN, now + timedelta(days=horizon + 1) + READ_MARGIN)
        return self._busy.busy(
            session,
            self.owner.organizer_id,
            self.owner.version,
            now,
            horizon,
            first,
            max(first, last),
        )

    def starts(
        self, session: Session, window_start: datetime, window_end: datetime, now: datetime
    ) -> list[int]:
        busy = self.busy(session, window_start, window_end, now)
        return starts_for(session, self.bookable, window_start, window_end, now, busy=busy)

    def offers(self, session: Session, start: datetime, now: datetime) -> bool:
        busy = self.busy(session, start, start + timedelta(seconds=1), now)
        return is_offered(session, self.bookable, start, now, busy=busy)


class Availability:
    """What the invitee's pages keep in memory, per server process: what each address
    leads to and each organizer's busy time, both exact while the organizer's
    availability version holds. A request whose organizer changed nothing costs one
    indexed row and the slot engine."""

    def __init__(self) -> None:
        self.bookables = BookableCache()
        self.busy = BusyCache()

    def through_page(self, session: Session, key: str, type_id: str) -> Reached:
        bookable, owner = self.bookables.through_page(session, key, type_id)
        return Reached(bookable, owner, self.busy)

    def through_link(self, session: Session, token: str, now: datetime) -> Reached:
        bookable, owner = self.bookables.through_link(session, token, now)
        return Reached(bookable, owner, self.busy)


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
    return local_midnight(start, zone), local_midnight(end + timedelta(days=1), zone)


@lru_cache(maxsize=8192)
def local_midnight(day: date, zone: str) -> datetime:
    """The instant ``day`` begins in ``zone`` (kept: windows start on the same few days)."""
    return localize(day, 0, named_zone(zone))


def starts_for(
    session: Session,
    bookable: Bookable,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
    busy: OrganizerBusy | None = None,
) -> list[int]:
    """The offered starts, as epoch seconds in order. ``exclude_booking_id`` lets a
    booking's own time count as free (rescheduling); ``rules`` replaces the type's (a
    booking keeps its own duration); ``busy`` is the organizer's busy time when the caller
    has it (``Reached.busy``, which covers every slot the rule can offer in the window)."""
    if bookable.calendar_never_synced:
        return []
    if busy is None or exclude_booking_id is not None:
        lo, hi = window_start - READ_MARGIN, window_end + READ_MARGIN
        busy = busy_time(session, bookable.organizer.id, lo, hi, exclude_booking_id)
    return offered_starts(
        bookable.schedule,
        rules or bookable.rules,
        window_start,
        window_end,
        now,
        busy.busy,
        busy.type_booking_starts(bookable.meeting_type.id),
        bookable.day_intervals,
    )


def slots_for(
    session: Session,
    bookable: Bookable,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
    busy: OrganizerBusy | None = None,
) -> list[Slot]:
    """``starts_for`` as slots (start and end instants)."""
    length = timedelta(minutes=(rules or bookable.rules).duration_minutes)
    slots = []
    for start in starts_for(
        session, bookable, window_start, window_end, now, exclude_booking_id, rules, busy
    ):
        begins = datetime.fromtimestamp(start, UTC)
        slots.append(Slot(begins, begins + length))
    return slots


def month_window(month: date, zone: str) -> tuple[datetime, datetime]:
    """The instants of a calendar month in ``zone``: ``[1st 00:00, 1st of next 00:00)``."""
    first = plausible(month.replace(day=1), "month")
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, zone), local_midnight(following, zone)


def days_with_room(starts: Sequence[int], zone: str) -> list[tuple[date, int]]:
    """Each local date in ``zone`` that has slots, with how many, in order (the dots of a
    month calendar), from the offered starts (epoch seconds, in order)."""
    z = named_zone(zone)
    days: list[tuple[date, int]] = []
    i = 0
    while i < len(starts):
        day = datetime.fromtimestamp(starts[i], z).date()
        following = localize_seconds(day + timedelta(days=1), 0, z)
        j = bisect_left(starts, following, i)
        days.append((day, j - i))
        i = j
    return days


def starts_on(starts: Sequence[int], day: date, zone: str) -> Sequence[int]:
    """The starts (epoch seconds, in order) that fall on local date ``day`` in ``zone``."""
    z = named_zone(zone)
    lo = bisect_left(starts, localize_seconds(day, 0, z))
    hi = bisect_left(starts, localize_seconds(day + timedelta(days=1), 0, z))
    return starts[lo:hi]
