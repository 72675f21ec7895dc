"""Calendar invitations (RFC 5545 / iTIP) made with the icalendar library."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from bookwithme.models import Booking

PRODID = "-//bookwithme//bookwithme//EN"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def invite(
    booking: Booking,
    *,
    method: str,
    organizer_name: str,
    organizer_email: str,
    zone: str,
    summary: str,
    description: str,
    now: datetime,
) -> str:
    """One VEVENT with the booking's stable UID and current SEQUENCE. ``method`` is REQUEST
    (new or moved) or CANCEL; times carry ``zone`` (with its VTIMEZONE)."""
    tz = ZoneInfo(zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.start_at.astimezone(tz))
    event.add("dtend", booking.end_at.astimezone(tz))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer_email, organizer_name))
    event.add(
        "attendee",
        _address(
            booking.invitee_email,
            booking.invitee_name,
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="ACCEPTED",
            RSVP="FALSE",
        ),
    )
    location = booking.online_meeting_url or booking.location_details
    if location:
        event.add("location", location)
    if booking.online_meeting_url:
        event.add("url", booking.online_meeting_url)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode("utf-8"))
