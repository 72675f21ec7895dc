"""Every table of bookwithme. Importing this package registers them all on ``Base.metadata``."""

from bookwithme.models.audit import AuditLogEntry
from bookwithme.models.base import Base, utcnow
from bookwithme.models.booking import Booking
from bookwithme.models.busy import BusyBlock
from bookwithme.models.calendar import (
    BookingCalendarEvent,
    CalendarBusyInterval,
    CalendarConnection,
)
from bookwithme.models.meeting_type import MeetingType, Page, PrivateLink
from bookwithme.models.organization import Organization
from bookwithme.models.outbox import OutboxMessage
from bookwithme.models.schedule import Schedule
from bookwithme.models.user import ApiToken, SignInAttempt, User

__all__ = [
    "ApiToken",
    "AuditLogEntry",
    "Base",
    "Booking",
    "BookingCalendarEvent",
    "BusyBlock",
    "CalendarBusyInterval",
    "CalendarConnection",
    "MeetingType",
    "Organization",
    "OutboxMessage",
    "Page",
    "PrivateLink",
    "Schedule",
    "SignInAttempt",
    "User",
    "utcnow",
]
