"""Every real calendar file in files/ (Exchange, Outlook, Google, Thunderbird, Evolution
output, from other projects' test suites) is a case: the busy time it must give over a
window, stated here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bookwithme.calendars.ics import CalendarFileError, busy_from_ics, zone_for_tzid

# Copied unchanged from the public test suites named in files/SOURCES.md (with their licences).
CALENDARS = Path(__file__).resolve().parent / "files"
PARIS = "Europe/Paris"


def load(name: str) -> bytes:
    return (CALENDARS / name).read_bytes()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def busy(
    name: str, start: datetime, end: datetime, zone: str = PARIS, data: bytes | None = None
) -> list[tuple[str, str]]:
    result = busy_from_ics(data or load(name), start, end, zone)
    return [
        (s.strftime("%Y-%m-%d %H:%M"), e.strftime("%Y-%m-%d %H:%M")) for s, e in result.intervals
    ]


def test_exchange_windows_zone_names_and_a_broken_event() -> None:
    # "W. Europe Standard Time" and "Pacific Standard Time" (Exchange 2010); the recurring
    # series is TRANSPARENT/FREE, and the event with a malformed DTSTART is skipped and reported.
    result = busy_from_ics(
        load("nodeical__ms_timezones.ics"), utc(2020, 1, 1), utc(2021, 6, 1), PARIS
    )
    assert [(s.isoformat(), e.isoformat()) for s, e in result.intervals] == [
        ("2020-09-10T07:00:00+00:00", "2020-09-10T07:30:00+00:00"),  # 09:00 CEST
        ("2020-09-15T15:30:00+00:00", "2020-09-15T16:30:00+00:00"),  # 08:30 PDT
    ]
    [problem] = result.problems
    assert problem.whole and problem.what == "its start is not a date"


def test_unquoted_windows_tzid() -> None:
    assert busy("icalendar__issue_836_do_not_quote_tzid.ics", utc(2024, 1, 1), utc(2025, 1, 1)) == [
        ("2024-10-28 21:00", "2024-10-28 22:00"),  # 17:00 Eastern, still on summer time
    ]


def test_outlook_display_names_without_vtimezone() -> None:
    got = busy("nodeical__Office-2012-owa.ics", utc(2020, 10, 27), utc(2020, 10, 30))
    assert got == [
        (
            "2020-10-28 02:30",
            "2020-10-28 04:00",
        ),  # "(GMT+10:00) Canberra, Melbourne, Sydney", 13:30 AEDT
        (
            "2020-10-28 17:30",
            "2020-10-28 19:00",
        ),  # "(UTC-05:00) Eastern Time (US & Canada)", 13:30 EDT
    ]


def test_quoted_outlook_zone_with_exdates_in_another_zone() -> None:
    got = busy("nodeical__windows-quoted-tz-rrule.ics", utc(2015, 7, 1), utc(2015, 8, 1))
    # Daily from 12:00 Eastern (16:00 UTC) to 13:00 Los Angeles (20:00 UTC), ten times,
    # without the 8th and the 10th.
    assert [s[:10] for s, _ in got] == [f"2015-07-{d:02d}" for d in (6, 7, 9, 11, 12, 13, 14, 15)]
    assert set((s[11:], e[11:]) for s, e in got) == {("16:00", "20:00")}


def test_exchange_all_day_series_with_a_moved_occurrence() -> None:
    # As published, every occurrence is TRANSPARENT/FREE: no busy time at all.
    assert (
        busy("nodeical__exchange_whole_day_moved_recurrence.ics", utc(2026, 2, 1), utc(2026, 9, 1))
        == []
    )
    # Marked busy, the Tuesday/Thursday all-day series blocks whole days in the organizer's
    # zone, and the Thursday 26 February is moved to Friday 27 (RECURRENCE-ID as a date-time).
    data = load("nodeical__exchange_whole_day_moved_recurrence.ics")
    data = data.replace(b"TRANSP:TRANSPARENT", b"TRANSP:OPAQUE").replace(
        b"BUSYSTATUS:FREE", b"BUSYSTATUS:BUSY"
    )
    got = busy("", utc(2026, 2, 15), utc(2026, 3, 8), data=data)
    assert got == [
        ("2026-02-18 23:00", "2026-02-19 23:00"),
        ("2026-02-23 23:00", "2026-02-24 23:00"),
        ("2026-02-26 23:00", "2026-02-27 23:00"),
        ("2026-03-02 23:00", "2026-03-03 23:00"),
        ("2026-03-04 23:00", "2026-03-05 23:00"),
    ]
    assert busy("", utc(2026, 2, 15), utc(2026, 3, 8), zone="America/New_York", data=data)[0] == (
        "2026-02-19 05:00",
        "2026-02-20 05:00",
    )


def test_folded_lines_floating_until_and_utc_exdate() -> None:
    assert busy("rie__issue_27_t1.ics", utc(2020, 4, 1), utc(2020, 5, 1)) == [
        ("2020-04-26 12:00", "2020-04-26 12:30"),
        ("2020-04-28 12:00", "2020-04-28 12:30"),
    ]


def test_google_x_wr_timezone() -> None:
    # UTC times in a Google export, to be read with X-WR-TIMEZONE: the titles say noon to 1 PM
    # and 9 PM to 10 PM in New York.
    assert busy(
        "rie__x_wr_timezone_simple_events_issue_59.ics", utc(2021, 12, 1), utc(2022, 1, 1)
    ) == [
        ("2021-12-22 17:00", "2021-12-22 18:00"),
        ("2021-12-23 02:00", "2021-12-23 03:00"),
    ]


def test_a_cancelled_occurrence_does_not_block() -> None:
    assert busy("rie__issue_18_cancel_status.ics", utc(2020, 1, 1), utc(2020, 3, 1)) == [
        ("2020-01-28 21:00", "2020-01-28 22:00"),
        ("2020-01-30 21:00", "2020-01-30 22:00"),  # the 29th is cancelled
    ]


def test_duration_instead_of_dtend_and_neither() -> None:
    assert busy("rie__duration.ics", utc(2018, 1, 1), utc(2018, 2, 1)) == [
        ("2018-01-09 23:00", "2018-01-12 23:00"),  # three whole days in Paris
        ("2018-01-15 09:00", "2018-01-15 12:00"),  # floating 10:00 read in Paris, three hours
    ]  # the event with neither DTEND nor DURATION has no length and blocks nothing


def test_transparent_series_with_a_moved_occurrence() -> None:
    assert busy("rie__issue_62_moved_event.ics", utc(2021, 1, 1), utc(2024, 1, 1)) == []


def test_holidays_transparent_and_their_odd_lines() -> None:
    assert busy("rie__Germany_Holidays.ics", utc(2019, 1, 1), utc(2020, 1, 1)) == []
    data = load("rie__Germany_Holidays.ics").replace(b"TRANSP:TRANSPARENT", b"TRANSP:OPAQUE")
    got = busy("", utc(2019, 1, 1), utc(2019, 5, 1), data=data)
    # DTSTART without VALUE=DATE and DTEND equal to DTSTART: each holiday is its whole day.
    assert got[:3] == [
        ("2018-12-31 23:00", "2019-01-01 23:00"),
        ("2019-01-05 23:00", "2019-01-06 23:00"),
        ("2019-03-04 23:00", "2019-03-05 23:00"),
    ]
    assert ("2019-04-18 22:00", "2019-04-19 22:00") in got  # Good Friday, summer time


def test_evolution_and_lightning_globally_unique_tzids() -> None:
    assert busy(
        "icalendar__issue_313_globally_unique_tzid.ics", utc(2020, 4, 1), utc(2020, 5, 1)
    ) == [
        ("2020-04-26 12:00", "2020-04-26 13:00"),  # Europe/Berlin
        ("2020-04-26 17:00", "2020-04-26 18:00"),  # America/Argentina/Buenos_Aires
        ("2020-04-26 18:00", "2020-04-26 19:00"),  # America/New_York
    ]


def test_a_large_google_export() -> None:
    result = busy_from_ics(
        load("rie__issue_173_only_modifications_error.ics"), utc(2024, 1, 1), utc(2025, 1, 1), PARIS
    )
    assert result.problems == []
    assert len(result.intervals) == 594
    monday = [
        (s.strftime("%H:%M"), e.strftime("%H:%M"))
        for s, e in result.intervals
        if s.date().isoformat() == "2024-01-08"
    ]
    assert monday == [
        ("09:00", "10:00"),
        ("10:00", "11:30"),
        ("13:00", "15:00"),
        ("15:00", "16:00"),
        ("16:00", "16:40"),
    ]
    assert all(utc(2024, 1, 1) <= e and s < utc(2025, 1, 1) for s, e in result.intervals)


def test_not_a_calendar_at_all() -> None:
    for garbage in (
        b"",
        b"<html>Sign in</html>",
        b"BEGIN:VCARD\r\nEND:VCARD\r\n",
        bytes(range(256)),
    ):
        with pytest.raises(CalendarFileError):
            busy_from_ics(garbage, utc(2024, 1, 1), utc(2025, 1, 1), PARIS)


def test_zone_names_are_mapped_with_the_cldr_table() -> None:
    assert str(zone_for_tzid("W. Europe Standard Time")) == "Europe/Berlin"
    assert str(zone_for_tzid("(UTC-05:00) Eastern Time (US & Canada)")) == "America/New_York"
    assert str(zone_for_tzid("(UTC-08:00) Pacific Time (US & Canada)")) == "America/Los_Angeles"
    assert str(zone_for_tzid("(GMT+10:00) Canberra, Melbourne, Sydney")) == "Australia/Canberra"
    assert (
        str(zone_for_tzid("(UTC+05:30) Nowhere, Kolkata")) == "Asia/Kolkata"
    )  # the first known city
    assert zone_for_tzid("Nowhere Standard Time") is None


def test_this_and_future_override_and_rdate() -> None:
    # A daily 09:00 series moved to 15:00 from the 4th on (RANGE=THISANDFUTURE), with an
    # extra date added by RDATE and one removed by EXDATE.
    data = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:series\r
DTSTAMP:20260101T000000Z\r
DTSTART;TZID=Europe/Paris:20260302T090000\r
DTEND;TZID=Europe/Paris:20260302T100000\r
RRULE:FREQ=DAILY;COUNT=5\r
RDATE;TZID=Europe/Paris:20260310T090000\r
EXDATE;TZID=Europe/Paris:20260303T090000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:series\r
DTSTAMP:20260101T000000Z\r
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Paris:20260304T090000\r
DTSTART;TZID=Europe/Paris:20260304T150000\r
DTEND;TZID=Europe/Paris:20260304T160000\r
END:VEVENT\r
END:VCALENDAR\r
"""
    assert busy("", utc(2026, 3, 1), utc(2026, 4, 1), data=data) == [
        ("2026-03-02 08:00", "2026-03-02 09:00"),
        ("2026-03-04 14:00", "2026-03-04 15:00"),
        ("2026-03-05 14:00", "2026-03-05 15:00"),
        ("2026-03-06 14:00", "2026-03-06 15:00"),
        ("2026-03-10 14:00", "2026-03-10 15:00"),
    ]
