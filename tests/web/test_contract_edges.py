"""Edges of the HTTP contract: instants in a requested zone, dates as list filters, and
dates at the ends of the calendar answered with a 4xx, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def test_instants_come_in_utc_unless_a_zone_is_asked_for(ada: Page) -> None:
    monday = next_monday()
    booked = ada.book(at(monday, 10)).json()
    headers = ada.account.headers
    plain = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=headers).json()
    assert plain["start"].endswith("Z")
    tokyo = ada.client.get(
        f"/api/v1/bookings/{booked['id']}", params={"tz": "Asia/Tokyo"}, headers=headers
    ).json()
    # 10:00 in Paris (UTC+1 in winter) is 18:00 in Tokyo; the same instant.
    assert tokyo["start"] == f"{monday}T18:00:00+09:00"
    assert tokyo["end"] == f"{monday}T18:30:00+09:00"
    assert tokyo["created_at"].endswith("+09:00") and tokyo["cancelled_at"] is None
    listed = ada.client.get("/api/v1/bookings", params={"tz": "Asia/Tokyo"}, headers=headers)
    assert [b["start"] for b in listed.json()["items"]] == [tokyo["start"]]
    public = ada.client.get(
        f"/api/v1/public/bookings/{booked['manage_token']}", params={"tz": "America/New_York"}
    ).json()
    assert public["start"] == f"{monday}T04:00:00-05:00"
    ada.client.post(
        "/api/v1/me/busy",
        json={"start": at(monday, 14), "end": at(monday, 15), "title": "Dentist"},
        headers=headers,
    )
    busy = ada.client.get("/api/v1/me/busy", params={"tz": "Europe/Paris"}, headers=headers)
    assert [(b["start"], b["end"]) for b in busy.json()["items"]] == [
        (at(monday, 14), at(monday, 15))
    ]
    for path in ("/api/v1/bookings", f"/api/v1/bookings/{booked['id']}", "/api/v1/me/busy"):
        bad = ada.client.get(path, params={"tz": "Mars/Olympus"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "tz"


def test_bookings_filter_by_dates_in_the_organizers_zone_or_by_instants(ada: Page) -> None:
    monday = next_monday()
    tuesday = monday + timedelta(days=1)
    ada.book(at(monday, 16, 30))
    ada.book(at(tuesday, 9), email="second@example.com")
    headers = ada.account.headers

    def starts(**params: str) -> list[str]:
        answer = ada.client.get("/api/v1/bookings", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [b["start"] for b in answer.json()["items"]]

    day = monday.isoformat()
    assert starts(start=day, end=day) == [f"{day}T15:30:00Z"]
    assert len(starts(start=day, end=tuesday.isoformat())) == 2
    assert starts(start=tuesday.isoformat()) == [f"{tuesday}T08:00:00Z"]
    # In Tokyo, Monday 16:30 Paris is already Tuesday 00:30: the dates follow tz.
    assert len(starts(start=tuesday.isoformat(), end=tuesday.isoformat(), tz="Asia/Tokyo")) == 2
    assert starts(start=f"{tuesday}T07:00:00Z", end=f"{tuesday}T09:00:00Z") == [
        f"{tuesday}T08:00:00Z"
    ]
    for params in (
        {"start": tuesday.isoformat(), "end": day},
        {"start": "next week"},
        {"start": f"{day}T10:00:00"},
        {"end": "9999-12-31"},
    ):
        answer = ada.client.get("/api/v1/bookings", params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["details"][0]["field"] in ("start", "end")


@pytest.mark.parametrize(
    "window",
    [
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "9999-12-31", "tz": "Pacific/Kiritimati"},
        {"start": "0001-01-01", "tz": "Etc/GMT+12"},
    ],
)
def test_slots_at_the_ends_of_the_calendar_are_a_422(ada: Page, window: dict[str, str]) -> None:
    answer = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots", params=window
    )
    assert answer.status_code == 422
    assert "between 1970-01-01 and 2200-12-31" in answer.json()["error"]["message"]
    page = ada.client.get(
        f"/p/{ada.key}/{ada.t30}",
        params={"from": window["start"], "tz": window.get("tz", "UTC")},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 422


@pytest.mark.parametrize(
    ("start", "status"),
    [
        ("9999-12-31T23:59:59Z", 409),
        ("0001-01-01T00:00:00Z", 409),
        ("0001-01-01T00:00:00+05:00", 422),
        ("2200-01-01T09:00:00+01:00", 409),
    ],
)
def test_bookings_at_the_ends_of_the_calendar_are_refused_cleanly(
    ada: Page, start: str, status: int
) -> None:
    booked = ada.book(start)
    assert booked.status_code == status, booked.text
    if status == 409:
        assert booked.json()["error"]["code"] == "slot_unavailable"
    good = ada.book(at(next_monday(), 10)).json()
    moved = ada.client.post(
        f"/api/v1/public/bookings/{good['manage_token']}/reschedule", json={"start": start}
    )
    assert moved.status_code == status
    assert (
        ada.client.get(f"/api/v1/bookings/{good['id']}", headers=ada.account.headers).json()[
            "start"
        ]
        == good["start"]
    )


def test_busy_blocks_stay_within_the_years_bookwithme_plans_for(ada: Page) -> None:
    for start, end in (
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
    ):
        answer = ada.client.post(
            "/api/v1/me/busy", json={"start": start, "end": end}, headers=ada.account.headers
        )
        assert answer.status_code == 422
        assert "between 1970 and 2200" in answer.json()["error"]["message"]
    assert ada.client.get("/api/v1/me/busy", headers=ada.account.headers).json()["items"] == []
