"""What the API reads and writes about accounts (never the ORM rows themselves)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from bookwithme.admin.policy import PolicyStatus
from bookwithme.models import User
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.validation import Email, Flag, Locale, Name, PatchModel


class PersonalBookingsOut(BaseModel):
    enabled: bool
    reasons: list[str]


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    time_zone: str
    locale: str
    add_online_meeting: Flag
    is_admin: bool
    personal_bookings: PersonalBookingsOut

    @classmethod
    def build(cls, user: User, status: PolicyStatus) -> MeOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            time_zone=user.time_zone,
            locale=user.locale,
            add_online_meeting=user.add_online_meeting,
            is_admin=user.is_admin,
            personal_bookings=PersonalBookingsOut(enabled=status.enabled, reasons=status.reasons),
        )


class MeUpdate(PatchModel):
    name: Name | None = None
    email: Email | None = None
    time_zone: TimeZoneName | None = None
    locale: Locale | None = None
    add_online_meeting: Flag | None = None
