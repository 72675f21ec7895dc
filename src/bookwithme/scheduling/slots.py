"""The slot engine: the exact rule of SPEC 2.3, as a pure function.

Plain values in (a schedule, the meeting type's rules, busy intervals, the instants of the
type's existing bookings, ``now``), instants out. No I/O, no ORM, no clock: everything the
rule depends on is an argument, so the same inputs always give the same slots.

Internally instants are integer seconds since the epoch, so that checking thousands of
candidates against thousands of busy intervals is one linear sweep over sorted integers.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bookwithme.scheduling.schedules import ScheduleData, minutes_of
from bookwithme.timezones import named_zone

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class SlotRules:
    """What a meeting type says about its slots (SPEC 2.2), in minutes and days."""

    duration_minutes: int
    slot_interval_minutes: int | None = None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    minimum_notice_minutes: int = 0
    max_advance_days: int = 60
    max_bookings_per_day: int | None = None

    @property
    def step_minutes(self) -> int:
        return self.slot_interval_minutes or self.duration_minutes


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


def localize(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The instant of wall-clock ``day`` + ``minutes`` in ``zone``.

    ``minutes`` may be 1440 (24:00, the next midnight). A wall time that does not exist
    (inside a DST gap) is read with the offset in force before the gap, which moves it
    forward past the gap by the gap's length; an ambiguous one (a DST overlap) takes its
    first occurrence. Both are ``fold=0`` in PEP 495, as in RFC 5545.
    """
    if minutes >= 1440:
        day = day + timedelta(days=minutes // 1440)
        minutes %= 1440
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return wall.replace(fold=0).astimezone(UTC)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=16384)
def localize_seconds(day: date, minutes: int, zone: ZoneInfo) -> int:
    """``localize`` as epoch seconds, computed directly: the wall time's seconds since the
    epoch minus the zone's offset at that wall time (``fold=0``, so the same reading of
    gaps and overlaps), without building the aware datetimes. About four times faster,
    and kept: the engine asks it twice per working interval per day, for the same few
    days and hours of each organizer's zone request after request."""
    if minutes >= 1440:
        day = day + timedelta(days=minutes // 1440)
        minutes %= 1440
    hour, minute = divmod(minutes, 60)
    offset = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).utcoffset()
    assert offset is not None
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400 + minutes * 60 - int(offset.total_seconds())


