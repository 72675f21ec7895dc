"""The organizer's connected calendars."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bookwithme.calendars import connections
from bookwithme.calendars.connections import CalendarCreate, CalendarOut
from bookwithme.calendars.sync import sync_one
from bookwithme.config import Settings
from bookwithme.errors import DomainError, Unauthorized
from bookwithme.models import CalendarConnection, utcnow
from bookwithme.web.api.common import ItemList
from bookwithme.web.deps import CurrentUser, SessionDep, SettingsDep, user_from_request
from bookwithme.web.openapi import raises

router = APIRouter(tags=["calendars"])


@router.get("/calendars")
def list_calendars(user: CurrentUser, session: SessionDep) -> ItemList[CalendarOut]:
    return ItemList(
        items=[connections.calendar_out(c) for c in connections.list_calendars(session, user)]
    )


@router.post("/calendars", status_code=201)
def connect_calendar(
    body: CalendarCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> CalendarOut:
    """An ICS feed (``url``) or a CalDAV calendar (``url``, ``username``, ``password``,
    ``write_back``); the password is stored encrypted and never returned."""
    connection = connections.connect(session, user, body, settings.resolved_secret_key)
    return connections.calendar_out(connection)


@router.delete("/calendars/{calendar_id}", status_code=204)
def disconnect_calendar(calendar_id: str, user: CurrentUser, session: SessionDep) -> Response:
    connections.disconnect(session, connections.get_calendar(session, user, calendar_id))
    return Response(status_code=204)


def read_callers_calendar(
    request: Request, settings: Settings, calendar_id: str, signed_out: DomainError
) -> uuid.UUID:
    """Read one of the caller's calendars now (blocking; run it in a thread). The remote
    calendar is read outside any database transaction, so nobody else waits on it."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        user = user_from_request(request, session, settings)
        if user is None:
            raise signed_out
        connection_id = connections.get_calendar(session, user, calendar_id).id
        session.commit()  # the throttled token "last used" stamp, if any
    sync_one(factory, connection_id, utcnow(), settings.resolved_secret_key)
    return connection_id


@router.post("/calendars/{calendar_id}/sync", responses=raises(Unauthorized))
async def sync_calendar(calendar_id: str, request: Request, settings: SettingsDep) -> CalendarOut:
    """Read the calendar now and answer with the result."""

    def run() -> CalendarOut:
        connection_id = read_callers_calendar(request, settings, calendar_id, Unauthorized())
        factory: sessionmaker[Session] = request.app.state.session_factory
        with factory() as session:
            return connections.calendar_out(session.get_one(CalendarConnection, connection_id))

    return await run_in_threadpool(run)
