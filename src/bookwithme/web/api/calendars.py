"""The organizer's connected calendars."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from bookwithme.calendars import connections
from bookwithme.calendars.connections import BusyIntervalOut, CalendarCreate, CalendarOut
from bookwithme.errors import (
    Busy,
    CalendarUnreadable,
    InvalidInput,
    TargetNotAllowed,
    Unauthorized,
)
from bookwithme.models import CalendarConnection, utcnow
from bookwithme.web import calendar_reads
from bookwithme.web.api.common import DATE_OR_INSTANT, ItemList, json_in_zone, window, zone_query
from bookwithme.web.deps import CurrentUser, SessionDep, SettingsDep
from bookwithme.web.openapi import raises

router = APIRouter(tags=["calendars"])

BUSY_DAYS = 7  # what GET /calendars/{id}/busy lists when no end is given
MAX_BUSY_DAYS = 400  # the longest window it lists at once


@router.get("/calendars")
def list_calendars(user: CurrentUser, session: SessionDep) -> ItemList[CalendarOut]:
    return ItemList(
        items=[connections.calendar_out(c) for c in connections.list_calendars(session, user)]
    )


@router.post(
    "/calendars",
    status_code=201,
    responses=raises(Unauthorized, CalendarUnreadable, TargetNotAllowed, Busy),
)
async def connect_calendar(
    body: CalendarCreate, request: Request, settings: SettingsDep
) -> CalendarOut:
    """An ICS feed (``url``) or a CalDAV calendar (``url``, ``username``, ``password``,
    ``write_back``); the password is stored encrypted and never returned. The calendar is
    read once first: an address that does not answer a readable calendar is refused with
    422 ``calendar_unreadable`` and the reason, one on a loopback, private, link-local or
    otherwise non-public network with 422 ``target_not_allowed`` (unless the server allows
    them), and nothing is saved."""
    connection_id = await calendar_reads.connect(request, settings, body, Unauthorized())
    return await calendar_reads.in_unit(
        request, lambda session: _out(session, connection_id), write=False
    )


@router.delete("/calendars/{calendar_id}", status_code=204)
def disconnect_calendar(calendar_id: str, user: CurrentUser, session: SessionDep) -> Response:
    connections.disconnect(session, connections.get_calendar(session, user, calendar_id))
    return Response(status_code=204)


@router.post("/calendars/{calendar_id}/sync", responses=raises(Unauthorized, Busy))
async def sync_calendar(calendar_id: str, request: Request, settings: SettingsDep) -> CalendarOut:
    """Read the calendar now and answer with the result (a read that fails keeps the last
    good copy and says why in ``last_error``)."""
    connection_id = await calendar_reads.read_now(request, settings, calendar_id, Unauthorized())
    return await calendar_reads.in_unit(
        request, lambda session: _out(session, connection_id), write=False
    )


@router.get("/calendars/{calendar_id}/busy", response_model=ItemList[BusyIntervalOut])
def calendar_busy(
    calendar_id: str,
    user: CurrentUser,
    session: SessionDep,
    tz: Annotated[str | None, Depends(zone_query)],
    start: Annotated[
        str | None,
        Query(max_length=40, description="A date or an instant; default: now"),
        DATE_OR_INSTANT,
    ] = None,
    end: Annotated[
        str | None,
        Query(max_length=40, description=f"A date or an instant; default: {BUSY_DAYS} days on"),
        DATE_OR_INSTANT,
    ] = None,
) -> Response:
    """The busy intervals this calendar gave at its last good read (no titles: only the
    times are kept), so an organizer can see what a feed blocks."""
    connection = connections.get_calendar(session, user, calendar_id)
    low, high = window(start, end, tz or user.time_zone)
    if low is None:
        low = utcnow() if high is None else high - timedelta(days=BUSY_DAYS)
    if high is None:
        high = low + timedelta(days=BUSY_DAYS)
    if high - low > timedelta(days=MAX_BUSY_DAYS):
        raise InvalidInput(
            f"end: at most {MAX_BUSY_DAYS} days after start",
            details=[{"field": "end", "message": f"at most {MAX_BUSY_DAYS} days after start"}],
        )
    items = [
        BusyIntervalOut(start=s, end=e)
        for s, e in connections.busy_between(session, connection, low, high)
    ]
    return json_in_zone(ItemList(items=items), tz)


def _out(session: Session, connection_id: uuid.UUID) -> CalendarOut:
    return connections.calendar_out(session.get_one(CalendarConnection, connection_id))
