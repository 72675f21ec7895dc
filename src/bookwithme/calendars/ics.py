"""Busy time from an iCalendar file, as Outlook, Exchange, Google, iCloud and Thunderbird
write them (SPEC 2.6).

icalendar parses; x-wr-timezone repairs Google's X-WR-TIMEZONE; recurring-ical-events
expands RRULE, RDATE, EXDATE and RECURRENCE-ID overrides (THISANDFUTURE too). What counts as
busy: not cancelled, not TRANSPARENT, not the Microsoft busy status FREE. All-day events are
busy for the whole day(s) in the organizer's zone; floating times are read in that zone.
Windows and Outlook zone names are mapped with the CLDR table that icalendar maintains.
``VFREEBUSY`` periods (Exchange and Zimbra free/busy URLs) are busy unless marked ``FREE``.

Real exporters get things wrong, and one broken event must never cost the rest of the feed.
Every component is parsed tolerantly (a bad value is kept aside, not raised), then a small
repair pass runs before expansion: a repeated single-value property keeps its first value,
spaces inside ``RRULE`` lists are removed, an ``EXDATE``/``RDATE`` value that is not a date
loses only itself, and an event with no readable start is left out. What was left out or
lost is reported as ``Problem``s, which the organizer sees. If expansion still fails, each
series is expanded on its own so only the broken one is lost.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Component, ComponentFactory
from icalendar.prop import vBroken, vDDDLists, vRecur
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bookwithme.calendars.problems import Problem
from bookwithme.timezones import is_valid_zone, known_zones

log = logging.getLogger("bookwithme.calendars")

FREE_STATUSES = {"FREE"}
# FBTYPE values that are not busy time (RFC 5545 3.2.9: anything else, even unknown, is busy).
FREE_FBTYPES = {"FREE"}
# Properties a component may carry once; a second copy (which some exporters write) is dropped.
SINGLE_VALUED = (
    "UID",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RECURRENCE-ID",
    "STATUS",
    "TRANSP",
    "X-MICROSOFT-CDO-BUSYSTATUS",
)
# Without a readable value for one of these, an event cannot be placed in time at all.
ESSENTIAL = {
    "DTSTART": "its start is not a date",
    "DTEND": "its end is not a date",
    "DURATION": "its duration cannot be read",
    "RECURRENCE-ID": "the occurrence it changes is not a date",
}
_SPACE = re.compile(r"\s+")
MIN_REPEAT_MINUTES = 15
ONLY_FIRST = "{}, so only its first date counts"
# More busy times than this over the sync window (two years) is not a calendar people keep.
MAX_INTERVALS = 100_000
_OFFSET_LABEL = re.compile(
    r"^\((?:UTC|GMT)\s*(?:(?P<sign>[+-])(?P<h>\d{1,2}):(?P<m>\d{2}))?\)\s*(?P<label>.*)$"
)


class CalendarFileError(ValueError):
    """The file is not an iCalendar file at all (as opposed to one bad event)."""


@dataclass
class FeedBusy:
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _TolerantFactory(ComponentFactory):
    """Every component parsed like icalendar parses events: a property whose value cannot be
    read is kept as ``vBroken`` and noted in ``errors`` instead of failing the whole file
    (icalendar only does this for VEVENT; a bad FREEBUSY, VALARM or VTIMEZONE line would
    otherwise lose everything)."""

    def add_component_class(self, cls: type[Component]) -> None:
        if not cls.ignore_exceptions:
            cls = type(cls.__name__, (cls,), {"ignore_exceptions": True})
        super().add_component_class(cls)


class _TolerantCalendar(Calendar):
    _components_factory = _TolerantFactory()


@cache
def zone_for_tzid(tzid: str) -> tzinfo | None:
    """An IANA zone for a TZID that icalendar could not resolve by itself: a Windows zone id
    ("W. Europe Standard Time") or an Outlook display name ("(UTC-05:00) Eastern Time (US &
    Canada)", "(GMT+10:00) Canberra, Melbourne, Sydney"), through the CLDR Windows table and
    tzdata's city names; as a last resort the fixed offset the name states."""
    name = tzid.strip().strip('"')
    if is_valid_zone(name):
        return ZoneInfo(name)
    if name in WINDOWS_TO_OLSON:
        return ZoneInfo(WINDOWS_TO_OLSON[name])
    match = _OFFSET_LABEL.match(name)
    if match is None:
        return None
    label = match.group("label").strip()
    offset = timedelta(0)
    if match.group("sign"):
        offset = timedelta(hours=int(match.group("h")), minutes=int(match.group("m")))
        if match.group("sign") == "-":
            offset = -offset
    # "Eastern Time (US & Canada)" is the display name of "Eastern Standard Time".
    base = re.sub(r"\s*\(.*?\)\s*$", "", label).strip()
    for candidate in (label, f"{base} Standard Time", base.replace(" Time", " Standard Time")):
        if candidate in WINDOWS_TO_OLSON:
            return ZoneInfo(WINDOWS_TO_OLSON[candidate])
    # "Canberra, Melbourne, Sydney": a city tzdata knows, with the stated standard offset.
    for city in (c.strip().replace(" ", "_") for c in label.split(",")):
        for zone_name in sorted(z for z in known_zones() if z.endswith("/" + city)):
            zone = ZoneInfo(zone_name)
            standard = min(
                datetime(2021, m, 1, tzinfo=zone).utcoffset() or timedelta(0) for m in (1, 7)
            )
            if standard == offset:
                return zone
    from datetime import timezone

    return timezone(offset, name) if match.group("sign") else None


