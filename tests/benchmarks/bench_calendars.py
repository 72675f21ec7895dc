"""Benchmark (d): parse and expand a real 207 KB Google export (677 events) over a year, as
a calendar sync does. Goal: under one second. Second row: the same export with one series
the expansion library cannot take, so every series is expanded on its own (the path that
keeps a broken feed's good events)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bookwithme.calendars.ics import FeedBusy, busy_from_ics

FILE = (
    Path(__file__).resolve().parents[1]
    / "calendars"
    / "files"
    / "rie__issue_173_only_modifications_error.ics"
)
BROKEN_SERIES = (
    b"BEGIN:VEVENT\r\nUID:no-frequency\r\nDTSTAMP:20240101T000000Z\r\n"
    b"DTSTART:20240108T090000Z\r\nDTEND:20240108T100000Z\r\nRRULE:BYDAY=MO\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR"
)


def timed(work: Callable[[], FeedBusy]) -> tuple[float, FeedBusy]:
    times = []
    result = None
    for _ in range(7):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    data = FILE.read_bytes()
    broken = data.rstrip()[: -len(b"END:VCALENDAR")] + BROKEN_SERIES
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    print(f"(d) calendar feed: {FILE.name} ({len(data) // 1024} KB), 2024 expanded")
    median, result = timed(lambda: busy_from_ics(data, start, end, "Europe/Paris"))
    print(
        f"  parse + repair + expand + busy filter: median {median * 1000:.0f} ms (7 runs), "
        f"{len(result.intervals)} busy intervals (goal: under 1 s)"
    )
    median, result = timed(lambda: busy_from_ics(broken, start, end, "Europe/Paris"))
    print(
        f"  with one series the library cannot expand (each series alone): median "
        f"{median * 1000:.0f} ms, {len(result.intervals)} busy intervals, "
        f"{len(result.problems)} reported"
    )


if __name__ == "__main__":
    main()
