"""Connected calendars (ICS feeds, CalDAV), their cached busy time, and written-back events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, TimestampMixin, utcnow


class CalendarConnection(IdMixin, TimestampMixin, Base):
    __tablename__ = "calendar_connections"
    __table_args__ = (CheckConstraint("kind IN ('ics', 'caldav')", name="kind"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    username: Mapped[str | None] = mapped_column(String(254), default=None)
    # Encrypted with a key derived from SECRET_KEY; never returned by the API.
    password_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    write_back: Mapped[bool] = mapped_column(default=False)

    # HTTP validators of the last good fetch (ICS feeds).
    etag: Mapped[str | None] = mapped_column(String(255), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)

    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)  # last attempt
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    busy_count: Mapped[int] = mapped_column(default=0)
    # When it is read again, and by which worker: its ``calendar.sync`` job (jobs.py).


class CalendarBusyInterval(IdMixin, Base):
    """The last good copy of one source's busy time."""

    __tablename__ = "calendar_busy_intervals"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        Index(None, "user_id", "start_at"),
    )

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()


class BookingCalendarEvent(IdMixin, Base):
    """A booking written back to a CalDAV calendar, so a reschedule or cancel can find it."""

    __tablename__ = "booking_calendar_events"
    __table_args__ = (UniqueConstraint("booking_id", "connection_id"),)

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
    href: Mapped[str] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(255), default=None)
    # The booking's SEQUENCE when it was last written; a higher one means "write again".
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
