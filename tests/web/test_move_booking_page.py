"""Moving a booking from the organizer's bookings list (issue 11): "Move" leads to a page with
a month calendar and the chosen day's free times in the organizer's zone (the slot rule the
API and the invitee use, the booking's own time counting as free); choosing a time and an
optional reason and confirming moves it, and the list says where it went. In English and,
for an organizer whose locale is ``fr``, in French."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import OutboxMessage
from bookwithme.notifications.outbox import opened
from tests.bookings.test_booking_api import Page, at
from tests.calendars.test_calendar_sync import SECRET
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post
from tests.notifications.test_email_content import span
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    """Ada, signed in in ``client``; invitees book from a browser of their own."""
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    page = Page(client, account)
    page.client = TestClient(client.app)
    return page


def book(ada: Page, start: str, **fields: Any) -> dict[str, Any]:
    response = ada.book(start, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


def choices(page_text: str) -> list[str]:
    """The times the page lets one choose (the values of its radio buttons)."""
    return [unescape(v) for v in re.findall(r'name="start" value="([^"]+)"', page_text)]


def current_times(page_text: str) -> list[str]:
    return re.findall(r'class="time current"[^>]*>.*?</span>([^<]+)</span>', page_text)


def api_booking(client: TestClient, account: Account, booking_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/bookings/{booking_id}", headers=account.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def z(local: str) -> str:
    return datetime.fromisoformat(local).astimezone(UTC).isoformat().replace("+00:00", "Z")


def invitee_emails(session: Session, booking_id: str) -> list[str]:
    session.rollback()
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "booking_rescheduled_invitee")
        .order_by(OutboxMessage.created_at)
    ).all()
    return [opened(SECRET, r.body_text) or "" for r in rows if str(r.booking_id) == booking_id]


def test_move_a_booking_from_the_list_end_to_end(
    client: TestClient, ada: Page, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), time_zone="America/New_York")
    listing = client.get("/bookings", headers=HTML)
    assert f'href="/bookings/{booked["id"]}/move"' in listing.text

    # The page: the booking's day, its free times in Ada's zone, its own time marked.
    page = client.get(f"/bookings/{booked['id']}/move", headers=HTML)
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Move a booking" in text and "Grace Hopper" in text
    assert "Times in Europe/Paris." in text
    now_when = span(at(monday, 10), "Europe/Paris", "en").rsplit(" \u2013 ", 1)[0]
    assert f"Now:</span> <strong>{now_when}</strong>" in text
    assert monday.strftime("%A, %B ") + str(monday.day) in text  # the day's heading
    assert current_times(page.text) == ["10:00"]
    offered = choices(page.text)
    assert at(monday, 10) not in offered  # already there
    assert [at(monday, 9), at(monday, 9, 30), at(monday, 10, 30), at(monday, 16, 30)] == [
        offered[0],
        offered[1],
        offered[2],
        offered[-1],
    ]
    assert 'name="csrftoken"' in page.text and 'name="reason"' in page.text

    # Choose 14:00 with a reason, confirm: back to the list, which says where it went.
    moved = post(
        client,
        f"/bookings/{booked['id']}/move",
        start=at(monday, 14),
        reason="The room is taken",
        month=f"{monday:%Y-%m}",
        day=monday.isoformat(),
    )
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/bookings?moved={booked['id']}"
    listing = client.get(moved.headers["location"], headers=HTML)
    notice = re.search(r'<p class="alert success" role="status">([^<]+)</p>', listing.text)
    assert notice is not None
    new_when = span(at(monday, 14), "Europe/Paris", "en").rsplit(" \u2013 ", 1)[0]
    assert unescape(notice.group(1)) == (
        f"Moved to {new_when} (Europe/Paris). "
        "Grace Hopper gets an email with the old time and the new one."
    )
    row = unescape(listing.text).split('<article class="booking-row just-moved">')[1]
    assert row.split("</article>")[0].count(new_when) == 1

    # What the API and invitees see; what the invitee is told.
    shown = api_booking(client, ada.account, booked["id"])
    assert (shown["start"], shown["end"]) == (z(at(monday, 14)), z(at(monday, 14, 30)))
    assert at(monday, 10) in ada.starts(monday) and at(monday, 14) not in ada.starts(monday)
    [email] = invitee_emails(session, booked["id"])
    assert (
        f"Old time: {span(at(monday, 10), 'America/New_York', 'en')} (America/New_York)\n"
        f"New time: {span(at(monday, 14), 'America/New_York', 'en')} (America/New_York)\n"
        "Reason: The room is taken\n"
    ) in email


def test_a_time_just_taken_shows_the_page_again_with_a_plain_message(
    client: TestClient, ada: Page, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    page = client.get(f"/bookings/{booked['id']}/move", headers=HTML)
    assert at(monday, 15) in choices(page.text)
    # Someone books 15:00 while Ada is looking at the page.
    book(ada, at(monday, 15), name="Alan Turing", email="alan@example.com")
    taken = post(
        client,
        f"/bookings/{booked['id']}/move",
        start=at(monday, 15),
        reason="Later is better",
        day=monday.isoformat(),
    )
    assert taken.status_code == 409
    assert "That time was just taken. Please pick another one." in unescape(taken.text)
    assert at(monday, 15) not in choices(taken.text)  # the page shows the times as they are
    assert at(monday, 14) in choices(taken.text)
    assert "Later is better</textarea>" in taken.text  # what was typed is kept
    assert api_booking(client, ada.account, booked["id"])["start"] == booked["start"]
    assert invitee_emails(session, booked["id"]) == []


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({}, 422, "Pick a new time first."),
        ({"start": "tomorrow at ten"}, 422, "Pick one of the times shown."),
        ({"start": "2030-01-07T10:00:00"}, 422, "Pick one of the times shown."),
        ({"start": "0001-01-01T00:00:00+05:00"}, 422, "Pick one of the times shown."),
        ({"start": "NIGHT", "day": "0001-01-01", "month": "9999-12"}, 409, "just taken"),
        ({"start": "START", "reason": "x" * 1001}, 422, "at most 1,000 characters"),
        ({"start": "START", "reason": "a\x07b"}, 422, "control characters"),
        ({"start": "OWN"}, 422, "That is the booking's time now."),
        ({"start": "OFF_STEP"}, 409, "That time was just taken."),
        ({"start": "NIGHT"}, 409, "That time was just taken."),
    ],
)
def test_a_wrong_choice_is_explained_and_moves_nothing(
    client: TestClient,
    ada: Page,
    session: Session,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    stand_ins = {
        "START": at(monday, 14),
        "OWN": at(monday, 10),
        "OFF_STEP": at(monday, 14, 10),
        "NIGHT": at(monday, 3),
    }
    fields = {k: stand_ins.get(v, v) for k, v in fields.items()}
    answer = post(client, f"/bookings/{booked['id']}/move", **fields)
    assert answer.status_code == status
    assert message in unescape(answer.text)
    assert 'role="alert"' in answer.text and choices(answer.text)  # the times again
    assert api_booking(client, ada.account, booked["id"])["start"] == booked["start"]
    assert invitee_emails(session, booked["id"]) == []


def test_a_day_and_a_month_are_picked_on_the_calendar(client: TestClient, ada: Page) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    tuesday = monday + timedelta(days=1)
    page = client.get(
        f"/bookings/{booked['id']}/move",
        params={"month": f"{tuesday:%Y-%m}", "day": tuesday.isoformat()},
        headers=HTML,
    )
    assert page.status_code == 200
    assert choices(page.text)[0] == at(tuesday, 9) and len(choices(page.text)) == 16
    assert current_times(page.text) == []  # the booking's own time is on Monday
    assert f'aria-current="true">{tuesday.day}</a>' in page.text
    # Each day with room links to itself; a weekend day is not a link.
    assert f'href="/bookings/{booked["id"]}/move?month={monday:%Y-%m}&amp;day={monday}"' in (
        page.text
    )
    saturday = monday + timedelta(days=5)
    if saturday.month == monday.month:
        assert f'data-date="{saturday.isoformat()}"' not in page.text
    # The next month is one arrow away; the one before this month is not offered.
    following = (monday.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert f'href="/bookings/{booked["id"]}/move?month={following:%Y-%m}"' in page.text
    this_month = datetime.now(UTC).date().replace(day=1)
    earlier = client.get(
        f"/bookings/{booked['id']}/move", params={"month": "2020-01"}, headers=HTML
    )
    assert earlier.status_code == 200 and 'id="m-prev"' not in earlier.text
    assert f"{this_month:%B %Y}" in earlier.text or f"{monday:%B %Y}" in earlier.text
    for bad in ({"month": "2026-13"}, {"day": "someday"}, {"day": "0001-01-01"}):
        assert client.get(f"/bookings/{booked['id']}/move", params=bad).status_code == 422


def test_a_cancelled_booking_cannot_be_moved(
    client: TestClient, ada: Page, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    cancelled = post(client, f"/bookings/{booked['id']}/cancel", reason="Ill")
    assert cancelled.status_code == 303
    listing = client.get("/bookings?show=cancelled", headers=HTML)
    assert "/move" not in listing.text
    page = client.get(f"/bookings/{booked['id']}/move", headers=HTML)
    assert page.status_code == 409
    assert "This booking is cancelled, so it cannot be moved." in page.text
    assert choices(page.text) == []
    answer = post(client, f"/bookings/{booked['id']}/move", start=at(monday, 14))
    assert answer.status_code == 409
    assert "This booking is cancelled, so it cannot be moved." in answer.text
    assert api_booking(client, ada.account, booked["id"])["status"] == "cancelled"
    assert invitee_emails(session, booked["id"]) == []


def test_a_booking_of_a_deleted_type_offers_no_move(client: TestClient, ada: Page) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    deleted = client.delete(f"/api/v1/meeting-types/{ada.t30}", headers=ada.account.headers)
    assert deleted.status_code == 204
    assert f"/bookings/{booked['id']}/move" not in client.get("/bookings", headers=HTML).text
    page = client.get(f"/bookings/{booked['id']}/move", headers=HTML)
    assert page.status_code == 409 and "can no longer be moved" in page.text


def test_another_organizers_booking_and_strangers(
    client: TestClient, ada: Page, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    grace = TestClient(client.app)
    create_account(session_factory, "grace@example.com", name="Grace")
    sign_in(grace, "grace@example.com")
    assert grace.get(f"/bookings/{booked['id']}/move", headers=HTML).status_code == 404
    assert post(grace, f"/bookings/{booked['id']}/move", start=at(monday, 14)).status_code == 404
    assert client.get("/bookings/not-an-id/move", headers=HTML).status_code == 404
    stranger = TestClient(client.app)
    answer = stranger.get(f"/bookings/{booked['id']}/move", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    # Without the browser's CSRF token nothing moves.
    forged = client.post(
        f"/bookings/{booked['id']}/move", data={"start": at(monday, 14)}, headers=HTML
    )
    assert forged.status_code == 403
    assert api_booking(client, ada.account, booked["id"])["start"] == booked["start"]


FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def test_in_french_for_an_organizer_whose_locale_is_fr(
    client: TestClient, ada: Page, session: Session
) -> None:
    changed = client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.account.headers)
    assert changed.status_code == 200
    monday = next_monday()
    booked = book(ada, at(monday, 10), locale="fr", time_zone="Europe/Paris")
    listing = unescape(client.get("/bookings", headers=HTML).text)
    assert '<html lang="fr">' in listing
    assert "Réservations" in listing and ">Déplacer</a>" in listing and "À venir" in listing
    page = client.get(f"/bookings/{booked['id']}/move", headers=HTML)
    text = unescape(page.text)
    assert "Déplacer une réservation" in text and "Heures en Europe/Paris." in text
    month_name = FR_MONTHS.split()[monday.month - 1]
    assert f"{month_name} {monday.year}" in text
    assert "Déplacer à ce créneau" in text and "Motif (facultatif, transmis à Grace Hopper)" in text
    for english in ("Move a booking", "Times in", "Back to bookings", "Reason (optional"):
        assert english not in text
    missing = post(client, f"/bookings/{booked['id']}/move")
    assert "Choisissez d\u2019abord un nouveau créneau." in unescape(missing.text)
    moved = post(client, f"/bookings/{booked['id']}/move", start=at(monday, 16), reason="Salle")
    assert moved.status_code == 303
    after = unescape(client.get(moved.headers["location"], headers=HTML).text)
    new_when = span(at(monday, 16), "Europe/Paris", "fr").rsplit(" \u2013 ", 1)[0]
    assert (
        f"Déplacée au {new_when} "
        "(Europe/Paris). Grace Hopper reçoit un e-mail avec l\u2019ancien et le nouveau créneau."
    ) in after
    [email] = invitee_emails(session, booked["id"])
    assert "Motif : Salle\n" in email


def test_the_moved_notice_names_only_ones_own_booking(
    client: TestClient, ada: Page, session_factory: sessionmaker[Session]
) -> None:
    """``?moved=`` shows where one's own booking now is; another's, or nonsense, nothing."""
    grace = Page(TestClient(client.app), create_account(session_factory, "grace@example.com"))
    theirs = book(grace, at(next_monday(), 10))
    for moved in (theirs["id"], "nonsense", "00000000-0000-0000-0000-000000000000"):
        listing = client.get("/bookings", params={"moved": moved}, headers=HTML)
        assert listing.status_code == 200 and "Moved to" not in listing.text


def test_days_with_room_skip_the_bookings_own_only_time(
    client: TestClient, ada: Page, session_factory: sessionmaker[Session]
) -> None:
    """A day whose only free time is the booking's own has nothing to move to."""
    monday = next_monday()
    hours = {
        "time_zone": "Europe/Paris",
        "weekly": {
            d: ([{"start": "10:00", "end": "10:30"}] if d == "mon" else [])
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "overrides": [],
        "date_range": None,
    }
    saved = client.put("/api/v1/me/availability", json=hours, headers=ada.account.headers)
    assert saved.status_code == 200, saved.text
    booked = book(ada, at(monday, 10))
    page = client.get(
        f"/bookings/{booked['id']}/move",
        params={"month": f"{monday:%Y-%m}", "day": monday.isoformat()},
        headers=HTML,
    )
    assert current_times(page.text) == ["10:00"] and choices(page.text) == []
    assert "No other free times on this day." in page.text
    following = monday + timedelta(days=7)
    assert f'data-date="{monday.isoformat()}"' not in page.text
    if following.month == monday.month:
        assert f'data-date="{following.isoformat()}"' in page.text
    # The next free day is one click away.
    label = f"{following:%A, %B} {following.day}"
    assert f"Next free day: {label}" in page.text
