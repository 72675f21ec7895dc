"""``LocalTimes`` writes the same text as ``epoch_in_zone`` (Python's own conversion), for
every zone, around every change of offset, and in the years slot lists reach."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bookwithme.instants import LocalTimes, epoch_in_zone
from bookwithme.timezones import known_zones, named_zone

ZONES = sorted(known_zones())
SOME_ZONES = [
    "UTC",
    "Europe/Paris",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Africa/Casablanca",
    "Europe/Dublin",
]
FIRST = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


@settings(max_examples=600)
@given(
    zone=st.sampled_from(ZONES),
    minutes=st.lists(st.integers(FIRST // 60, LAST // 60), min_size=1, max_size=40),
    odd_seconds=st.integers(0, 59),
    length_minutes=st.sampled_from([5, 30, 45, 60, 90, 720, 1440]),
)
def test_same_text_as_python(
    zone: str, minutes: list[int], odd_seconds: int, length_minutes: int
) -> None:
    local = LocalTimes(zone)
    instants = [m * 60 for m in minutes] + [minutes[0] * 60 + odd_seconds]
    for seconds in instants + instants:  # the second pass answers from what it kept
        assert local(seconds) == epoch_in_zone(seconds, zone)
    assert LocalTimes(zone).many(instants) == [epoch_in_zone(s, zone) for s in instants]
    for length in (length_minutes * 60, length_minutes * 60 + odd_seconds):
        spans = LocalTimes(zone).spans(instants, length)
        assert spans[0::2] == [epoch_in_zone(s, zone) for s in instants]
        assert spans[1::2] == [epoch_in_zone(s + length, zone) for s in instants]


def test_what_is_kept_starts_over_when_full() -> None:
    class Small(LocalTimes):
        KEPT = 3

    local = Small("Europe/Paris")
    instants = [1_780_000_200 + 86400 * i for i in range(10)]
    for _ in range(2):
        assert local.many(instants) == [epoch_in_zone(s, "Europe/Paris") for s in instants]
    assert len(local._hours) <= 3 and len(local._days) <= 3


def test_every_minute_around_each_change_of_offset() -> None:
    """Each zone's changes from 2020 to 2030, found hour by hour: every minute of the six
    hours around each one, in order, as a day's slots are written."""
    start = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()) // 3600
    end = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()) // 3600
    checked = 0
    for zone in SOME_ZONES:
        tz = named_zone(zone) if zone != "UTC" else UTC
        local = LocalTimes(zone)
        previous = datetime.fromtimestamp(start * 3600, tz).utcoffset()
        for hour in range(start, end):
            offset = datetime.fromtimestamp(hour * 3600, tz).utcoffset()
            if offset == previous:
                continue
            previous = offset
            around = [minute * 60 for minute in range((hour - 3) * 60, (hour + 3) * 60)]
            for seconds in around:
                assert local(seconds) == epoch_in_zone(seconds, zone)
                checked += 1
            assert local.spans(around, 1800)[1::2] == [
                epoch_in_zone(s + 1800, zone) for s in around
            ]
    assert checked > 50 * 360  # the zones above change offset at least 50 times in ten years


def test_utc_is_written_with_z() -> None:
    assert LocalTimes("UTC")(1_780_000_200) == "2026-05-28T20:30:00Z"
    assert LocalTimes("Asia/Kathmandu")(1_780_000_200) == "2026-05-29T02:15:00+05:45"
