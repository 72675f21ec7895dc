"""ICS feeds end to end: connect, sync (now and by the worker), and what happens when the
feed is slow, broken, garbage or huge: a clear error, no crash, slots from the last good copy."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars import sync
from bookwithme.calendars.connections import CalendarCreate
from bookwithme.config import Settings
from bookwithme.models import CalendarBusyInterval, CalendarConnection, utcnow
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, next_monday
from tests.support.jobs import run_due

# The calendar servers here run on 127.0.0.1.
pytestmark = pytest.mark.private_targets

PARIS = ZoneInfo("Europe/Paris")
SECRET = "test-secret-key-" + "x" * 32  # the settings fixture's


class Feed:
    """A tiny web server that plays a calendar feed, and can misbehave on request."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.delay = 0.0
        self.etag: str | None = None
        self.huge = False
        self.trickle = 0.0  # seconds between single bytes of the body, when set
        self.requests: list[dict[str, str]] = []
        self.active = 0  # requests being answered now
        self.lock = threading.Lock()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with feed.lock:
                    feed.active += 1
                try:
                    self.answer()
                finally:
                    with feed.lock:
                        feed.active -= 1

            def answer(self) -> None:
                feed.requests.append(dict(self.headers))
                time.sleep(feed.delay)
                if feed.etag and self.headers.get("If-None-Match") == feed.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(feed.status)
                self.send_header("Content-Type", "text/calendar")
                if feed.etag:
                    self.send_header("ETag", feed.etag)
                self.end_headers()
                try:
                    if feed.huge:  # 50 MB, without saying so up front
                        for _ in range(50):
                            self.wfile.write(b"X" * (1024 * 1024))
                    elif feed.trickle:  # a byte now and then: never silent for long
                        for byte in feed.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(feed.trickle)
                    else:
                        self.wfile.write(feed.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/calendar.ics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed() -> Iterator[Feed]:
    server = Feed()
    yield server
    server.stop()


def ics(*events: tuple[datetime, datetime]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for i, (start, end) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:event-{i}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Paris:{end:%Y%m%dT%H%M%S}",
            "SUMMARY:Busy",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def monday_at(hour: int) -> datetime:
    day = next_monday()
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def hours(ada: Organizer) -> list[str]:
    day = next_monday().isoformat()
    return [s[11:16] for s in ada.slots(start=day, end=day, tz="Europe/Paris")]


def test_connect_sync_and_the_slots_follow_the_feed(
    ada: Organizer, feed: Feed, session: Session
) -> None:
    feed.body = ics((monday_at(10), monday_at(11)))
    feed.etag = '"v1"'
    created = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    )
    assert created.status_code == 201
    calendar = created.json()
    # Read once at connect: its busy time counts at once.
    assert (
        calendar["busy_count"] == 1
        and calendar["last_error"] is None
        and calendar["last_synced_at"].endswith("Z")
        and calendar["write_back"] is False
    )
    assert (
        "10:00" not in hours(ada)
        and "10:30" not in hours(ada)
        and "11:00" in hours(ada)
        and "09:30" in hours(ada)
    )

    feed.body = ics((monday_at(10), monday_at(11)), (monday_at(14), monday_at(15)))
    feed.etag = '"v2"'
    synced = ada.client.post(
        f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers
    ).json()
    assert synced["busy_count"] == 2 and synced["last_error"] is None
    assert "14:00" not in hours(ada) and "13:30" in hours(ada)

    # Unchanged feed: a conditional request, and the copy stays.
    again = ada.client.post(
        f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers
    ).json()
    assert feed.requests[-1].get("If-None-Match") == '"v2"' and again["busy_count"] == 2

    listed = ada.client.get("/api/v1/calendars", headers=ada.account.headers).json()["items"]
    assert [c["id"] for c in listed] == [calendar["id"]] and "password" not in listed[0]
    assert (
        ada.client.delete(
            f"/api/v1/calendars/{calendar['id']}", headers=ada.account.headers
        ).status_code
        == 204
    )
    assert "10:00" in hours(ada)
    assert session.scalar(select(func.count()).select_from(CalendarBusyInterval)) == 0


@pytest.mark.parametrize(
    ("misbehave", "message"),
    [
        ({"status": 500}, "The calendar server answered 500"),
        ({"status": 404}, "The calendar server answered 404"),
        ({"body": b"<html>Please sign in</html>"}, "The address answered a web page"),
        ({"huge": True}, "The feed is larger than 10 MB"),
        ({"delay": 2.0}, "did not send the whole calendar within"),
    ],
)
def test_a_broken_feed_keeps_the_last_good_copy(
    ada: Organizer,
    feed: Feed,
    misbehave: dict[str, Any],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sync, "READ_DEADLINE", 1.0)
    feed.body = ics((monday_at(10), monday_at(11)))
    calendar = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    ).json()
    good = hours(ada)
    assert "10:00" not in good

    for key, value in misbehave.items():
        setattr(feed, key, value)
    failed = ada.client.post(
        f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers
    )
    assert failed.status_code == 200
    assert message in failed.json()["last_error"]
    assert "sign in" not in failed.json()["last_error"]  # what the server sent is not repeated
    assert failed.json()["busy_count"] == 1
    assert hours(ada) == good  # still the last good copy


