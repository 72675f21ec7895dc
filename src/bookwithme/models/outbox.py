"""The transactional outbox: emails written with the change that causes them.

The bodies (text, HTML, invitation) hold the invitee's manage link, so they are kept
encrypted with the server's key (``secrets_box.MAIL``) and dropped once delivered; the
metadata stays for the administrators' outbox view. Delivery itself is a job of kind
``email`` (``notifications/delivery.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, utcnow


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index(None, "status", "next_attempt_at"),
    )

    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str | None] = mapped_column(Text, default=None)
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    ics: Mapped[str | None] = mapped_column(Text, default=None)
    ics_method: Mapped[str | None] = mapped_column(String(16), default=None)
    locale: Mapped[str] = mapped_column(String(8), default="en")

    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
