"""The pages invitees book on: ``/p/{key}``, ``/p/{key}/{type}`` and ``/l/{token}``."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import Booking, OutboxMessage, PrivateLink, utcnow
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account, sign_in
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}
FRENCH = {"accept": "text/html", "accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def invitee(page: Page) -> TestClient:
    """The invitee's own browser: not signed in."""
    return TestClient(page.client.app)


def offered_times(html: str) -> list[tuple[str, str]]:
    """(start instant, label) of every time offered on a booking page."""
    return [
        (parse_qs(urlsplit(unescape(href)).query)["start"][0], label)
        for href, label in re.findall(r'<a class="time" href="([^"]+)">([^<]+)</a>', html)
    ]


def hidden(html: str, name: str) -> str:
    match = re.search(rf'type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return unescape(match.group(1))


def booking_form(start: str, **fields: str) -> dict[str, str]:
    """What Grace, in Paris, sends from the details form."""
    return {
        "start": start,
        "tz": "Europe/Paris",
        "name": "Grace Hopper",
        "email": "grace@example.com",
        **fields,
    }


def count(session: Session, model: Any) -> int:
    session.rollback()  # a fresh read, not the snapshot of an earlier one
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def make_type(page: Page, **fields: Any) -> dict[str, Any]:
    created = page.client.post(
        "/api/v1/meeting-types",
        json={"title": "Intro call", **fields},
        headers=page.account.headers,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_the_page_lists_the_public_active_types_and_links_to_each(ada: Page) -> None:
    hidden_type = make_type(ada, title="Board review", visibility="private")
    retired = make_type(ada, title="Retired type", active=False)
    ada.client.patch(
        "/api/v1/page",
        json={"title": "Meet Ada", "intro": "Pick any time that suits you."},
        headers=ada.account.headers,
    )
    page = invitee(ada).get(f"/p/{ada.key}", headers=HTML)
    assert page.status_code == 200
    assert "Meet Ada" in page.text and "Pick any time that suits you." in page.text
    links = re.findall(rf'href="/p/{ada.key}/([0-9a-f-]+)"', page.text)
    types = ada.client.get("/api/v1/meeting-types", headers=ada.account.headers).json()["items"]
    public = [t["id"] for t in types if t["visibility"] == "public" and t["active"]]
    assert links == public and len(links) == 2
    assert "Board review" not in page.text and "Retired type" not in page.text
    # A private type is not bookable through the page address either.
    for type_id in (hidden_type["id"], retired["id"], "not-an-id"):
        assert invitee(ada).get(f"/p/{ada.key}/{type_id}", headers=HTML).status_code == 404


def test_an_unpublished_unknown_or_switched_off_page_is_not_found(
    ada: Page, session_factory: sessionmaker[Session]
) -> None:
    browser = invitee(ada)
    assert browser.get("/p/no-such-key", headers=HTML).status_code == 404
    admin = create_account(session_factory, "root@example.com", is_admin=True)
    switched = ada.client.patch(
        "/api/v1/admin/users/ada@example.com", json={"apps_enabled": False}, headers=admin.headers
    )
    assert switched.status_code == 200
    off = browser.get(f"/p/{ada.key}", headers=HTML)
    assert off.status_code == 404 and "There is no booking page at this address." in off.text
    assert 'href="/"' not in off.text.split("<main")[1]  # no "start page" for invitees
    ada.client.patch(
        "/api/v1/admin/users/ada@example.com", json={"apps_enabled": None}, headers=admin.headers
    )
    assert browser.get(f"/p/{ada.key}", headers=HTML).status_code == 200
    ada.client.post("/api/v1/page/unpublish", headers=ada.account.headers)
    assert browser.get(f"/p/{ada.key}", headers=HTML).status_code == 404


def test_book_through_the_page_in_the_invitees_zone(ada: Page, session: Session) -> None:
    monday = next_monday()
    browser = invitee(ada)
    path = f"/p/{ada.key}/{ada.t30}"
    times = browser.get(path, params={"tz": "America/New_York", "from": monday.isoformat()})
    assert times.status_code == 200
    offered = offered_times(times.text)
    # Ada works 09:00-17:00 in Paris: 03:00-10:30 in New York, every 30 minutes.
    first_day = [(start, label) for start, label in offered if start.startswith(str(monday))]
    assert first_day[0] == (f"{monday}T03:00:00-05:00", "03:00")
    assert first_day[-1] == (f"{monday}T10:30:00-05:00", "10:30")
    assert len(first_day) == 16
    assert 'option value="America/New_York" selected' in times.text

    chosen = f"{monday}T04:00:00-05:00"  # 10:00 in Paris
    form = browser.get(path, params={"tz": "America/New_York", "start": chosen})
    assert form.status_code == 200 and "Your details" in form.text
    assert hidden(form.text, "start") == chosen and hidden(form.text, "tz") == "America/New_York"
    assert "04:00 – 04:30" in form.text  # noqa: RUF001

    booked = browser.post(
        path,
        data={
            "start": chosen,
            "tz": "America/New_York",
            "name": "Grace Hopper",
            "email": "Grace@Example.com",
            "notes": "About compilers",
            "csrftoken": hidden(form.text, "csrftoken"),
        },
        follow_redirects=False,
    )
    assert booked.status_code == 303
    location = booked.headers["location"]
    assert location.startswith("/b/") and location.endswith("?notice=booked")
    session.rollback()
    booking = session.scalars(select(Booking)).one()
    assert booking.start_at.astimezone(ZoneInfo("Europe/Paris")).isoformat() == at(monday, 10)
    assert (booking.invitee_name, booking.invitee_email) == ("Grace Hopper", "grace@example.com")
    assert (booking.invitee_time_zone, booking.invitee_locale) == ("America/New_York", "en")
    assert booking.notes == "About compilers" and booking.status == "confirmed"
    kinds = sorted(session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["booking_created_invitee", "booking_created_organizer"]

    manage = browser.get(location, headers=HTML)
    assert "You are booked." in manage.text and "Monday" in manage.text
    # The booked time is no longer offered to the next invitee.
    again = offered_times(browser.get(path, params={"tz": "Europe/Paris", "from": monday}).text)
    assert at(monday, 10) not in [start for start, _ in again]
    assert at(monday, 10, 30) in [start for start, _ in again]


def test_answers_are_asked_and_a_wrong_form_keeps_what_was_typed_and_writes_nothing(
    ada: Page, session: Session
) -> None:
    mt = make_type(
        ada,
        questions=[
            {"label": "Company", "kind": "text", "required": True},
            {"label": "Topic", "kind": "select", "options": ["Hiring", "Sales"]},
            {"label": "I agree to be recorded", "kind": "checkbox", "required": True},
        ],
    )
    company, topic, agree = (q["id"] for q in mt["questions"])
    monday = next_monday()
    browser = invitee(ada)
    path = f"/p/{ada.key}/{mt['id']}"
    start = at(monday, 9)
    form = browser.get(path, params={"tz": "Europe/Paris", "start": start}, headers=HTML)
    assert (
        "Company" in form.text and "Hiring" in form.text and "I agree to be recorded" in form.text
    )

    fields = {
        "start": start,
        "tz": "Europe/Paris",
        "name": "Grace <b>Hopper</b>",
        "email": "grace@",
        f"answer-{company}": "",
        f"answer-{topic}": "Sales",
    }
    wrong = browser.post(path, data=fields, headers=HTML)
    assert wrong.status_code == 422
    assert "Please enter a valid email address" in wrong.text
    # Typed values come back, escaped; the start stays chosen.
    assert 'value="Grace &lt;b&gt;Hopper&lt;/b&gt;"' in wrong.text
    assert "<option selected>Sales</option>" in wrong.text
    assert hidden(wrong.text, "start") == start
    assert count(session, Booking) == 0 and count(session, OutboxMessage) == 0

    fields["email"] = "grace@example.com"
    missing = browser.post(path, data=fields, headers=HTML)
    assert missing.status_code == 422
    assert "&#39;Company&#39; is required" in missing.text
    assert "&#39;I agree to be recorded&#39; must be checked" in missing.text
    assert count(session, Booking) == 0

    fields.update({f"answer-{company}": "Navy", f"answer-{agree}": "yes"})
    done = browser.post(path, data=fields, follow_redirects=False)
    assert done.status_code == 303
    session.rollback()
    booking = session.scalars(select(Booking)).one()
    assert booking.answers == {company: "Navy", topic: "Sales", agree: True}
    assert booking.invitee_name == "Grace <b>Hopper</b>"


def test_a_time_taken_meanwhile_is_explained_and_other_times_are_shown(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    browser = invitee(ada)
    path = f"/p/{ada.key}/{ada.t30}"
    form = browser.get(path, params={"tz": "Europe/Paris", "start": at(monday, 10)})
    assert "Your details" in form.text
    assert ada.book(at(monday, 10), email="first@example.com").status_code == 201  # someone else

    late = browser.post(
        path,
        data=booking_form(at(monday, 10)),
        headers=HTML,
    )
    assert late.status_code == 409
    assert "That time was just taken. Please pick another one." in late.text
    starts = [start for start, _ in offered_times(late.text)]
    assert at(monday, 10) not in starts and at(monday, 10, 30) in starts
    assert count(session, Booking) == 1

    # Following an old link to the taken time says so instead of showing the form.
    stale = browser.get(path, params={"tz": "Europe/Paris", "start": at(monday, 10)})
    assert stale.status_code == 200 and "That time is no longer free." in stale.text
    assert "Your details" not in stale.text
    # A time that was never offered (off the grid) is refused at booking too.
    off_grid = browser.post(
        path,
        data=booking_form(at(monday, 10, 10)),
    )
    assert off_grid.status_code == 409 and count(session, Booking) == 1


def test_a_day_without_free_time_points_to_the_next_free_day(ada: Page) -> None:
    monday = next_monday()
    put = ada.client.put(
        "/api/v1/me/availability",
        json={
            "time_zone": "Europe/Paris",
            "weekly": {
                "mon": [],
                "tue": [],
                "wed": [],
                "thu": [],
                "fri": [],
                "sat": [],
                "sun": [],
            },
            "overrides": [
                {
                    "date": (monday + timedelta(days=21)).isoformat(),
                    "intervals": [{"start": "09:00", "end": "10:00"}],
                }
            ],
            "date_range": None,
        },
        headers=ada.account.headers,
    )
    assert put.status_code == 200, put.text
    page = invitee(ada).get(
        f"/p/{ada.key}/{ada.t30}", params={"tz": "Europe/Paris", "from": monday.isoformat()}
    )
    assert offered_times(page.text) == []
    assert "No free times on this day." in page.text
    jump = re.search(r'href="([^"]+)">Next free day: ([^<]+)</a>', page.text)
    assert jump is not None
    assert f"day={monday + timedelta(days=21)}" in unescape(jump.group(1))
    later = invitee(ada).get(unescape(jump.group(1)))
    assert [label for _, label in offered_times(later.text)] == ["09:00", "09:30"]


def test_private_links_book_once_then_say_why_they_stopped(ada: Page, session: Session) -> None:
    mt = make_type(ada, title="Board review", visibility="private")
    headers = ada.account.headers
    single = ada.client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links",
        json={"single_use": True},
        headers=headers,
    ).json()
    browser = invitee(ada)
    monday = next_monday()
    page = browser.get(f"/l/{single['token']}", params={"tz": "Europe/Paris", "from": monday})
    assert page.status_code == 200
    assert "Board review" in page.text and "one booking only" in page.text
    assert "All meeting types" not in page.text  # a private link shows its one type only
    assert (at(monday, 9), "09:00") in offered_times(page.text)
    booked = browser.post(
        f"/l/{single['token']}",
        data=booking_form(at(monday, 9)),
        follow_redirects=False,
    )
    assert booked.status_code == 303
    used = browser.get(f"/l/{single['token']}", headers=HTML)
    assert used.status_code == 410
    assert "This link has been used" in used.text and "one booking only" in used.text
    again = browser.post(
        f"/l/{single['token']}",
        data={"start": at(monday, 11), "tz": "Europe/Paris", "name": "X", "email": "x@example.com"},
        headers=HTML,
    )
    assert again.status_code == 410 and count(session, Booking) == 1

    revoked = ada.client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links", json={}, headers=headers
    ).json()
    ada.client.delete(f"/api/v1/private-links/{revoked['id']}", headers=headers)
    off = browser.get(f"/l/{revoked['token']}", headers=HTML)
    assert off.status_code == 410 and "This link was turned off" in off.text

    expiring = ada.client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links", json={}, headers=headers
    ).json()
    session.rollback()  # write from a fresh transaction, not an old read snapshot
    session.execute(
        update(PrivateLink)
        .where(PrivateLink.id == uuid.UUID(expiring["id"]))
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    session.commit()
    expired = browser.get(f"/l/{expiring['token']}", headers=HTML)
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert browser.get("/l/nothing-here", headers=HTML).status_code == 404


def test_the_pages_speak_french_to_a_french_browser(ada: Page, session: Session) -> None:
    monday = next_monday()
    browser = invitee(ada)
    path = f"/p/{ada.key}/{ada.t30}"
    page = browser.get(path, params={"tz": "Europe/Paris", "from": monday}, headers=FRENCH)
    assert '<html lang="fr">' in page.text
    assert "Choisissez un créneau" in page.text and "lundi" in page.text
    booked = browser.post(
        path,
        data={
            "start": at(monday, 9),
            "tz": "Europe/Paris",
            "name": "Camille Martin",
            "email": "camille@example.com",
        },
        headers=FRENCH,
        follow_redirects=False,
    )
    assert booked.status_code == 303
    session.rollback()
    assert session.scalars(select(Booking.invitee_locale)).one() == "fr"
    manage = browser.get(booked.headers["location"], headers=FRENCH)
    assert "C’est réservé." in manage.text  # noqa: RUF001
    assert "Annuler la réunion" in manage.text  # leads to "Annuler cette réunion ?"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "is not a time zone we know"),
        ({"from": "someday"}, "from"),
        ({"start": "tomorrow at noon"}, "Pick one of the times shown"),
        ({"start": "2026-12-01T10:00:00"}, "Pick one of the times shown"),
        ({"tz": "x" * 65}, "tz"),
    ],
)
def test_hostile_addresses_answer_422_with_a_reason(
    ada: Page, params: dict[str, str], message: str
) -> None:
    answer = invitee(ada).get(f"/p/{ada.key}/{ada.t30}", params=params, headers=HTML)
    assert answer.status_code == 422
    assert message in answer.text


