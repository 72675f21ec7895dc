"""The invitee's manage page (``/b/{token}``): the meeting, add to calendar (Google,
Outlook, invite.ics), moving in two steps, cancelling after a confirmation, another zone,
and French for a booking made in French."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import Booking, OutboxMessage
from bookwithme.notifications.outbox import opened
from tests.bookings.test_booking_api import Page, at
from tests.calendars.test_calendar_sync import SECRET
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday, paris

HTML = {"accept": "text/html"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


@pytest.fixture
def invitee(ada: Page) -> TestClient:
    """The invitee's own browser, not signed in."""
    return TestClient(ada.client.app)


def book(ada: Page, start: str, **fields: Any) -> dict[str, Any]:
    response = ada.book(start, **{"time_zone": "Europe/Paris", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def emailed_event(session: Session, booking_id: str, kind: str) -> Any:
    """The VEVENT of the last email of ``kind`` about the booking, as the outbox holds it
    (encrypted with the server's key, read back as the worker does)."""
    session.rollback()  # a new transaction sees what the requests wrote
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == kind)
        .order_by(OutboxMessage.created_at.desc())
    ).all()
    row = next(r for r in rows if str(r.booking_id) == booking_id)
    ics = opened(SECRET, row.ics)
    assert ics is not None
    return Calendar.from_ical(ics)


def event_of(calendar: Any) -> Any:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def links(page_text: str) -> dict[str, str]:
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page_text)]
    return {
        name: next(h for h in hrefs if h.startswith(prefix))
        for name, prefix in {
            "google": "https://calendar.google.com/calendar/render?",
            "outlook": "https://outlook.live.com/calendar/0/action/compose?",
            "office": "https://outlook.office.com/calendar/0/action/compose?",
        }.items()
    }


def query_of(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert all(len(v) == 1 for v in parsed.values())
    return {k: v[0] for k, v in parsed.items()}


def stored(session: Session, booking_id: str) -> Booking:
    session.rollback()  # a new transaction sees what the requests wrote
    booking = session.get(Booking, uuid.UUID(booking_id))
    assert booking is not None
    return booking


def test_invite_ics_is_the_emailed_invitation(
    ada: Page, invitee: TestClient, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10))
    path = "/b/" + booked["manage_token"]

    response = invitee.get(f"{path}/invite.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="30-minute-meeting.ics"'
    served = Calendar.from_ical(response.text)
    event = event_of(served)
    emailed = emailed_event(session, booked["id"], "booking_created_invitee")
    assert str(event["UID"]) == str(event_of(emailed)["UID"])
    assert str(served["METHOD"]) == "REQUEST" == str(emailed["METHOD"])
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == paris(monday, 10)
    assert event.decoded("DTEND") == paris(monday, 10, 30)
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
    assert str(event["ORGANIZER"]) == "mailto:ada@example.com"
    assert str(event["ATTENDEE"]) == "mailto:grace@example.com"
    assert str(event["URL"]) == booked["online_meeting_url"]
    assert str(event["SUMMARY"]) == str(event_of(emailed)["SUMMARY"])
    assert f"http://testserver{path}" in str(event["DESCRIPTION"])

    # Moved: the same UID, the next SEQUENCE, the new times, as the "Updated" email.
    moved = invitee.post(f"{path}/reschedule", data={"start": at(monday, 11)})
    assert moved.status_code == 200  # followed the redirect to the page
    event = event_of(Calendar.from_ical(invitee.get(f"{path}/invite.ics").text))
    emailed = emailed_event(session, booked["id"], "booking_rescheduled_invitee")
    assert str(event["UID"]) == str(event_of(emailed)["UID"])
    assert int(event["SEQUENCE"]) == 1 == int(event_of(emailed)["SEQUENCE"])
    assert event.decoded("DTSTART") == paris(monday, 11)
    assert event.decoded("DTEND") == paris(monday, 11, 30)

    # Cancelled: the cancellation, which removes the event a calendar added before.
    invitee.post(f"{path}/cancel", data={"reason": ""})
    served = Calendar.from_ical(invitee.get(f"{path}/invite.ics").text)
    event = event_of(served)
    emailed = emailed_event(session, booked["id"], "booking_cancelled_invitee")
    assert str(served["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(event_of(emailed)["UID"])
    assert int(event["SEQUENCE"]) == 2 == int(event_of(emailed)["SEQUENCE"])

    unknown = invitee.get("/b/no-such-token/invite.ics", headers=HTML)
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]


def test_google_and_outlook_links_carry_the_meeting(ada: Page, invitee: TestClient) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), notes="About the engine & more")
    page = invitee.get("/b/" + booked["manage_token"], headers=HTML)
    assert page.status_code == 200
    found = links(page.text)
    start, end = paris(monday, 10), paris(monday, 10, 30)

    google = query_of(found["google"])
    assert google["action"] == "TEMPLATE"
    assert google["text"] == "30 minute meeting with Ada Lovelace"
    assert google["dates"] == f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    assert google["location"] == booked["online_meeting_url"]
    assert booked["online_meeting_url"] in google["details"]
    assert f"http://testserver/b/{booked['manage_token']}" in google["details"]
    assert " " not in found["google"] and "+" not in urlsplit(found["google"]).query

    for name in ("outlook", "office"):
        outlook = query_of(found[name])
        assert outlook["subject"] == "30 minute meeting with Ada Lovelace"
        assert datetime.fromisoformat(outlook["startdt"]) == start
        assert datetime.fromisoformat(outlook["enddt"]) == end
        assert outlook["startdt"].endswith("Z")
        assert outlook["location"] == booked["online_meeting_url"]
        assert f"/b/{booked['manage_token']}" in outlook["body"]
    assert f'href="/b/{booked["manage_token"]}/invite.ics"' in page.text
    assert "Monday" in page.text and "10:00\u201310:30" in page.text


