"""The page behind the manage link in the confirmation email: see, move or cancel."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import OutboxMessage
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def test_move_then_cancel_from_the_link(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = ada.book(at(monday, 10), time_zone="Europe/Paris").json()
    invitee = TestClient(ada.client.app)  # the invitee's own browser, not signed in
    path = "/b/" + booked["manage_token"]
    page = invitee.get(path, headers=HTML)
    assert page.status_code == 200
    assert "30 minute meeting" in page.text and "Your meeting with Ada Lovelace" in page.text
    times = invitee.get(f"{path}/reschedule", headers=HTML)
    offered = [unquote(v) for v in re.findall(r'reschedule\?start=([^"&]+)"', times.text)]
    assert at(monday, 10) not in offered  # where it already is (shown, not offered)
    assert at(monday, 10, 30) in offered and at(monday, 9, 30) in offered

    moved = invitee.post(
        f"{path}/reschedule", data={"start": at(monday, 11)}, follow_redirects=False
    )
    assert moved.status_code == 303
    after = invitee.get(moved.headers["location"], headers=HTML)
    assert "Your meeting has moved." in after.text
    api = invitee.get(f"/api/v1/public/bookings/{booked['manage_token']}").json()
    assert api["start"] != booked["start"] and api["status"] == "confirmed"

    cancelled = invitee.post(
        f"{path}/cancel", data={"reason": "Double booked"}, follow_redirects=False
    )
    assert cancelled.status_code == 303
    final = invitee.get(cancelled.headers["location"], headers=HTML)
    assert "Your meeting is cancelled." in final.text and "Double booked" in final.text
    assert 'name="start"' not in final.text
    kinds = session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.created_at)).all()
    assert (
        kinds.count("booking_rescheduled_invitee") == 1
        and kinds.count("booking_cancelled_invitee") == 1
    )


def test_a_taken_or_bad_time_is_explained(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = ada.book(at(monday, 10)).json()
    ada.book(at(monday, 14), email="other@example.com")
    path = "/b/" + booked["manage_token"]
    taken = ada.client.post(f"{path}/reschedule", data={"start": at(monday, 14)}, headers=HTML)
    assert taken.status_code == 409 and "That time was just taken." in taken.text
    nonsense = ada.client.post(f"{path}/reschedule", data={"start": "soon"}, headers=HTML)
    assert nonsense.status_code == 422 and "Pick one of the times shown" in nonsense.text
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4  # two bookings only
    assert ada.client.get("/b/not-a-token", headers=HTML).status_code == 404
