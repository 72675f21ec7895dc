"""Calendars on addresses bookwithme does not connect to (SPEC 2.9), through the API on both
databases: connecting one is refused with 422 ``target_not_allowed`` and saves nothing, the
server is never asked, and a calendar whose address becomes refused records why without
anything its server could have said."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import targets
from bookwithme.calendars import sync
from bookwithme.calendars.caldav_source import explain, open_calendar
from bookwithme.config import Settings
from bookwithme.errors import TargetNotAllowed
from bookwithme.models import CalendarConnection, utcnow
from tests.calendars.test_calendar_sync import SECRET, ics, monday_at
from tests.factories import Account, create_account
from tests.support.local_http import LocalServer
from tests.test_targets import dns

REFUSED = TargetNotAllowed.default_message


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer(also_ipv6=True)
    local.body = ics((monday_at(10), monday_at(11))).replace(
        b"SUMMARY:Busy", b"SUMMARY:Busy\r\nX-INTERNAL-SECRET:do-not-show"
    )
    yield local
    local.stop()


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")


def connect(client: TestClient, ada: Account, kind: str, url: str) -> httpx.Response:
    body: dict[str, Any] = {"kind": kind, "url": url}
    if kind == "caldav":
        body |= {"username": "ada", "password": "a password"}
    return client.post("/api/v1/calendars", json=body, headers=ada.headers)


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CalendarConnection)) or 0


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "target_not_allowed"
    assert error["details"] == [{"field": "url", "message": REFUSED}]
    assert "non-public network" in error["message"]
    assert "BOOKWITHME_ALLOW_PRIVATE_TARGETS=true" in error["message"]


@pytest.mark.parametrize("kind", ["ics", "caldav"])
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]", "[::1]"]
)
def test_a_calendar_on_the_loopback_is_refused_and_nothing_is_saved(
    client: TestClient, ada: Account, server: LocalServer, session: Session, kind: str, host: str
) -> None:
    assert_refused(connect(client, ada, kind, f"http://{host}:{server.port}/ada/work/"))
    assert server.requests == []  # never asked
    assert stored(session) == 0
    assert client.get("/api/v1/calendars", headers=ada.headers).json()["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8:8080/calendar.ics",
        "https://192.168.1.10/remote.php/dav/calendars/ada/personal/",
        "http://[fe80::1]/calendar.ics",
    ],
)
def test_private_and_link_local_calendars_are_refused(
    client: TestClient, ada: Account, session: Session, url: str
) -> None:
    started = time.monotonic()
    assert_refused(connect(client, ada, "ics", url))
    assert time.monotonic() - started < 5  # refused, not tried
    assert stored(session) == 0


@pytest.mark.parametrize("kind", ["ics", "caldav"])
def test_a_name_that_answers_the_loopback_when_read_is_refused(
    client: TestClient,
    ada: Account,
    server: LocalServer,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """DNS rebinding at connect: public when the address is checked, the loopback when the
    calendar is read a moment later. The read connects nowhere, and the answer is the same."""
    monkeypatch.setattr(targets, "getaddrinfo", dns("93.184.216.34", "127.0.0.1"))
    assert_refused(connect(client, ada, kind, f"http://calendar.example.com:{server.port}/c/"))
    assert server.requests == []
    assert stored(session) == 0


@pytest.mark.private_targets
def test_with_the_setting_on_a_local_calendar_is_connected(
    client: TestClient, ada: Account, server: LocalServer
) -> None:
    response = connect(client, ada, "ics", f"http://127.0.0.1:{server.port}/calendar.ics")
    assert response.status_code == 201, response.text
    assert response.json()["busy_count"] == 1 and server.requests == ["/calendar.ics"]


@pytest.mark.private_targets
def test_a_sync_that_meets_a_refused_address_says_why_and_nothing_it_was_sent(
    client: TestClient,
    ada: Account,
    server: LocalServer,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    """Connected while the server allowed it; then the administrator turns the setting off.
    Reading now and the background sync both record the refusal, keep the last good copy,
    and ask the calendar server nothing."""
    calendar = connect(client, ada, "ics", server.url + "calendar.ics").json()
    assert calendar["busy_count"] == 1 and len(server.requests) == 1
    settings.allow_private_targets = False  # the app reads it on each request

    read = client.post(f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.headers)
    assert read.status_code == 200, read.text
    assert read.json()["last_error"] == REFUSED and read.json()["busy_count"] == 1

    with session_factory() as session:
        session.get_one(CalendarConnection, uuid.UUID(calendar["id"])).last_error = None
        session.commit()
    sync.sync_one(session_factory, uuid.UUID(calendar["id"]), utcnow(), SECRET)
    with session_factory() as session:
        last_error = session.get_one(CalendarConnection, uuid.UUID(calendar["id"])).last_error
    assert last_error == REFUSED
    assert "do-not-show" not in last_error and "VCALENDAR" not in last_error
    assert len(server.requests) == 1  # only the read at connect


def test_writing_back_to_a_refused_address_sends_nothing(server: LocalServer) -> None:
    connection = CalendarConnection(
        kind="caldav", url=server.url + "ada/work/", username="ada", write_back=True
    )
    calendar = open_calendar(connection, SECRET)
    with pytest.raises(Exception) as failed:
        calendar.save_event(ics((monday_at(10), monday_at(11))).decode())
    assert str(explain(failed.value)) == REFUSED
    assert server.requests == []

    allowed = open_calendar(connection, SECRET, allow_private=True)
    with contextlib.suppress(Exception):  # whatever a server that is not CalDAV leads to
        allowed.save_event(ics((monday_at(10), monday_at(11))).decode())
    assert server.requests  # it was asked: only the setting stopped it above
