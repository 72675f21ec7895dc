"""Busy blocks: time an organizer marks as unavailable by hand."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin, utcnow


class BusyBlock(IdMixin, Base):
    __tablename__ = "busy_blocks"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        Index(None, "user_id", "start_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
