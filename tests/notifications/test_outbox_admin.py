"""Administrators read the outbox (API and page); nobody else can."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account, sign_in
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}


def test_admins_read_every_email_newest_first(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    ada = Page(client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris"))
    monday = next_monday()
    first = ada.book(at(monday, 9)).json()
    ada.client.post(f"/api/v1/public/bookings/{first['manage_token']}/cancel")

    listed = client.get("/api/v1/admin/outbox", headers=admin.headers).json()
    subjects = [i["subject"] for i in listed["items"]]
    assert subjects[:2] in (
        [
            "Cancelled: 30 minute meeting with Grace Hopper",
            "Cancelled: 30 minute meeting with Ada Lovelace",
        ],
        [
            "Cancelled: 30 minute meeting with Ada Lovelace",
            "Cancelled: 30 minute meeting with Grace Hopper",
        ],
    )
    assert len(subjects) == 4 and all(i["status"] == "pending" for i in listed["items"])
    assert "body_text" not in listed["items"][0]

    paged = client.get("/api/v1/admin/outbox", params={"limit": 3}, headers=admin.headers).json()
    rest = client.get(
        "/api/v1/admin/outbox",
        params={"limit": 3, "cursor": paged["next_cursor"]},
        headers=admin.headers,
    ).json()
    assert [i["id"] for i in paged["items"] + rest["items"]] == [i["id"] for i in listed["items"]]

    invitee_mail = next(
        i
        for i in listed["items"]
        if i["recipient"] == "grace@example.com" and i["subject"].startswith("Confirmed")
    )
    detail = client.get(f"/api/v1/admin/outbox/{invitee_mail['id']}", headers=admin.headers).json()
    # Bodies are stored encrypted and shown with the manage link hidden.
    assert first["manage_url"] not in detail["body_text"] and "METHOD:REQUEST" in detail["ics"]
    assert "/b/[manage link hidden]" in detail["body_text"]
    assert first["manage_url"].rsplit("/", 1)[1] not in detail["ics"]
    assert "Your meeting with Ada Lovelace is booked." in detail["body_text"]
    assert client.get("/api/v1/admin/outbox/nope", headers=admin.headers).status_code == 404
    assert (
        client.get(
            "/api/v1/admin/outbox", params={"status": "lost"}, headers=admin.headers
        ).status_code
        == 422
    )

    sign_in(client, "root@example.com")
    page = client.get("/admin/outbox", headers=HTML)
    assert page.status_code == 200
    assert (
        "No SMTP server is configured" in page.text and "Cancelled: 30 minute meeting" in page.text
    )
    message_page = client.get(f"/admin/outbox/{invitee_mail['id']}", headers=HTML)
    assert "Reschedule or cancel" in message_page.text and 'sandbox=""' in message_page.text


def test_everyone_else_gets_403_or_401(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    for path in (
        "/api/v1/admin/outbox",
        "/api/v1/admin/outbox/00000000-0000-0000-0000-000000000000",
    ):
        response = client.get(path, headers=ada.headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
        assert client.get(path).status_code == 401
    sign_in(client, "ada@example.com")
    page = client.get("/admin/outbox", headers=HTML)
    assert page.status_code == 403 and "Only administrators" in page.text
