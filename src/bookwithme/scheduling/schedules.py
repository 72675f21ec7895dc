"""The schedule of SPEC 2.1: validation and (de)serialisation.

A schedule is weekly wall-clock intervals in one IANA zone, per-date overrides that replace
a date's weekly intervals, and an optional inclusive date range.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from bookwithme.timezones import ZONE_SCHEMA, is_valid_zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")  # ASCII digits only
MAX_INTERVALS_PER_DAY = 48
MAX_OVERRIDES = 1000


def minutes_of(hhmm: str) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` -> 1440."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _check_time(value: str) -> str:
    if not _TIME.fullmatch(value):
        raise ValueError(f"'{value}' is not a time of day as HH:MM (00:00 to 24:00)")
    return value


def _check_zone(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError(f"'{value}' is not a known IANA time zone, such as Europe/Paris")
    return value


def _date_input(value: object) -> object:
    # Dates are written as text: a number (say 0 for 1970-01-01) is a mistake, not a date.
    if isinstance(value, date | str):
        return value
    raise ValueError("must be a date written as YYYY-MM-DD")


# The dates bookwithme plans for: schedules, slot windows, list filters and busy blocks.
FIRST_DATE, LAST_DATE = date(1970, 1, 1), date(2200, 12, 31)


def _plausible_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"must be between {FIRST_DATE} and {LAST_DATE}")
    return value


CalendarDate = Annotated[date, BeforeValidator(_date_input), AfterValidator(_plausible_date)]
TimeOfDay = Annotated[
    str,
    Field(max_length=5, json_schema_extra={"pattern": f"^(?:{_TIME.pattern})$"}),
    AfterValidator(_check_time),
]
TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64),
    AfterValidator(_check_zone),
    WithJsonSchema(ZONE_SCHEMA),
]


# An interval may end at 24:00 but not start there.
StartOfInterval = Annotated[
    TimeOfDay, Field(json_schema_extra={"pattern": r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"})
]


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: StartOfInterval
    end: TimeOfDay

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.start == "24:00":
            raise ValueError("an interval cannot start at 24:00")
        if minutes_of(self.start) >= minutes_of(self.end):
            raise ValueError(f"interval {self.start}-{self.end} must start before it ends")
        return self


DayIntervals = Annotated[list[Interval], Field(max_length=MAX_INTERVALS_PER_DAY)]


def _check_no_overlap(label: str, intervals: list[Interval]) -> None:
    ordered = sorted(intervals, key=lambda i: minutes_of(i.start))
    for before, after in pairwise(ordered):
        if minutes_of(before.end) > minutes_of(after.start):
            raise ValueError(
                f"intervals on {label} overlap: {before.start}-{before.end} "
                f"and {after.start}-{after.end}"
            )


class Weekly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mon: DayIntervals = []
    tue: DayIntervals = []
    wed: DayIntervals = []
    thu: DayIntervals = []
    fri: DayIntervals = []
    sat: DayIntervals = []
    sun: DayIntervals = []

    @model_validator(mode="after")
    def _no_overlap(self) -> Weekly:
        for day in WEEKDAYS:
            _check_no_overlap(day, getattr(self, day))
        return self

    def for_weekday(self, weekday: int) -> list[Interval]:
        """Intervals of ``date.weekday()`` (0 = Monday)."""
        result: list[Interval] = getattr(self, WEEKDAYS[weekday])
        return result


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: CalendarDate
    intervals: DayIntervals = []

    @model_validator(mode="after")
    def _no_overlap(self) -> Override:
        _check_no_overlap(self.date.isoformat(), self.intervals)
        return self


class DateRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: CalendarDate
    end: CalendarDate

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.start > self.end:
            raise ValueError("date_range must not end before it starts")
        return self


class ScheduleData(BaseModel):
    """A whole schedule, as the API reads and writes it."""

    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZoneName
    weekly: Weekly = Weekly()
    overrides: Annotated[list[Override], Field(max_length=MAX_OVERRIDES)] = []
    date_range: DateRange | None = None

    @model_validator(mode="after")
    def _unique_override_dates(self) -> ScheduleData:
        seen: set[date] = set()
        for override in self.overrides:
            if override.date in seen:
                raise ValueError(f"more than one override for {override.date.isoformat()}")
            seen.add(override.date)
        self.overrides.sort(key=lambda o: o.date)
        return self

    def weekly_json(self) -> dict[str, Any]:
        return self.weekly.model_dump(mode="json")

    def overrides_json(self) -> list[Any]:
        return [o.model_dump(mode="json") for o in self.overrides]


def default_schedule(time_zone: str) -> ScheduleData:
    """Monday to Friday, 09:00-17:00 in ``time_zone``."""
    workday = [Interval(start="09:00", end="17:00")]
    return ScheduleData(
        time_zone=time_zone,
        weekly=Weekly(mon=workday, tue=workday, wed=workday, thu=workday, fri=workday),
    )
