"""HTML forms: read the posted fields, validate them with the same pydantic rules as the
API, and give each field a message a person understands.

A page's form is one ``Form`` class: ``read`` turns the posted text into what the API's
schema takes (keeping every field as typed in ``values``, to show the page again), and
``validate`` checks it with that schema and puts each problem next to its field, in the
page's language::

    form = MeetingTypeForm("fr")
    data = form.validate(fields)  # the schema's model, or None
    form.values, form.errors      # what to show again; {field: message}

``ScheduleForm`` is the working-hours editor ("09:00-12:00, 13:00-17:00" for each weekday,
a time zone, exceptions one date a line), used by the working-hours page and, for a type's
own hours, inside the meeting-type form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bookwithme.i18n import N_, translations, weekday_names
from bookwithme.scheduling.schedules import (
    FIRST_DATE,
    LAST_DATE,
    MAX_INTERVALS_PER_DAY,
    WEEKDAYS,
    DateRange,
    Override,
    ScheduleData,
    Weekly,
)
from bookwithme.web.errors import field_message, validation_details

M = TypeVar("M", bound=BaseModel)
B = TypeVar("B", bound=BaseModel)
Loc = tuple[int | str, ...]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (files and repeated fields are not used here)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def validate_form(model: type[M], fields: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The model and no errors, or None and ``{field: message}``."""
    try:
        return model.model_validate(fields), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for detail in validation_details(exc.errors()):
            errors.setdefault(detail["field"] or "__all__", detail["message"])
        return None, errors


