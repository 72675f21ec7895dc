"""What invitees read without signing in: the page, a private link, and free times."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import (
    BookingCreate,
    BookingCreated,
    BookingOut,
    CancelIn,
    RescheduleIn,
)
from bookwithme.bookings.service import BookingCancelled
from bookwithme.errors import (
    Busy,
    InvalidInput,
    LinkExpired,
    LinkRevoked,
    LinkUsed,
    RateLimited,
    SlotUnavailable,
)
from bookwithme.instants import local_times
from bookwithme.meeting_types import bookable as bookable_lookup
from bookwithme.meeting_types.bookable import Bookable
from bookwithme.meeting_types.schemas import PublicMeetingTypeOut
from bookwithme.meeting_types.service import public_type_out
from bookwithme.models import Booking, utcnow
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling.service import Reached
from bookwithme.scheduling.slots import SlotRules
from bookwithme.timezones import named_zone
from bookwithme.web import write_limits
from bookwithme.web.answer_cache import keep, valid_until
from bookwithme.web.api.common import json_in_zone, zone_query
from bookwithme.web.deps import (
    LinkLane,
    ManageLane,
    PageLane,
    SessionDep,
    SettingsDep,
    availability,
    invitee_read,
)
from bookwithme.web.openapi import raises

router = APIRouter(prefix="/public", tags=["invitee"])
LINK_ERRORS = (LinkExpired, LinkUsed, LinkRevoked)
LINK_GONE = raises(*LINK_ERRORS)
# The reads invitees make most run without a session dependency (``invitee_read``), but
# wait at the database gate all the same.
READS = raises(Busy)
LINK_READS = raises(Busy, *LINK_ERRORS)


class OrganizerOut(BaseModel):
    name: str


class PublicPageOut(BaseModel):
    organizer: OrganizerOut
    title: str
    intro: str
    meeting_types: list[PublicMeetingTypeOut]


class PublicLinkOut(BaseModel):
    organizer: OrganizerOut
    meeting_type: PublicMeetingTypeOut


class SlotOut(BaseModel):
    start: str
    end: str


class SlotsOut(BaseModel):
    time_zone: str
    duration_minutes: int
    slots: list[SlotOut]


class SlotQuery(BaseModel):
    """``start`` and ``end`` are dates in ``tz``, both included; ``tz`` defaults to the
    organizer's zone, ``start`` to today there and ``end`` to six days later."""

    start: date | None = None
    end: date | None = None
    tz: str | None = None


async def _slot_query(
    start: Annotated[date | None, Query(description="First date, in tz")] = None,
    end: Annotated[date | None, Query(description="Last date, in tz (at most 62 days)")] = None,
    tz: Annotated[str | None, Depends(zone_query)] = None,
) -> SlotQuery:
    return SlotQuery(start=start, end=end, tz=tz)


SlotQueryDep = Annotated[SlotQuery, Depends(_slot_query)]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class DayOut(BaseModel):
    date: date
    slots: int


class DaysOut(BaseModel):
    time_zone: str
    month: str
    days: list[DayOut]


async def _days_query(
    month: Annotated[
        str | None,
        Query(
            max_length=7,
            pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$",
            description="YYYY-MM, in tz; default: this month there",
        ),
    ] = None,
    tz: Annotated[str | None, Depends(zone_query)] = None,
) -> tuple[date | None, str | None]:
    if month is None:
        return None, tz
    match = _MONTH.match(month)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(
            "month: must be a month as YYYY-MM (2026-12)",
            details=[{"field": "month", "message": "a month as YYYY-MM"}],
        )
    # Year 0 is no date at all; every year outside the ones planned for is refused alike.
    first = date(max(1, int(match.group(1))), int(match.group(2)), 1)
    return scheduling.plausible(first, "month"), tz


DaysQueryDep = Annotated[tuple[date | None, str | None], Depends(_days_query)]


def days_answer(
    session: Session, reached: Reached, query: tuple[date | None, str | None], now: datetime
) -> DaysOut:
    """The dates of a month, in the invitee's zone, that offer at least one slot: what a
    month calendar shows before a day is picked."""
    month, tz = query
    zone = tz or reached.bookable.organizer.time_zone
    month = month or now.astimezone(named_zone(zone)).date().replace(day=1)
    window_start, window_end = scheduling.month_window(month, zone)
    starts = reached.starts(session, window_start, window_end, now)
    return DaysOut(
        time_zone=zone,
        month=f"{month:%Y-%m}",
        days=[DayOut(date=d, slots=n) for d, n in scheduling.days_with_room(starts, zone)],
    )


