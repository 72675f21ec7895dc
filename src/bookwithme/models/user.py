"""Accounts: users, their personal access tokens, and failed sign-in attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookwithme.models.base import Base, IdMixin, TimestampMixin, utcnow
from bookwithme.models.organization import DEFAULT_PLAN, PolicyColumns, _policy_check

if TYPE_CHECKING:
    from bookwithme.models.organization import Organization


class User(IdMixin, TimestampMixin, PolicyColumns, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_policy_check("app_access_policy"), name="access_policy"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always lower case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    time_zone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    add_online_meeting: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    plan: Mapped[str] = mapped_column(String(100), default=DEFAULT_PLAN)
    # Raised when the password changes or the account is deactivated: every session
    # cookie signed with an older value stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(default=None)
    # Raised in the same transaction as every change that can move this organizer's free
    # times (scheduling/versions.py), so a copy of them read under one value is exact for
    # as long as the value stays the same, in every process.
    availability_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="raise")


class ApiToken(IdMixin, Base):
    """A personal access token. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="raise")


class SignInAttempt(IdMixin, Base):
    """A failed sign-in, kept for a while to slow down password guessing per account
    and per client address (shared by every server process through the database); see
    ``accounts/ratelimit.py``."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index(None, "email", "created_at"),
        Index(None, "client_address", "created_at"),
        Index(None, "device", "created_at"),
    )

    email: Mapped[str] = mapped_column(String(254))
    # The address, or the /64 network of an IPv6 address.
    client_address: Mapped[str] = mapped_column(String(64))
    # The known-device id of a browser that had signed in to this account before; null
    # for every other attempt.
    device: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
