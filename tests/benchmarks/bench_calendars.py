"""Benchmark (d): parse and expand a real 212 KB Google export (about 2,700 occurrences)
over a year, as a calendar sync does. Goal: under one second."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bookwithme.calendars.ics import busy_from_ics

FILE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "calendars"
    / "rie__issue_173_only_modifications_error.ics"
)


def main() -> None:
    if not FILE.exists():
        print(f"(d) skipped: {FILE} is missing")
        return
    data = FILE.read_bytes()
    times = []
    result = None
    for _ in range(7):
        t0 = time.perf_counter()
        result = busy_from_ics(
            data, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), "Europe/Paris"
        )
        times.append(time.perf_counter() - t0)
    assert result is not None
    print(f"(d) calendar feed: {FILE.name} ({len(data) // 1024} KB), 2024 expanded")
    print(
        f"  parse + expand + busy filter: median {statistics.median(times) * 1000:.0f} ms "
        f"(7 runs), {len(result.intervals)} busy intervals (goal: under 1 s)"
    )


if __name__ == "__main__":
    main()
