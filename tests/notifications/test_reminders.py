"""Reminders (SPEC 2.8): scheduled with each booking, moved, cancelled, skipped, and sent once
by a running worker to a real SMTP server; no manage token is left readable in the database."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Base, BookingReminder, Job, OutboxMessage, utcnow
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.notifications.test_delivery import Inbox, body_of, with_smtp
from tests.scheduling.test_public_slots import next_monday
from tests.support.jobs import deliver_due, run_due


def reminders_of(page: Page, booking_id: str) -> list[dict[str, Any]]:
    found = page.client.get(f"/api/v1/bookings/{booking_id}", headers=page.account.headers)
    assert found.status_code == 200
    return list(found.json()["reminders"])


def set_reminders(page: Page, reminders: list[dict[str, Any]]) -> None:
    changed = page.client.patch(
        f"/api/v1/meeting-types/{page.t30}",
        json={"reminders": reminders},
        headers=page.account.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["reminders"] == reminders


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_new_types_remind_the_invitee_a_day_before(client: TestClient, session_factory) -> None:  # type: ignore[no-untyped-def]
    page = Page(client, create_account(session_factory, "ada@example.com"))
    types = client.get("/api/v1/meeting-types", headers=page.account.headers).json()["items"]
    assert all(t["reminders"] == [{"minutes_before": 1440, "to": "invitee"}] for t in types)
    made = client.post(
        "/api/v1/meeting-types", json={"title": "Chat"}, headers=page.account.headers
    ).json()
    assert made["reminders"] == [{"minutes_before": 1440, "to": "invitee"}]


def test_reminders_are_validated(client: TestClient, session_factory) -> None:  # type: ignore[no-untyped-def]
    page = Page(client, create_account(session_factory, "ada@example.com"))
    for bad, words in [
        ([{"minutes_before": 0, "to": "invitee"}], "greater than or equal to 1"),
        ([{"minutes_before": 10081, "to": "invitee"}], "less than or equal to 10080"),
        ([{"minutes_before": 60, "to": "everyone"}], "invitee"),
        ([{"minutes_before": m, "to": "invitee"} for m in range(1, 7)], "at most 5"),
        ([{"minutes_before": 60, "to": "both"}] * 2, "the same"),
    ]:
        refused = client.patch(
            f"/api/v1/meeting-types/{page.t30}",
            json={"reminders": bad},
            headers=page.account.headers,
        )
        assert refused.status_code == 422 and words in refused.text, (bad, refused.text)


def test_reminders_are_scheduled_moved_cancelled_and_skipped(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    page = Page(client, create_account(session_factory, "ada@example.com"))
    set_reminders(
        page,
        [
            {"minutes_before": 1440, "to": "invitee"},
            {"minutes_before": 60, "to": "both"},
            {"minutes_before": 10080, "to": "organizer"},  # a week: already past
        ],
    )
    monday = next_monday()
    booked = page.book(at(monday, 10)).json()
    start = instant(booked["start"])
    reminders = {r["minutes_before"]: r for r in reminders_of(page, booked["id"])}
    assert {m: (r["to"], r["status"]) for m, r in reminders.items()} == {
        1440: ("invitee", "scheduled"),
        60: ("both", "scheduled"),
        10080: ("organizer", "skipped"),
    }
    assert instant(reminders[60]["due_at"]) == start - timedelta(minutes=60)
    with session_factory() as session:
        due = {
            j.key: j.run_at
            for j in session.scalars(
                select(Job).where(Job.kind == "reminder", Job.status == "queued")
            )
        }
    assert sorted(due.values()) == [start - timedelta(days=1), start - timedelta(hours=1)]

    # Moving the booking moves its reminders (and their jobs).
    manage = f"/api/v1/public/bookings/{booked['manage_token']}"
    assert client.post(f"{manage}/reschedule", json={"start": at(monday, 14)}).status_code == 200
    moved = {r["minutes_before"]: r for r in reminders_of(page, booked["id"])}
    new_start = start + timedelta(hours=4)
    assert instant(moved[1440]["due_at"]) == new_start - timedelta(days=1)
    assert moved[1440]["status"] == "scheduled" and moved[10080]["status"] == "skipped"
    with session_factory() as session:
        queued = sorted(
            session.scalars(
                select(Job.run_at).where(Job.kind == "reminder", Job.status == "queued")
            )
        )
    assert queued == [new_start - timedelta(days=1), new_start - timedelta(hours=1)]

    # Cancelling cancels the waiting ones; nothing is sent for them.
    assert client.post(f"{manage}/cancel").status_code == 200
    cancelled = {r["minutes_before"]: r["status"] for r in reminders_of(page, booked["id"])}
    assert cancelled == {1440: "cancelled", 60: "cancelled", 10080: "skipped"}
    with session_factory() as session:
        assert not session.scalars(
            select(Job).where(Job.kind == "reminder", Job.status == "queued")
        ).all()


def test_a_reminder_is_sent_once_by_the_running_worker(
    settings: Settings,
    session_factory: sessionmaker[Session],
    smtp: tuple[Inbox, Any],
) -> None:
    from bookwithme.app import create_app

    inbox, sender = smtp
    with TestClient(create_app(with_smtp(settings, sender))) as client:
        page = Page(client, create_account(session_factory, "ada@example.com"))
        set_reminders(page, [{"minutes_before": 120, "to": "both"}])
        booked = page.book(at(next_monday(2), 10), locale="fr").json()
        wait_for(lambda: len(inbox.messages) == 2)  # the two confirmations
        # Two hours before the meeting: the reminder (and its job) fall due now.
        with session_scope(session_factory, write=True) as session:
            session.execute(update(BookingReminder).values(due_at=utcnow()))
            session.execute(
                update(Job)
                .where(Job.kind == "reminder", Job.status == "queued")
                .values(run_at=utcnow())
            )
        wait_for(lambda: len(inbox.messages) == 4)
        time.sleep(1.5)  # a second look by the worker sends nothing more
    reminders = [
        m for m in inbox.messages if "Rappel" in m["Subject"] or "Reminder" in m["Subject"]
    ]
    assert len(reminders) == 2 and len(inbox.messages) == 4
    to_invitee = next(m for m in reminders if m["To"] == "grace@example.com")
    assert to_invitee["Subject"] == "Rappel : 30 minute meeting avec Ada Lovelace"
    text = body_of(to_invitee, "plain")
    assert "Rappel de votre rendez-vous avec Ada Lovelace." in text
    assert booked["manage_url"] in text and booked["online_meeting_url"] in text
    assert "America/New_York" in text  # the invitee's zone
    to_organizer = next(m for m in reminders if m["To"] == "ada@example.com")
    assert "A reminder of your meeting with Grace Hopper." in body_of(to_organizer, "plain")
    assert booked["manage_url"] not in body_of(to_organizer, "plain")
    with session_factory() as session:
        [reminder] = session.scalars(select(BookingReminder)).all()
        assert (reminder.status, reminder.manage_url_sealed) == ("sent", None)
        assert reminder.sent_at is not None
    assert_token_nowhere(session_factory, booked["manage_token"])


def test_no_manage_token_is_readable_in_the_database(
    client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, Any],
) -> None:
    inbox, sender = smtp
    page = Page(client, create_account(session_factory, "ada@example.com"))
    booked = page.book(at(next_monday(), 10)).json()
    # Waiting in the outbox, the emails are encrypted; the token is nowhere in clear.
    assert_token_nowhere(session_factory, booked["manage_token"])
    assert deliver_due(session_factory, settings, sender) == 2
    assert booked["manage_url"] in body_of(inbox.to("grace@example.com")[0], "plain")
    # Delivered, the bodies are gone; the metadata stays.
    with session_factory() as session:
        sent = session.scalars(select(OutboxMessage)).all()
        assert {(m.status, m.body_text, m.body_html, m.ics) for m in sent} == {
            ("sent", None, None, None)
        }
        assert {m.recipient for m in sent} == {"grace@example.com", "ada@example.com"}
    assert_token_nowhere(session_factory, booked["manage_token"])
    assert run_due(session_factory, settings, ["email"]) == []


def wait_for(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_token_nowhere(factory: sessionmaker[Session], token: str) -> None:
    """No row of any table holds the raw manage token."""
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert token not in repr(tuple(row)), f"the manage token is readable in {table}"
