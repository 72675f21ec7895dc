"""Writing emails to the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bookwithme.models import Booking, OutboxMessage, User
from bookwithme.notifications.emails import Event, booking_emails


def question_labels(questions: list[dict[str, Any]]) -> dict[str, str]:
    return {q["id"]: q["label"] for q in questions}


def enqueue_booking_emails(
    session: Session,
    booking: Booking,
    organizer: User,
    event: Event,
    *,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
) -> list[OutboxMessage]:
    rows = [
        OutboxMessage(
            booking_id=booking.id,
            kind=email.kind,
            recipient=email.recipient,
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            ics=email.ics,
            ics_method=email.ics_method,
            locale=email.locale,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
        for email in booking_emails(
            booking, organizer, event, manage_url=manage_url, labels=labels, now=now
        )
    ]
    session.add_all(rows)
    session.flush()
    return rows