def test_what_and_when_with_the_answers(ada: Page, invitee: TestClient) -> None:
    monday = next_monday()
    mt = ada.client.post(
        "/api/v1/meeting-types",
        json={
            "title": "Consultation",
            "duration_minutes": 45,
            "questions": [
                {"id": "company", "label": "Company", "kind": "text", "required": True},
                {"id": "terms", "label": "I accept", "kind": "checkbox"},
            ],
        },
        headers=ada.account.headers,
    ).json()
    booked = book(
        ada,
        at(monday, 9),
        type_id=mt["id"],
        answers={"company": "US Navy", "terms": True},
        notes="Bring the <b>tapes</b>",
    )
    page = invitee.get("/b/" + booked["manage_token"], headers=HTML).text
    assert "Consultation" in page and "Your meeting with Ada Lovelace" in page
    day = f"{monday:%B} {monday.day}, {monday.year}"
    assert f"Monday, {day}, 09:00\u201309:45" in page
    assert "<dt>Company</dt><dd" in page and "US Navy" in page
    assert "<dt>I accept</dt>" in page and ">yes</dd>" in page
    assert "Bring the &lt;b&gt;tapes&lt;/b&gt;" in page  # escaped, never markup
    assert booked["online_meeting_url"] in page
    assert '<option value="Europe/Paris" selected>' in page


