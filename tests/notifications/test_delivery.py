"""Emails reach a real SMTP server (aiosmtpd), with invitations that calendars accept, and
nothing written to the outbox is lost or sent twice."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta
from email.message import Message

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.config import Settings
from bookwithme.models import Job, OutboxMessage, utcnow
from bookwithme.notifications.delivery import (
    LEASE,
    MAX_ATTEMPTS,
    SMTPConfig,
    SMTPSender,
    SMTPSettingsError,
)
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday
from tests.support.jobs import deliver_due


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """What the test SMTP server received: each message parsed, and as the bytes sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.raw.append(envelope.content)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def with_smtp(settings: Settings, sender: SMTPSender) -> Settings:
    """``settings`` delivering through ``sender``'s server, with the worker inside the app."""
    return settings.model_copy(
        update={
            "smtp_url": f"smtp://{sender.config.host}:{sender.config.port}",
            "embedded_worker": True,
        }
    )


def calendar_of(message: Message) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    attachments = [p for p in message.walk() if p.get_content_type() == "application/ics"]
    assert len(attachments) == 1
    payload = parts[0].get_payload(decode=True)
    assert payload == attachments[0].get_payload(decode=True)
    return Calendar.from_ical(payload)


def body_of(message: Message, subtype: str) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == f"text/{subtype}")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_invitee_and_organizer_get_invitations_through_smtp(
    ada: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    monday = next_monday()
    booked = ada.book(
        at(monday, 10), locale="fr", time_zone="America/New_York", answers={}, notes="Hello"
    ).json()
    assert deliver_due(session_factory, settings, sender, worker="w1") == 2

    invitee = inbox.to("grace@example.com")[0]
    assert invitee["Subject"] == "Confirmé : 30 minute meeting avec Ada Lovelace"
    assert invitee["From"] == "Ada Lovelace via bookwithme <bookings@localhost>"
    assert invitee["Reply-To"] == "Ada Lovelace <ada@example.com>"
    text = body_of(invitee, "plain")
    assert (
        booked["manage_url"] in text and "Votre rendez-vous avec Ada Lovelace est réservé." in text
    )
    assert booked["manage_url"] in body_of(invitee, "html")
    cal = calendar_of(invitee)
    assert cal["METHOD"] == "REQUEST"
    event = cal.walk("VEVENT")[0]
    uid = str(event["UID"])
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=-5)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)
    assert str(event["ORGANIZER"]) == "mailto:ada@example.com"
    assert str(event["ATTENDEE"]) == "mailto:grace@example.com"
    assert str(event["LOCATION"]) == booked["online_meeting_url"] == str(event["URL"])
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"

    organizer = inbox.to("ada@example.com")[0]
    assert organizer["Subject"] == "Confirmed: 30 minute meeting with Grace Hopper"
    organizer_text = body_of(organizer, "plain")
    assert "Grace Hopper <grace@example.com>" in organizer_text and "Hello" in organizer_text
    assert booked["manage_url"] not in organizer_text
    organizer_event = calendar_of(organizer).walk("VEVENT")[0]
    assert str(organizer_event["UID"]) == uid
    assert organizer_event["DTSTART"].params["TZID"] == "Europe/Paris"

    # Moving and cancelling keep the UID and raise the SEQUENCE.
    manage = f"/api/v1/public/bookings/{booked['manage_token']}"
    ada.client.post(f"{manage}/reschedule", json={"start": at(monday, 11)})
    ada.client.post(f"{manage}/cancel", json={"reason": "Sick"})
    assert deliver_due(session_factory, settings, sender, worker="w1") == 4
    invitee_mail = inbox.to("grace@example.com")
    methods = [
        (calendar_of(m)["METHOD"], int(calendar_of(m).walk("VEVENT")[0]["SEQUENCE"]))
        for m in invitee_mail
    ]
    assert methods == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
    assert {str(calendar_of(m).walk("VEVENT")[0]["UID"]) for m in inbox.messages} == {uid}
    assert invitee_mail[1]["Subject"].startswith("Modifié")
    assert booked["manage_url"] in body_of(invitee_mail[1], "plain")
    cancelled = inbox.to("ada@example.com")[-1]
    assert cancelled["Subject"] == "Cancelled: 30 minute meeting with Grace Hopper"
    assert "Sick" in body_of(cancelled, "plain")
    assert calendar_of(cancelled).walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    # Nothing is sent twice.
    assert deliver_due(session_factory, settings, sender, worker="w1") == 0
    assert len(inbox.messages) == 6


