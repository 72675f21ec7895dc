"""What the booking emails say and whom they answer to (SPEC 2.10, issue 11): the invitee's
emails answer to the organizer and the organizer's to the invitee, they come from
"<organizer> via bookwithme" at MAIL_FROM's address, each tells when the meeting starts and
ends in the reader's zone and language, and a move shows the old time, then the new one.
Delivered through a real SMTP server (aiosmtpd) and read back with the email package."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.bookings import service
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.models import Booking, BookingReminder, Job, OutboxMessage, utcnow
from bookwithme.notifications.delivery import SMTPSender, build_message
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.notifications.test_delivery import Inbox
from tests.notifications.test_delivery import body_of as raw_body_of
from tests.notifications.test_reminders import set_reminders
from tests.scheduling.test_public_slots import next_monday
from tests.support.jobs import deliver_due, run_due

ZOE = 'Zoë "Z" Lovelace, PhD'  # non-ASCII, a quote and a comma: all must survive a header
NEW_YORK, PARIS = "America/New_York", "Europe/Paris"
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FR_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def span(start: str, zone: str, locale: str, minutes: int = 30) -> str:
    """A 30-minute meeting from ``start`` as the emails should write it, spelled out here
    rather than with the Babel calls the code uses."""
    begin = datetime.fromisoformat(start).astimezone(ZoneInfo(zone))
    end = begin + timedelta(minutes=minutes)
    if locale == "fr":
        day = f"{FR_DAYS[begin.weekday()]} {begin.day} {FR_MONTHS[begin.month - 1]} {begin.year}"
    else:
        day = f"{EN_DAYS[begin.weekday()]}, {EN_MONTHS[begin.month - 1]} {begin.day}, {begin.year}"
    return f"{day}, {begin:%H:%M} \u2013 {end:%H:%M}"


def body_of(message: Message, subtype: str) -> str:
    """A part's text with the line ends it was written with (SMTP carries CRLF)."""
    return raw_body_of(message, subtype).replace("\r\n", "\n")


@pytest.fixture
def zoe(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(client, create_account(session_factory, "zoe@example.com", name=ZOE))


def assert_headers(message: Message, *, from_name: str, reply_to: tuple[str, str]) -> None:
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        f"{from_name} via bookwithme",
        "bookings@localhost",  # MAIL_FROM's address
    )
    [answer] = message["Reply-To"].addresses
    assert (answer.display_name, answer.addr_spec) == reply_to


