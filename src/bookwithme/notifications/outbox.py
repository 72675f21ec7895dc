"""Writing emails to the outbox, in the transaction of the change that causes them.

Each message is stored with its bodies encrypted (they hold the invitee's manage link) and
gets one ``email`` job; the worker delivers it and then drops the bodies. The job's payload
names the message and what its headers say of the people behind it: the name shown before
"via bookwithme" in From, and the Reply-To (``delivery.build_message``)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.models import Booking, OutboxMessage, User
from bookwithme.notifications.emails import Change, Email, Event, booking_emails
from bookwithme.secrets_box import MAIL, SecretUnreadable, seal, unseal

EMAIL_JOB = "email"
_FERNET_PREFIX = "gAAAAA"
_MANAGE_LINK = re.compile(r"/b/[A-Za-z0-9_-]{16,}")
HIDDEN_LINK = "/b/[manage link hidden]"


def question_labels(questions: list[dict[str, Any]]) -> dict[str, str]:
    return {q["id"]: q["label"] for q in questions}


def _sealed(secret_key: str, value: str | None) -> str | None:
    return None if value is None else seal(secret_key, value, MAIL)


def opened(secret_key: str, value: str | None) -> str | None:
    """A stored body as written (bodies stored before they were encrypted read as they are)."""
    if value is None or not value.startswith(_FERNET_PREFIX):
        return value
    try:
        return unseal(secret_key, value, MAIL)
    except SecretUnreadable:
        return None


def redacted(text: str | None) -> str | None:
    """``text`` with every manage link hidden: what administrators may read of an email."""
    return None if text is None else _MANAGE_LINK.sub(HIDDEN_LINK, text)


def enqueue_email(
    session: Session,
    email: Email,
    *,
    booking_id: uuid.UUID | None,
    secret_key: str,
    now: datetime,
) -> OutboxMessage:
    row = OutboxMessage(
        id=uuid.uuid4(),
        booking_id=booking_id,
        kind=email.kind,
        recipient=email.recipient,
        subject=email.subject,
        body_text=_sealed(secret_key, email.text),
        body_html=_sealed(secret_key, email.html),
        ics=_sealed(secret_key, email.ics),
        ics_method=email.ics_method,
        locale=email.locale,
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    row.message_id = f"<{row.id}@bookwithme>"
    session.add(row)
    payload: dict[str, Any] = {"message": str(row.id)}
    if email.sender_name:
        payload["sender_name"] = email.sender_name
    if email.reply_to:
        payload["reply_to"] = list(email.reply_to)
    jobs.enqueue(session, EMAIL_JOB, str(row.id), payload, run_at=now)
    return row


def enqueue_booking_emails(
    session: Session,
    booking: Booking,
    organizer: User,
    event: Event,
    *,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
    secret_key: str,
    change: Change | None = None,
) -> list[OutboxMessage]:
    rows = [
        enqueue_email(session, email, booking_id=booking.id, secret_key=secret_key, now=now)
        for email in booking_emails(
            booking,
            organizer,
            event,
            manage_url=manage_url,
            labels=labels,
            now=now,
            change=change,
        )
    ]
    session.flush()
    return rows
