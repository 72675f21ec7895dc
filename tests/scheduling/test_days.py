"""The month calendar's days (``…/days``): exactly the local dates that the slots endpoint
offers times on, with as many slots, in the invitee's zone."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import create_account
from tests.scheduling.test_public_slots import Organizer, next_monday


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def slot_days(client: TestClient, path: str, month: date, tz: str) -> dict[str, int]:
    last = month_after(month) - timedelta(days=1)
    response = client.get(
        path + "/slots", params={"start": month.isoformat(), "end": last.isoformat(), "tz": tz}
    )
    assert response.status_code == 200, response.text
    return dict(Counter(s["start"][:10] for s in response.json()["slots"]))


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Pacific/Kiritimati"])
def test_the_days_are_the_dates_the_slots_fall_on(ada: Organizer, tz: str) -> None:
    monday = next_monday()
    # A busy morning and a whole busy day make two dates differ from the others.
    paris = ZoneInfo("Europe/Paris")
    for start, end in (
        (datetime.combine(monday, datetime.min.time(), paris).replace(hour=9), 3),
        (datetime.combine(monday + timedelta(days=1), datetime.min.time(), paris), 24),
    ):
        created = ada.client.post(
            "/api/v1/me/busy",
            json={"start": start.isoformat(), "end": (start + timedelta(hours=end)).isoformat()},
            headers=ada.account.headers,
        )
        assert created.status_code == 201, created.text
    path = f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}"
    for month in (monday.replace(day=1), month_after(monday)):
        answer = ada.client.get(path + "/days", params={"month": f"{month:%Y-%m}", "tz": tz})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["time_zone"] == tz and body["month"] == f"{month:%Y-%m}"
        days = {d["date"]: d["slots"] for d in body["days"]}
        assert days == slot_days(ada.client, path, month, tz)
        assert all(d.startswith(f"{month:%Y-%m}") for d in days)
    this_month = ada.client.get(path + "/days", params={"month": f"{monday:%Y-%m}", "tz": tz})
    days = {d["date"]: d["slots"] for d in this_month.json()["days"]}
    if tz == "Europe/Paris":  # 16 half-hour starts on a free day, 10 after a busy morning
        assert days.get(monday.isoformat()) == 10
        assert (monday + timedelta(days=1)).isoformat() not in days
        assert days[(monday + timedelta(days=2)).isoformat()] == 16


def test_without_a_month_it_is_this_month_in_the_organizers_zone(ada: Organizer) -> None:
    body = ada.client.get(f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/days").json()
    assert body["time_zone"] == "Europe/Paris"
    assert body["month"] == f"{datetime.now(ZoneInfo('Europe/Paris')):%Y-%m}"


def test_a_private_link_has_its_days_too(ada: Organizer) -> None:
    token = ada.client.post(
        f"/api/v1/meeting-types/{ada.t30}/private-links", headers=ada.account.headers
    ).json()["token"]
    month = month_after(next_monday())
    path = f"/api/v1/public/links/{token}"
    body = ada.client.get(path + "/days", params={"month": f"{month:%Y-%m}"}).json()
    assert {d["date"]: d["slots"] for d in body["days"]} == slot_days(
        ada.client, path, month, "Europe/Paris"
    )
    assert ada.client.get("/api/v1/public/links/nope/days").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-1"}, "month"),
        ({"month": "December"}, "month"),
        ({"month": "1800-01"}, "month"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_months_and_zones_are_a_422(ada: Organizer, params: dict[str, str], field: str) -> None:
    answer = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/days", params=params
    )
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_year_zero_is_refused_like_any_year_outside_the_plan(ada: Organizer) -> None:
    answer = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/days", params={"month": "0000-01"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["message"] == "between 1970-01-01 and 2200-12-31"
