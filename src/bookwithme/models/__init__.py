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
from bookwithme.models.job import Job
from bookwithme.models.meeting_type import MeetingType, Page, PrivateLink
from bookwithme.models.organization import Organization
from bookwithme.models.outbox import OutboxMessage
from bookwithme.models.rate_limit import RateLimitHit
from bookwithme.models.reminder import BookingReminder
from bookwithme.models.schedule import Schedule
from bookwithme.models.user import ApiToken, SignInAttempt, User
from bookwithme.models.webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiToken",
    "AuditLogEntry",
    "Base",
    "Booking",
    "BookingCalendarEvent",
    "BookingReminder",
    "BusyBlock",
    "CalendarBusyInterval",
    "CalendarConnection",
    "Job",
    "MeetingType",
    "Organization",
    "OutboxMessage",
    "Page",
    "PrivateLink",
    "RateLimitHit",
    "Schedule",
    "SignInAttempt",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "utcnow",
]
