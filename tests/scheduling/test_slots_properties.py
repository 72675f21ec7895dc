"""Property tests of the slot engine: its invariants hold for any schedule, rules, busy time,
window and "now", and it agrees with a slow, obviously-correct reading of SPEC 2.3."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookwithme.scheduling.schedules import WEEKDAYS, ScheduleData
from bookwithme.scheduling.slots import SlotRules, compute_slots, localize, localize_seconds

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "America/St_Johns",
]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def day_intervals(draw: st.DrawFn) -> list[dict[str, str]]:
    cuts = sorted(set(draw(st.lists(st.integers(0, 96), max_size=6))))
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]

    def hhmm(q: int) -> str:
        return f"{q * 15 // 60:02d}:{q * 15 % 60:02d}"

    return [{"start": hhmm(a), "end": hhmm(b)} for a, b in pairs if a < b]


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleData:
    zone = draw(st.sampled_from(ZONES))
    weekly = {day: draw(day_intervals()) for day in WEEKDAYS}
    override_dates = draw(
        st.lists(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=4, unique=True)
    )
    overrides = [
        {"date": d.isoformat(), "intervals": draw(day_intervals())} for d in override_dates
    ]
    date_range = None
    if draw(st.booleans()):
        a = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
        date_range = {
            "start": a.isoformat(),
            "end": (a + timedelta(days=draw(st.integers(0, 90)))).isoformat(),
        }
    return ScheduleData.model_validate(
        {"time_zone": zone, "weekly": weekly, "overrides": overrides, "date_range": date_range}
    )


rules_strategy = st.builds(
    SlotRules,
    duration_minutes=st.sampled_from([5, 15, 20, 30, 45, 60, 90, 720]),
    slot_interval_minutes=st.one_of(st.none(), st.sampled_from([5, 10, 15, 25, 30, 60])),
    buffer_before_minutes=st.sampled_from([0, 5, 15, 240]),
    buffer_after_minutes=st.sampled_from([0, 10, 30]),
    minimum_notice_minutes=st.sampled_from([0, 30, 240, 2880]),
    max_advance_days=st.sampled_from([1, 7, 30, 60, 730]),
    max_bookings_per_day=st.one_of(st.none(), st.integers(1, 3)),
)
instants = st.integers(0, 700 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
# Now, windows and busy time are not always whole seconds (a calendar may say 10:00:00.5):
# the engine works in whole seconds and must round so that no fraction is offered.
fractions = st.one_of(
    st.just(timedelta()),
    st.sampled_from([1, 499_999, 500_000, 999_999]).map(lambda us: timedelta(microseconds=us)),
    st.integers(-999_999, 999_999).map(lambda us: timedelta(microseconds=us)),
)
fine_instants = st.builds(lambda moment, fraction: moment + fraction, instants, fractions)


@st.composite
def busy_lists(draw: st.DrawFn) -> list[tuple[datetime, datetime]]:
    starts = draw(st.lists(fine_instants, max_size=25))
    return [
        (s, s + timedelta(minutes=draw(st.integers(1, 3000))) + draw(fractions)) for s in starts
    ]


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    sched = draw(schedules())
    rules = draw(rules_strategy)
    now = draw(fine_instants)
    start = now + timedelta(days=draw(st.integers(-3, 40)), minutes=draw(st.integers(0, 1439)))
    start += draw(fractions)
    end = start + timedelta(days=draw(st.integers(1, 62)))
    busy = draw(busy_lists())
    taken = draw(st.lists(instants, max_size=8))
    return sched, rules, start, end, now, busy, taken


def reference(sched, rules, window_start, window_end, now, busy, taken):  # type: ignore[no-untyped-def]
    """SPEC 2.3 read literally: every date, every interval, every candidate, every busy
    interval, with datetimes throughout. Slow and simple."""
    zone = ZoneInfo(sched.time_zone)
    overrides = {o.date: o.intervals for o in sched.overrides}
    today = now.astimezone(zone).date()
    per_day: dict[date, int] = {}
    for t in taken:
        per_day[t.astimezone(zone).date()] = per_day.get(t.astimezone(zone).date(), 0) + 1
    out = []
    day = window_start.astimezone(zone).date() - timedelta(days=2)
    while day <= window_end.astimezone(zone).date() + timedelta(days=2):
        ok_day = day <= today + timedelta(days=rules.max_advance_days)
        if sched.date_range is not None:
            ok_day = ok_day and sched.date_range.start <= day <= sched.date_range.end
        if ok_day:
            intervals = overrides.get(day, sched.weekly.for_weekday(day.weekday()))
            for iv in intervals:
                h, m = map(int, iv.start.split(":"))
                a = localize(day, h * 60 + m, zone)
                h, m = map(int, iv.end.split(":"))
                b = localize(day, h * 60 + m, zone)
                step = timedelta(minutes=rules.step_minutes)
                dur = timedelta(minutes=rules.duration_minutes)
                s = a
                while s + dur <= b:
                    lo = s - timedelta(minutes=rules.buffer_before_minutes)
                    hi = s + dur + timedelta(minutes=rules.buffer_after_minutes)
                    keep = (
                        window_start <= s < window_end
                        and s >= now + timedelta(minutes=rules.minimum_notice_minutes)
                        and not any(bs < hi and lo < be for bs, be in busy)
                        and not (
                            rules.max_bookings_per_day is not None
                            and per_day.get(s.astimezone(zone).date(), 0)
                            >= rules.max_bookings_per_day
                        )
                    )
                    if keep:
                        out.append((s, s + dur))
                    s += step
        day += timedelta(days=1)
    return sorted(out)


@st.composite
def crowded_cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """A window a few days long packed with short busy intervals, touching, overlapping or
    a minute apart: each candidate's fate turns on its neighbours, where the engine skips
    ahead over busy time and takes free runs whole."""
    sched, rules, start, _end, now, _busy, taken = draw(cases())
    end = start + timedelta(days=draw(st.integers(1, 4)))
    # On the five-minute grid the slots are on (every zone here is offset by whole
    # quarter hours), so busy time often ends exactly where a buffer begins.
    moment = start.replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=draw(st.integers(0, 12))
    )
    busy = []
    for _ in range(draw(st.integers(0, 120))):
        moment += timedelta(minutes=5 * draw(st.integers(0, 19)))
        length = timedelta(minutes=5 * draw(st.integers(1, 15)))
        if draw(st.integers(0, 9)) == 0:
            length += draw(fractions)
        busy.append((moment, moment + length))
        moment += length * draw(st.sampled_from([0, 1]))
    return sched, rules, start, end, now, busy, taken


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(cases())
def test_engine_agrees_with_the_literal_rule(case) -> None:  # type: ignore[no-untyped-def]
    sched, rules, start, end, now, busy, taken = case
    got = [(s.start, s.end) for s in compute_slots(sched, rules, start, end, now, busy, taken)]
    assert got == reference(sched, rules, start, end, now, busy, taken)


@PROPERTY_SETTINGS
@given(crowded_cases())
def test_engine_agrees_with_the_literal_rule_in_crowded_days(case) -> None:  # type: ignore[no-untyped-def]
    sched, rules, start, end, now, busy, taken = case
    got = [(s.start, s.end) for s in compute_slots(sched, rules, start, end, now, busy, taken)]
    assert got == reference(sched, rules, start, end, now, busy, taken)


@PROPERTY_SETTINGS
@given(cases())
def test_every_slot_is_inside_hours_window_notice_and_horizon(case) -> None:  # type: ignore[no-untyped-def]
    sched, rules, start, end, now, busy, taken = case
    zone = ZoneInfo(sched.time_zone)
    for slot in compute_slots(sched, rules, start, end, now, busy, taken):
        assert start <= slot.start < end
        assert slot.end - slot.start == timedelta(minutes=rules.duration_minutes)
        assert slot.start >= now + timedelta(minutes=rules.minimum_notice_minutes)
        local_day = slot.start.astimezone(zone).date()
        assert local_day <= now.astimezone(zone).date() + timedelta(days=rules.max_advance_days)
        if sched.date_range is not None:
            assert sched.date_range.start <= local_day <= sched.date_range.end
        # Inside one availability interval of its date (as instants), on the step grid.
        inside = False
        for day in (local_day - timedelta(days=1), local_day):
            overrides = {o.date: o.intervals for o in sched.overrides}
            for iv in overrides.get(day, sched.weekly.for_weekday(day.weekday())):
                h, m = map(int, iv.start.split(":"))
                a = localize(day, h * 60 + m, zone)
                h, m = map(int, iv.end.split(":"))
                b = localize(day, h * 60 + m, zone)
                on_grid = (slot.start - a) % timedelta(minutes=rules.step_minutes) == timedelta(0)
                inside |= a <= slot.start and slot.end <= b and on_grid
        assert inside


@PROPERTY_SETTINGS
@given(cases())
def test_no_slot_widened_by_its_buffers_overlaps_busy_time(case) -> None:  # type: ignore[no-untyped-def]
    sched, rules, start, end, now, busy, taken = case
    for slot in compute_slots(sched, rules, start, end, now, busy, taken):
        lo = slot.start - timedelta(minutes=rules.buffer_before_minutes)
        hi = slot.end + timedelta(minutes=rules.buffer_after_minutes)
        assert all(not (bs < hi and lo < be) for bs, be in busy)


@PROPERTY_SETTINGS
@given(cases(), st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_offered_instants_do_not_depend_on_the_invitee_zone(case, zone_a: str, zone_b: str) -> None:  # type: ignore[no-untyped-def]
    """Two invitees in different zones asking for the same dates see the same instants
    wherever their windows overlap."""
    sched, rules, start, _end, now, busy, taken = case
    day = start.date()

    def window(zone: str) -> tuple[datetime, datetime]:
        z = ZoneInfo(zone)
        return localize(day, 0, z), localize(day + timedelta(days=7), 0, z)

    a_lo, a_hi = window(zone_a)
    b_lo, b_hi = window(zone_b)
    a = compute_slots(sched, rules, a_lo, a_hi, now, busy, taken)
    b = compute_slots(sched, rules, b_lo, b_hi, now, busy, taken)
    lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)
    assert [s for s in a if lo <= s.start < hi] == [s for s in b if lo <= s.start < hi]


@PROPERTY_SETTINGS
@given(cases())
def test_the_daily_limit_removes_exactly_the_full_days(case) -> None:  # type: ignore[no-untyped-def]
    sched, rules, start, end, now, busy, taken = case
    if rules.max_bookings_per_day is None:
        return
    zone = ZoneInfo(sched.time_zone)
    unlimited = SlotRules(**{**rules.__dict__, "max_bookings_per_day": None})
    counts: dict[date, int] = {}
    for t in taken:
        counts[t.astimezone(zone).date()] = counts.get(t.astimezone(zone).date(), 0) + 1
    full = {d for d, n in counts.items() if n >= rules.max_bookings_per_day}
    limited = compute_slots(sched, rules, start, end, now, busy, taken)
    expected = [
        s
        for s in compute_slots(sched, unlimited, start, end, now, busy, taken)
        if s.start.astimezone(zone).date() not in full
    ]
    assert limited == expected


@settings(max_examples=2000, deadline=None)
@given(
    st.dates(date(1990, 1, 1), date(2060, 12, 31)),
    st.integers(0, 1440),
    st.sampled_from([*ZONES, "America/Havana", "Africa/Casablanca", "Antarctica/Troll"]),
)
def test_localize_in_seconds_is_localize(day: date, minutes: int, zone: str) -> None:
    z = ZoneInfo(zone)
    assert localize_seconds(day, minutes, z) == localize(day, minutes, z).timestamp()
