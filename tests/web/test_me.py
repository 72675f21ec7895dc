"""/api/v1/me and /api/v1/me/availability: reads, updates, and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account, csrf_token, sign_in


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")


def test_me_describes_the_organizer(client: TestClient, ada: Account) -> None:
    me = client.get("/api/v1/me", headers=ada.headers).json()
    assert me == {
        "id": str(ada.user.id),
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "time_zone": "Europe/Paris",
        "locale": "en",
        "add_online_meeting": False,
        "is_admin": False,
        "personal_bookings": {"enabled": True, "reasons": []},
    }


def test_patch_me_changes_only_what_is_sent(client: TestClient, ada: Account) -> None:
    response = client.patch(
        "/api/v1/me",
        json={"name": "  Augusta Ada King  ", "time_zone": "America/New_York", "locale": "fr"},
        headers=ada.headers,
    )
    assert response.status_code == 200
    me = client.get("/api/v1/me", headers=ada.headers).json()
    assert (me["name"], me["time_zone"], me["locale"]) == (
        "Augusta Ada King",
        "America/New_York",
        "fr",
    )
    assert me["email"] == "ada@example.com" and me["add_online_meeting"] is False
    client.patch("/api/v1/me", json={"add_online_meeting": True}, headers=ada.headers)
    assert client.get("/api/v1/me", headers=ada.headers).json()["add_online_meeting"] is True


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "not a known IANA time zone"),
        ({"time_zone": ""}, "time_zone", "at least 1"),
        ({"locale": "de"}, "locale", "'en' or 'fr'"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": "   "}, "name", "at least 1"),
        ({"name": None}, "", "name cannot be null"),
        ({"name": "line\nbreak"}, "name", "single line"),
        ({"name": "bell\x07"}, "name", "control characters"),
        ({"name": "nul\x00byte"}, "name", "contains a NUL character"),  # refused at the edge
        ({"name": 42}, "name", "valid string"),
        ({"email": "ada@"}, "email", "not a valid email"),
        ({"add_online_meeting": "maybe"}, "add_online_meeting", "valid boolean"),
        ({"is_admin": True}, "is_admin", "Extra inputs are not permitted"),
    ],
)
def test_patch_me_refuses_bad_input_and_changes_nothing(
    client: TestClient, ada: Account, body: dict[str, Any], field: str, message: str
) -> None:
    before = client.get("/api/v1/me", headers=ada.headers).json()
    response = client.patch("/api/v1/me", json=body, headers=ada.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"] == field and message in d["message"] for d in error["details"]), error
    assert message in error["message"]
    assert client.get("/api/v1/me", headers=ada.headers).json() == before


def test_patch_me_email_must_be_free(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "bob@example.com", name="Bob")
    response = client.patch("/api/v1/me", json={"email": "BOB@example.com"}, headers=ada.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    ok = client.patch("/api/v1/me", json={"email": "Ada.King@Example.com"}, headers=ada.headers)
    assert ok.json()["email"] == "ada.king@example.com"


def test_malformed_json_is_a_422(client: TestClient, ada: Account) -> None:
    for raw in (b"{not json", b"", b"[1, 2]", b'"text"'):
        response = client.patch(
            "/api/v1/me", content=raw, headers={**ada.headers, "content-type": "application/json"}
        )
        assert response.status_code == 422, raw
        assert response.json()["error"]["code"] == "validation_error"
    assert (
        "not valid JSON"
        in client.patch(
            "/api/v1/me",
            content=b"{oops",
            headers={**ada.headers, "content-type": "application/json"},
        ).json()["error"]["message"]
    )


def test_unsafe_requests_with_the_session_cookie_need_the_csrf_token(
    client: TestClient, ada: Account
) -> None:
    sign_in(client, "ada@example.com")
    token = csrf_token(client)
    for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": token + "x"}):
        response = client.patch("/api/v1/me", json={"name": "Mallory"}, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/me").json()["name"] == "Ada Lovelace"
    response = client.patch("/api/v1/me", json={"name": "Ada K"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json()["name"] == "Ada K"


SCHEDULE = {
    "time_zone": "Europe/Paris",
    "weekly": {
        "mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
        "tue": [],
        "wed": [{"start": "00:00", "end": "24:00"}],
        "thu": [],
        "fri": [{"start": "14:00", "end": "18:30"}],
        "sat": [],
        "sun": [],
    },
    "overrides": [
        {"date": "2026-12-27", "intervals": [{"start": "10:00", "end": "12:00"}]},
        {"date": "2026-12-24", "intervals": []},
    ],
    "date_range": {"start": "2026-12-01", "end": "2027-06-30"},
}


def test_a_new_organizer_has_the_default_schedule(client: TestClient, ada: Account) -> None:
    schedule = client.get("/api/v1/me/availability", headers=ada.headers).json()
    workday = [{"start": "09:00", "end": "17:00"}]
    assert schedule == {
        "time_zone": "Europe/Paris",
        "weekly": {
            "mon": workday,
            "tue": workday,
            "wed": workday,
            "thu": workday,
            "fri": workday,
            "sat": [],
            "sun": [],
        },
        "overrides": [],
        "date_range": None,
    }


def test_put_availability_round_trips(client: TestClient, ada: Account) -> None:
    response = client.put("/api/v1/me/availability", json=SCHEDULE, headers=ada.headers)
    assert response.status_code == 200
    stored = client.get("/api/v1/me/availability", headers=ada.headers).json()
    expected = {**SCHEDULE, "overrides": sorted(SCHEDULE["overrides"], key=lambda o: o["date"])}
    assert stored == expected == response.json()
    # Days left out mean "unavailable".
    minimal = {
        "time_zone": "Asia/Kathmandu",
        "weekly": {"sat": [{"start": "08:15", "end": "09:45"}]},
    }
    stored = client.put("/api/v1/me/availability", json=minimal, headers=ada.headers).json()
    assert stored["weekly"]["sat"] == [{"start": "08:15", "end": "09:45"}]
    assert stored["weekly"]["mon"] == [] and stored["date_range"] is None


def _with(**changes: Any) -> dict[str, Any]:
    body = {**SCHEDULE, **changes}
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_with(time_zone="Paris"), "not a known IANA time zone"),
        (
            _with(
                weekly={
                    "mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
                }
            ),
            "overlap",
        ),
        (_with(weekly={"mon": [{"start": "17:00", "end": "09:00"}]}), "must start before it ends"),
        (_with(weekly={"mon": [{"start": "09:00", "end": "09:00"}]}), "must start before it ends"),
        (_with(weekly={"mon": [{"start": "24:00", "end": "24:00"}]}), "cannot start at 24:00"),
        (_with(weekly={"mon": [{"start": "9:00", "end": "12:00"}]}), "HH:MM"),
        (_with(weekly={"mon": [{"start": "09:00", "end": "25:00"}]}), "HH:MM"),
        (_with(weekly={"mon": [{"start": "09:60", "end": "12:00"}]}), "HH:MM"),
        # Digits of other scripts are digits to Python, not to the people who read the hours.
        (_with(weekly={"mon": [{"start": "0\u0669:00", "end": "12:00"}]}), "HH:MM"),
        (_with(weekly={"mon": [{"start": "09:00", "end": "\uff11\uff12:00"}]}), "HH:MM"),
        (_with(weekly={"monday": []}), "Extra inputs"),
        (_with(weekly={"mon": [{"start": "09:00"}]}), "Field required"),
        (_with(weekly={"mon": [{"start": "09:00", "end": "10:00"}] * 49}), "at most 48"),
        (
            _with(
                overrides=[
                    {"date": "2026-12-24", "intervals": []},
                    {"date": "2026-12-24", "intervals": []},
                ]
            ),
            "more than one override",
        ),
        (_with(overrides=[{"date": "2026-02-30", "intervals": []}]), "valid date"),
        (
            _with(
                overrides=[
                    {
                        "date": "2026-12-24",
                        "intervals": [
                            {"start": "10:00", "end": "12:00"},
                            {"start": "11:59", "end": "13:00"},
                        ],
                    }
                ]
            ),
            "overlap",
        ),
        (
            _with(date_range={"start": "2027-01-01", "end": "2026-01-01"}),
            "must not end before it starts",
        ),
        ({"weekly": {}}, "Field required"),
    ],
)
def test_put_availability_refuses_bad_schedules_and_keeps_the_old_one(
    client: TestClient, ada: Account, body: dict[str, Any], message: str
) -> None:
    before = client.get("/api/v1/me/availability", headers=ada.headers).json()
    response = client.put("/api/v1/me/availability", json=body, headers=ada.headers)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"], response.json()
    assert client.get("/api/v1/me/availability", headers=ada.headers).json() == before


def test_touching_intervals_are_allowed(client: TestClient, ada: Account) -> None:
    body = _with(
        weekly={"mon": [{"start": "13:00", "end": "17:00"}, {"start": "09:00", "end": "13:00"}]}
    )
    assert client.put("/api/v1/me/availability", json=body, headers=ada.headers).status_code == 200