def _fix_unresolved_zones(calendar: Calendar) -> None:
    """Give a zone to date-times that icalendar left naive although they name a TZID."""
    for component in calendar.walk():
        for key in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
            values: Any = component.get(key)
            if values is None:
                continue
            for prop in values if isinstance(values, list) else [values]:
                tzid = prop.params.get("TZID") if hasattr(prop, "params") else None
                if not tzid:
                    continue
                zone = zone_for_tzid(str(tzid))
                if zone is None:
                    continue
                if hasattr(prop, "dt") and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
                    prop.dt = prop.dt.replace(tzinfo=zone)
                dts = getattr(prop, "dts", None)
                for item in dts or []:
                    if isinstance(item.dt, datetime) and item.dt.tzinfo is None:
                        item.dt = item.dt.replace(tzinfo=zone)


def _uid(component: Component) -> str | None:
    value = component.get("UID")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _reparse_each(prop: Any) -> tuple[Any, int]:
    """A date list (EXDATE, RDATE) with one unreadable value: each value parsed on its own,
    keeping those that read. Returns the repaired property (None if nothing was readable)
    and how many values were lost."""
    params = prop.params
    tzid = params.get("TZID")
    read_dates: Any = vDDDLists.from_ical
    kept: list[Any] = []
    lost = 0
    for raw in str(prop).split(","):  # dates, date-times or periods: vDDDLists reads each
        try:
            kept += read_dates(raw.strip(), tzid)
        except (ValueError, TypeError):
            lost += 1
    if not kept:
        return None, lost
    repaired = vDDDLists(kept)
    repaired.params = params
    return repaired, lost


def _rule_fault(rule: Any) -> str | None:
    """Why a readable repeat rule still cannot be expanded, or None. A rule that repeats
    every few seconds (no calendar program writes one) would take the expansion minutes."""
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    interval = (rule.get("INTERVAL") or [1])[0]
    count = (rule.get("COUNT") or [1])[0]
    if not isinstance(interval, int) or interval < 1 or not isinstance(count, int) or count < 1:
        return ONLY_FIRST.format("its repeat rule cannot be read")
    if freq == "SECONDLY" or (freq == "MINUTELY" and interval < MIN_REPEAT_MINUTES):
        return ONLY_FIRST.format(f"it repeats more often than every {MIN_REPEAT_MINUTES} minutes")
    return None


def _mend_rules(component: Component) -> str | None:
    """Spaces removed from repeat rules (Outlook writes "BYDAY=MO, TU, WE"); a rule that
    still cannot be used is dropped, keeping the event's first date. Returns why, if so."""
    value = component.get("RRULE")
    if value is None:
        return None
    fault = None
    mended = []
    props = value if isinstance(value, list) else [value]
    for prop in props:
        rule = prop
        if isinstance(prop, vBroken):
            try:
                rule = vRecur(vRecur.from_ical(_SPACE.sub("", str(prop))))
            except (ValueError, TypeError):
                fault = ONLY_FIRST.format("its repeat rule cannot be read")
                continue
            rule.params = prop.params
        reason = _rule_fault(rule)
        if reason:
            fault = reason
            continue
        mended.append(rule)
    if any(new is not old for new, old in zip(mended, props, strict=False)) or len(mended) != len(
        props
    ):
        component.pop("RRULE")
        for rule in mended:
            component.add("RRULE", rule, encode=False)
    return fault


