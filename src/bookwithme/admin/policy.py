"""The one rule that decides whether personal bookings is on for a user (SPEC 2.7).

Everything that depends on it (the invitee pages, publishing, links, the organizer banner,
the admin view) asks ``causes`` or ``personal_bookings_status`` and nothing else. A cause
says which switch keeps it off and at which level; the API words it in the seeds' terms
(``reasons``), the pages in their reader's (``web.switched_off``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bookwithme.models.organization import (
    PERSONAL_BOOKINGS_APP,
    POLICY_ALLOW_LIST,
    POLICY_BLOCK_LIST,
    Organization,
    PolicyColumns,
)
from bookwithme.models.user import User

CauseKind = Literal["apps_off", "not_allowed", "blocked", "deactivated", "plan"]
Level = Literal["organization", "user"]


@dataclass(frozen=True)
class Cause:
    kind: CauseKind
    level: Level
    plan: str | None = None

    def reason(self) -> str:
        """The cause as the API gives it, in the seeds' terms."""
        level = "the organization" if self.level == "organization" else "this user"
        if self.kind == "apps_off":
            return f"Apps are turned off for {level} (apps_enabled is false)"
        if self.kind == "not_allowed":
            return (
                f"The access policy of {level} is {POLICY_ALLOW_LIST} "
                f"and {PERSONAL_BOOKINGS_APP} is not in its allow list"
            )
        if self.kind == "blocked":
            return (
                f"The access policy of {level} is {POLICY_BLOCK_LIST} "
                f"and {PERSONAL_BOOKINGS_APP} is in its block list"
            )
        if self.kind == "deactivated":
            return "The user is deactivated"
        return f"The user's plan '{self.plan}' is not one of the organization's eligible plans"


@dataclass(frozen=True)
class PolicyStatus:
    enabled: bool
    reasons: list[str] = field(default_factory=list)


def _switches(level: Level, holder: PolicyColumns) -> list[Cause]:
    found: list[Cause] = []
    if holder.apps_enabled is False:
        found.append(Cause("apps_off", level))
    policy = holder.app_access_policy
    if policy == POLICY_ALLOW_LIST and PERSONAL_BOOKINGS_APP not in holder.app_allow_list:
        found.append(Cause("not_allowed", level))
    if policy == POLICY_BLOCK_LIST and PERSONAL_BOOKINGS_APP in holder.app_block_list:
        found.append(Cause("blocked", level))
    return found


def organization_causes(organization: Organization) -> list[Cause]:
    """What in the organization's own settings keeps personal bookings off for everyone."""
    return _switches("organization", organization)


def causes(organization: Organization, user: User) -> list[Cause]:
    """Every cause that keeps personal bookings off for ``user``; empty when it is on."""
    found = organization_causes(organization) + _switches("user", user)
    if not user.active:
        found.append(Cause("deactivated", "user"))
    if user.plan not in organization.eligible_plans:
        found.append(Cause("plan", "user", user.plan))
    return found


def organization_reasons(organization: Organization) -> list[str]:
    """Why the organization's own settings keep personal bookings off for everyone."""
    return [cause.reason() for cause in organization_causes(organization)]


def personal_bookings_status(organization: Organization, user: User) -> PolicyStatus:
    reasons = [cause.reason() for cause in causes(organization, user)]
    return PolicyStatus(enabled=not reasons, reasons=reasons)
