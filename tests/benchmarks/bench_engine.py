"""Benchmark (a): the slot engine alone. 60-day window, 15-minute step, growing numbers of
busy intervals; the median of repeated runs. Run with ``make bench``."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.scheduling.slots import SlotRules, compute_slots

NOW = datetime(2027, 1, 4, 6, tzinfo=UTC)
WINDOW = (NOW, NOW + timedelta(days=60))
RULES = SlotRules(duration_minutes=30, slot_interval_minutes=15, max_advance_days=60)
SCHEDULES = {
    "weekdays 08:00-20:00": ScheduleData.model_validate(
        {
            "time_zone": "Europe/Paris",
            "weekly": {
                d: [{"start": "08:00", "end": "20:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
            },
        }
    ),
    "every day 00:00-24:00": ScheduleData.model_validate(
        {
            "time_zone": "Europe/Paris",
            "weekly": {
                d: [{"start": "00:00", "end": "24:00"}]
                for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        }
    ),
}


def busy_intervals(n: int, seed: int = 7) -> list[tuple[datetime, datetime]]:
    rng = random.Random(seed)
    span = int((WINDOW[1] - WINDOW[0]).total_seconds() // 60)
    out = []
    for _ in range(n):
        start = WINDOW[0] + timedelta(minutes=rng.randrange(span))
        out.append((start, start + timedelta(minutes=rng.choice((5, 10, 15, 30)))))
    return out


def median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for label, schedule in SCHEDULES.items():
        for n in (0, 1_000, 10_000, 100_000):
            busy = busy_intervals(n)
            slots: list[object] = []

            def once(
                schedule: ScheduleData = schedule, busy: list = busy, slots: list = slots
            ) -> None:  # type: ignore[type-arg]
                slots[:] = compute_slots(schedule, RULES, WINDOW[0], WINDOW[1], NOW, busy)

            ms = median_ms(once, repeat=31 if n <= 10_000 else 7)
            rows.append({"schedule": label, "busy": n, "median_ms": ms, "slots": len(slots)})
    return rows


def main() -> None:
    print("(a) slot engine alone: 60-day window, 30-minute meetings, 15-minute step")
    print(f"{'schedule':<24}{'busy intervals':>16}{'median ms':>12}{'slots offered':>15}")
    for row in run():
        print(
            f"{row['schedule']:<24}{row['busy']:>16,}{row['median_ms']:>12.2f}{row['slots']:>15,}"
        )


if __name__ == "__main__":
    main()