def test_hostile_forms_answer_4xx_and_write_nothing(ada: Page, session: Session) -> None:
    monday = next_monday()
    path = f"/p/{ada.key}/{ada.t30}"
    browser = invitee(ada)
    good = booking_form(at(monday, 9))
    cases = [
        ({**good, "start": ""}, 422),
        ({**good, "tz": "Nowhere/City"}, 422),
        ({**good, "name": "x" * 201}, 422),
        ({**good, "name": "Grace\x00Hopper"}, 422),
        ({**good, "notes": "n" * 5001}, 422),
        ({**good, "email": "a" * 250 + "@example.com"}, 422),
    ]
    for data, status in cases:
        answer = browser.post(path, data=data, headers=HTML)
        assert answer.status_code == status, (data, answer.text[:300])
    assert count(session, Booking) == 0 and count(session, OutboxMessage) == 0


def test_a_signed_in_browser_can_book_and_cancel_with_the_forms_csrf_token(
    ada: Page, session: Session
) -> None:
    """The organizer trying their own page (signed in) still books; the forms carry the token."""
    sign_in(ada.client, "ada@example.com")
    monday = next_monday()
    path = f"/p/{ada.key}/{ada.t30}"
    form = ada.client.get(path, params={"tz": "Europe/Paris", "start": at(monday, 9)})
    fields = {
        "start": at(monday, 9),
        "tz": "Europe/Paris",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
    }
    refused = ada.client.post(path, data=fields, headers=HTML)
    assert refused.status_code == 403 and count(session, Booking) == 0
    booked = ada.client.post(
        path, data={**fields, "csrftoken": hidden(form.text, "csrftoken")}, follow_redirects=False
    )
    assert booked.status_code == 303
    token = booked.headers["location"].split("/b/")[1].split("?")[0]
    ask = ada.client.get(f"/b/{token}/cancel")  # the confirmation step holds the form
    cancelled = ada.client.post(
        f"/b/{token}/cancel",
        data={"csrftoken": hidden(ask.text, "csrftoken")},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    session.rollback()
    assert session.scalars(select(Booking.status)).one() == "cancelled"
