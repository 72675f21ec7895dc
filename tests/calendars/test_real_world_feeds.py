"""Calendars as real exporters write them, through the API on both databases: one broken
event loses only itself, free/busy feeds are busy time, an address that is not a calendar
is refused at connect, what a calendar blocks can be listed, and a slow feed is cut off
at one deadline without holding anyone else up."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars import sync
from bookwithme.calendars.base import ReadContext
from bookwithme.models import CalendarBusyInterval, CalendarConnection, utcnow
from tests.calendars.test_calendar_sync import Feed, ics
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, next_monday
from tests.support.aio import run

# The calendar servers here run on 127.0.0.1.
pytestmark = pytest.mark.private_targets

PARIS = ZoneInfo("Europe/Paris")
MONDAY = next_monday()
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)


def d(day: date) -> str:
    return f"{day:%Y%m%d}"


def z(day: date, hour: int, minute: int = 0) -> str:
    """That wall-clock time in Paris, written in UTC as free/busy feeds write periods."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
    return f"{local.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"


# Every feed below has this good event (Monday 09:00-10:00, Paris) next to a broken one.
GOOD = f"""BEGIN:VEVENT
UID:good-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:{d(MONDAY)}T090000
DTEND;TZID=Europe/Paris:{d(MONDAY)}T100000
SUMMARY:Dentist
END:VEVENT
"""


def calendar(*components: str) -> bytes:
    body = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Contoso//Exporter//EN\n"
    body += GOOD + "".join(components) + "END:VCALENDAR\n"
    return body.replace("\n", "\r\n").encode()


def event(uid: str, *lines: str) -> str:
    return (
        "BEGIN:VEVENT\nUID:"
        + uid
        + "\nDTSTAMP:20260101T000000Z\n"
        + "\n".join(lines)
        + "\nEND:VEVENT\n"
    )


@pytest.fixture
def feed() -> Iterator[Feed]:
    server = Feed()
    yield server
    server.stop()


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def connect(ada: Organizer, feed: Feed, body: bytes) -> dict[str, Any]:
    feed.body = body
    response = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def busy(ada: Organizer, calendar_id: str, first: date, last: date) -> list[str]:
    """The calendar's busy intervals from ``first`` to ``last``, as "Mon 09:00-10:00"."""
    response = ada.client.get(
        f"/api/v1/calendars/{calendar_id}/busy",
        params={"start": first.isoformat(), "end": last.isoformat(), "tz": "Europe/Paris"},
        headers=ada.account.headers,
    )
    assert response.status_code == 200, response.text
    out = []
    for item in response.json()["items"]:
        assert set(item) == {"start", "end"}  # times only: titles are never kept
        start, end = datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])
        out.append(f"{start:%a %H:%M}-{end:%H:%M}")
    return out


def free_hours(ada: Organizer, day: date) -> list[str]:
    return [
        s[11:16] for s in ada.slots(start=day.isoformat(), end=day.isoformat(), tz="Europe/Paris")
    ]


