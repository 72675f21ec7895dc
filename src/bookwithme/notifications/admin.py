"""The outbox as administrators read it: every email, whether or not SMTP is configured."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bookwithme.errors import NotFound
from bookwithme.instants import UTCInstant
from bookwithme.lookup import parse_id
from bookwithme.models import Booking, OutboxMessage, User
from bookwithme.notifications.outbox import opened, redacted
from bookwithme.paging import page_after

PAGE_SIZE = 50


class OutboxItem(BaseModel):
    id: uuid.UUID
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: UTCInstant
    next_attempt_at: UTCInstant
    sent_at: UTCInstant | None


class OutboxDetail(OutboxItem):
    """One email as administrators read it: manage links hidden, and no body once it was
    delivered (bodies are dropped then)."""

    locale: str
    body_text: str | None
    body_html: str | None
    ics: str | None


class OutboxPage(BaseModel):
    items: list[OutboxItem]
    next_cursor: str | None


def _of_organization(organization_id: uuid.UUID) -> Select[OutboxMessage]:
    """Messages about bookings of the organization's users."""
    return (
        select(OutboxMessage)
        .join(Booking, Booking.id == OutboxMessage.booking_id)
        .join(User, User.id == Booking.user_id)
        .where(User.organization_id == organization_id)
    )


def list_outbox(
    session: Session,
    organization_id: uuid.UUID,
    status: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> OutboxPage:
    """Newest first."""
    query = _of_organization(organization_id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    rows, next_cursor = page_after(
        session, query, OutboxMessage.created_at, OutboxMessage.id, cursor, limit, newest_first=True
    )
    return OutboxPage(
        items=[OutboxItem.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )


def get_message(
    session: Session, organization_id: uuid.UUID, message_id: str, secret_key: str
) -> OutboxDetail:
    parsed = parse_id(message_id)
    row = None
    if parsed is not None:
        row = session.scalar(_of_organization(organization_id).where(OutboxMessage.id == parsed))
    if row is None:
        raise NotFound("No email with this id.")
    item = OutboxItem.model_validate(row, from_attributes=True)
    return OutboxDetail(
        **item.model_dump(),
        locale=row.locale,
        body_text=redacted(opened(secret_key, row.body_text)),
        body_html=redacted(opened(secret_key, row.body_html)),
        ics=redacted(opened(secret_key, row.ics)),
    )
