"""The one rule that decides whether personal bookings is on for a user (SPEC 2.7).

Everything that depends on it (the invitee pages, publishing, links, the organizer banner,
the admin view) asks ``personal_bookings_status`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bookwithme.models.organization import (
    PERSONAL_BOOKINGS_APP,
    POLICY_ALLOW_LIST,
    POLICY_BLOCK_LIST,
    Organization,
    PolicyColumns,
)
from bookwithme.models.user import User


@dataclass(frozen=True)
class PolicyStatus:
    enabled: bool
    reasons: list[str] = field(default_factory=list)


def _policy_reasons(level: str, holder: PolicyColumns) -> list[str]:
    reasons: list[str] = []
    if holder.apps_enabled is False:
        reasons.append(f"Apps are turned off for {level} (apps_enabled is false)")
    policy = holder.app_access_policy
    if policy == POLICY_ALLOW_LIST and PERSONAL_BOOKINGS_APP not in holder.app_allow_list:
        reasons.append(
            f"The access policy of {level} is {POLICY_ALLOW_LIST} "
            f"and {PERSONAL_BOOKINGS_APP} is not in its allow list"
        )
    if policy == POLICY_BLOCK_LIST and PERSONAL_BOOKINGS_APP in holder.app_block_list:
        reasons.append(
            f"The access policy of {level} is {POLICY_BLOCK_LIST} "
            f"and {PERSONAL_BOOKINGS_APP} is in its block list"
        )
    return reasons


def organization_reasons(organization: Organization) -> list[str]:
    """Why the organization's own settings keep personal bookings off for everyone."""
    return _policy_reasons("the organization", organization)


def personal_bookings_status(organization: Organization, user: User) -> PolicyStatus:
    reasons = organization_reasons(organization)
    reasons += _policy_reasons("this user", user)
    if not user.active:
        reasons.append("The user is deactivated")
    if user.plan not in organization.eligible_plans:
        reasons.append(
            f"The user's plan '{user.plan}' is not one of the organization's eligible plans"
        )
    return PolicyStatus(enabled=not reasons, reasons=reasons)