def slots_json(zone: str, duration_minutes: int, starts: Sequence[int]) -> str:
    """``SlotsOut`` as JSON text, written directly from the starts (epoch seconds): the
    field names and the instants need no escaping (the zone is a known IANA name, still
    escaped), and this is the answer invitees ask for most."""
    length = int(duration_minutes) * 60
    texts = iter(local_times(zone).spans(starts, length))
    items = ",".join(f'{{"start":"{a}","end":"{b}"}}' for a, b in zip(texts, texts, strict=True))
    return (
        f'{{"time_zone":{json.dumps(zone)},"duration_minutes":{int(duration_minutes)},'
        f'"slots":[{items}]}}'
    )


def slots_response(
    request: Request,
    session: Session,
    bookable: Bookable,
    query: SlotQuery,
    now: datetime,
    exclude_booking_id: uuid.UUID | None = None,
    rules: SlotRules | None = None,
    reached: Reached | None = None,
) -> Response:
    """The slots of a window as JSON. With ``reached`` (an invitee's address) the busy
    time comes from memory and the answer may be kept by the answer cache."""
    zone = query.tz or bookable.organizer.time_zone
    first = scheduling.plausible(query.start or now.astimezone(named_zone(zone)).date(), "start")
    last = query.end or first + timedelta(days=6)
    window_start, window_end = scheduling.window_of(first, last, zone)
    if reached is not None:
        starts = reached.starts(session, window_start, window_end, now)
    else:
        starts = scheduling.starts_for(
            session, bookable, window_start, window_end, now, exclude_booking_id, rules
        )
    response = Response(
        slots_json(zone, (rules or bookable.rules).duration_minutes, starts),
        media_type="application/json",
    )
    if reached is not None and request.app.state.answer_cache is not None:
        soonest = datetime.fromtimestamp(starts[0], UTC) if starts else None
        keep(response, reached.owner, valid_until(bookable, soonest, now, zone))
    return response


@router.get("/pages/{page_key}")
def public_page(page_key: str, session: SessionDep) -> PublicPageOut:
    page, user, _ = bookable_lookup.published_page(session, page_key)
    return PublicPageOut(
        organizer=OrganizerOut(name=user.name),
        title=page.title,
        intro=page.intro,
        meeting_types=[public_type_out(mt) for mt in bookable_lookup.public_types(session, user)],
    )


@router.get(
    "/pages/{page_key}/meeting-types/{type_id}/slots", response_model=SlotsOut, responses=READS
)
async def page_slots(
    page_key: str, type_id: str, query: SlotQueryDep, request: Request
) -> Response:
    def answer(session: Session) -> Response:
        reached = availability(request).through_page(session, page_key, type_id)
        return slots_response(request, session, reached.bookable, query, utcnow(), reached=reached)

    return await invitee_read(request, answer, bookable_lookup.page_owner_read(page_key))


@router.get("/pages/{page_key}/meeting-types/{type_id}/days", responses=READS)
async def page_days(page_key: str, type_id: str, query: DaysQueryDep, request: Request) -> DaysOut:
    """The days of a month that have room, with how many slots each."""

    def answer(session: Session) -> DaysOut:
        reached = availability(request).through_page(session, page_key, type_id)
        return days_answer(session, reached, query, utcnow())

    return await invitee_read(request, answer, bookable_lookup.page_owner_read(page_key))


@router.get("/links/{token}", responses=LINK_GONE)
def public_link(token: str, session: SessionDep) -> PublicLinkOut:
    bookable = bookable_lookup.bookable_through_link(session, token, utcnow())
    return PublicLinkOut(
        organizer=OrganizerOut(name=bookable.organizer.name),
        meeting_type=public_type_out(bookable.meeting_type),
    )


@router.get("/links/{token}/slots", response_model=SlotsOut, responses=LINK_READS)
async def link_slots(token: str, query: SlotQueryDep, request: Request) -> Response:
    def answer(session: Session) -> Response:
        now = utcnow()
        reached = availability(request).through_link(session, token, now)
        return slots_response(request, session, reached.bookable, query, now, reached=reached)

    return await invitee_read(request, answer, bookable_lookup.link_owner_read(token))


