"""``bookwithme demo``: an empty installation filled with something to look at."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bookwithme.accounts import service as accounts
from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingCreate
from bookwithme.calendars import busy_blocks
from bookwithme.calendars.busy_blocks import BusyBlockCreate
from bookwithme.config import Settings
from bookwithme.errors import AlreadySetUp
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.bookable import bookable_type
from bookwithme.meeting_types.schemas import MeetingTypeCreate, PageUpdate, PrivateLinkCreate
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling.slots import localize

ZONE = "Europe/Paris"


@dataclass(frozen=True)
class Demo:
    email: str
    password: str
    page_url: str
    private_link_url: str
    bookings: int


def fill(session: Session, settings: Settings, now: datetime) -> Demo:
    """A demo organizer (administrator) with meeting types, a published page, a private
    link, a week of busy time and a few bookings. Only on an empty database."""
    if accounts.has_any_user(session):
        raise AlreadySetUp("The database already has users; the demo fills only an empty one.")
    organization = accounts.create_organization(session, "Demo Company")
    password = secrets.token_urlsafe(12)
    user = accounts.create_user(
        session,
        organization,
        email="demo@example.com",
        name="Camille Martin",
        time_zone=ZONE,
        password=password,
        is_admin=True,
    )
    kickoff = meeting_types.create_type(
        session,
        user,
        MeetingTypeCreate.model_validate(
            {
                "title": "Project kickoff",
                "description": "A first hour to plan the work together.",
                "duration_minutes": 60,
                "visibility": "private",
                "buffer_after_minutes": 15,
                "minimum_notice_minutes": 24 * 60,
                "availability": {
                    "time_zone": ZONE,
                    "weekly": {d: [{"start": "14:00", "end": "18:00"}] for d in ("tue", "thu")},
                },
                "questions": [
                    {"id": "company", "label": "Company", "kind": "text", "required": True},
                    {"label": "Team size", "kind": "select", "options": ["1-10", "11-50", "51+"]},
                ],
            }
        ),
    )
    meeting_types.create_type(
        session,
        user,
        MeetingTypeCreate.model_validate(
            {
                "title": "Coffee chat",
                "duration_minutes": 20,
                "location": {"kind": "in_person", "details": "Café de la Gare, Paris"},
            }
        ),
    )
    page = meeting_types.get_page(session, user)
    meeting_types.update_page(
        session,
        page,
        PageUpdate(title="Book time with Camille", intro="Pick a time that suits you."),
    )
    meeting_types.publish(session, user, page, False, now)
    _, link_token = meeting_types.create_link(session, user, kickoff, PrivateLinkCreate(), now)

    # A sample calendar: the organizer's regular commitments as busy time.
    tz = ZoneInfo(ZONE)
    today = now.astimezone(tz).date()
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        if day.weekday() < 5:
            busy_blocks.create_block(
                session,
                user,
                BusyBlockCreate(
                    start=localize(day, 12 * 60 + 30, tz),
                    end=localize(day, 13 * 60 + 30, tz),
                    title="Lunch",
                ),
            )
        if day.weekday() == 0:
            busy_blocks.create_block(
                session,
                user,
                BusyBlockCreate(
                    start=localize(day, 9 * 60, tz),
                    end=localize(day, 10 * 60, tz),
                    title="Team meeting",
                ),
            )

    thirty = meeting_types.list_types(session, user)[1]
    bookable = bookable_type(session, thirty.id)
    window_start = localize(today + timedelta(days=1), 0, tz)
    slots = scheduling.slots_for(
        session, bookable, window_start, window_start + timedelta(days=7), now
    )
    invitees = [
        ("Grace Hopper", "grace@example.com", "America/New_York", "en"),
        ("Marie Curie", "marie@example.fr", "Europe/Paris", "fr"),
        ("Ada Lovelace", "ada@example.org", "Europe/London", "en"),
    ]
    made = 0
    for slot, (name, email, zone, locale) in zip(slots[2::9], invitees, strict=False):
        data = BookingCreate(
            start=slot.start, name=name, email=email, time_zone=zone, locale=locale
        )
        bookings.create_booking(session, bookable, data, locale, now, settings)
        made += 1
    return Demo(
        email=user.email,
        password=password,
        page_url=f"{settings.base_url}/p/{page.key}",
        private_link_url=meeting_types.link_url(settings.base_url, link_token),
        bookings=made,
    )