# (broken component(s), busy intervals expected Monday to Wednesday besides the good
# event, and what last_error must say; None: nothing was lost)
CASES: dict[str, tuple[str, list[str], str | None]] = {
    "two DTSTARTs: the first counts": (
        event(
            "dup-start",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T140000",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T160000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T150000",
        ),
        ["Mon 14:00-15:00"],
        None,
    ),
    "two DTENDs": (
        event(
            "dup-end",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T140000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T150000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T170000",
        ),
        ["Mon 14:00-15:00"],
        None,
    ),
    "two DURATIONs": (
        event(
            "dup-duration",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T140000",
            "DURATION:PT1H",
            "DURATION:PT3H",
        ),
        ["Mon 14:00-15:00"],
        None,
    ),
    "an override with two RECURRENCE-IDs": (
        event(
            "series",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T120000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T123000",
            "RRULE:FREQ=DAILY;COUNT=3",
        )
        + event(
            "series",
            f"RECURRENCE-ID;TZID=Europe/Paris:{d(TUESDAY)}T120000",
            f"RECURRENCE-ID;TZID=Europe/Paris:{d(TUESDAY)}T120000",
            f"DTSTART;TZID=Europe/Paris:{d(TUESDAY)}T170000",
            f"DTEND;TZID=Europe/Paris:{d(TUESDAY)}T173000",
        ),
        ["Mon 12:00-12:30", "Tue 17:00-17:30", "Wed 12:00-12:30"],
        None,
    ),
    "no DTSTART: left out and reported": (
        event("no-start-7", f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T150000"),
        [],
        "1 event could not be read and was left out: no-start-7 (it has no start).",
    ),
    "an Outlook start that is not a date": (
        event(
            "outlook-broken",
            "DTSTART;TZID=Romance Standard Time:notadate",
            f"DTEND;TZID=Romance Standard Time:{d(MONDAY)}T150000",
        )
        + event(
            "outlook-good",
            f"DTSTART;TZID=Romance Standard Time:{d(MONDAY)}T110000",
            f"DTEND;TZID=Romance Standard Time:{d(MONDAY)}T120000",
        ),
        ["Mon 11:00-12:00"],
        "outlook-broken (its start is not a date)",
    ),
    "spaces in BYDAY, as Outlook writes them": (
        event(
            "weekly",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T130000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T140000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO, TU, WE;COUNT=3",
        ),
        ["Mon 13:00-14:00", "Tue 13:00-14:00", "Wed 13:00-14:00"],
        None,
    ),
    "one EXDATE value that is not a date": (
        event(
            "daily",
            f"DTSTART;TZID=Europe/Paris:{d(MONDAY)}T160000",
            f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T170000",
            "RRULE:FREQ=DAILY;COUNT=3",
            f"EXDATE;TZID=Europe/Paris:{d(TUESDAY)}T160000,2026-13-45",
        ),
        ["Mon 16:00-17:00", "Wed 16:00-17:00"],
        "daily (1 of its added or excluded dates cannot be read)",
    ),
    "VFREEBUSY with every FBTYPE": (
        "BEGIN:VFREEBUSY\n"
        "UID:exchange-fb\n"
        f"DTSTART:{z(MONDAY, 0)}\n"
        f"DTEND:{z(MONDAY + timedelta(days=7), 0)}\n"
        # Two periods on one line: start/end and start/duration.
        f"FREEBUSY;FBTYPE=BUSY:{z(MONDAY, 11)}/PT1H,{z(TUESDAY, 7)}/{z(TUESDAY, 7, 15)}\n"
        f"FREEBUSY;FBTYPE=FREE:{z(MONDAY, 0)}/{z(WEDNESDAY, 23)}\n"
        f"FREEBUSY;FBTYPE=BUSY-TENTATIVE:{z(WEDNESDAY, 8)}/PT20M\n"
        f"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:{z(WEDNESDAY, 12)}/PT30M\n"
        f"FREEBUSY:{z(WEDNESDAY, 18)}/PT45M\n"
        "END:VFREEBUSY\n",
        [
            "Mon 11:00-12:00",
            "Tue 07:00-07:15",
            "Wed 08:00-08:20",
            "Wed 12:00-12:30",
            "Wed 18:00-18:45",
        ],
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_broken_event_loses_only_itself(ada: Organizer, feed: Feed, case: str) -> None:
    components, expected, reported = CASES[case]
    connected = connect(ada, feed, calendar(components))
    shown = busy(ada, connected["id"], MONDAY, WEDNESDAY)
    assert shown == sorted(["Mon 09:00-10:00", *expected], key=_order)
    assert connected["busy_count"] == len(shown)
    if reported is None:
        assert connected["last_error"] is None
    else:
        assert reported in connected["last_error"]
        assert connected["last_error"].endswith("Everything else in the calendar is used.")
    # The good event still blocks its slots, and so does what was read of the broken one;
    # the hour after the good event is still offered.
    hours = free_hours(ada, MONDAY)
    assert "09:00" not in hours and "09:30" not in hours and "10:00" in hours
    for interval in expected:
        if interval.startswith("Mon") and "09:00" <= interval[4:9] <= "16:30":
            assert interval[4:9] not in hours


def _order(text: str) -> tuple[int, str]:
    return (["Mon", "Tue", "Wed"].index(text[:3]), text[4:])


def test_a_feed_with_many_broken_events_names_the_first_few(ada: Organizer, feed: Feed) -> None:
    broken = [
        event(f"broken-{n}", f"DTEND;TZID=Europe/Paris:{d(MONDAY)}T1{n}0000") for n in range(5)
    ]
    connected = connect(ada, feed, calendar(*broken))
    assert connected["busy_count"] == 1
    assert connected["last_error"] == (
        "5 events could not be read and were left out: broken-0 (it has no start), "
        "broken-1 (it has no start), broken-2 (it has no start) and 2 more. "
        "Everything else in the calendar is used."
    )


@pytest.mark.parametrize(
    ("misbehave", "reason"),
    [
        ({"status": 404, "body": b"<html>No such page</html>"}, "The calendar server answered 404"),
        ({"status": 401}, "needs a sign-in or is not shared publicly"),
        (
            {"body": b"<!DOCTYPE html><html><title>Sign in - Contoso</title></html>"},
            "The address answered a web page, not a calendar",
        ),
        ({"body": b'{"error": "nope"}'}, "The address answered JSON, not a calendar"),
        ({"body": b"BEGIN:VCARD\r\nFN:Ada\r\nEND:VCARD\r\n"}, "did not answer an iCalendar file"),
        ({"body": b""}, "The address answered with nothing"),
    ],
)
def test_an_address_that_is_not_a_calendar_is_refused_at_connect(
    ada: Organizer, feed: Feed, session: Session, misbehave: dict[str, Any], reason: str
) -> None:
    for key, value in misbehave.items():
        setattr(feed, key, value)
    response = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "calendar_unreadable"
    assert reason in error["message"] and error["details"][0]["field"] == "url"
    for echoed in ("No such page", "Contoso", "nope", "Ada"):
        assert echoed not in error["message"]  # what the server sent is never repeated
    assert session.scalar(select(func.count()).select_from(CalendarConnection)) == 0
    assert ada.client.get("/api/v1/calendars", headers=ada.account.headers).json()["items"] == []


def test_what_a_calendar_blocks_can_be_listed(ada: Organizer, feed: Feed) -> None:
    now = utcnow().astimezone(PARIS)
    soon = (now + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    later = soon + timedelta(days=10)
    connected = connect(
        ada, feed, ics((soon, soon + timedelta(hours=1)), (later, later + timedelta(hours=2)))
    )
    path = f"/api/v1/calendars/{connected['id']}/busy"
    headers = ada.account.headers

    # By default, from now over the next 7 days, in UTC.
    items = ada.client.get(path, headers=headers).json()["items"]
    assert items == [
        {
            "start": soon.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (soon + timedelta(hours=1))
            .astimezone(ZoneInfo("UTC"))
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    # Dates are whole days in the organizer's zone (or tz); instants are taken as given.
    both = ada.client.get(
        path,
        params={
            "start": soon.date().isoformat(),
            "end": later.date().isoformat(),
            "tz": "Asia/Tokyo",
        },
        headers=headers,
    ).json()["items"]
    assert [i["start"] for i in both] == [
        soon.astimezone(ZoneInfo("Asia/Tokyo")).isoformat(),
        later.astimezone(ZoneInfo("Asia/Tokyo")).isoformat(),
    ]
    from_instant = ada.client.get(
        path, params={"start": (later - timedelta(minutes=1)).isoformat()}, headers=headers
    ).json()["items"]
    assert len(from_instant) == 1 and from_instant[0]["end"].endswith("Z")

    for params, field in (
        ({"start": "tomorrow"}, "start"),
        ({"start": "2026-12-10", "end": "2026-12-01"}, "end"),
        ({"start": "2026-01-01", "end": "2027-06-01"}, "end"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ):
        refused = ada.client.get(path, params=params, headers=headers)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["details"][0]["field"] == field


def test_a_slow_feed_is_cut_off_at_one_deadline(
    ada: Organizer, feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected = connect(ada, feed, calendar())
    monkeypatch.setattr(sync, "READ_DEADLINE", 1.0)
    # Each byte comes well within any single wait, but the whole would take a minute.
    feed.trickle, feed.body = 0.2, calendar() * 20
    read = ada.client.post(
        f"/api/v1/calendars/{connected['id']}/sync", headers=ada.account.headers
    ).json()
    assert read["last_error"] == (
        "The calendar server did not send the whole calendar within 1 second."
    )
    assert read["busy_count"] == 1  # the last good copy stays


def test_slow_feeds_hold_up_nobody_else(
    app: FastAPI,
    ada: Organizer,
    feed: Feed,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forty "read now" clicks on a feed that trickles (which once kept every thread busy
    for two minutes): one read of Ada's calendars at a time, the others told to try again;
    meanwhile everyone else's requests are answered."""
    connected = connect(ada, feed, calendar())
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    monkeypatch.setattr(sync, "READ_DEADLINE", 1.5)
    feed.trickle, feed.body = 0.1, calendar() * 20
    before = len(feed.requests)

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response], bool]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            reads = [
                asyncio.create_task(
                    c.post(f"/api/v1/calendars/{connected['id']}/sync", headers=ada.account.headers)
                )
                for _ in range(40)
            ]
            while len(feed.requests) == before:  # the first read is under way
                await asyncio.sleep(0.01)
            others = await asyncio.gather(
                *(c.get("/api/v1/me", headers=bob.headers) for _ in range(40))
            )
            still_reading = feed.active > 0
            return list(await asyncio.gather(*reads)), others, still_reading

    reads, others, still_reading = run(scenario())
    assert still_reading  # everyone else was answered while Ada's feed was still being read
    assert [r.status_code for r in others] == [200] * 40
    assert {r.json()["email"] for r in others} == {"bob@example.com"}
    done = [r for r in reads if r.status_code == 200]
    refused = [r for r in reads if r.status_code == 503]
    # One read of Ada's calendars at a time: the clicks that could not get a turn within
    # a few seconds were told to try again, without asking her calendar server.
    assert len(done) + len(refused) == 40 and done and refused
    assert len(feed.requests) - before == len(done)
    assert all("within 2 seconds" in r.json()["last_error"] for r in done)
    assert all(r.json()["error"]["code"] == "busy" and r.headers["retry-after"] for r in refused)


def test_busy_time_is_stored_for_the_calendar_that_gave_it(
    ada: Organizer, feed: Feed, session: Session
) -> None:
    connected = connect(ada, feed, calendar())
    rows = session.execute(
        select(CalendarBusyInterval.connection_id, CalendarBusyInterval.start_at)
    ).all()
    assert [(str(c), s.astimezone(PARIS).hour) for c, s in rows] == [(connected["id"], 9)]


def test_a_source_that_ignores_the_deadline_is_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source library without an overall timeout (CalDAV's) cannot hold its caller past
    the deadline: the read is given up and said so."""
    released = threading.Event()

    class Stuck:
        def busy(self, *args: Any) -> Any:
            released.wait(30)
            raise AssertionError("never reached: the caller gave up")

    monkeypatch.setitem(sync.SOURCES, "stuck", Stuck())
    monkeypatch.setattr(sync, "READ_DEADLINE", 0.2)
    monkeypatch.setattr(sync, "GRACE", 0.1)
    connection = CalendarConnection(kind="stuck", url="https://example.com/", last_success_at=None)
    outcome = sync.read_source(
        connection, ReadContext(zone="Europe/Paris", secret_key="k"), utcnow()
    )
    released.set()
    assert outcome.result is None
    assert outcome.error == "The calendar did not finish answering within 1 second."
