"""Hits counted by the limits on what invitees write without signing in
(``bookings/limits.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bookwithme.models.base import Base, IdMixin


class RateLimitHit(IdMixin, Base):
    """One counted request: ``bucket`` names the limit ("book:address", "change:booking",
    …), ``key`` what it counts per (an address or /64 network, an email address, a
    booking id; never a token). Kept in the database so every server process shares the
    counts; rows older than the longest window are deleted as new ones come."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (
        Index(None, "bucket", "key", "at"),
        Index(None, "at"),  # for deleting the old rows
    )

    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime]