class Form(Generic[M]):
    """One page's form. A subclass names its ``schema``, reads the posted fields in
    ``read`` and may say which field a schema error belongs to (``field_of``) and how to
    put it (``field_messages``, one message for anything wrong with a field)."""

    schema: ClassVar[type[BaseModel]]
    field_messages: ClassVar[dict[str, str]] = {}

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self.gettext = translations(lang).gettext
        self.values: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def read(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The schema's input from the posted ``fields``; fills ``values`` with what was
        typed and ``errors`` with what cannot even be read (a number that is not one)."""
        raise NotImplementedError

    def validate(self, fields: Mapping[str, str]) -> M | None:
        """The schema's model, or None with ``errors`` saying what to fix."""
        self.values, self.errors = {}, {}
        payload = self.read(fields)
        # Checked whole even when a field could not be read, so that every problem is
        # shown at once (a field keeps its first message).
        data = self.check(self.schema, payload)
        return data if not self.errors else None  # type: ignore[return-value]

    def check(
        self,
        model: type[B],
        payload: Any,
        where: Callable[[ErrorDetails], tuple[str, str]] | None = None,
    ) -> B | None:
        """``payload`` as ``model``, or None; each problem goes to the field (and with the
        message) ``where`` says, by default ``field_of`` and ``message_of``."""
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            for error in exc.errors():
                field, message = (where or self.where)(error)
                self.errors.setdefault(field, message)
            return None

    def where(self, error: ErrorDetails) -> tuple[str, str]:
        """The field a problem of the whole schema belongs to, and what to say."""
        field = self.field_of(tuple(error["loc"]))
        return field, self.message_of(field, error)

    def field_of(self, loc: Loc) -> str:
        return str(loc[0]) if loc else ""

    def message_of(self, field: str, error: ErrorDetails) -> str:
        own = self.field_messages.get(field)
        return self.say(own) if own else self.describe(error)

    def describe(self, error: ErrorDetails) -> str:
        """A plain sentence for a problem pydantic found, from its kind and limits."""
        return field_message(error, self.gettext)

    def say(self, message: str, **params: Any) -> str:
        """``message`` in the page's language, with ``params`` put in."""
        text: str = self.gettext(message)
        return text % params if params else text

    def fail(self, field: str, message: str, **params: Any) -> None:
        """Marks ``field`` wrong (keeping the first message it got)."""
        self.errors.setdefault(field, self.say(message, **params))


# --- Working hours: "09:00-12:00, 13:00-17:00" for each weekday --------------------------

_RANGE = re.compile(r"^\s*([0-9]{1,2}:[0-9]{2})\s*[-\u2013]\s*([0-9]{1,2}:[0-9]{2})\s*$")
OFF = ("", "off")
DATE_PROBLEM = N_("Enter a date from 1970 to 2200, such as 2026-12-24.")


def week_days(lang: str) -> list[tuple[str, str, str]]:
    """Each weekday from Monday as (key, name, short name) in ``lang``: ("mon", "Monday",
    "Mon") / ("mon", "Lundi", "lun.")."""
    names = weekday_names(lang, 0)
    return [
        (key, wide[:1].upper() + wide[1:], short)
        for key, (short, wide) in zip(WEEKDAYS, names, strict=True)
    ]


def hours_text(intervals: list[Any]) -> str:
    """Intervals as the editor writes them: "09:00-12:00, 13:00-17:00"."""
    return ", ".join(f"{i.start}-{i.end}" for i in intervals)


def overrides_text(schedule: ScheduleData) -> str:
    """The exceptions, one date a line: "2026-12-24: off"."""
    return "\n".join(
        f"{o.date.isoformat()}: {hours_text(o.intervals) or 'off'}" for o in schedule.overrides
    )


class ScheduleForm(Form[ScheduleData]):
    """The working-hours editor: a time zone, the hours of each weekday, and exceptions
    (``2026-12-24: off``), with an optional date range (from / until) on a meeting type's
    own hours. Each day and each exception line is checked on its own with the schedule's
    rules, so a problem is shown next to the day or with the line it is on."""

    schema = ScheduleData
    field_messages: ClassVar[dict[str, str]] = {
        "time_zone": N_("Choose a time zone from the list (an IANA name such as Europe/Paris)."),
        "weekly": N_("Check the hours of each day."),
    }

    def __init__(
        self, lang: str = "en", *, with_range: bool = False, keep_range: DateRange | None = None
    ) -> None:
        super().__init__(lang)
        self.with_range = with_range
        self.keep_range = keep_range  # the range a form without range fields leaves as it is

    @staticmethod
    def values_of(schedule: ScheduleData) -> dict[str, str]:
        values = {day: hours_text(getattr(schedule.weekly, day)) for day in WEEKDAYS}
        values["time_zone"] = schedule.time_zone
        values["overrides"] = overrides_text(schedule)
        span = schedule.date_range
        values["range_start"] = "" if span is None or span.start == FIRST_DATE else str(span.start)
        values["range_end"] = "" if span is None or span.end == LAST_DATE else str(span.end)
        return values

    def read(self, fields: Mapping[str, str]) -> dict[str, Any]:
        weekly: dict[str, list[dict[str, str]]] = {}
        for day in WEEKDAYS:
            self.values[day] = fields.get(day, "")
            spans = self._spans(self.values[day])
            if isinstance(spans, str):
                self.errors.setdefault(day, spans)
                continue
            checked = self.check(Weekly, {day: spans}, partial(self._day_problem, day, spans))
            if checked is not None:
                weekly[day] = spans
        self.values["time_zone"] = fields.get("time_zone", "")
        overrides = self._overrides(fields.get("overrides", ""))
        date_range = self._date_range(fields) if self.with_range else self.keep_range
        return {
            "time_zone": self.values["time_zone"],
            "weekly": weekly,
            "overrides": overrides,
            "date_range": date_range.model_dump(mode="json")
            if isinstance(date_range, DateRange)
            else date_range,
        }

    def field_of(self, loc: Loc) -> str:
        head = str(loc[0]) if loc else ""
        if head == "weekly" and len(loc) > 1 and loc[1] in WEEKDAYS:
            return str(loc[1])
        if head == "date_range":
            return "range_end"
        return head if head in ("time_zone", "weekly", "overrides") else "overrides"

    def _spans(self, text: str) -> list[dict[str, str]] | str:
        """ "09:00-12:00, 13:00-17:00" as intervals, or what is wrong with it."""
        spans = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = _RANGE.match(part)
            if match is None:
                return self.say(
                    N_("“%(part)s” is not a time range such as 09:00-17:00."), part=part
                )
            start, end = (v.zfill(5) for v in match.groups())
            spans.append({"start": start, "end": end})
        return spans

    def _day_problem(
        self, day: str, spans: list[dict[str, str]], error: ErrorDetails
    ) -> tuple[str, str]:
        return day, self._problem(error, spans)

    def _problem(self, error: ErrorDetails, spans: list[dict[str, str]]) -> str:
        """What is wrong with one day's intervals, from where the schedule's rules found
        it: a time (``[i, "start"]``), an interval (``[i]``) or the day (an overlap)."""
        loc = [p for p in error["loc"] if p not in WEEKDAYS and p != "intervals"]
        if error["type"] == "too_long":
            return self.say(N_("At most %(count)s time ranges a day."), count=MAX_INTERVALS_PER_DAY)
        if len(loc) >= 2 and isinstance(loc[0], int):
            return self.say(
                N_("%(time)s is not a time of day: write it as HH:MM, from 00:00 to 24:00."),
                time=error["input"],
            )
        if loc and isinstance(loc[0], int):
            span = spans[loc[0]]
            if span["start"] == "24:00":
                return self.say(N_("A time range cannot start at 24:00."))
            return self.say(
                N_("%(range)s must start before it ends."), range=f"{span['start']}-{span['end']}"
            )
        return self.say(N_("These time ranges overlap: give each time of the day only once."))

    def _overrides(self, text: str) -> list[dict[str, Any]]:
        self.values["overrides"] = text
        overrides: list[dict[str, Any]] = []
        lines: dict[str, int] = {}  # date -> its line
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            day, _, hours = line.partition(":")
            spans: list[dict[str, str]] | str = []
            if hours.strip().lower() not in OFF:
                spans = self._spans(hours)
            if isinstance(spans, str):
                self._line_fails(number, spans)
                continue

            key = f"line {number}"  # where this line's problem is put, until it is numbered
            found = self.check(
                Override,
                {"date": day.strip(), "intervals": spans},
                partial(self._line_problem, key, day.strip(), spans),
            )
            if found is None:
                self._line_fails(number, self.errors.pop(key))
                continue
            date = found.date.isoformat()
            if date in lines:
                self._line_fails(
                    number,
                    self.say(
                        N_("%(date)s is already on line %(line)s."), date=date, line=lines[date]
                    ),
                )
                continue
            lines[date] = number
            overrides.append({"date": date, "intervals": spans})
        return overrides

    def _line_problem(
        self, key: str, day: str, spans: list[dict[str, str]], error: ErrorDetails
    ) -> tuple[str, str]:
        if error["loc"][:1] == ("date",):
            return key, self.say(N_("“%(date)s” is not a date such as 2026-12-24."), date=day)
        return key, self._problem(error, spans)

    def _line_fails(self, number: int, problem: str) -> None:
        self.fail("overrides", N_("Line %(line)s: %(problem)s"), line=number, problem=problem)

    def _date_range(self, fields: Mapping[str, str]) -> dict[str, str] | None:
        """From / until, either of which may be left empty (no limit on that side)."""
        start = self.values["range_start"] = fields.get("range_start", "").strip()
        end = self.values["range_end"] = fields.get("range_end", "").strip()
        if not start and not end:
            return None
        payload = {"start": start or FIRST_DATE.isoformat(), "end": end or LAST_DATE.isoformat()}

        def where(error: ErrorDetails) -> tuple[str, str]:
            if error["loc"][:1] == ("start",):
                return "range_start", self.say(DATE_PROBLEM)
            if error["loc"][:1] == ("end",):
                return "range_end", self.say(DATE_PROBLEM)
            return "range_end", self.say(N_("The last day is before the first one."))

        found = self.check(DateRange, payload, where)
        return found.model_dump(mode="json") if found is not None else None