def _mend_dates(component: Component) -> int:
    """EXDATE and RDATE values that are not dates dropped one by one; returns how many."""
    lost = 0
    for name in ("EXDATE", "RDATE"):
        value = component.get(name)
        props = value if isinstance(value, list) else [value]
        if value is None or not any(isinstance(p, vBroken) for p in props):
            continue
        mended = []
        for prop in props:
            if isinstance(prop, vBroken):
                prop, dropped = _reparse_each(prop)
                lost += dropped
            if prop is not None:
                mended.append(prop)
        component.pop(name)
        for prop in mended:
            component.add(name, prop, encode=False)
    return lost


def _repair(component: Component) -> Problem | None:
    """Mend what exporters commonly get wrong in one event, in place. Returns a problem when
    something was lost; a ``whole`` problem means the event must be left out."""
    uid = _uid(component)
    for name in SINGLE_VALUED:
        value = component.get(name)
        if isinstance(value, list):  # keep the first copy, as most calendar programs do
            component.pop(name)
            if value:
                component.add(name, value[0], encode=False)
    if "DTSTART" not in component:
        return Problem(uid, "it has no start", whole=True)
    for name, what in ESSENTIAL.items():
        if isinstance(component.get(name), vBroken):
            return Problem(uid, what, whole=True)
    fault = _mend_rules(component)
    lost_dates = _mend_dates(component)
    if fault:
        return Problem(uid, fault)
    if lost_dates:
        return Problem(uid, f"{lost_dates} of its added or excluded dates cannot be read")
    return None


def _repair_all(calendar: Calendar, problems: list[Problem]) -> None:
    """The repair pass over every event before anything expands it."""
    for component in list(calendar.subcomponents):
        if component.name != "VEVENT":
            continue
        problem = _repair(component)
        if problem is None:
            continue
        problems.append(problem)
        if problem.whole:
            calendar.subcomponents.remove(component)


def _occurrences(calendar: Calendar, lo: datetime, hi: datetime) -> list[Any] | None:
    """The occurrences between ``lo`` and ``hi``, or None when the library cannot expand
    this calendar (whatever it raised: that is the library meeting a broken input)."""
    try:
        return list(recurring_ical_events.of(calendar).between(lo, hi))
    except Exception as exc:
        log.debug("expansion failed: %r", exc)
        return None


