"""The slot rule of SPEC 2.3 on worked examples, DST gaps and overlaps included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.scheduling.slots import SlotRules, compute_slots, localize


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(zone: str, weekly: dict | None = None, **extra) -> ScheduleData:  # type: ignore[type-arg,no-untyped-def]
    return ScheduleData.model_validate({"time_zone": zone, "weekly": weekly or {}, **extra})


def on_date(day: date, start: str, end: str, zone: str = "Europe/Paris") -> ScheduleData:
    return schedule(
        zone, overrides=[{"date": day.isoformat(), "intervals": [{"start": start, "end": end}]}]
    )


def local_starts(slots, zone: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.start.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M") for s in slots]


EARLY = utc(2026, 1, 1)  # "now", well before every example date


def slots_on(sched: ScheduleData, day: date, rules: SlotRules, now: datetime = EARLY, **kw):  # type: ignore[no-untyped-def]
    zone = ZoneInfo(sched.time_zone)
    lo = localize(day, 0, zone)
    hi = localize(day + timedelta(days=1), 0, zone)
    return compute_slots(sched, rules, lo, hi, now, **kw)


def test_a_plain_day() -> None:
    sched = on_date(date(2026, 12, 1), "09:00", "11:00")
    slots = slots_on(sched, date(2026, 12, 1), SlotRules(30, max_advance_days=730))
    assert local_starts(slots, "Europe/Paris") == [
        "12-01 09:00",
        "12-01 09:30",
        "12-01 10:00",
        "12-01 10:30",
    ]
    assert slots[0].start == utc(2026, 12, 1, 8) and slots[0].end == utc(2026, 12, 1, 8, 30)


def test_step_is_aligned_to_the_interval_start_and_the_last_slot_must_fit() -> None:
    sched = on_date(date(2026, 12, 1), "09:10", "10:30")
    slots = slots_on(
        sched, date(2026, 12, 1), SlotRules(45, slot_interval_minutes=20, max_advance_days=730)
    )
    # 09:10, 09:30, 09:50 fit (09:50 + 45 = 10:35 does not).
    assert local_starts(slots, "Europe/Paris") == ["12-01 09:10", "12-01 09:30"]


def test_spring_forward_gap_in_paris() -> None:
    day = date(2027, 3, 28)  # 02:00 -> 03:00
    # 01:00-04:00 wall time is only two real hours.
    slots = slots_on(on_date(day, "01:00", "04:00"), day, SlotRules(30, max_advance_days=730))
    assert local_starts(slots, "Europe/Paris") == [
        "03-28 01:00",
        "03-28 01:30",
        "03-28 03:00",
        "03-28 03:30",
    ]
    # A start inside the gap moves forward past it by the gap's length: 02:30 -> 03:30.
    slots = slots_on(on_date(day, "02:30", "05:00"), day, SlotRules(30, max_advance_days=730))
    assert local_starts(slots, "Europe/Paris")[0] == "03-28 03:30"
    assert slots[0].start == utc(2027, 3, 28, 1, 30)


def test_fall_back_overlap_in_paris() -> None:
    day = date(2026, 10, 25)  # 03:00 -> 02:00, so 02:00-02:59 happens twice
    slots = slots_on(
        on_date(day, "00:00", "04:00"),
        day,
        SlotRules(60, max_advance_days=730),
        now=utc(2026, 1, 1),
    )
    # Five real hours: 00:00, 01:00, 02:00 (first), 02:00 (second), 03:00.
    assert [s.start for s in slots] == [
        utc(2026, 10, 24, 22) + timedelta(hours=h) for h in range(5)
    ]
    # An ambiguous start takes its first occurrence (summer time, UTC+2).
    slots = slots_on(on_date(day, "02:30", "03:30"), day, SlotRules(30, max_advance_days=730))
    assert slots[0].start == utc(2026, 10, 25, 0, 30)


def test_half_hour_and_three_quarter_zones() -> None:
    day = date(2026, 12, 2)
    kolkata = slots_on(
        on_date(day, "09:00", "10:00", "Asia/Kolkata"), day, SlotRules(60, max_advance_days=730)
    )
    assert [s.start for s in kolkata] == [utc(2026, 12, 2, 3, 30)]
    kathmandu = slots_on(
        on_date(day, "09:00", "10:00", "Asia/Kathmandu"), day, SlotRules(60, max_advance_days=730)
    )
    assert [s.start for s in kathmandu] == [utc(2026, 12, 2, 3, 15)]


def test_lord_howe_half_hour_dst_shift() -> None:
    zone = "Australia/Lord_Howe"
    start_dst = date(2026, 10, 4)  # 02:00 -> 02:30 (UTC+10:30 -> UTC+11)
    slots = slots_on(
        on_date(start_dst, "01:00", "04:00", zone), start_dst, SlotRules(30, max_advance_days=730)
    )
    assert local_starts(slots, zone) == [
        "10-04 01:00",
        "10-04 01:30",
        "10-04 02:30",
        "10-04 03:00",
        "10-04 03:30",
    ]
    end_dst = date(2027, 4, 4)  # 02:00 -> 01:30, so 01:30-01:59 happens twice
    slots = slots_on(
        on_date(end_dst, "01:00", "03:00", zone), end_dst, SlotRules(30, max_advance_days=730)
    )
    assert len(slots) == 5  # two and a half real hours
    assert slots[0].start == utc(2027, 4, 3, 14, 0)


def test_end_of_day_24_00_and_weekly_hours() -> None:
    sched = schedule("UTC", {"fri": [{"start": "23:00", "end": "24:00"}]})
    slots = slots_on(sched, date(2026, 12, 4), SlotRules(30, max_advance_days=730))
    assert [s.start for s in slots] == [utc(2026, 12, 4, 23), utc(2026, 12, 4, 23, 30)]
    assert slots_on(sched, date(2026, 12, 3), SlotRules(30, max_advance_days=730)) == []


def test_overrides_replace_the_weekday_and_empty_ones_close_the_day() -> None:
    weekly = {"tue": [{"start": "09:00", "end": "10:00"}]}
    sched = schedule(
        "UTC",
        weekly,
        overrides=[
            {"date": "2026-12-01", "intervals": [{"start": "14:00", "end": "15:00"}]},
            {"date": "2026-12-08", "intervals": []},
        ],
    )
    rules = SlotRules(60, max_advance_days=730)
    assert [s.start for s in slots_on(sched, date(2026, 12, 1), rules)] == [utc(2026, 12, 1, 14)]
    assert slots_on(sched, date(2026, 12, 8), rules) == []
    assert [s.start for s in slots_on(sched, date(2026, 12, 15), rules)] == [utc(2026, 12, 15, 9)]


def test_date_range_limits_the_schedule() -> None:
    sched = schedule(
        "UTC",
        {
            d: [{"start": "09:00", "end": "10:00"}]
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        date_range={"start": "2026-12-02", "end": "2026-12-03"},
    )
    slots = compute_slots(
        sched, SlotRules(60, max_advance_days=730), utc(2026, 12, 1), utc(2026, 12, 6), EARLY
    )
    assert [s.start for s in slots] == [utc(2026, 12, 2, 9), utc(2026, 12, 3, 9)]


def test_minimum_notice_and_horizon() -> None:
    sched = schedule(
        "UTC",
        {
            d: [{"start": "09:00", "end": "12:00"}]
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    now = utc(2026, 12, 1, 9, 10)
    rules = SlotRules(60, minimum_notice_minutes=60, max_advance_days=2)
    slots = compute_slots(sched, rules, utc(2026, 12, 1), utc(2026, 12, 10), now)
    # 09:00 and 10:00 are too soon (before 10:10); the horizon ends with 12-03.
    assert [s.start for s in slots] == [
        utc(2026, 12, 1, 11),
        utc(2026, 12, 2, 9),
        utc(2026, 12, 2, 10),
        utc(2026, 12, 2, 11),
        utc(2026, 12, 3, 9),
        utc(2026, 12, 3, 10),
        utc(2026, 12, 3, 11),
    ]
    # Starts are never realigned to "now".
    assert all(s.start.minute == 0 for s in slots)


def test_buffers_on_both_sides_and_touching_is_not_overlapping() -> None:
    sched = on_date(date(2026, 12, 1), "09:00", "13:00", "UTC")
    busy = [(utc(2026, 12, 1, 11), utc(2026, 12, 1, 12))]
    plain = slots_on(sched, date(2026, 12, 1), SlotRules(60, max_advance_days=730), busy=busy)
    assert [s.start.hour for s in plain] == [9, 10, 12]  # 10:00-11:00 touches 11:00: fine
    buffered = slots_on(
        sched,
        date(2026, 12, 1),
        SlotRules(60, buffer_before_minutes=15, buffer_after_minutes=15, max_advance_days=730),
        busy=busy,
    )
    assert [s.start.hour for s in buffered] == [9]


def test_daily_limit_counts_the_type_bookings_per_local_date() -> None:
    sched = schedule(
        "Asia/Tokyo",
        {
            d: [{"start": "09:00", "end": "11:00"}]
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    rules = SlotRules(60, max_bookings_per_day=1, max_advance_days=730)
    # 2026-12-01 23:30 UTC is 12-02 08:30 in Tokyo: it fills the 2nd, not the 1st.
    taken = [utc(2026, 12, 1, 23, 30)]
    slots = compute_slots(
        sched, rules, utc(2026, 11, 30, 15), utc(2026, 12, 3, 15), EARLY, type_booking_starts=taken
    )
    assert local_starts(slots, "Asia/Tokyo") == [
        "12-01 09:00",
        "12-01 10:00",
        "12-03 09:00",
        "12-03 10:00",
    ]


def test_no_fraction_of_a_second_is_offered() -> None:
    """The engine counts in whole seconds: instants with a fraction are rounded so that
    time is never freed (busy starts down, busy ends up, now and the window up)."""
    day = date(2026, 3, 10)
    sched = on_date(day, "09:00", "12:00", zone="UTC")
    rules = SlotRules(duration_minutes=60)
    half = timedelta(milliseconds=500)
    before = utc(2026, 3, 9)
    assert local_starts(slots_on(sched, day, rules, now=before), "UTC") == [
        "03-10 09:00",
        "03-10 10:00",
        "03-10 11:00",
    ]
    # Half a second after 09:00, the 09:00 slot has begun: it is no longer offered.
    now = utc(2026, 3, 10, 9) + half
    assert local_starts(slots_on(sched, day, rules, now=now), "UTC") == [
        "03-10 10:00",
        "03-10 11:00",
    ]
    # Busy until half a second past 10:00: the 10:00 slot would overlap it.
    busy = [(utc(2026, 3, 10, 9, 30), utc(2026, 3, 10, 10) + half)]
    assert local_starts(slots_on(sched, day, rules, now=before, busy=busy), "UTC") == [
        "03-10 11:00"
    ]
    # Busy from half a second before 11:00: the 10:00 slot would overlap it.
    busy = [(utc(2026, 3, 10, 11) - half, utc(2026, 3, 10, 11))]
    assert local_starts(slots_on(sched, day, rules, now=before, busy=busy), "UTC") == [
        "03-10 09:00",
        "03-10 11:00",
    ]
    # A window that begins half a second after 09:00 does not contain 09:00.
    window = (utc(2026, 3, 10, 9) + half, utc(2026, 3, 10, 12))
    assert local_starts(compute_slots(sched, rules, *window, before), "UTC") == [
        "03-10 10:00",
        "03-10 11:00",
    ]
