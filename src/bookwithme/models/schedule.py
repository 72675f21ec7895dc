"""Schedules: when an organizer meets (SPEC 2.1)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, TimestampMixin


class Schedule(IdMixin, TimestampMixin, Base):
    """Weekly hours, per-date overrides and an optional date range, in one time zone.

    ``weekly`` maps ``mon``..``sun`` to lists of ``{"start": "HH:MM", "end": "HH:MM"}``;
    ``overrides`` is a list of ``{"date": "YYYY-MM-DD", "intervals": [...]}``. Both are
    validated by ``scheduling.schedules`` before they are stored.
    Each organizer has exactly one default schedule; meeting types with custom hours own
    another one.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        Index(
            "uq_schedules_default_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    is_default: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[dict[str, Any]] = mapped_column()
    overrides: Mapped[list[Any]] = mapped_column(default=list)
    date_range_start: Mapped[date | None] = mapped_column(default=None)
    date_range_end: Mapped[date | None] = mapped_column(default=None)
