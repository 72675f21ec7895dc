"""CalDAV against a real server (Radicale): busy time, bad credentials, a missing calendar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import caldav
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import CalendarConnection
from tests.calendars.test_calendar_sync import hours, ics, monday_at
from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer
from tests.support import radicale_server

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


def connect(
    ada: Organizer,
    radicale: radicale_server.Radicale,
    password: str | None = None,
    path: str = "/ada/work/",
) -> dict[str, Any]:
    response = ada.client.post(
        "/api/v1/calendars",
        json={
            "kind": "caldav",
            "name": "Radicale",
            "url": radicale.url + path,
            "username": radicale.username,
            "password": password or radicale.password,
        },
        headers=ada.account.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


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
    calendar = connect(ada, radicale, password, path)
    synced = ada.client.post(
        f"/api/v1/calendars/{calendar['id']}/sync", headers=ada.account.headers
    ).json()
    assert message in (synced["last_error"] or ""), synced
    assert hours(ada) == []  # never read: nothing is offered
