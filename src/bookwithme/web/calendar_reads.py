"""Requests that read a remote calendar while the organizer waits: connecting one (it is
read once, and saved only if it could be read) and "read now".

Such a request cannot hold a database session throughout: the remote server may take up
to ``READ_DEADLINE`` seconds. So it runs as two short units of work, each admitted like
any other request, with the remote read between them in a turn of its own
(``Admission.remote_read``): one per organizer, a few in all, in threads that are not the
ones other people's requests need.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.calendars import connections
from bookwithme.calendars.base import ReadContext
from bookwithme.calendars.connections import CalendarCreate
from bookwithme.calendars.sync import Outcome, prepare, read_source, record, store
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.errors import CalendarUnreadable, DomainError, NotFound, TargetNotAllowed
from bookwithme.models import CalendarConnection, User, utcnow
from bookwithme.targets import check_url
from bookwithme.web.admission import Admission
from bookwithme.web.deps import remember_viewer, user_from_request

T = TypeVar("T")


async def in_unit(request: Request, work: Callable[[Session], T], *, write: bool) -> T:
    """``work`` in one transaction of its own, admitted like any request's."""
    admission: Admission = request.app.state.admission
    factory: sessionmaker[Session] = request.app.state.session_factory

    def run() -> T:
        with session_scope(factory, write=write) as session:
            return work(session)

    async with admission.transaction(admission.deadline(), write=write):
        return await to_thread.run_sync(run)


def signed_in(
    request: Request, session: Session, settings: Settings, signed_out: DomainError
) -> User:
    user = user_from_request(request, session, settings)
    if user is None:
        raise signed_out
    remember_viewer(request, user)
    return user


async def _read(
    request: Request,
    organizer_id: uuid.UUID,
    connection: CalendarConnection,
    context: ReadContext,
    check_first: bool = False,
) -> Outcome:
    """Read the calendar in a turn of its own; with ``check_first``, its address is looked up
    before (raising ``TargetNotAllowed`` when it leads to a network that is not allowed)."""
    admission: Admission = request.app.state.admission

    def read() -> Outcome:
        if check_first:
            check_url(connection.url, context.allow_private)
        return read_source(connection, context, utcnow())

    async with admission.remote_read(organizer_id):
        return await to_thread.run_sync(read, limiter=admission.remote_threads)


def _refused_at(field: str, exc: TargetNotAllowed) -> TargetNotAllowed:
    return TargetNotAllowed(
        f"{field}: {exc.message}", details=[{"field": field, "message": exc.message}]
    )


async def connect(
    request: Request, settings: Settings, data: CalendarCreate, signed_out: DomainError
) -> uuid.UUID:
    """Read the calendar ``data`` describes; save it with what was read, or raise
    ``CalendarUnreadable`` with the reason and save nothing (``TargetNotAllowed`` when its
    address leads to a network that is not allowed, SPEC 2.9)."""
    secret_key = settings.resolved_secret_key
    allow_private = settings.allow_private_targets

    def begin(session: Session) -> tuple[uuid.UUID, CalendarConnection, ReadContext]:
        user = signed_in(request, session, settings, signed_out)
        draft = connections.draft(user, data, secret_key)
        return user.id, draft, prepare(session, draft, utcnow(), secret_key, allow_private)

    user_id, draft, context = await in_unit(request, begin, write=False)
    try:
        outcome = await _read(request, user_id, draft, context, check_first=True)
    except TargetNotAllowed as exc:
        raise _refused_at("url", exc) from None
    if outcome.error == TargetNotAllowed.default_message:
        # Refused only when connecting (the name answered another address by then).
        raise _refused_at("url", TargetNotAllowed())
    if outcome.error is not None:
        raise CalendarUnreadable(
            f"url: nothing was connected. {outcome.error}",
            details=[{"field": "url", "message": outcome.error}],
        )

    def finish(session: Session) -> uuid.UUID:
        signed_in(request, session, settings, signed_out)  # still signed in, still there
        connection = connections.save(session, draft)
        record(session, connection, outcome, utcnow())
        return connection.id

    return await in_unit(request, finish, write=True)


async def read_now(
    request: Request, settings: Settings, calendar_id: str, signed_out: DomainError
) -> uuid.UUID:
    """Read one of the caller's calendars now and record what it gave (an error is
    recorded next to the last good copy, as a background read would)."""
    secret_key = settings.resolved_secret_key

    def begin(session: Session) -> tuple[uuid.UUID, CalendarConnection, ReadContext]:
        user = signed_in(request, session, settings, signed_out)
        connection = connections.get_calendar(session, user, calendar_id)
        context = prepare(session, connection, utcnow(), secret_key, settings.allow_private_targets)
        session.expunge(connection)
        return user.id, connection, context

    user_id, connection, context = await in_unit(request, begin, write=False)
    outcome = await _read(request, user_id, connection, context)

    def finish(session: Session) -> None:
        if not store(session, connection.id, outcome, utcnow()):
            raise NotFound("No calendar with this id.")  # disconnected meanwhile

    await in_unit(request, finish, write=True)
    return connection.id