def _expand(calendar: Calendar, lo: datetime, hi: datetime, problems: list[Problem]) -> list[Any]:
    """Every occurrence between ``lo`` and ``hi``. The library sets up all series at once,
    so an error it meets would cost the whole feed: then each series (one UID with its
    changed occurrences) is expanded on its own; one that still fails is tried once more
    without its repeat rules, and only what fails then is left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        everything = _occurrences(calendar, lo, hi)
        if everything is not None:
            return everything
        series: dict[str | None, list[Component]] = {}
        zones = []
        for component in calendar.subcomponents:
            if component.name == "VTIMEZONE":
                zones.append(component)
            elif component.name == "VEVENT":
                series.setdefault(_uid(component), []).append(component)
        occurrences: list[Any] = []
        for uid, components in series.items():
            alone = Calendar()
            for part in (*zones, *components):
                alone.add_component(part)
            found = _occurrences(alone, lo, hi)
            if found is None:
                for part in components:
                    for name in ("RRULE", "RDATE", "EXDATE"):
                        part.pop(name, None)
                found = _occurrences(alone, lo, hi)
                problems.append(
                    Problem(uid, "its dates cannot be worked out", whole=True)
                    if found is None
                    else Problem(uid, ONLY_FIRST.format("its repeat rule cannot be used"))
                )
            occurrences += found or []
        return occurrences


def _free_busy(
    calendar: Calendar, zone: ZoneInfo, problems: list[Problem]
) -> list[tuple[datetime, datetime]]:
    """The busy periods of every VFREEBUSY: ``FREEBUSY`` lines whose ``FBTYPE`` is not FREE,
    in start/end or start/duration form, several to a line."""
    spans = []
    for component in calendar.walk("VFREEBUSY"):
        value: Any = component.get("FREEBUSY")
        if value is None:
            continue
        unreadable = 0
        for prop in value if isinstance(value, list) else [value]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() in FREE_FBTYPES:
                continue
            if isinstance(prop, vBroken):
                unreadable += 1
                continue
            start, end = _as_instant(prop.start, zone), _as_instant(prop.end, zone)
            if end > start:
                spans.append((start.replace(microsecond=0), end))
        if unreadable:
            problems.append(
                Problem(_uid(component), f"{unreadable} of its busy periods cannot be read")
            )
    return spans


def _as_instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating: the organizer's wall clock
            return value.replace(tzinfo=zone).astimezone(UTC)
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)


def _is_busy(event: Component) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
        return False
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() not in FREE_STATUSES


def _span(event: Component, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    start_prop: Any = event.get("DTSTART")
    if start_prop is None:
        return None
    start_value = start_prop.dt
    end_prop: Any = event.get("DTEND")
    duration: Any = event.get("DURATION")
    if end_prop is not None:
        end_value: Any = end_prop.dt
    elif duration is not None:
        end_value = start_value + duration.dt
    elif isinstance(start_value, datetime):
        end_value = start_value  # no length: blocks nothing
    else:
        end_value = start_value + timedelta(days=1)  # a date alone is that whole day
    dates_only = not isinstance(start_value, datetime) and not isinstance(end_value, datetime)
    if dates_only and end_value <= start_value:  # DTEND equal to DTSTART: that day itself
        end_value = start_value + timedelta(days=1)
    start, end = _as_instant(start_value, zone), _as_instant(end_value, zone)
    if end <= start:
        return None
    return start.replace(microsecond=0), end


def busy_from_ics(
    data: bytes,
    window_start: datetime,
    window_end: datetime,
    zone: str,
    skip_uids: frozenset[str] = frozenset(),
) -> FeedBusy:
    """The busy intervals of the file that reach into ``[window_start, window_end)``;
    events whose UID is in ``skip_uids`` (our own bookings, written back) are left out."""
    result = FeedBusy()
    organizer_zone = ZoneInfo(zone)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calendar = _TolerantCalendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise CalendarFileError(_not_a_calendar(data)) from exc
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise CalendarFileError(_not_a_calendar(data))
    _repair_all(calendar, result.problems)
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except Exception:
        result.problems.append(Problem(None, "its X-WR-TIMEZONE zone cannot be applied"))
    _fix_unresolved_zones(calendar)

    lo = window_start.astimezone(organizer_zone) - timedelta(days=1)
    hi = window_end.astimezone(organizer_zone) + timedelta(days=1)
    spans = _free_busy(calendar, organizer_zone, result.problems)
    for event in _expand(calendar, lo, hi, result.problems):
        try:
            if not _is_busy(event) or str(event.get("UID", "")) in skip_uids:
                continue
            span = _span(event, organizer_zone)
        except (ValueError, TypeError, AttributeError, OverflowError):
            result.problems.append(Problem(_uid(event), "its dates cannot be read", whole=True))
            continue
        if span is not None:
            spans.append(span)
    result.intervals = sorted(
        (start, end) for start, end in spans if start < window_end and end > window_start
    )
    if len(result.intervals) > MAX_INTERVALS:
        result.problems.append(
            Problem(
                None,
                f"the calendar has more than {MAX_INTERVALS:,} busy times ahead; "
                "only the first ones are used",
            )
        )
        del result.intervals[MAX_INTERVALS:]
    return result


def _not_a_calendar(data: bytes) -> str:
    """Why a download is not a calendar, without repeating what it said."""
    head = data[:512].lstrip().lower()
    if not head:
        return "The address answered with nothing, not a calendar."
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        return "The address answered a web page, not a calendar (is it a sign-in page?)."
    if head.startswith((b"{", b"[")):
        return "The address answered JSON, not a calendar."
    return "The address did not answer an iCalendar file."
