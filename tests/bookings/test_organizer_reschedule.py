"""The organizer moves a booking through the API (issue 11, SPEC 3):
``POST /api/v1/bookings/{id}/reschedule`` ``{"start", "reason"?}``. The new time must be one
the slot rule offers for the booking's meeting type (its own time counting as free); the
invitee's email shows the old time, the new one and the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import OutboxMessage
from bookwithme.notifications.outbox import opened
from tests.bookings.test_booking_api import Page, at
from tests.calendars.test_calendar_sync import SECRET
from tests.factories import create_account
from tests.notifications.test_email_content import span
from tests.scheduling.test_public_slots import next_monday

NEW_YORK = "America/New_York"


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def z(local: str) -> str:
    """An instant as the API answers it: UTC with Z."""
    return datetime.fromisoformat(local).astimezone(UTC).isoformat().replace("+00:00", "Z")


def book(ada: Page, start: str, **fields: Any) -> dict[str, Any]:
    response = ada.book(start, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(ada: Page, booking_id: str, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return ada.client.post(
        f"/api/v1/bookings/{booking_id}/reschedule",
        json=body,
        headers=ada.account.headers if headers is None else headers,
    )


def emails(session: Session, booking_id: str, kind: str) -> list[OutboxMessage]:
    """The outbox rows of ``kind`` about the booking, oldest first (a new transaction sees
    what the requests committed)."""
    session.rollback()
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == kind)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    return [r for r in rows if str(r.booking_id) == booking_id]


def text_of(row: OutboxMessage) -> str:
    text = opened(SECRET, row.body_text)
    assert text is not None
    return text


def test_the_organizer_moves_a_booking_and_the_invitee_is_told_old_and_new(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), time_zone=NEW_YORK)
    moved = move(ada, booked["id"], {"start": at(monday, 14), "reason": "The room is taken"})
    assert moved.status_code == 200, moved.text
    answer = moved.json()
    # The booking as the other booking routes answer it (with its reminders).
    assert answer["id"] == booked["id"] and answer["status"] == "confirmed"
    assert (answer["start"], answer["end"]) == (z(at(monday, 14)), z(at(monday, 14, 30)))
    assert "reminders" in answer and "manage_token" not in answer
    shown = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=ada.account.headers)
    assert (shown.json()["start"], shown.json()["end"]) == (answer["start"], answer["end"])

    # The old time is offered to invitees again; the new one is not.
    starts = ada.starts(monday)
    assert at(monday, 10) in starts and at(monday, 14) not in starts

    # The invitee's email: old → new, the reason, in their zone; a new invitation.
    [to_invitee] = emails(session, booked["id"], "booking_rescheduled_invitee")
    text = text_of(to_invitee)
    assert "Your meeting with Ada Lovelace has moved." in text
    assert (
        f"Old time: {span(at(monday, 10), NEW_YORK, 'en')} ({NEW_YORK})\n"
        f"New time: {span(at(monday, 14), NEW_YORK, 'en')} ({NEW_YORK})\n"
        "Reason: The room is taken\n"
    ) in text
    html = opened(SECRET, to_invitee.body_html)
    assert html is not None and "The room is taken" in html
    assert html.index(span(at(monday, 10), NEW_YORK, "en")) < html.index(
        span(at(monday, 14), NEW_YORK, "en")
    )
    ics = opened(SECRET, to_invitee.ics)
    assert ics is not None
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").astimezone(UTC) == datetime.fromisoformat(at(monday, 14))
    # The organizer's copy says who moved it.
    [to_organizer] = emails(session, booked["id"], "booking_rescheduled_organizer")
    assert "You moved your meeting with Grace Hopper." in text_of(to_organizer)


def test_a_french_invitee_reads_the_move_in_french(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), locale="fr", time_zone="Europe/Paris")
    moved = move(ada, booked["id"], {"start": at(monday, 15, 30), "reason": "  Salle prise  "})
    assert moved.status_code == 200, moved.text
    [to_invitee] = emails(session, booked["id"], "booking_rescheduled_invitee")
    assert (
        f"Ancien créneau : {span(at(monday, 10), 'Europe/Paris', 'fr')} (Europe/Paris)\n"
        f"Nouveau créneau : {span(at(monday, 15, 30), 'Europe/Paris', 'fr')} (Europe/Paris)\n"
        "Motif : Salle prise\n"  # the spaces around the reason are trimmed
    ) in text_of(to_invitee)


def test_without_a_reason_the_email_gives_none(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    assert move(ada, booked["id"], {"start": at(monday, 11)}).status_code == 200
    assert move(ada, booked["id"], {"start": at(monday, 12), "reason": None}).status_code == 200
    rows = emails(session, booked["id"], "booking_rescheduled_invitee")
    assert len(rows) == 2
    for row in rows:
        assert "Reason" not in text_of(row) and "Old time" in text_of(row)


def test_the_same_time_again_changes_nothing_and_sends_nothing(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    again = move(ada, booked["id"], {"start": at(monday, 10)})
    assert again.status_code == 200 and again.json()["start"] == booked["start"]
    assert emails(session, booked["id"], "booking_rescheduled_invitee") == []


def test_another_organizers_booking_is_not_found(
    ada: Page, session: Session, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    grace = create_account(session_factory, "grace@example.com", name="Grace")
    theirs = move(ada, booked["id"], {"start": at(monday, 14)}, headers=grace.headers)
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        answer = move(ada, unknown, {"start": at(monday, 14)})
        assert answer.status_code == 404, unknown
    nobody = move(ada, booked["id"], {"start": at(monday, 14)}, headers={})
    assert nobody.status_code == 401
    shown = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=ada.account.headers)
    assert shown.json()["start"] == booked["start"]
    assert emails(session, booked["id"], "booking_rescheduled_invitee") == []


def test_a_cancelled_booking_cannot_be_moved(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    cancelled = ada.client.post(
        f"/api/v1/bookings/{booked['id']}/cancel", headers=ada.account.headers
    )
    assert cancelled.status_code == 200
    answer = move(ada, booked["id"], {"start": at(monday, 14)})
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "booking_cancelled" and "cannot be moved" in error["message"]
    shown = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=ada.account.headers)
    assert shown.json()["status"] == "cancelled" and shown.json()["start"] == booked["start"]
    assert at(monday, 14) in ada.starts(monday)
    assert emails(session, booked["id"], "booking_rescheduled_invitee") == []


def test_a_time_not_offered_is_409_slot_unavailable(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    book(ada, at(monday, 11), email="alan@example.com", name="Alan Turing")
    for start in (
        at(monday, 11),  # taken by another booking
        at(monday, 10, 45),  # overlaps the other booking, and off the 30-minute step
        at(monday, 12, 15),  # off the step
        at(monday, 7),  # outside working hours
        at(monday + timedelta(days=5), 10),  # a Saturday
        at(monday - timedelta(days=14), 10),  # in the past
        at(monday + timedelta(days=90), 10),  # beyond the 60-day horizon
    ):
        answer = move(ada, booked["id"], {"start": start})
        assert answer.status_code == 409, start
        assert answer.json()["error"]["code"] == "slot_unavailable"
    shown = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=ada.account.headers)
    assert shown.json()["start"] == booked["start"]
    assert emails(session, booked["id"], "booking_rescheduled_invitee") == []
    # Half an hour later overlaps the booking's own time only: its own time counts as free.
    assert move(ada, booked["id"], {"start": at(monday, 10, 30)}).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"start": "next monday"}, "start: "),
        ({"start": "2027-01-04T10:00:00"}, "timezone"),
        ({"start": 1798012800}, "ISO 8601"),
        ({}, "start: "),
        ({"start": "STARTS", "reason": "x" * 1001}, "at most 1000"),
        ({"start": "STARTS", "reason": "bell\x07"}, "control characters"),
        ({"start": "STARTS", "when": "later"}, "Extra inputs"),
        ("not an object", "object"),
    ],
)
def test_bad_input_is_422_with_a_message_and_moves_nothing(
    ada: Page, session: Session, body: Any, message: str
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    if isinstance(body, dict) and body.get("start") == "STARTS":
        body = {**body, "start": at(monday, 14)}
    answer = move(ada, booked["id"], body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert message in error["message"], error
    shown = ada.client.get(f"/api/v1/bookings/{booked['id']}", headers=ada.account.headers)
    assert shown.json()["start"] == booked["start"]
    assert emails(session, booked["id"], "booking_rescheduled_invitee") == []


def test_a_reason_of_exactly_1000_characters_is_taken(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    answer = move(ada, booked["id"], {"start": at(monday, 14), "reason": "r" * 1000})
    assert answer.status_code == 200, answer.text
    [row] = emails(session, booked["id"], "booking_rescheduled_invitee")
    assert f"Reason: {'r' * 1000}\n" in text_of(row)


def test_the_route_is_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    route = document["paths"]["/api/v1/bookings/{booking_id}/reschedule"]["post"]
    assert {"200", "404", "409", "422"} <= set(route["responses"])
    schema = document["components"]["schemas"]["MoveIn"]
    assert schema["required"] == ["start"]
