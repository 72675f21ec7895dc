"""Reminders in the organizer's pages: written on the meeting-type page ("24 hours before,
to the invitee"), and read on the bookings list, each with its status."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import BookingReminder
from bookwithme.notifications.reminders import send_due
from tests.bookings.test_booking_api import Page
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}
PARIS = ZoneInfo("Europe/Paris")
# The rest of the meeting-type form, as the page fills it for the "30 minute meeting".
BASE = {
    "title": "30 minute meeting",
    "duration_minutes": "30",
    "visibility": "public",
    "location_kind": "online",
    "active": "on",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "0",
    "minimum_notice_minutes": "0",
    "max_advance_days": "60",
}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    return account


def the_type(client: TestClient, account: Account) -> dict[str, Any]:
    items = client.get("/api/v1/meeting-types", headers=account.headers).json()["items"]
    return {"id": items[1]["id"], "title": items[1]["title"]}


def reminders_of(client: TestClient, account: Account, type_id: str) -> Any:
    found = client.get(f"/api/v1/meeting-types/{type_id}", headers=account.headers)
    return found.json()["reminders"]


def row(html: str, i: int) -> dict[str, Any]:
    """What row ``i`` of the reminders shows: its number, unit, recipient, Remove box."""
    amount = re.search(rf'name="r{i}_amount"[^>]*value="([^"]*)"', html, re.S)
    unit = re.search(rf'name="r{i}_unit".*?<option value="(\w+)" selected', html, re.S)
    to = re.search(rf'name="r{i}_to".*?<option value="(\w+)" selected', html, re.S)
    return {
        "amount": amount.group(1) if amount else None,
        "unit": unit.group(1) if unit else None,
        "to": to.group(1) if to else None,
        "remove": f'name="r{i}_remove"' in html,
    }


def test_reminders_are_added_changed_and_removed_on_the_meeting_type_page(
    client: TestClient, ada: Account
) -> None:
    type_id = the_type(client, ada)["id"]
    form = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    # A new type reminds the invitee a day before; one empty row adds another.
    assert row(form, 0) == {"amount": "24", "unit": "hours", "to": "invitee", "remove": True}
    assert row(form, 1)["amount"] == "" and not row(form, 1)["remove"]
    assert 'name="r2_amount"' not in form

    saved = post(
        client,
        f"/meeting-types/{type_id}",
        **BASE,
        r0_amount="24",
        r0_unit="hours",
        r0_to="invitee",
        r1_amount="2",
        r1_unit="days",
        r1_to="organizer",
    )
    assert saved.status_code == 303, saved.text
    assert reminders_of(client, ada, type_id) == [
        {"minutes_before": 1440, "to": "invitee"},
        {"minutes_before": 2880, "to": "organizer"},
    ]
    form = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    assert row(form, 1) == {"amount": "2", "unit": "days", "to": "organizer", "remove": True}
    assert row(form, 2)["amount"] == ""

    # Remove ticked on the first row, its number cleared on the second, a third added.
    post(
        client,
        f"/meeting-types/{type_id}",
        **BASE,
        r0_amount="24",
        r0_unit="hours",
        r0_to="invitee",
        r0_remove="on",
        r1_amount="",
        r1_unit="days",
        r1_to="organizer",
        r2_amount="90",
        r2_unit="minutes",
        r2_to="both",
    )
    assert reminders_of(client, ada, type_id) == [{"minutes_before": 90, "to": "both"}]
    form = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    assert row(form, 0) == {"amount": "90", "unit": "minutes", "to": "both", "remove": True}

    # Five at most: with five, no empty row is offered.
    five = {f"r{i}_amount": str(i + 1) for i in range(5)}
    five |= {f"r{i}_unit": "hours" for i in range(5)} | {f"r{i}_to": "both" for i in range(5)}
    assert post(client, f"/meeting-types/{type_id}", **BASE, **five).status_code == 303
    assert [r["minutes_before"] for r in reminders_of(client, ada, type_id)] == [
        60,
        120,
        180,
        240,
        300,
    ]
    form = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    assert 'name="r4_amount"' in form and 'name="r5_amount"' not in form

    # No rows at all: every reminder removed.
    post(client, f"/meeting-types/{type_id}", **BASE, r0_amount="", r0_unit="hours", r0_to="both")
    assert reminders_of(client, ada, type_id) == []
    # A form without the reminder rows (an older page) leaves them as they are.
    client.patch(
        f"/api/v1/meeting-types/{type_id}",
        json={"reminders": [{"minutes_before": 15, "to": "organizer"}]},
        headers=ada.headers,
    )
    assert post(client, f"/meeting-types/{type_id}", **BASE).status_code == 303
    assert reminders_of(client, ada, type_id) == [{"minutes_before": 15, "to": "organizer"}]


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ({"r1_amount": "8", "r1_unit": "days"}, 1, "at most 7 days (168 hours) before"),
        ({"r1_amount": "169", "r1_unit": "hours"}, 1, "at most 7 days (168 hours) before"),
        ({"r1_amount": "10081", "r1_unit": "minutes"}, 1, "at most 7 days (168 hours) before"),
        ({"r1_amount": "0"}, 1, "at least 1 minute before"),
        ({"r1_amount": "-2"}, 1, "at least 1 minute before"),
        ({"r1_amount": "soon"}, 1, "Enter a whole number"),
        ({"r1_amount": "1.5"}, 1, "Enter a whole number"),
        ({"r1_amount": "1", "r1_unit": "days"}, 1, "the same as reminder 1"),
        ({"r1_amount": "2", "r1_unit": "weeks"}, 1, "Choose minutes, hours or days"),
        ({"r1_amount": "2", "r1_to": "everyone"}, 1, "Choose who gets the reminder"),
    ],
)
def test_wrong_reminders_are_explained_next_to_their_row_and_nothing_is_saved(
    client: TestClient, ada: Account, rows: dict[str, str], field: int, message: str
) -> None:
    mt = the_type(client, ada)
    form = {
        **BASE,
        "title": "Renamed",  # saved only if everything is right
        "r0_amount": "24",
        "r0_unit": "hours",
        "r0_to": "invitee",
        "r1_unit": "hours",
        "r1_to": "invitee",
        **rows,
    }
    answer = post(client, f"/meeting-types/{mt['id']}", **form)
    assert answer.status_code == 422
    text = unescape(answer.text)
    assert "Nothing was saved" in text
    error = re.search(rf'<p class="error" id="e-r{field}">([^<]*)</p>', text)
    assert error is not None and message in error.group(1), text
    assert f'aria-describedby="e-r{field}"' in answer.text
    # What was typed is shown again, to be corrected.
    assert row(answer.text, field)["amount"] == rows[f"r{field}_amount"]
    saved = client.get(f"/api/v1/meeting-types/{mt['id']}", headers=ada.headers).json()
    assert saved["title"] == mt["title"]
    assert saved["reminders"] == [{"minutes_before": 1440, "to": "invitee"}]


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL the app sends while the test runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_the_bookings_list_shows_each_reminder_and_its_status(
    client: TestClient,
    ada: Account,
    session_factory: sessionmaker[Session],
    settings: Settings,
    statements: list[str],
) -> None:
    every_day = [{"start": "00:00", "end": "24:00"}]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    client.put(
        "/api/v1/me/availability",
        json={"time_zone": "Europe/Paris", "weekly": {d: every_day for d in days}},
        headers=ada.headers,
    )
    page = Page(client, ada)
    client.patch(
        f"/api/v1/meeting-types/{page.t30}",
        json={
            "reminders": [
                {"minutes_before": 1440, "to": "invitee"},
                {"minutes_before": 60, "to": "organizer"},
                {"minutes_before": 10080, "to": "both"},
            ]
        },
        headers=ada.headers,
    )
    invitee = TestClient(client.app)
    page.client = invitee
    # Two and three days ahead: a week before has passed already, so that one is skipped.
    in_two_days = (datetime.now(PARIS) + timedelta(days=2)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    first = page.book(in_two_days.isoformat()).json()
    second = page.book((in_two_days + timedelta(days=1)).isoformat(), name="Alan Turing")
    assert second.status_code == 201, second.text
    third = page.book((in_two_days + timedelta(days=1, hours=2)).isoformat()).json()

    # The first day-before reminder is sent when it is due (as its job would, on time).
    with session_scope(session_factory, write=True) as session:
        reminder = session.scalars(
            select(BookingReminder).where(
                BookingReminder.booking_id == uuid.UUID(first["id"]),
                BookingReminder.minutes_before == 1440,
            )
        ).one()
        assert send_due(
            session,
            reminder.id,
            settings.resolved_secret_key,
            reminder.due_at + timedelta(minutes=1),
        )
    invitee.post(f"/api/v1/public/bookings/{third['manage_token']}/cancel")

    detail = client.get(f"/api/v1/bookings/{first['id']}", headers=ada.headers).json()
    assert {(r["to"], r["status"]) for r in detail["reminders"]} == {
        ("invitee", "sent"),
        ("organizer", "scheduled"),
        ("both", "skipped"),
    }

    statements.clear()
    listing = client.get("/bookings", headers=HTML)
    assert listing.status_code == 200
    reads = [s for s in statements if re.search(r"FROM booking_reminders", s)]
    assert len(reads) == 1, reads  # one query for every booking on the page

    blocks = unescape(listing.text).split('<article class="booking-row">')[1:]
    assert len(blocks) == 2  # the cancelled one is on its own tab

    def lines(block: str) -> list[str]:
        found = re.findall(r"<li>(Reminder [^:]*): <span[^>]*>(\w+)</span>", block)
        return [f"{what}: {status}" for what, status in found]

    assert "Grace Hopper" in blocks[0] and lines(blocks[0]) == [
        "Reminder to you and the invitee 7 days before: skipped",
        "Reminder to the invitee 24 hours before: sent",
        "Reminder to you 1 hour before: scheduled",
    ]
    assert "Alan Turing" in blocks[1] and lines(blocks[1]) == [
        "Reminder to you and the invitee 7 days before: skipped",
        "Reminder to the invitee 24 hours before: scheduled",
        "Reminder to you 1 hour before: scheduled",
    ]
    assert "had already passed when the booking was made" in blocks[0]

    cancelled = unescape(client.get("/bookings?show=cancelled", headers=HTML).text)
    assert "Reminder to the invitee 24 hours before: " in cancelled
    assert re.search(r"Reminder to you 1 hour before: <span[^>]*>cancelled</span>", cancelled)
