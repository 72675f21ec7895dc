"""Enforcing the personal bookings rule on the organizer's side."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bookwithme.admin.policy import PolicyStatus, personal_bookings_status
from bookwithme.errors import PersonalBookingsDisabled
from bookwithme.models import Organization, User


def status_of(session: Session, user: User) -> PolicyStatus:
    organization = session.get_one(Organization, user.organization_id)
    return personal_bookings_status(organization, user)


def require_personal_bookings(session: Session, user: User) -> None:
    """Publishing and new links need personal bookings on (403 otherwise, with the reasons)."""
    status = status_of(session, user)
    if not status.enabled:
        raise PersonalBookingsDisabled(
            "Personal bookings is turned off for your account: " + "; ".join(status.reasons) + ".",
            details={"reasons": status.reasons},
        )
