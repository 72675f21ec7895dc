"""The pages invitees book on: the organizer's page ``/p/{key}`` (every public meeting type)
and a private link ``/l/{token}`` (one meeting type).

Two steps, as on Calendly: pick a free time shown in your own time zone, then give your
name, email and answers and book. Server-rendered and complete without JavaScript; a small
script only switches the times to the browser's zone on the first visit. The slots are the
same rule and the booking the same service as the API's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_time
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingCreate
from bookwithme.errors import DomainError, InvalidInput
from bookwithme.i18n import day_label, times_by_day, translations, when
from bookwithme.models import utcnow
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling.service import Bookable
from bookwithme.timezones import is_valid_zone, known_zones
from bookwithme.web.deps import LinkLane, PageLane, SessionDep, SettingsDep
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]

DAYS_SHOWN = 7
# When the days shown have no free time, the page points to the next free day this far on.
LOOK_AHEAD_DAYS = 56


def page_language(request: Request) -> str:
    return bookings.locale_from(None, request.headers.get("accept-language"))


def _zone_or_default(tz: str | None, default: str) -> str:
    if not tz:
        return default
    if not is_valid_zone(tz):
        raise InvalidInput(
            f"'{tz}' is not a time zone we know. Pick yours from the list.",
            details=[{"field": "tz", "message": "not a known IANA time zone"}],
        )
    return tz


def _parse_start(value: str) -> datetime:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise InvalidInput(
            "The chosen time is not valid. Pick one of the times shown.",
            details=[{"field": "start", "message": "not an ISO 8601 instant"}],
        )
    return start.astimezone(UTC)


@dataclass(frozen=True)
class Place:
    """Where a booking page lives: its address, the way back, and how to find its bookable
    meeting type again (after a failed booking rolled the transaction back)."""

    path: str
    back: str | None
    find: Callable[[Session, datetime], Bookable]


@dataclass
class Choice:
    """What the invitee has chosen and typed so far, with what is wrong with it."""

    zone: str
    first: date | None = None
    start: datetime | None = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def _labels(lang: str) -> dict[str, str]:
    gettext = translations(lang).gettext
    return {
        "online": gettext("Online meeting"),
        "in_person": gettext("In person"),
        "phone": gettext("Phone call"),
        "custom": gettext("Custom location"),
    }


def _booking_page(
    request: Request,
    session: Session,
    place: Place,
    bookable: Bookable,
    choice: Choice,
    now: datetime,
    status_code: int = 200,
) -> Response:
    lang = page_language(request)
    gettext = translations(lang).gettext
    zone = choice.zone
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    mt = bookable.meeting_type
    context: dict[str, Any] = {
        "place": place,
        "organizer_name": bookable.organizer.name,
        "mt": mt,
        "location_label": _labels(lang).get(mt.location_kind, ""),
        "zone": zone,
        "zones": sorted(known_zones()),
        "zone_was_asked": "tz" in request.query_params or request.method == "POST",
        "private": bookable.link is not None,
        "single_use": bookable.link is not None and bookable.link.single_use,
        "error": choice.error,
    }
    if choice.start is not None:
        # Step 2: the details form for the chosen time.
        end = choice.start + timedelta(minutes=mt.duration_minutes)
        context.update(
            step="details",
            start=choice.start.astimezone(tz).isoformat(),
            when=when(choice.start, zone, lang),
            until=format_time(end, "HH:mm", tzinfo=tz, locale=lang),
            questions=mt.questions,
            values=choice.values,
            errors=choice.errors,
            change_url=f"{place.path}?tz={zone}&from={choice.start.astimezone(tz).date()}",
        )
        return render(request, "invitee/book.html", context, status_code, lang)

    # Step 1: free times, a week at a time, in the invitee's zone.
    first = max(choice.first or today, today)
    last_shown = first + timedelta(days=DAYS_SHOWN - 1)
    window_start, window_end = scheduling.window_of(
        first, first + timedelta(days=LOOK_AHEAD_DAYS - 1), zone
    )
    slots = scheduling.slots_for(session, bookable, window_start, window_end, now)
    by_day = times_by_day((s.start for s in slots), zone, lang)
    days = [(label, times) for day, label, times in by_day if day <= last_shown]
    next_free = next((day for day, _, _ in by_day if day > last_shown), None)
    context.update(
        step="times",
        days=days,
        first=first,
        previous=max(first - timedelta(days=DAYS_SHOWN), today) if first > today else None,
        next=first + timedelta(days=DAYS_SHOWN),
        next_free=next_free if not days else None,
        next_free_label=day_label(next_free, lang) if next_free and not days else None,
        range_label=f"{day_label(first, lang)} \N{EN DASH} {day_label(last_shown, lang)}",
        waiting_for_calendar=bookable.calendar_never_synced,
    )
    if choice.error is None and bookable.calendar_never_synced:
        context["notice"] = gettext("No times can be offered right now. Please try again later.")
    return render(request, "invitee/book.html", context, status_code, lang)


def _show(
    request: Request,
    session: Session,
    place: Place,
    tz: str | None,
    first: date | None,
    start: str | None,
) -> Response:
    now = utcnow()
    bookable = place.find(session, now)
    if first is not None:
        scheduling.plausible(first, "from")
    choice = Choice(zone=_zone_or_default(tz, bookable.organizer.time_zone), first=first)
    if start:
        chosen = _parse_start(start)
        if scheduling.is_offered(session, bookable, chosen, now):
            choice.start = chosen
        else:
            gettext = translations(page_language(request)).gettext
            choice.error = gettext("That time is no longer free. Please pick another one.")
            choice.first = chosen.astimezone(ZoneInfo(choice.zone)).date()
    return _booking_page(request, session, place, bookable, choice, now)


def _answers_from(fields: dict[str, str], questions: list[dict[str, Any]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questions:
        key = f"answer-{question['id']}"
        if question["kind"] == "checkbox":
            answers[question["id"]] = key in fields
        elif key in fields:
            answers[question["id"]] = fields[key]
    return answers


def _form_errors(details: list[dict[str, Any]] | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for detail in details or []:
        errors.setdefault(str(detail.get("field") or "__all__"), str(detail.get("message")))
    return errors


def _book(
    request: Request,
    session: Session,
    settings: SettingsDep,
    place: Place,
    fields: dict[str, str],
) -> Response:
    now = utcnow()
    lang = page_language(request)
    gettext = translations(lang).gettext
    bookable = place.find(session, now)
    zone = _zone_or_default(fields.get("tz"), bookable.organizer.time_zone)
    start = _parse_start(fields.get("start", ""))
    questions = bookable.meeting_type.questions
    values = {
        "name": fields.get("name", ""),
        "email": fields.get("email", ""),
        "notes": fields.get("notes", ""),
        "answers": _answers_from(fields, questions),
    }
    data, errors = validate_form(
        BookingCreate, {**values, "start": start, "time_zone": zone, "locale": lang}
    )
    if "name" in errors:
        errors["name"] = gettext("Please enter your name (at most 200 characters).")
    if "email" in errors:
        errors["email"] = gettext("Please enter a valid email address, such as name@example.com.")
    if "notes" in errors:
        errors["notes"] = gettext("Please keep this under 5,000 characters.")
    try:
        if data is None:
            raise InvalidInput(gettext("Please check the fields marked below."))
        _, token = bookings.create_booking(session, bookable, data, lang, now, settings)
    except DomainError as exc:
        session.rollback()  # nothing of this attempt is kept
        bookable = place.find(session, now)  # 410 if a single-use link was used meanwhile
        choice = Choice(zone=zone, values=values)
        if exc.status_code == 409:
            choice.error = gettext("That time was just taken. Please pick another one.")
            choice.first = start.astimezone(ZoneInfo(zone)).date()
            return _booking_page(request, session, place, bookable, choice, now, 409)
        if exc.status_code != 422:
            raise
        choice.start = start
        choice.errors = errors or _form_errors(exc.details)
        choice.error = gettext("Please check the fields marked below.")
        return _booking_page(request, session, place, bookable, choice, now, 422)
    return RedirectResponse(f"/b/{token}?notice=booked", status_code=303)


TzQuery = Annotated[str | None, Query(max_length=64)]
FromQuery = Annotated[date | None, Query(alias="from")]
StartQuery = Annotated[str | None, Query(max_length=64)]


def _page_place(page_key: str, type_id: str) -> Place:
    return Place(
        path=f"/p/{page_key}/{type_id}",
        back=f"/p/{page_key}",
        find=lambda session, _now: scheduling.bookable_through_page(session, page_key, type_id),
    )


def _link_place(token: str) -> Place:
    return Place(
        path=f"/l/{token}",
        back=None,
        find=lambda session, now: scheduling.bookable_through_link(session, token, now),
    )


@router.get("/p/{page_key}")
def booking_page(
    page_key: str, request: Request, session: SessionDep, tz: TzQuery = None
) -> Response:
    page, organizer, _ = scheduling.published_page(session, page_key)
    lang = page_language(request)
    zone = _zone_or_default(tz, "")
    types = scheduling.public_types(session, organizer)
    return render(
        request,
        "invitee/page.html",
        {
            "page": page,
            "organizer_name": organizer.name,
            "types": types,
            "labels": _labels(lang),
            "tz_query": f"?tz={zone}" if zone else "",
        },
        lang=lang,
    )


@router.get("/p/{page_key}/{type_id}")
def page_meeting_type(
    page_key: str,
    type_id: str,
    request: Request,
    session: SessionDep,
    tz: TzQuery = None,
    first: FromQuery = None,
    start: StartQuery = None,
) -> Response:
    return _show(request, session, _page_place(page_key, type_id), tz, first, start)


@router.post("/p/{page_key}/{type_id}", dependencies=[PageLane])
def book_on_page(
    page_key: str,
    type_id: str,
    request: Request,
    fields: FormFields,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    return _book(request, session, settings, _page_place(page_key, type_id), fields)


@router.get("/l/{token}")
def private_link(
    token: str,
    request: Request,
    session: SessionDep,
    tz: TzQuery = None,
    first: FromQuery = None,
    start: StartQuery = None,
) -> Response:
    return _show(request, session, _link_place(token), tz, first, start)


@router.post("/l/{token}", dependencies=[LinkLane])
def book_through_link(
    token: str, request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    return _book(request, session, settings, _link_place(token), fields)
