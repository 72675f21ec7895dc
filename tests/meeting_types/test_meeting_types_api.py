"""Meeting types through the API: every field and limit of SPEC 2.2."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import MeetingType, Schedule
from tests.factories import Account, create_account

FULL = {
    "title": "Project kickoff",
    "description": "We plan the first month.",
    "duration_minutes": 45,
    "visibility": "private",
    "active": True,
    "location": {"kind": "in_person", "details": "12 rue de Rivoli, Paris"},
    "add_online_meeting": False,
    "buffer_before_minutes": 10,
    "buffer_after_minutes": 15,
    "minimum_notice_minutes": 240,
    "max_advance_days": 30,
    "slot_interval_minutes": 15,
    "max_bookings_per_day": 3,
    "availability": {
        "time_zone": "Europe/Paris",
        "weekly": {
            "mon": [{"start": "14:00", "end": "18:00"}],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "overrides": [],
        "date_range": {"start": "2026-12-01", "end": "2027-03-31"},
    },
    "questions": [
        {"id": "company", "label": "Company", "kind": "text", "required": True, "options": []},
        {
            "label": "Team size",
            "kind": "select",
            "required": False,
            "options": ["1-10", "11-50", "51+"],
        },
        {"label": "Anything else?", "kind": "textarea"},
        {"label": "I accept the terms", "kind": "checkbox", "required": True},
    ],
    "color": "#3B5BDB",
}


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com")


def test_new_organizers_have_two_public_types(client: TestClient, ada: Account) -> None:
    items = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"]
    assert [(t["title"], t["duration_minutes"], t["visibility"], t["active"]) for t in items] == [
        ("15 minute meeting", 15, "public", True),
        ("30 minute meeting", 30, "public", True),
    ]
    assert items[1]["availability"] is None and items[1]["location"] == {
        "kind": "online",
        "details": None,
    }


def test_create_with_every_field_and_read_it_back(client: TestClient, ada: Account) -> None:
    response = client.post("/api/v1/meeting-types", json=FULL, headers=ada.headers)
    assert response.status_code == 201
    created = response.json()
    again = client.get(f"/api/v1/meeting-types/{created['id']}", headers=ada.headers).json()
    assert again == created
    for field, value in FULL.items():
        if field != "questions":
            assert created[field] == value, field
    assert [q["id"] for q in created["questions"]] == [
        "company",
        "team_size",
        "anything_else",
        "i_accept_the_terms",
    ]
    assert created["questions"][1]["options"] == ["1-10", "11-50", "51+"]
    assert created["created_at"].endswith("Z")


def test_only_the_title_is_required(client: TestClient, ada: Account) -> None:
    created = client.post(
        "/api/v1/meeting-types", json={"title": "Coffee"}, headers=ada.headers
    ).json()
    assert created["duration_minutes"] == 30 and created["visibility"] == "public"
    assert created["add_online_meeting"] is True  # online by default, so a meeting link too
    phone = client.post(
        "/api/v1/meeting-types",
        json={"title": "Call", "location": {"kind": "phone"}},
        headers=ada.headers,
    ).json()
    assert phone["add_online_meeting"] is False
    assert client.post("/api/v1/meeting-types", json={}, headers=ada.headers).status_code == 422


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("duration_minutes", 4),
        ("duration_minutes", 721),
        ("duration_minutes", "long"),
        ("duration_minutes", "30"),
        ("duration_minutes", 30.5),
        ("buffer_before_minutes", True),
        ("max_bookings_per_day", False),
        ("buffer_before_minutes", -1),
        ("buffer_after_minutes", 241),
        ("minimum_notice_minutes", 43201),
        ("max_advance_days", 0),
        ("max_advance_days", 731),
        ("slot_interval_minutes", 4),
        ("slot_interval_minutes", 721),
        ("max_bookings_per_day", 0),
        ("max_bookings_per_day", 101),
        ("title", ""),
        ("title", "x" * 201),
        ("visibility", "secret"),
        ("location", {"kind": "teleport"}),
        ("color", "blue"),
        ("questions", [{"label": "Pick", "kind": "select"}]),
        ("questions", [{"label": "Pick", "kind": "text", "options": ["a"]}]),
        ("questions", [{"label": "Pick", "kind": "radio"}]),
        ("questions", [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]),
        ("questions", [{"id": "Bad Id!", "label": "A"}]),
        ("questions", [{"label": f"Q{i}"} for i in range(21)]),
        ("availability", {"time_zone": "Nowhere/Land", "weekly": {}}),
        ("description", "x" * 5001),
        ("unknown_field", 1),
    ],
)
def test_limits_are_enforced_on_create_and_update(
    client: TestClient, ada: Account, session: Session, field: str, bad: Any
) -> None:
    body = {"title": "Limits", field: bad} if field != "title" else {"title": bad}
    response = client.post("/api/v1/meeting-types", json=body, headers=ada.headers)
    assert response.status_code == 422, body
    assert response.json()["error"]["code"] == "validation_error"
    existing = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]
    patch = client.patch(
        f"/api/v1/meeting-types/{existing['id']}", json={field: bad}, headers=ada.headers
    )
    assert patch.status_code == 422
    assert (
        client.get(f"/api/v1/meeting-types/{existing['id']}", headers=ada.headers).json()
        == existing
    )
    assert len(session.scalars(select(MeetingType)).all()) == 2


def test_update_changes_only_what_is_sent_and_null_clears_what_may_be_cleared(
    client: TestClient, ada: Account, session: Session
) -> None:
    mt = client.post("/api/v1/meeting-types", json=FULL, headers=ada.headers).json()
    url = f"/api/v1/meeting-types/{mt['id']}"
    updated = client.patch(
        url, json={"title": "Kickoff", "duration_minutes": 60}, headers=ada.headers
    ).json()
    assert (updated["title"], updated["duration_minutes"], updated["buffer_after_minutes"]) == (
        "Kickoff",
        60,
        15,
    )
    cleared = client.patch(
        url,
        json={
            "slot_interval_minutes": None,
            "max_bookings_per_day": None,
            "availability": None,
            "color": None,
        },
        headers=ada.headers,
    ).json()
    assert cleared["slot_interval_minutes"] is None and cleared["availability"] is None
    assert cleared["max_bookings_per_day"] is None and cleared["color"] is None
    # The custom schedule is gone with it; the default one stays.
    assert [s.is_default for s in session.scalars(select(Schedule))] == [True]
    refused = client.patch(url, json={"duration_minutes": None}, headers=ada.headers)
    assert refused.status_code == 422 and "cannot be null" in refused.json()["error"]["message"]


def test_duplicate_copies_everything_but_identity(client: TestClient, ada: Account) -> None:
    mt = client.post("/api/v1/meeting-types", json=FULL, headers=ada.headers).json()
    response = client.post(f"/api/v1/meeting-types/{mt['id']}/duplicate", headers=ada.headers)
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != mt["id"] and copy["title"] == "Project kickoff (copy)"
    ignored = {"id", "title", "created_at", "updated_at"}
    assert {k: v for k, v in copy.items() if k not in ignored} == {
        k: v for k, v in mt.items() if k not in ignored
    }
    # The copy's custom hours are its own.
    client.patch(
        f"/api/v1/meeting-types/{copy['id']}", json={"availability": None}, headers=ada.headers
    )
    assert (
        client.get(f"/api/v1/meeting-types/{mt['id']}", headers=ada.headers).json()["availability"]
        == FULL["availability"]
    )


def test_deactivate_and_delete(client: TestClient, ada: Account) -> None:
    mt = client.post("/api/v1/meeting-types", json={"title": "Temp"}, headers=ada.headers).json()
    url = f"/api/v1/meeting-types/{mt['id']}"
    assert client.patch(url, json={"active": False}, headers=ada.headers).json()["active"] is False
    assert client.delete(url, headers=ada.headers).status_code == 204
    assert client.get(url, headers=ada.headers).status_code == 404
    assert client.delete(url, headers=ada.headers).status_code == 404
    titles = [
        t["title"] for t in client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"]
    ]
    assert "Temp" not in titles


def test_other_organizers_types_are_not_found(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    mine = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]["id"]
    for method, path in (
        ("GET", f"/api/v1/meeting-types/{mine}"),
        ("PATCH", f"/api/v1/meeting-types/{mine}"),
        ("DELETE", f"/api/v1/meeting-types/{mine}"),
        ("POST", f"/api/v1/meeting-types/{mine}/duplicate"),
        ("GET", f"/api/v1/meeting-types/{mine}/private-links"),
        ("POST", f"/api/v1/meeting-types/{mine}/private-links"),
        ("GET", "/api/v1/meeting-types/not-a-uuid"),
    ):
        response = client.request(
            method, path, headers=bob.headers, json={} if method == "PATCH" else None
        )
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/meeting-types/{mine}", headers=ada.headers).status_code == 200
