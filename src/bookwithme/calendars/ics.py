"""Busy time from an iCalendar file, as Outlook, Exchange, Google, iCloud and Thunderbird
write them (SPEC 2.6).

icalendar parses; x-wr-timezone repairs Google's X-WR-TIMEZONE; recurring-ical-events
expands RRULE, RDATE, EXDATE and RECURRENCE-ID overrides (THISANDFUTURE too). What counts as
busy: not cancelled, not TRANSPARENT, not the Microsoft busy status FREE. All-day events are
busy for the whole day(s) in the organizer's zone; floating times are read in that zone.
Windows and Outlook zone names are mapped with the CLDR table that icalendar maintains.
One broken event is skipped and reported; the rest of the feed still counts.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Component
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bookwithme.timezones import is_valid_zone, known_zones

FREE_STATUSES = {"FREE"}
_OFFSET_LABEL = re.compile(
    r"^\((?:UTC|GMT)\s*(?:(?P<sign>[+-])(?P<h>\d{1,2}):(?P<m>\d{2}))?\)\s*(?P<label>.*)$"
)


class CalendarFileError(ValueError):
    """The file is not an iCalendar file at all (as opposed to one bad event)."""


@dataclass
class FeedBusy:
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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
            calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise CalendarFileError(f"this is not an iCalendar file: {exc}") from exc
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise CalendarFileError("this is not an iCalendar file (no VCALENDAR)")
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except Exception as exc:  # a broken X-WR-TIMEZONE must not lose the feed
        result.problems.append(f"X-WR-TIMEZONE could not be applied: {exc}")
    _fix_unresolved_zones(calendar)
    for component in calendar.walk("VEVENT"):
        for error in getattr(component, "errors", []) or []:
            result.problems.append(f"event {component.get('UID', '?')}: {error[0]}: {error[1]}")

    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    lo = window_start.astimezone(organizer_zone) - timedelta(days=1)
    hi = window_end.astimezone(organizer_zone) + timedelta(days=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        occurrences = query.between(lo, hi)
    for event in occurrences:
        try:
            if not _is_busy(event) or str(event.get("UID", "")) in skip_uids:
                continue
            span = _span(event, organizer_zone)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            result.problems.append(f"event {event.get('UID', '?')} skipped: {exc}")
            continue
        if span is None:
            continue
        start, end = span
        if start < window_end and end > window_start:
            result.intervals.append(span)
    result.intervals.sort()
    return result