@router.get("/links/{token}/days", responses=LINK_READS)
async def link_days(token: str, query: DaysQueryDep, request: Request) -> DaysOut:
    """The days of a month that have room through this private link."""

    def answer(session: Session) -> DaysOut:
        now = utcnow()
        reached = availability(request).through_link(session, token, now)
        return days_answer(session, reached, query, now)

    return await invitee_read(request, answer, bookable_lookup.link_owner_read(token))


# --- Booking ------------------------------------------------------------------------


def _created(booking: Booking, token: str, settings: SettingsDep) -> BookingCreated:
    return BookingCreated(
        **bookings.booking_out(booking).model_dump(),
        manage_url=bookings.manage_url(settings, token),
        manage_token=token,
    )


@router.post(
    "/pages/{page_key}/meeting-types/{type_id}/bookings",
    status_code=201,
    dependencies=[PageLane],
    responses=raises(SlotUnavailable, RateLimited),
)
def book_through_page(
    page_key: str,
    type_id: str,
    body: BookingCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> BookingCreated:
    now = utcnow()
    write_limits.booking_attempt(request, session, now)
    bookable = bookable_lookup.bookable_through_page(session, page_key, type_id)
    locale = bookings.locale_from(body.locale, request.headers.get("accept-language"))
    write_limits.booking_for(request, session, body.email, now)
    booking, token = bookings.create_booking(session, bookable, body, locale, now, settings)
    return _created(booking, token, settings)


@router.post(
    "/links/{token}/bookings",
    status_code=201,
    dependencies=[LinkLane],
    responses=raises(SlotUnavailable, RateLimited, *LINK_ERRORS),
)
def book_through_link(
    token: str, body: BookingCreate, request: Request, session: SessionDep, settings: SettingsDep
) -> BookingCreated:
    now = utcnow()
    write_limits.booking_attempt(request, session, now)
    bookable = bookable_lookup.bookable_through_link(session, token, now)
    locale = bookings.locale_from(body.locale, request.headers.get("accept-language"))
    write_limits.booking_for(request, session, body.email, now)
    booking, manage_token = bookings.create_booking(session, bookable, body, locale, now, settings)
    return _created(booking, manage_token, settings)


@router.get("/bookings/{manage_token}", response_model=BookingOut)
def managed_booking(
    manage_token: str, session: SessionDep, tz: Annotated[str | None, Depends(zone_query)]
) -> Response:
    return json_in_zone(bookings.booking_out(bookings.by_manage_token(session, manage_token)), tz)


@router.get(
    "/bookings/{manage_token}/slots", response_model=SlotsOut, responses=raises(BookingCancelled)
)
def reschedule_slots(
    manage_token: str, query: SlotQueryDep, request: Request, session: SessionDep
) -> Response:
    booking = bookings.by_manage_token(session, manage_token)
    bookable = bookings.reschedule_context(session, booking)
    rules = bookings.booking_rules(bookable, booking)
    return slots_response(request, session, bookable, query, utcnow(), booking.id, rules)


@router.post(
    "/bookings/{manage_token}/reschedule",
    dependencies=[ManageLane],
    responses=raises(SlotUnavailable, BookingCancelled, RateLimited),
)
def reschedule_booking(
    manage_token: str,
    body: RescheduleIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> BookingOut:
    now = utcnow()
    write_limits.change_attempt(request, session, now)
    booking = bookings.by_manage_token(session, manage_token)
    url = bookings.manage_url(settings, manage_token)
    write_limits.change_of(request, session, booking, now)
    moved = bookings.reschedule(session, booking, body.start, now, settings, url)
    return bookings.booking_out(moved)


@router.post(
    "/bookings/{manage_token}/cancel", dependencies=[ManageLane], responses=raises(RateLimited)
)
def cancel_booking(
    manage_token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    body: CancelIn | None = None,
) -> BookingOut:
    now = utcnow()
    write_limits.change_attempt(request, session, now)
    booking = bookings.by_manage_token(session, manage_token)
    reason = body.reason if body else None
    write_limits.change_of(request, session, booking, now)
    cancelled = bookings.cancel(session, booking, reason, "invitee", now, settings)
    return bookings.booking_out(cancelled)