def assert_headers_ascii(raw: bytes) -> None:
    """Non-ASCII names are encoded (RFC 2047), not sent as raw UTF-8 bytes."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert head.isascii()
    from_line = next(line for line in head.splitlines() if line.startswith(b"From:"))
    assert b"=?utf-8?" in from_line


def test_emails_answer_to_the_other_side_and_say_when_in_their_language(
    zoe: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    monday = next_monday()
    booked = zoe.book(at(monday, 10), locale="fr", time_zone=NEW_YORK).json()
    manage = f"/api/v1/public/bookings/{booked['manage_token']}"
    assert deliver_due(session_factory, settings, sender) == 2
    moved = zoe.client.post(f"{manage}/reschedule", json={"start": at(monday, 11)})
    assert moved.status_code == 200, moved.text
    assert deliver_due(session_factory, settings, sender) == 2
    zoe.client.post(f"{manage}/cancel", json={"reason": "Malade"})
    assert deliver_due(session_factory, settings, sender) == 2

    to_invitee = inbox.to("grace@example.com")
    to_organizer = inbox.to("zoe@example.com")
    assert len(to_invitee) == len(to_organizer) == 3
    for message in to_invitee:
        assert_headers(message, from_name=ZOE, reply_to=(ZOE, "zoe@example.com"))
    for message in to_organizer:
        assert_headers(message, from_name=ZOE, reply_to=("Grace Hopper", "grace@example.com"))
    for raw in inbox.raw:
        assert_headers_ascii(raw)

    # The invitee reads French, in New York time; the organizer English, in Paris time.
    old_fr, new_fr = span(at(monday, 10), NEW_YORK, "fr"), span(at(monday, 11), NEW_YORK, "fr")
    old_en, new_en = span(at(monday, 10), PARIS, "en"), span(at(monday, 11), PARIS, "en")
    confirmed, rescheduled, cancelled = to_invitee
    for part in ("plain", "html"):
        assert f"{old_fr}" in body_of(confirmed, part)
    assert f"Quand : {old_fr} (America/New_York)\n" in body_of(confirmed, "plain")
    assert f"When: {old_en} (Europe/Paris)\n" in body_of(to_organizer[0], "plain")

    # A move: the old time, then the new one, in both languages and both parts.
    text = body_of(rescheduled, "plain")
    assert (
        f"Ancien créneau : {old_fr} (America/New_York)\n"
        f"Nouveau créneau : {new_fr} (America/New_York)\n"
    ) in text
    assert "Quand" not in text and "Motif" not in text  # no reason was given
    html = body_of(rescheduled, "html")
    assert html.index(f"<s>{old_fr}</s>") < html.index(f"<strong>{new_fr}</strong>")
    organizer_text = body_of(to_organizer[1], "plain")
    assert "Grace Hopper moved their meeting with you." in organizer_text
    assert (
        f"Old time: {old_en} (Europe/Paris)\nNew time: {new_en} (Europe/Paris)\n"
    ) in organizer_text
    organizer_html = body_of(to_organizer[1], "html")
    assert organizer_html.index(old_en) < organizer_html.index(new_en)

    # The cancellation names the time that is no longer held, and the reason.
    assert f"Quand : {new_fr} (America/New_York)\nMotif : Malade\n" in body_of(cancelled, "plain")
    assert f"When: {new_en} (Europe/Paris)\nReason: Malade\n" in body_of(to_organizer[2], "plain")
    assert new_en in body_of(to_organizer[2], "html")


def test_an_organizers_move_gives_the_reason_in_each_language(
    zoe: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    changed = zoe.client.patch("/api/v1/me", json={"locale": "fr"}, headers=zoe.account.headers)
    assert changed.status_code == 200, changed.text
    monday = next_monday()
    booked = zoe.book(at(monday, 10), locale="en", time_zone=NEW_YORK).json()
    with session_scope(session_factory, write=True) as session:
        booking = session.get_one(Booking, uuid.UUID(booked["id"]))
        service.reschedule(
            session,
            booking,
            datetime.fromisoformat(at(monday, 14)),
            utcnow(),
            settings,
            booked["manage_url"],
            reason="The room is taken <sorry>",
            by="organizer",
        )
    assert deliver_due(session_factory, settings, sender) == 4
    [_, to_invitee] = inbox.to("grace@example.com")
    [_, to_organizer] = inbox.to("zoe@example.com")
    assert_headers(to_invitee, from_name=ZOE, reply_to=(ZOE, "zoe@example.com"))
    assert_headers(to_organizer, from_name=ZOE, reply_to=("Grace Hopper", "grace@example.com"))

    text = body_of(to_invitee, "plain")
    assert f"Your meeting with {ZOE} has moved." in text
    assert (
        f"Old time: {span(at(monday, 10), NEW_YORK, 'en')} (America/New_York)\n"
        f"New time: {span(at(monday, 14), NEW_YORK, 'en')} (America/New_York)\n"
        "Reason: The room is taken <sorry>\n"
    ) in text
    assert "The room is taken &lt;sorry&gt;" in body_of(to_invitee, "html")

    organizer_text = body_of(to_organizer, "plain")
    assert "Vous avez déplacé votre rendez-vous avec Grace Hopper." in organizer_text
    assert (
        f"Ancien créneau : {span(at(monday, 10), PARIS, 'fr')} (Europe/Paris)\n"
        f"Nouveau créneau : {span(at(monday, 14), PARIS, 'fr')} (Europe/Paris)\n"
        "Motif : The room is taken <sorry>\n"
    ) in organizer_text
    organizer_html = body_of(to_organizer, "html")
    assert "Vous avez déplacé votre rendez-vous avec Grace Hopper." in organizer_html
    assert f"<s>{span(at(monday, 10), PARIS, 'fr')}</s>" in organizer_html


def test_reminders_answer_to_the_other_side_and_say_when(
    zoe: Page,
    session_factory: sessionmaker[Session],
    settings: Settings,
    smtp: tuple[Inbox, SMTPSender],
) -> None:
    inbox, sender = smtp
    set_reminders(zoe, [{"minutes_before": 120, "to": "both"}])
    start = at(next_monday(2), 10)
    zoe.book(start, locale="fr", time_zone=NEW_YORK)
    assert deliver_due(session_factory, settings, sender) == 2
    with session_scope(session_factory, write=True) as session:
        session.execute(update(BookingReminder).values(due_at=utcnow()))
        session.execute(
            update(Job)
            .where(Job.kind == "reminder", Job.status == "queued")
            .values(run_at=utcnow())
        )
    assert run_due(session_factory, settings, ["reminder"]) == ["done"]
    assert deliver_due(session_factory, settings, sender) == 2
    to_invitee = inbox.to("grace@example.com")[-1]
    to_organizer = inbox.to("zoe@example.com")[-1]
    assert to_invitee["Subject"].startswith("Rappel")
    assert_headers(to_invitee, from_name=ZOE, reply_to=(ZOE, "zoe@example.com"))
    assert_headers(to_organizer, from_name=ZOE, reply_to=("Grace Hopper", "grace@example.com"))
    assert f"Quand : {span(start, NEW_YORK, 'fr')} (America/New_York)\n" in body_of(
        to_invitee, "plain"
    )
    assert f"When: {span(start, PARIS, 'en')} (Europe/Paris)\n" in body_of(to_organizer, "plain")
    assert span(start, PARIS, "en") in body_of(to_organizer, "html")


# --- the headers themselves, without a database ------------------------------------------

SECRET = "test-secret-key-" + "x" * 32


def built(mail_from: str, headers: dict[str, object] | None) -> Message:
    """The message as built for delivery, then read back from its bytes."""
    row = OutboxMessage(
        id=uuid.uuid4(),
        kind="booking_created_invitee",
        recipient="grace@example.com",
        subject="Confirmed",
        body_text="Hello\n",
        body_html=None,
        ics=None,
        locale="en",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    message: EmailMessage = build_message(row, mail_from, SECRET, headers)
    raw = message.as_bytes()
    assert raw.split(b"\n\n", 1)[0].isascii()
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_name_cannot_add_headers() -> None:
    message = built(
        "bookwithme <bookings@localhost>",
        {
            "sender_name": "Eve\r\nBcc: victim@example.com\nX-Evil: 1",
            "reply_to": ["Eve\r\nCc: other@example.com", "eve@example.com"],
        },
    )
    assert message["Bcc"] is None and message["Cc"] is None and message["X-Evil"] is None
    [sender] = message["From"].addresses
    assert sender.display_name == "Eve Bcc: victim@example.com X-Evil: 1 via bookwithme"
    assert sender.addr_spec == "bookings@localhost"
    [answer] = message["Reply-To"].addresses
    assert (answer.display_name, answer.addr_spec) == (
        "Eve Cc: other@example.com",
        "eve@example.com",
    )
    # An address that is not one is left out rather than sent broken.
    bad = built(
        "bookings@localhost",
        {"sender_name": "Ada", "reply_to": ["Ada", "ada@example.com\r\nBcc: x@example.com"]},
    )
    assert bad["Reply-To"] is None and bad["Bcc"] is None


def test_the_sender_keeps_mail_froms_address_and_name() -> None:
    named = built("Acme Meetings <meet@acme.test>", {"sender_name": 'Zoë, the "boss"'})
    [sender] = named["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        'Zoë, the "boss" via Acme Meetings',
        "meet@acme.test",
    )
    bare = built("meet@acme.test", {"sender_name": "Ada"})
    assert str(bare["From"]) == "Ada via bookwithme <meet@acme.test>"
    # The service's own emails (a webhook turned off) come from MAIL_FROM as it is.
    own = built("bookwithme <bookings@localhost>", {"message": "x"})
    assert str(own["From"]) == "bookwithme <bookings@localhost>"
    assert own["Reply-To"] is None
