"""What can be booked: meeting types, their private links, and the organizer's page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookwithme.models.base import Base, IdMixin, TimestampMixin, utcnow

DEFAULT_REMINDERS = ({"minutes_before": 1440, "to": "invitee"},)

if TYPE_CHECKING:
    from bookwithme.models.schedule import Schedule


class MeetingType(IdMixin, TimestampMixin, Base):
    __tablename__ = "meeting_types"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'private')", name="visibility"),
        CheckConstraint(
            "location_kind IN ('online', 'in_person', 'phone', 'custom')", name="location_kind"
        ),
        CheckConstraint("duration_minutes BETWEEN 5 AND 720", name="duration"),
        Index(None, "user_id", "position"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Custom hours; NULL means the organizer's default schedule.
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(default=30)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    active: Mapped[bool] = mapped_column(default=True)
    location_kind: Mapped[str] = mapped_column(String(16), default="online")
    location_details: Mapped[str | None] = mapped_column(Text, default=None)
    add_online_meeting: Mapped[bool] = mapped_column(default=False)
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    minimum_notice_minutes: Mapped[int] = mapped_column(default=0)
    max_advance_days: Mapped[int] = mapped_column(default=60)
    slot_interval_minutes: Mapped[int | None] = mapped_column(default=None)
    max_bookings_per_day: Mapped[int | None] = mapped_column(default=None)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    # [{"minutes_before", "to"}] (SPEC 2.8): one reminder of each booking per entry.
    reminders: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_REMINDERS))
    color: Mapped[str | None] = mapped_column(String(16), default=None)
    position: Mapped[int] = mapped_column(default=0)
    # Deleting a type keeps its bookings (and their meeting_type_id): the row stays,
    # marked deleted, and disappears from every list and lookup.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    schedule: Mapped[Schedule | None] = relationship(lazy="raise")


class PrivateLink(IdMixin, Base):
    """A link to one meeting type (SPEC 2.4). Only the SHA-256 of its token is stored."""

    __tablename__ = "private_links"

    meeting_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meeting_types.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the organizer calls the link ("For Acme's sales team"), shown in their lists.
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    single_use: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting_type: Mapped[MeetingType] = relationship(lazy="raise")


class Page(IdMixin, TimestampMixin, Base):
    """The organizer's booking page, reachable at ``/p/{key}`` while published."""

    __tablename__ = "pages"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    published: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    # Sites that may show the page in an <iframe> (``https://origin``, at most 10).
    embed_origins: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
