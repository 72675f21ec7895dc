"""CalDAV against a real server (Radicale): busy time, bad credentials, a missing calendar."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import caldav
import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.models import Booking, BookingCalendarEvent, CalendarConnection
from tests.bookings.test_booking_api import at
from tests.calendars.test_calendar_sync import hours, ics, monday_at
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, next_monday
from tests.support import radicale_server
from tests.support.jobs import run_due

# The calendar servers here run on 127.0.0.1.
pytestmark = pytest.mark.private_targets

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[radicale_server.Radicale]:
    server = radicale_server.start(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def work_calendar(radicale: radicale_server.Radicale) -> Any:
    client = caldav.DAVClient(
        url=radicale.url, username=radicale.username, password=radicale.password
    )
    return client.principal().make_calendar(name="Work", cal_id="work")


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def post_calendar(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    password: str | None = None,
    path: str = "/ada/work/",
    *,
    write_back: bool = False,
) -> httpx.Response:
    return ada.client.post(
        "/api/v1/calendars",
        json={
            "kind": "caldav",
            "name": "Radicale",
            "url": radicale.url + path,
            "username": radicale.username,
            "password": password or radicale.password,
            "write_back": write_back,
        },
        headers=ada.account.headers,
    )


def connect(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    password: str | None = None,
    path: str = "/ada/work/",
) -> dict[str, Any]:
    response = post_calendar(ada, radicale, password, path)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_busy_time_from_a_caldav_calendar(
    ada: Organizer, radicale: radicale_server.Radicale, work_calendar: Any, session: Session
) -> None:
    work_calendar.save_event(ics((monday_at(10), monday_at(11))).decode())
    recurring = (
        ics((monday_at(14), monday_at(15)))
        .decode()
        .replace("SUMMARY:Busy", "SUMMARY:Weekly\r\nRRULE:FREQ=WEEKLY;COUNT=3")
        .replace("UID:event-0", "UID:weekly")
    )
    work_calendar.save_event(recurring)
    calendar = connect(ada, radicale)
    assert "password" not in calendar and calendar["kind"] == "caldav"
    assert calendar["busy_count"] == 4  # read once at connect
    stored = session.scalars(select(CalendarConnection)).one()
    assert stored.password_encrypted and radicale.password not in stored.password_encrypted

    synced = ada.client.post(
        f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers
    ).json()
    assert (
        synced["last_error"] is None and synced["busy_count"] == 4
    )  # one, and a weekly series of three
    free = hours(ada)
    assert "10:00" not in free and "10:30" not in free and "14:00" not in free and "11:00" in free


@pytest.mark.parametrize(
    ("password", "path", "message"),
    [
        ("wrong password", "/ada/work/", "refused the username or password"),
        (None, "/ada/nothing-here/", "no calendar at this address"),
    ],
)
def test_caldav_problems_are_explained(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    work_calendar: Any,
    password: str | None,
    path: str,
    message: str,
) -> None:
    # Read once at connect: refused with the reason, and nothing is saved.
    response = post_calendar(ada, radicale, password, path)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "calendar_unreadable" and message in error["details"][0]["message"]
    assert ada.client.get("/api/v1/calendars", headers=ada.account.headers).json()["items"] == []


def test_bookings_are_written_back_moved_and_removed(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    work_calendar: Any,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    calendar = post_calendar(ada, radicale, write_back=True).json()
    assert calendar["write_back"] is True
    ada.client.post(f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers)
    monday = next_monday()
    booked = ada.client.post(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/bookings",
        json={
            "start": at(monday, 10),
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "time_zone": "UTC",
        },
    ).json()

    def events() -> list[Any]:
        return [Calendar.from_ical(e.data).walk("VEVENT")[0] for e in work_calendar.events()]

    assert run_due(session_factory, settings, ["calendar.write_back"]).count("done") == 1
    [event] = events()
    with session_factory() as session:
        assert str(event["UID"]) == session.get_one(Booking, uuid.UUID(booked["id"])).ical_uid
    assert str(event["SUMMARY"]) == "30 minute meeting with Grace Hopper"
    assert event.decoded("DTSTART") == datetime.fromisoformat(at(monday, 10))
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    assert (
        run_due(session_factory, settings, ["calendar.write_back"]).count("done") == 0
    )  # nothing more to do

    # Its own copy in the calendar does not count as busy time a second time.
    ada.client.post(f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers)
    manage = f"/api/v1/public/bookings/{booked['manage_token']}"
    own = ada.client.get(
        f"{manage}/slots",
        params={"start": monday.isoformat(), "end": monday.isoformat(), "tz": "Europe/Paris"},
    ).json()
    assert at(monday, 10) in [s["start"] for s in own["slots"]]

    ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 11)})
    assert run_due(session_factory, settings, ["calendar.write_back"]).count("done") == 1
    [moved] = events()
    assert (
        moved.decoded("DTSTART") == datetime.fromisoformat(at(monday, 11))
        and int(moved["SEQUENCE"]) == 1
    )

    ada.client.post(f"{manage}/cancel")
    assert run_due(session_factory, settings, ["calendar.write_back"]).count("done") == 1
    assert events() == []


def test_two_workers_never_write_one_booking_twice(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    work_calendar: Any,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Several workers at once (several processes on PostgreSQL): the calendar's write-back
    job is taken by one of them, so each booking becomes exactly one event."""
    post_calendar(ada, radicale, write_back=True)
    monday = next_monday()
    for hour in (9, 11, 14):
        booked = ada.client.post(
            f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/bookings",
            json={
                "start": at(monday, hour),
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "time_zone": "UTC",
            },
        )
        assert booked.status_code == 201
    ran: dict[str, list[str | None]] = {}
    start = threading.Barrier(3)

    def worker(name: str) -> None:
        start.wait()
        ran[name] = run_due(session_factory, settings, ["calendar.write_back"], worker=name)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for statuses in ran.values() for status in statuses) == ["done"]
    uids = [
        str(Calendar.from_ical(e.data).walk("VEVENT")[0]["UID"]) for e in work_calendar.events()
    ]
    assert len(uids) == 3 and len(set(uids)) == 3
    with session_factory() as session:
        assert len(session.scalars(select(BookingCalendarEvent)).all()) == 3