def test_the_worker_syncs_what_is_due(
    ada: Organizer, feed: Feed, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    feed.body = ics((monday_at(9), monday_at(12)))
    ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    )
    assert "09:00" not in hours(ada) and "12:00" in hours(ada)  # read at connect
    sync = ["calendar.sync"]
    assert run_due(session_factory, settings, sync) == []  # not due again for a while
    feed.body = ics((monday_at(9), monday_at(10)))
    later = utcnow() + timedelta(minutes=16)
    assert run_due(session_factory, settings, sync, now=later) == ["done"]
    assert "10:00" in hours(ada) and "09:00" not in hours(ada)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"kind": "ics", "name": "Work", "url": "ftp://example.com/cal.ics"},
            "http:// or https://",
        ),
        ({"kind": "ics", "name": "Work", "url": "notaurl"}, "at least 8"),
        ({"kind": "ics", "name": "", "url": "https://example.com/cal.ics"}, "at least 1"),
        (
            {"kind": "google", "name": "Work", "url": "https://example.com/cal.ics"},
            "'ics' or 'caldav'",
        ),
        (
            {"kind": "ics", "name": "Work", "url": "https://example.com/cal.ics", "password": "x"},
            "read-only",
        ),
        (
            {"kind": "ics", "name": "Work", "url": "https://example.com/" + "x" * 2000},
            "at most 2000",
        ),
    ],
)
def test_bad_calendars_are_refused(
    ada: Organizer, session: Session, body: dict[str, Any], message: str
) -> None:
    response = ada.client.post("/api/v1/calendars", json=body, headers=ada.account.headers)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]
    assert ada.client.get("/api/v1/calendars", headers=ada.account.headers).json()["items"] == []


def test_a_calendar_added_without_a_name_is_called_after_its_server(
    ada: Organizer, feed: Feed
) -> None:
    feed.body = ics()
    created = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "url": feed.url.replace("127.0.0.1", "localhost")},
        headers=ada.account.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "localhost"
    assert set(created.json()) == {
        "id",
        "kind",
        "name",
        "url",
        "write_back",
        "last_synced_at",
        "last_error",
        "busy_count",
    }


def test_webcal_addresses_are_read_over_https() -> None:
    data = CalendarCreate(kind="ics", url="webcal://p01-calendars.icloud.com/published/2/abc")
    assert data.url == "https://p01-calendars.icloud.com/published/2/abc"


def test_other_organizers_calendars_are_not_found(
    ada: Organizer, feed: Feed, session_factory: sessionmaker[Session]
) -> None:
    feed.body = ics()
    created = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    ).json()
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    for method, path in (
        ("DELETE", f"/api/v1/calendars/{created['id']}"),
        ("POST", f"/api/v1/calendars/{created['id']}/sync"),
        ("GET", f"/api/v1/calendars/{created['id']}/busy"),
    ):
        assert ada.client.request(method, path, headers=bob.headers).status_code == 404
    assert (
        ada.client.post("/api/v1/calendars/nope/sync", headers=ada.account.headers).status_code
        == 404
    )
    assert ada.client.post(f"/api/v1/calendars/{created['id']}/sync").status_code == 401
    assert len(feed.requests) == 1  # none of them read the calendar


def test_the_organizer_sees_why_no_time_is_offered(
    ada: Organizer, feed: Feed, session_factory: sessionmaker[Session]
) -> None:
    from tests.factories import sign_in

    feed.body = ics()
    calendar = ada.client.post(
        "/api/v1/calendars",
        json={"kind": "ics", "name": "Work", "url": feed.url},
        headers=ada.account.headers,
    ).json()
    # Connected before calendars were read at connect, and never read since.
    with session_factory.begin() as session:
        session.execute(
            update(CalendarConnection)
            .where(CalendarConnection.id == uuid.UUID(calendar["id"]))
            .values(last_success_at=None)
        )
    feed.status = 500
    ada.client.post(f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers)
    assert hours(ada) == []
    sign_in(ada.client, "ada@example.com")
    page = ada.client.get("/", headers={"accept": "text/html"}).text
    assert "No times are offered until “Work” has been read once." in page
    assert "The calendar server answered 500" in page


@pytest.mark.parametrize(
    "url", ["http://[", "http://:80/x.ics", "https://host:0/feed", "https://host:99999/feed"]
)
def test_addresses_no_request_can_go_to_are_refused(ada: Organizer, url: str) -> None:
    response = ada.client.post(
        "/api/v1/calendars", json={"kind": "ics", "url": url}, headers=ada.account.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "url"
