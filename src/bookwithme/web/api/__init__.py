"""The JSON API under /api/v1."""

from fastapi import APIRouter

from bookwithme.web.api import (
    admin,
    bookings,
    busy,
    calendars,
    me,
    meeting_types,
    page,
    public,
    webhooks,
)

router = APIRouter(prefix="/api/v1")
# Routes are matched one by one in order: what invitees ask most (public) comes first.
for module in (public, me, busy, calendars, meeting_types, page, bookings, webhooks, admin):
    router.include_router(module.router)
