"""The organization: one per installation, holding the admin policy of SPEC 2.7."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookwithme.models.base import Base, IdMixin, TimestampMixin

if TYPE_CHECKING:
    from bookwithme.models.user import User

PERSONAL_BOOKINGS_APP = "PersonalBookings"
POLICY_ALLOW_LIST = "EnforceAllowList"
POLICY_BLOCK_LIST = "EnforceBlockList"
ACCESS_POLICIES = (POLICY_ALLOW_LIST, POLICY_BLOCK_LIST)

DEFAULT_ELIGIBLE_PLANS = [
    "A3",
    "A5",
    "E1",
    "E3",
    "E5",
    "F1",
    "F3",
    "Business Basic",
    "Business Standard",
    "Business Premium",
]
DEFAULT_PLAN = "Business Standard"


def _policy_check(column: str) -> str:
    values = ", ".join(f"'{p}'" for p in ACCESS_POLICIES)
    return f"{column} IS NULL OR {column} IN ({values})"


class PolicyColumns:
    """The four switches shared by the organization and each user (``Set-OrganizationConfig``
    and ``Set-CASMailbox``): ``EwsEnabled``, ``EwsApplicationAccessPolicy``, ``EwsAllowList``
    and ``EwsBlockList``."""

    apps_enabled: Mapped[bool | None] = mapped_column(default=None)
    app_access_policy: Mapped[str | None] = mapped_column(String(32), default=None)
    app_allow_list: Mapped[list[Any]] = mapped_column(default=list)
    app_block_list: Mapped[list[Any]] = mapped_column(default=list)


class Organization(IdMixin, TimestampMixin, PolicyColumns, Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(_policy_check("app_access_policy"), name="access_policy"),)

    name: Mapped[str] = mapped_column(String(200))
    eligible_plans: Mapped[list[Any]] = mapped_column(default=lambda: list(DEFAULT_ELIGIBLE_PLANS))
    default_plan: Mapped[str] = mapped_column(String(100), default=DEFAULT_PLAN)
    allow_signup: Mapped[bool] = mapped_column(default=False)

    users: Mapped[list[User]] = relationship(back_populates="organization", lazy="raise")
