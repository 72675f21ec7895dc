"""Reminders of a booking (SPEC 2.8): one row per entry of its meeting type's ``reminders``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, utcnow


class BookingReminder(IdMixin, Base):
    __tablename__ = "booking_reminders"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'sent', 'skipped', 'cancelled')", name="status"),
        CheckConstraint("recipient IN ('invitee', 'organizer', 'both')", name="recipient"),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    minutes_before: Mapped[int] = mapped_column()
    recipient: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The invitee's manage link, needed when the reminder is sent; only its hash is kept on
    # the booking, so it waits here encrypted, and is dropped once the reminder is done.
    manage_url_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
