"""Dependencies shared by every route: the unit of work, settings and the signed-in user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import proxies
from bookwithme.accounts import service as accounts
from bookwithme.accounts.sessions import SESSION_COOKIE, decode_session
from bookwithme.bookings import service as bookings
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.errors import Forbidden, Unauthorized
from bookwithme.key_reads import KeyRead
from bookwithme.models import User
from bookwithme.scheduling.service import Availability
from bookwithme.web.admission import Admission

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def admission_deadline(request: Request) -> float:
    """The moment this request stops waiting for admission (set by its first gate)."""
    deadline: float | None = getattr(request.state, "admission_deadline", None)
    if deadline is None:
        deadline = request.state.admission_deadline = Admission.deadline()
    return deadline


async def _read_body(request: Request) -> None:
    """Read the whole body before queueing: a slow client never holds a place."""
    if request.method in UNSAFE_METHODS:
        with suppress(RuntimeError):  # "Stream consumed": already read, as a form
            await request.body()


async def admit(request: Request) -> AsyncIterator[None]:
    """Wait, on the event loop, for a place to run this request's unit of work (see
    ``web/admission.py``)."""
    write = request.method in UNSAFE_METHODS
    await _read_body(request)
    admission: Admission = request.app.state.admission
    async with admission.transaction(admission_deadline(request), write=write):
        yield


def get_session(
    request: Request, _admitted: Annotated[None, Depends(admit, scope="function")]
) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent when the route
    succeeds, rolled back when anything raises.

    On SQLite a request that may write begins as a writer (``BEGIN IMMEDIATE``): it waits
    for the write lock up front instead of failing when a read transaction tries to become
    a write one while another writer is busy."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with session_scope(factory, write=request.method in UNSAFE_METHODS) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def invitee_read(
    request: Request,
    work: Callable[[Session], T],
    first: tuple[KeyRead, dict[str, Any]] | None = None,
) -> T:
    """The way the pages invitees open most read: ``work`` runs on a read-only session of
    its own, admitted at the database gate, with the address's organizer and busy time
    from ``availability`` (in memory while their availability version holds): on the
    event loop when only the version is to be read, else in one thread
    (``Admission.quick_read``). No session dependency, no thread hop per dependency."""
    admission: Admission = request.app.state.admission
    return await admission.quick_read(work, admission_deadline(request), first)


def availability(request: Request) -> Availability:
    found: Availability = request.app.state.availability
    return found


def organizer_lane(param: str, resolve: Callable[[Session, str], uuid.UUID | None]) -> Any:
    """A dependency that queues the request in the lane of the organizer its address
    belongs to (``param`` names the path parameter, ``resolve`` finds its organizer), so
    changes to one organizer's bookings take turns without tying up the server. Put it in
    the route's ``dependencies``: it must be entered before the session."""

    async def lane(request: Request) -> AsyncIterator[None]:
        await _read_body(request)
        admission: Admission = request.app.state.admission
        deadline = admission_deadline(request)
        key = str(request.path_params[param])
        organizer = await admission.organizer_of(param, key, resolve, deadline)
        if organizer is None:  # unknown: the route answers 404
            yield
            return
        async with admission.lane(organizer, deadline):
            yield

    return Depends(lane, scope="function")


# The lanes of the addresses that create, move or cancel bookings.
PageLane = organizer_lane("page_key", bookings.organizer_of_page)
LinkLane = organizer_lane("token", bookings.organizer_of_link)
ManageLane = organizer_lane("manage_token", bookings.organizer_of_manage_token)
ManagePageLane = organizer_lane("token", bookings.organizer_of_manage_token)
BookingLane = organizer_lane("booking_id", bookings.organizer_of_booking)


@dataclass(frozen=True)
class Viewer:
    """What pages show of the signed-in person: plain values, still readable when the
    request's transaction has been rolled back (error pages)."""

    name: str
    email: str
    is_admin: bool
    locale: str | None = None


def remember_viewer(request: Request, user: User) -> None:
    request.state.viewer = Viewer(
        name=user.name, email=user.email, is_admin=user.is_admin, locale=user.locale
    )


class NotSignedIn(Unauthorized):
    """Raised by page routes; the browser is sent to the sign-in page."""


def user_from_request(request: Request, session: Session, settings: Settings) -> User | None:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        # A request that names a token is judged by the token alone, never by a cookie.
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        user = accounts.user_for_api_token(session, token)
        if user is None:
            raise Unauthorized("This personal access token is not valid or has been revoked.")
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    claims = decode_session(settings.resolved_secret_key, cookie)
    if claims is None:
        return None
    return accounts.user_for_session(session, claims)


def current_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    user = user_from_request(request, session, settings)
    if user is None:
        raise Unauthorized()
    remember_viewer(request, user)
    return user


def current_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators can do this.")
    return user


def page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    user = user_from_request(request, session, settings)
    if user is None:
        raise NotSignedIn()
    remember_viewer(request, user)
    return user


def optional_page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    user = user_from_request(request, session, settings)
    if user is not None:
        remember_viewer(request, user)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
CurrentAdmin = Annotated[User, Depends(current_admin)]
PageUser = Annotated[User, Depends(page_user)]
OptionalPageUser = Annotated[User | None, Depends(optional_page_user)]


def client_address(request: Request) -> str:
    """The client's address: the connection's peer, or, when the peer is one of
    ``TRUSTED_PROXIES``, the address its ``X-Forwarded-For`` names (see ``proxies.py``)."""
    return proxies.client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        get_settings(request).trusted_proxies,
    )
