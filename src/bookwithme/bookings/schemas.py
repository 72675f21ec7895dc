"""What the API reads and writes about bookings."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from bookwithme.instants import InputInstant, UTCInstant
from bookwithme.meeting_types.schemas import Location
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.validation import Email, Locale, LongText, Name

Answer = Annotated[str, StringConstraints(max_length=2000)] | bool
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def _supported_language(value: object) -> object:
    """An invitee's language tag as sent by a browser ("fr-CA", "de", "EN"): French for any
    French, English for everything else bookwithme does not speak yet."""
    if not isinstance(value, str) or not _LANGUAGE_TAG.match(value):
        raise ValueError("must be a language tag such as en, fr or fr-CA")
    return "fr" if value[:2].lower() == "fr" else "en"


InviteeLocale = Annotated[Locale, BeforeValidator(_supported_language)]


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: InputInstant
    name: Name
    email: Email
    time_zone: TimeZoneName
    locale: InviteeLocale | None = None
    answers: Annotated[
        dict[Annotated[str, StringConstraints(max_length=50)], Answer], Field(max_length=50)
    ] = {}
    notes: LongText = ""


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: InputInstant


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class InviteeOut(BaseModel):
    name: str
    email: str
    time_zone: str
    locale: str


class BookingOut(BaseModel):
    id: uuid.UUID
    meeting_type_id: uuid.UUID | None
    title: str
    status: str
    start: UTCInstant
    end: UTCInstant
    invitee: InviteeOut
    answers: dict[str, str | bool]
    notes: str
    location: Location
    online_meeting_url: str | None
    created_at: UTCInstant
    cancelled_at: UTCInstant | None
    cancel_reason: str | None


class ReminderOut(BaseModel):
    minutes_before: int
    to: Literal["invitee", "organizer", "both"]
    due_at: UTCInstant
    status: Literal["scheduled", "sent", "skipped", "cancelled"]


class BookingDetail(BookingOut):
    """One booking as its organizer reads it (and as webhooks send it): with its reminders."""

    reminders: list[ReminderOut]


class BookingCreated(BookingOut):
    manage_url: str
    manage_token: str