def test_failures_are_retried_with_backoff_then_given_up(
    ada: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    session: Session,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    ada.book(at(next_monday(), 10))
    nobody = SMTPSender(SMTPConfig.from_url(f"smtp://127.0.0.1:{free_port()}"), timeout=2)
    now = utcnow()
    assert deliver_due(session_factory, settings, nobody, worker="w1", now=now) == 0
    rows = session.scalars(select(OutboxMessage)).all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.last_error and "Connection refused" in r.last_error for r in rows)
    # The first retry comes within 30 seconds (a random part spreads retries out).
    assert all(
        now + timedelta(seconds=15) <= r.next_attempt_at <= now + timedelta(seconds=30)
        for r in rows
    )
    # Not due yet: nothing is tried.
    assert (
        deliver_due(session_factory, settings, sender, worker="w1", now=now + timedelta(seconds=10))
        == 0
    )
    assert inbox.messages == []
    # Due: delivered.
    assert (
        deliver_due(session_factory, settings, sender, worker="w1", now=now + timedelta(seconds=31))
        == 2
    )
    session.rollback()  # a new snapshot
    assert {
        (r.status, r.attempts, r.last_error) for r in session.scalars(select(OutboxMessage))
    } == {("sent", 2, None)}

    # A message that keeps failing is given up after MAX_ATTEMPTS, and stays readable.
    ada.book(at(next_monday(), 11))
    later = now
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(days=1)
        deliver_due(session_factory, settings, nobody, worker="w1", now=later)
    session.rollback()  # a new snapshot
    failed = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
    assert len(failed) == 2 and all(r.attempts == MAX_ATTEMPTS for r in failed)


def test_a_crash_loses_no_email_and_sends_none_twice(
    ada: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    session: Session,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    ada.book(at(next_monday(), 10))  # committed with its two outbox rows; no worker ran

    class Crash(BaseException):  # the process dies: nothing after it runs
        pass

    class DiesWhileSending:
        def send(self, message):  # type: ignore[no-untyped-def]
            raise Crash  # the process dies here, holding the lease

        def close(self) -> None:
            pass

    now = utcnow()
    with pytest.raises(Crash):
        deliver_due(session_factory, settings, DiesWhileSending(), worker="dead-worker", now=now)
    # After the restart the rows are still there, claimed by the dead worker until the lease ends.
    session.rollback()  # a new snapshot
    rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"pending"}
    held = session.scalars(select(Job).where(Job.kind == "email")).all()
    assert {(j.status, j.locked_by) for j in held} == {("running", "dead-worker")}
    assert (
        deliver_due(
            session_factory, settings, sender, worker="new-worker", now=now + timedelta(seconds=5)
        )
        == 0
    )
    assert (
        deliver_due(
            session_factory,
            settings,
            sender,
            worker="new-worker",
            now=now + LEASE + timedelta(seconds=1),
        )
        == 2
    )
    assert (
        deliver_due(session_factory, settings, sender, worker="new-worker", now=now + LEASE * 3)
        == 0
    )
    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.com", "grace@example.com"]
    message_ids = {m["Message-ID"] for m in inbox.messages}
    assert len(message_ids) == 2


def test_a_crash_mid_batch_resends_only_what_the_server_had_not_accepted(
    ada: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    session: Session,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    for hour in (9, 11, 14):
        ada.book(at(next_monday(), hour))  # six emails in the outbox

    class Crash(BaseException):
        pass

    class DiesAfterThree:
        """Hands three messages to the real SMTP server, then the process dies."""

        def __init__(self) -> None:
            self.sent = 0

        def send(self, message):  # type: ignore[no-untyped-def]
            if self.sent == 3:
                raise Crash
            sender.send(message)
            self.sent += 1

        def close(self) -> None:
            sender.close()

    now = utcnow()
    with pytest.raises(Crash):
        deliver_due(session_factory, settings, DiesAfterThree(), worker="dead-worker", now=now)
    session.rollback()
    rows = session.scalars(select(OutboxMessage)).all()
    assert sorted(r.status for r in rows) == ["pending"] * 3 + ["sent"] * 3
    assert len(inbox.messages) == 3
    # The rest waits for the lease (renewed after each message) to run out, then goes once.
    later = now + LEASE + timedelta(seconds=5)
    assert deliver_due(session_factory, settings, sender, worker="new-worker", now=later) == 3
    assert (
        deliver_due(session_factory, settings, sender, worker="new-worker", now=later + LEASE) == 0
    )
    message_ids = [m["Message-ID"] for m in inbox.messages]
    assert len(message_ids) == 6 and len(set(message_ids)) == 6
    session.rollback()
    stored = {r.message_id for r in session.scalars(select(OutboxMessage))}
    assert stored == set(message_ids)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "smtp://"),
        ("smtp://", "host"),
        ("smtp://mail.example.com:99999", "port"),
    ],
)
def test_bad_smtp_urls_are_explained(url: str, problem: str) -> None:
    with pytest.raises(SMTPSettingsError, match=problem):
        SMTPConfig.from_url(url)


def test_smtp_urls() -> None:
    plain = SMTPConfig.from_url("smtp://user%40example.com:p%40ss@mail.example.com:587")
    assert (plain.host, plain.port, plain.username, plain.password, plain.implicit_tls) == (
        "mail.example.com",
        587,
        "user@example.com",
        "p@ss",
        False,
    )
    assert SMTPConfig.from_url("smtps://mail.example.com").port == 465


def test_the_embedded_worker_delivers_right_after_the_booking(
    settings, smtp: tuple[Inbox, SMTPSender], session_factory: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    import time

    from bookwithme.app import create_app

    inbox, sender = smtp
    app = create_app(with_smtp(settings, sender))
    with TestClient(app) as client:
        page = Page(
            client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
        )
        page.book(at(next_monday(), 10))
        deadline = time.monotonic() + 10
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.com", "grace@example.com"]