def _seconds_down(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _seconds_up(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


@dataclass(frozen=True)
class BusyTimes:
    """Busy intervals as epoch seconds in two parallel lists, the form the database can
    hand over without building a datetime per row. ``disjoint`` says the lists already are
    the sorted, disjoint union (``merged``), which the engine then uses as it is."""

    starts: Sequence[int]
    ends: Sequence[int]
    disjoint: bool = False

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> BusyTimes:
        """From instants: starts rounded down and ends up to whole seconds, so that a
        fraction of a second is never offered as free."""
        pairs = list(intervals)
        return cls([_seconds_down(s) for s, _ in pairs], [_seconds_up(e) for _, e in pairs])

    @classmethod
    def merged(cls, starts: Sequence[int], ends: Sequence[int]) -> BusyTimes:
        union_starts, union_ends = _merge(starts, ends)
        return cls(union_starts, union_ends, disjoint=True)


def _merge(raw_starts: Sequence[int], raw_ends: Sequence[int]) -> tuple[list[int], list[int]]:
    """Sorted, disjoint starts and ends of the union of the intervals. Intervals that only
    touch stay apart: touching is not overlapping.

    Only flat lists of ints are built (no tuple per interval), which keeps the garbage
    collector out of the way; input already sorted by start, as the database returns it,
    sorts in one pass."""
    starts: list[int] = []
    ends: list[int] = []
    for i in sorted(range(len(raw_starts)), key=raw_starts.__getitem__):
        start, end = raw_starts[i], raw_ends[i]
        if end <= start:
            continue
        if ends and start < ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


DayIntervals = Callable[[date], list[tuple[int, int]]]


def day_intervals(schedule: ScheduleData) -> DayIntervals:
    """Step 1 of the rule: a date's override intervals, else its weekday's, in minutes."""
    overrides = {
        o.date: sorted((minutes_of(i.start), minutes_of(i.end)) for i in o.intervals)
        for o in schedule.overrides
    }
    weekly = [
        sorted((minutes_of(i.start), minutes_of(i.end)) for i in schedule.weekly.for_weekday(w))
        for w in range(7)
    ]

    def intervals_of(day: date) -> list[tuple[int, int]]:
        found = overrides.get(day)
        return found if found is not None else weekly[day.weekday()]

    return intervals_of


def compute_slots(
    schedule: ScheduleData,
    rules: SlotRules,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    busy: BusyTimes | Sequence[Interval] = (),
    type_booking_starts: Sequence[datetime] | Sequence[int] = (),
) -> list[Slot]:
    """The slots of one meeting type whose start lies in ``[window_start, window_end)``.

    ``busy``: every interval the organizer is busy, already widened where the rule says so
    (confirmed bookings by their own stored buffers), plus busy blocks and calendar time;
    as datetimes or as ``BusyTimes`` in epoch seconds.
    ``type_booking_starts``: the starts of this meeting type's confirmed bookings (datetimes
    or epoch seconds), for ``max_bookings_per_day``.
    """
    length = timedelta(minutes=rules.duration_minutes)
    slots = []
    for start in offered_starts(
        schedule, rules, window_start, window_end, now, busy, type_booking_starts
    ):
        begins = datetime.fromtimestamp(start, UTC)
        slots.append(Slot(begins, begins + length))
    return slots


def offered_starts(
    schedule: ScheduleData,
    rules: SlotRules,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    busy: BusyTimes | Sequence[Interval] = (),
    type_booking_starts: Sequence[datetime] | Sequence[int] = (),
    intervals_of: DayIntervals | None = None,
) -> list[int]:
    """``compute_slots`` as the epoch seconds of the starts, in order: what a caller that
    only counts or groups slots needs, without building a datetime per slot.
    ``intervals_of`` is ``day_intervals(schedule)`` when the caller keeps it."""
    zone = named_zone(schedule.time_zone)
    # A start must lie in [window_start, window_end) and not before now + notice: the
    # whole seconds that surely do are from the lower bounds rounded up.
    win_lo = _seconds_up(window_start)
    win_hi = _seconds_up(window_end)
    if win_hi <= win_lo:
        return []

    duration = rules.duration_minutes * 60
    step = rules.step_minutes * 60
    before = rules.buffer_before_minutes * 60
    after = rules.buffer_after_minutes * 60
    earliest = _seconds_up(now) + rules.minimum_notice_minutes * 60
    lowest = max(win_lo, earliest)
    last_day = now.astimezone(zone).date() + timedelta(days=rules.max_advance_days)

    first_day = window_start.astimezone(zone).date() - timedelta(days=1)
    end_day = min(window_end.astimezone(zone).date() + timedelta(days=1), last_day)
    if schedule.date_range is not None:
        first_day = max(first_day, schedule.date_range.start)
        end_day = min(end_day, schedule.date_range.end)

    full_days: set[date] = set()
    if rules.max_bookings_per_day is not None:
        per_day = Counter(
            (datetime.fromtimestamp(s, zone) if isinstance(s, int) else s.astimezone(zone)).date()
            for s in type_booking_starts
        )
        full_days = {d for d, n in per_day.items() if n >= rules.max_bookings_per_day}

    if not isinstance(busy, BusyTimes):
        busy = BusyTimes.of(busy)
    if busy.disjoint:
        busy_starts, busy_ends = busy.starts, busy.ends
    else:
        busy_starts, busy_ends = _merge(busy.starts, busy.ends)

    if intervals_of is None:
        intervals_of = day_intervals(schedule)
    starts: list[int] = []
    n_busy = len(busy_starts)
    widened = duration + after  # a start's slot and its buffer after
    day = first_day
    one_day = timedelta(days=1)
    while day <= end_day:
        for a_min, b_min in intervals_of(day):
            a = localize_seconds(day, a_min, zone)
            if a >= win_hi:
                day = end_day  # this interval and every later one begin after the window
                break
            b = localize_seconds(day, b_min, zone)
            # The candidates a + k * step with start + duration <= b and start < win_hi,
            # from the first that satisfies the window and the notice.
            last = min(b - duration, win_hi - 1)
            start = a if lowest <= a else a + -(-(lowest - a) // step) * step
            while start <= last:
                # The busy interval that starts last before the widened slot ends is the
                # only one that can reach into it, since the union is disjoint.
                i = bisect_right(busy_starts, start + widened - 1) - 1
                if i >= 0 and busy_ends[i] > start - before:
                    # Taken: so is every start until its buffer before clears that interval.
                    start += -(-(busy_ends[i] + before - start) // step) * step
                    continue
                # Free: so is every start whose widened slot ends before the next interval.
                next_busy = busy_starts[i + 1] if i + 1 < n_busy else last + widened
                count = (min(last, next_busy - widened) - start) // step + 1
                starts.extend(range(start, start + count * step, step))
                start += count * step
        day += one_day
    if full_days:
        starts = [s for s in starts if datetime.fromtimestamp(s, zone).date() not in full_days]
    return starts
