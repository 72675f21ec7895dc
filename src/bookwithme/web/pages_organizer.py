"""The organizer's own pages (the full organizer view grows here)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.calendars.connections import list_calendars
from bookwithme.models import MeetingType, Organization, Page
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import WEEKDAYS
from bookwithme.web.deps import PageUser, SessionDep, SettingsDep
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


@router.get("/")
def dashboard(
    request: Request, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    organization = session.get_one(Organization, user.organization_id)
    status = personal_bookings_status(organization, user)
    page = session.scalar(select(Page).where(Page.user_id == user.id))
    meeting_types = session.scalars(
        select(MeetingType)
        .where(MeetingType.user_id == user.id, MeetingType.deleted_at.is_(None))
        .order_by(MeetingType.position, MeetingType.created_at)
    ).all()
    schedule = store.to_data(store.default_schedule_row(session, user))
    calendars = list_calendars(session, user)
    hours = [(DAY_NAMES[day], getattr(schedule.weekly, day)) for day in WEEKDAYS]
    return render(
        request,
        "organizer/dashboard.html",
        {
            "organization": organization,
            "status": status,
            "page": page,
            "page_url": f"{settings.base_url}/p/{page.key}" if page else None,
            "meeting_types": meeting_types,
            "schedule": schedule,
            "hours": hours,
            "calendars": calendars,
            "unsynced": [c for c in calendars if c.last_success_at is None],
        },
    )
