"""The JSON API under /api/v1."""

from fastapi import APIRouter

from bookwithme.web.api import admin, bookings, busy, calendars, me, meeting_types, page, public

router = APIRouter(prefix="/api/v1")
for module in (me, busy, calendars, meeting_types, page, bookings, public, admin):
    router.include_router(module.router)