def test_reschedule_in_two_steps(ada: Page, invitee: TestClient, session: Session) -> None:
    monday = next_monday(3)
    wednesday = monday + timedelta(days=2)
    booked = book(ada, at(wednesday, 10))
    path = "/b/" + booked["manage_token"]

    manage = invitee.get(path, headers=HTML).text
    assert f'href="{path}/reschedule"' in manage

    # Step 1: the free times, from the booking's own week (not this week).
    times = invitee.get(f"{path}/reschedule", headers=HTML)
    assert times.status_code == 200
    offered = [unquote(v) for v in re.findall(r'reschedule\?start=([^"&]+)"', times.text)]
    assert offered and min(offered) >= at(monday, 0)
    assert at(monday, 9) in offered and at(wednesday, 14, 30) in offered
    assert at(wednesday, 10) not in offered  # where it is now: shown, marked, not a link
    assert 'class="time current"' in times.text
    assert f"from={(monday + timedelta(days=7)).isoformat()}" in times.text  # "Later"

    # Step 2: old → new, and nothing moves until Confirm.
    confirm = invitee.get(f"{path}/reschedule", params={"start": at(wednesday, 14, 30)})
    assert confirm.status_code == 200
    old = f"Wed {wednesday.day} {wednesday:%b} 10:00"
    new = f"Wed {wednesday.day} {wednesday:%b} 14:30"
    move = re.search(r'<p class="move">(.*?)</p>', confirm.text, re.S)
    assert move is not None
    text = re.sub(r"<[^>]+>|\s+", " ", move.group(1))
    assert old in text and new in text and text.index(old) < text.index(new)
    assert "&rarr;" in move.group(1)
    assert f'action="{path}/reschedule"' in confirm.text
    assert f'name="start" value="{at(wednesday, 14, 30)}"' in confirm.text
    assert stored(session, booked["id"]).start_at == paris(wednesday, 10)
    assert stored(session, booked["id"]).sequence == 0
    assert not session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking_rescheduled_invitee")
    ).all()

    moved = invitee.post(
        f"{path}/reschedule", data={"start": at(wednesday, 14, 30)}, follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"{path}?notice=moved"
    booking = stored(session, booked["id"])
    assert booking.start_at.astimezone(UTC) == paris(wednesday, 14, 30)
    assert booking.sequence == 1
    after = invitee.get(moved.headers["location"], headers=HTML).text
    assert "Your meeting has moved." in after and "14:30\u201315:00" in after

    # A time taken meanwhile is said on the confirmation step already.
    ada.book(at(wednesday, 16), email="other@example.com")
    taken = invitee.get(f"{path}/reschedule", params={"start": at(wednesday, 16)}, headers=HTML)
    assert taken.status_code == 409 and "That time was just taken." in taken.text
    bad = invitee.get(f"{path}/reschedule", params={"start": "soon"}, headers=HTML)
    assert bad.status_code == 422


def test_cancel_asks_first_and_keeps_the_reason(
    ada: Page, invitee: TestClient, session: Session
) -> None:
    booked = book(ada, at(next_monday(), 10))
    path = "/b/" + booked["manage_token"]
    manage = invitee.get(path, headers=HTML).text
    assert f'href="{path}/cancel"' in manage

    ask = invitee.get(f"{path}/cancel", headers=HTML)
    assert ask.status_code == 200
    assert "Cancel this meeting?" in ask.text and "Yes, cancel" in ask.text
    assert 'maxlength="2000"' in ask.text and f'action="{path}/cancel"' in ask.text
    assert stored(session, booked["id"]).status == "confirmed"
    assert not session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking_cancelled_invitee")
    ).all()

    done = invitee.post(
        f"{path}/cancel", data={"reason": "  Something came up  "}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path}?notice=cancelled"
    booking = stored(session, booked["id"])
    assert booking.status == "cancelled" and booking.cancel_reason == "Something came up"
    assert booking.cancelled_by == "invitee"
    page = invitee.get(done.headers["location"], headers=HTML).text
    assert "Your meeting is cancelled." in page and "Something came up" in page
    assert "calendar.google.com" not in page and f"{path}/invite.ics" in page
    # Nothing left to confirm: both steps lead back to the page.
    for step in ("cancel", "reschedule"):
        again = invitee.get(f"{path}/{step}", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"] == path


def test_another_zone_on_every_step(ada: Page, invitee: TestClient) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), time_zone="America/New_York")
    path = "/b/" + booked["manage_token"]
    # By default, the zone they booked in.
    page = invitee.get(path, headers=HTML).text
    ny = paris(monday, 10).astimezone(ZoneInfo("America/New_York"))
    assert f"{ny:%H:%M}\u2013" in page
    assert '<option value="America/New_York" selected>' in page

    tokyo = invitee.get(path, params={"tz": "Asia/Tokyo"}, headers=HTML).text
    assert '<option value="Asia/Tokyo" selected>' in tokyo
    ten, eleven = (paris(monday, h).astimezone(ZoneInfo("Asia/Tokyo")) for h in (10, 11))
    assert f"{ten:%H:%M}\u2013{ten + timedelta(minutes=30):%H:%M}" in tokyo
    assert f'href="{path}/reschedule?tz=Asia%2FTokyo"' in tokyo
    assert f'href="{path}/cancel?tz=Asia%2FTokyo"' in tokyo
    times = invitee.get(f"{path}/reschedule", params={"tz": "Asia/Tokyo"}, headers=HTML).text
    assert "+09:00" in unquote(times)
    confirm = invitee.get(
        f"{path}/reschedule", params={"tz": "Asia/Tokyo", "start": at(monday, 11)}
    ).text
    assert (
        f"{eleven:%H:%M}\u2013{eleven + timedelta(minutes=30):%H:%M}" in confirm
        and 'name="tz" value="Asia/Tokyo"' in confirm
    )
    moved = invitee.post(
        f"{path}/reschedule",
        data={"start": at(monday, 11), "tz": "Asia/Tokyo"},
        follow_redirects=False,
    )
    assert moved.headers["location"] == f"{path}?tz=Asia%2FTokyo&notice=moved"
    assert invitee.get(path, params={"tz": "Mars/Olympus"}, headers=HTML).status_code == 422


def test_a_booking_made_in_french_is_managed_in_french(
    ada: Page, invitee: TestClient, session: Session
) -> None:
    monday = next_monday()
    booked = book(ada, at(monday, 10), locale="fr")
    path = "/b/" + booked["manage_token"]
    page = invitee.get(path, params={"notice": "booked"}, headers=HTML).text
    assert '<html lang="fr">' in page
    assert "Ajouter à votre agenda" in page and ">Déplacer</a>" in page
    assert "Annuler la réunion" in page and "C\u2019est réservé." in page
    assert "lundi" in page and "10:00\u201310:30" in page
    wednesday = monday + timedelta(days=2)
    confirm = invitee.get(f"{path}/reschedule", params={"start": at(wednesday, 9)}).text
    assert "Déplacer votre réunion ?" in confirm and "mer. " in confirm
    assert "Confirmer le nouveau créneau" in confirm
    ask = invitee.get(f"{path}/cancel").text
    assert "Annuler cette réunion ?" in ask and "Oui, annuler" in ask
    times = invitee.get(f"{path}/reschedule").text
    assert "Choisissez un nouveau créneau" in times
    # The file is the French invitation the invitee got.
    event = event_of(Calendar.from_ical(invitee.get(f"{path}/invite.ics").text))
    emailed = emailed_event(session, booked["id"], "booking_created_invitee")
    assert str(event["SUMMARY"]) == str(event_of(emailed)["SUMMARY"])
    assert str(event["DESCRIPTION"]) == str(event_of(emailed)["DESCRIPTION"])
