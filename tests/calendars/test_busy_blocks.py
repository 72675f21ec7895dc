"""Busy blocks: /api/v1/me/busy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import BusyBlock
from tests.factories import Account, create_account


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com")


def test_create_list_and_delete(client: TestClient, ada: Account) -> None:
    created = client.post(
        "/api/v1/me/busy",
        json={
            "start": "2026-12-01T10:00:00+01:00",
            "end": "2026-12-01T12:30:00+01:00",
            "title": "Dentist",
        },
        headers=ada.headers,
    )
    assert created.status_code == 201
    block = created.json()
    assert (block["start"], block["end"], block["title"]) == (
        "2026-12-01T09:00:00Z",
        "2026-12-01T11:30:00Z",
        "Dentist",
    )
    client.post(
        "/api/v1/me/busy",
        json={"start": "2026-12-05T10:00:00Z", "end": "2026-12-05T11:00:00Z"},
        headers=ada.headers,
    )
    items = client.get("/api/v1/me/busy", headers=ada.headers).json()["items"]
    assert [i["start"] for i in items] == ["2026-12-01T09:00:00Z", "2026-12-05T10:00:00Z"]
    window = client.get(
        "/api/v1/me/busy",
        params={"start": "2026-12-02T00:00:00Z", "end": "2026-12-31T00:00:00Z"},
        headers=ada.headers,
    ).json()["items"]
    assert [i["title"] for i in window] == [""]
    assert client.delete(f"/api/v1/me/busy/{block['id']}", headers=ada.headers).status_code == 204
    assert len(client.get("/api/v1/me/busy", headers=ada.headers).json()["items"]) == 1
    assert client.delete(f"/api/v1/me/busy/{block['id']}", headers=ada.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"start": "2026-12-01T12:00:00Z", "end": "2026-12-01T10:00:00Z"},
            "start must be before end",
        ),
        (
            {"start": "2026-12-01T12:00:00Z", "end": "2026-12-01T12:00:00Z"},
            "start must be before end",
        ),
        ({"start": "2026-12-01T10:00:00", "end": "2026-12-01T12:00:00"}, "timezone"),
        ({"start": "tomorrow", "end": "2026-12-01T12:00:00Z"}, "valid datetime"),
        ({"start": "2026-12-01T10:00:00Z", "end": "2036-12-01T12:00:00Z"}, "at most three years"),
        (
            {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z", "title": "x" * 201},
            "at most 200",
        ),
        (
            {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z", "title": "a\x01b"},
            "control characters",
        ),
        (
            {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z", "title": "a\x00b"},
            "title: contains a NUL character",
        ),
        ({"end": "2026-12-01T12:00:00Z"}, "Field required"),
    ],
)
def test_bad_blocks_are_refused(
    client: TestClient, ada: Account, session: Session, body: dict, message: str
) -> None:  # type: ignore[type-arg]
    response = client.post("/api/v1/me/busy", json=body, headers=ada.headers)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"], response.json()
    assert session.scalar(select(func.count()).select_from(BusyBlock)) == 0


def test_blocks_are_private_to_their_organizer(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    block = client.post(
        "/api/v1/me/busy",
        json={"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z"},
        headers=ada.headers,
    ).json()
    assert client.get("/api/v1/me/busy", headers=bob.headers).json()["items"] == []
    assert client.delete(f"/api/v1/me/busy/{block['id']}", headers=bob.headers).status_code == 404
    assert client.delete("/api/v1/me/busy/nonsense", headers=bob.headers).status_code == 404
    assert len(client.get("/api/v1/me/busy", headers=ada.headers).json()["items"]) == 1
