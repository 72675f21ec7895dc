"""Bookings, with a snapshot of what was booked (SPEC 2.5)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, TimestampMixin


class Booking(IdMixin, TimestampMixin, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('confirmed', 'cancelled')", name="status"),
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint(
            "blocked_start_at <= start_at AND end_at <= blocked_end_at", name="blocked_span"
        ),
        Index(None, "user_id", "blocked_start_at"),
        Index(None, "meeting_type_id", "start_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    meeting_type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meeting_types.id", ondelete="SET NULL")
    )
    private_link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("private_links.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    # The booked time widened by the buffers stored on the booking: the span no other
    # confirmed booking of the organizer may overlap.
    blocked_start_at: Mapped[datetime] = mapped_column()
    blocked_end_at: Mapped[datetime] = mapped_column()

    # Snapshot of the meeting type at booking time.
    title: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column()
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    location_kind: Mapped[str] = mapped_column(String(16))
    location_details: Mapped[str | None] = mapped_column(Text, default=None)
    online_meeting_url: Mapped[str | None] = mapped_column(String(500), default=None)

    invitee_name: Mapped[str] = mapped_column(String(200))
    invitee_email: Mapped[str] = mapped_column(String(254))
    invitee_time_zone: Mapped[str] = mapped_column(String(64))
    invitee_locale: Mapped[str] = mapped_column(String(8), default="en")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")

    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ical_uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)

    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    cancelled_by: Mapped[str | None] = mapped_column(String(16), default=None)
