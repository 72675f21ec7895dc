"""The organizer's own pages: the start page with the booking page and its publishing,
working hours, meeting types with their private links, and bookings. They call the same
services as the API; every form works without JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.bookings import service as bookings
from bookwithme.bookings.views import reminders_of_bookings
from bookwithme.calendars import connections
from bookwithme.calendars.connections import CalendarCreate, list_calendars
from bookwithme.config import Settings
from bookwithme.errors import (
    CalendarUnreadable,
    DomainError,
    InvalidInput,
    NotFound,
    TargetNotAllowed,
)
from bookwithme.i18n import (
    clock_label,
    day_label,
    first_weekday,
    month_label,
    regional_locale,
    spans_by_day,
    translations,
    weekday_names,
    when,
)
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.schemas import (
    MAX_QUESTIONS,
    MAX_REMINDERS,
    MeetingTypeCreate,
    MeetingTypeUpdate,
    PageUpdate,
    PrivateLinkCreate,
    embed_origin,
)
from bookwithme.models import Booking, MeetingType, Organization, Page, User, utcnow
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import WEEKDAYS, ScheduleData
from bookwithme.timezones import known_zones, named_zone
from bookwithme.web import calendar_reads
from bookwithme.web import reminders as reminder_form
from bookwithme.web.api.calendars import BUSY_DAYS
from bookwithme.web.deps import BookingLane, NotSignedIn, PageUser, SessionDep, SettingsDep
from bookwithme.web.errors import summarize
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.pages_invitee import month_grid
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])
FormFields = Annotated[dict[str, str], Depends(form_fields)]

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


@router.get("/")
def dashboard(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _dashboard(request, session, user, settings, notice_text(notice))


def _embed_snippet(page_url: str, name: str) -> str:
    title = escape(f"Book a meeting with {name}", quote=True)
    return (
        f'<iframe src="{escape(page_url, quote=True)}" title="{title}" '
        'style="width:100%;min-height:760px;border:0" loading="lazy"></iframe>'
    )


def _dashboard(
    request: Request,
    session: Session,
    user: User,
    settings: Settings,
    notice: str | None,
    embed_text: str | None = None,
    embed_error: str | None = None,
    status_code: int = 200,
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
    page_url = f"{settings.base_url}/p/{page.key}" if page else None
    return render(
        request,
        "organizer/dashboard.html",
        {
            "organization": organization,
            "status": status,
            "page": page,
            "page_url": page_url,
            "embed_snippet": _embed_snippet(page_url, user.name) if page_url else "",
            "embed_origins_text": (
                embed_text if embed_text is not None else "\n".join(page.embed_origins or [])
            )
            if page
            else "",
            "embed_error": embed_error,
            "meeting_types": meeting_types,
            "schedule": schedule,
            "hours": hours,
            "calendars": calendars,
            "unsynced": [c for c in calendars if c.last_success_at is None],
            "notice": notice,
        },
        status_code=status_code,
    )


# --- The page: title, intro, publishing ---------------------------------------------

NOTICES = {
    "published": "Your page is published. Share its address.",
    "embed_saved": "Saved. The sites listed can now show your page; no other site can.",
    "unpublished": "Your page is hidden. Nobody can book through it until you publish it again.",
    "new_link": "Your page has a new address. The old one no longer works.",
    "hours": "Your working hours are saved.",
    "created": "Meeting type created. Set it up below.",
    "saved": "Saved.",
    "duplicated": "This is the copy. Change what differs.",
    "deleted": "The meeting type is deleted. Its bookings are kept.",
    "revoked": "The link is turned off.",
    "cancelled": "The booking is cancelled; the invitee gets an email.",
    "connected": "Connected and read: nothing is offered over the time it shows as busy. "
    "It is read again every 15 minutes.",
    "read": "Read again just now.",
    "removed": "Disconnected. Its busy time no longer counts.",
}


def notice_text(notice: str | None) -> str | None:
    return NOTICES.get(notice or "")


def _invalid(errors: dict[str, str]) -> InvalidInput:
    """A form's field errors as one 422 (for forms too small to show them in place)."""
    return InvalidInput(summarize([{"field": k, "message": v} for k, v in errors.items()]))


@router.post("/page")
def page_save(
    request: Request,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    page = meeting_types.get_page(session, user)
    action = fields.get("action", "save")
    if action == "embed":
        text = fields.get("embed_origins", "")
        origins = [line.strip() for line in text.splitlines() if line.strip()]
        data, errors = validate_form(PageUpdate, {"embed_origins": origins})
        if data is None:
            message = next(iter(errors.values()))
            message = message[:1].upper() + message[1:]
            for origin in origins:  # name the line that is wrong
                try:
                    embed_origin(origin)
                except ValueError:
                    message = f"{origin}: {message[:1].lower()}{message[1:]}"
                    break
            return _dashboard(request, session, user, settings, None, text, message, 422)
        meeting_types.update_page(session, page, data)
        return RedirectResponse("/?notice=embed_saved", status_code=303)
    if action == "publish":
        meeting_types.publish(session, user, page, False, utcnow())
        return RedirectResponse("/?notice=published", status_code=303)
    if action == "new_link":
        meeting_types.publish(session, user, page, True, utcnow())
        return RedirectResponse("/?notice=new_link", status_code=303)
    if action == "unpublish":
        meeting_types.unpublish(session, page)
        return RedirectResponse("/?notice=unpublished", status_code=303)
    data, errors = validate_form(
        PageUpdate, {"title": fields.get("title", ""), "intro": fields.get("intro", "")}
    )
    if data is None:
        raise _invalid(errors)
    meeting_types.update_page(session, page, data)
    return RedirectResponse("/?notice=saved", status_code=303)


# --- Working hours ----------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")


def _intervals(text: str) -> list[dict[str, str]]:
    """ "09:00-12:00, 13:00-17:00" as intervals; raises ValueError with what is wrong."""
    result = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"'{part}' is not a time range such as 09:00-17:00")
        start, end = (v.zfill(5) for v in match.groups())
        result.append({"start": start, "end": end})
    return result


def _hours_text(intervals: list[Any]) -> str:
    return ", ".join(f"{i.start}-{i.end}" for i in intervals)


def _overrides_text(schedule: ScheduleData) -> str:
    return "\n".join(
        f"{o.date.isoformat()}: {_hours_text(o.intervals) or 'off'}" for o in schedule.overrides
    )


def _hours_page(
    request: Request,
    schedule: ScheduleData,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if values is None:
        values = {day: _hours_text(getattr(schedule.weekly, day)) for day in WEEKDAYS}
        values["time_zone"] = schedule.time_zone
        values["overrides"] = _overrides_text(schedule)
    return render(
        request,
        "organizer/hours.html",
        {
            "days": [(day, DAY_NAMES[day]) for day in WEEKDAYS],
            "values": values,
            "errors": errors or {},
            "zones": sorted(known_zones()),
            "date_range": schedule.date_range,
        },
        status_code=status_code,
    )


def _hours_field(field: str, message: str) -> str:
    """Which box of the hours form a schedule error belongs to."""
    parts = field.split(".")
    if parts[0] == "weekly" and len(parts) > 1 and parts[1] in WEEKDAYS:
        return parts[1]
    if parts[0] in ("time_zone", "overrides"):
        return parts[0]
    for day in WEEKDAYS:  # "intervals on wed overlap: ..."
        if re.search(rf"\b{day}\b", message):
            return day
    return "overrides"


@router.get("/availability")
def hours_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    return _hours_page(request, store.to_data(store.default_schedule_row(session, user)))


@router.post("/availability")
def hours_save(
    request: Request, fields: FormFields, user: PageUser, session: SessionDep
) -> Response:
    current = store.to_data(store.default_schedule_row(session, user))
    values = {day: fields.get(day, "") for day in WEEKDAYS}
    values["time_zone"] = fields.get("time_zone", "")
    values["overrides"] = fields.get("overrides", "")
    errors: dict[str, str] = {}
    weekly: dict[str, list[dict[str, str]]] = {}
    for day in WEEKDAYS:
        try:
            weekly[day] = _intervals(values[day])
        except ValueError as exc:
            errors[day] = str(exc)
    overrides = []
    for number, line in enumerate(values["overrides"].splitlines(), start=1):
        if not line.strip():
            continue
        day, _, hours = line.partition(":")
        try:
            spans = [] if hours.strip().lower() in ("", "off") else _intervals(hours)
        except ValueError as exc:
            errors.setdefault("overrides", f"Line {number}: {exc}")
            continue
        overrides.append({"date": day.strip(), "intervals": spans})
    if not errors:
        data, problems = validate_form(
            ScheduleData,
            {
                "time_zone": values["time_zone"],
                "weekly": weekly,
                "overrides": overrides,
                "date_range": current.date_range.model_dump(mode="json")
                if current.date_range
                else None,
            },
        )
        for field, message in problems.items():
            errors.setdefault(_hours_field(field, message), message)
        if data is not None:
            store.replace_default_schedule(session, user, data)
            return RedirectResponse("/?notice=hours", status_code=303)
    return _hours_page(request, current, values, errors, 422)


# --- Bookings ---------------------------------------------------------------------------

SHOWS = ("upcoming", "past", "cancelled")
SHOW_LABELS = {"upcoming": "Upcoming", "past": "Past", "cancelled": "Cancelled"}
MOVE_REASON_MAX = 1000  # as the API's
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MONTH = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])$")
TIME_TAKEN = "That time was just taken. Please pick another one."
NOT_MOVABLE = {
    "booking_cancelled": "This booking is cancelled, so it cannot be moved.",
    "not_found": "This booking can no longer be moved: its meeting type is deleted or turned "
    "off, or personal bookings are turned off for your account. Cancel it and ask the "
    "invitee to book again.",
}


def _lang(user: User) -> str:
    return user.locale if user.locale in ("en", "fr") else "en"


def _moved_notice(session: Session, user: User, booking_id: str, lang: str) -> str | None:
    """ "Moved to …" for the booking just moved (one of the organizer's own)."""
    try:
        booking = bookings.organizer_booking(session, user, booking_id)
    except NotFound:
        return None
    if booking.status != "confirmed":
        return None
    text: str = translations(lang).gettext(
        "Moved to %(when)s (%(zone)s). %(name)s gets an email with the old time and the new one."
    )
    return text % {
        "when": when(booking.start_at, user.time_zone, lang),
        "zone": user.time_zone,
        "name": booking.invitee_name,
    }


@router.get("/bookings")
def bookings_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    show: Literal["upcoming", "past", "cancelled"] = "upcoming",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
    moved: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    now = utcnow()
    lang = _lang(user)
    gettext = translations(lang).gettext
    if show == "upcoming":
        found, next_cursor = bookings.list_bookings(session, user, now, None, "confirmed", cursor)
    elif show == "past":
        found, next_cursor = bookings.list_bookings(session, user, None, now, "confirmed", cursor)
    else:
        found, next_cursor = bookings.list_bookings(session, user, None, None, "cancelled", cursor)
    zone = user.time_zone
    type_ids = {b.meeting_type_id for b in found if b.meeting_type_id is not None}
    questions: dict[uuid.UUID, dict[str, str]] = {}
    movable_types: set[uuid.UUID] = set()  # a booking of a deleted or inactive type is not
    for mt in session.scalars(select(MeetingType).where(MeetingType.id.in_(type_ids))):
        questions[mt.id] = {q["id"]: q["label"] for q in mt.questions}
        if mt.active and mt.deleted_at is None:
            movable_types.add(mt.id)
    reminders = reminders_of_bookings(session, [b.id for b in found])
    rows = [
        {
            "booking": b,
            "when": when(b.start_at, zone, lang),
            "labels": questions.get(b.meeting_type_id, {}) if b.meeting_type_id else {},
            "reminders": [
                {
                    "line": reminder_form.line(r.minutes_before, r.recipient),
                    "status": r.status,
                    "hint": reminder_form.STATUS_HINTS.get(r.status, ""),
                }
                for r in reminders.get(b.id, [])
            ],
            "movable": b.status == "confirmed"
            and b.end_at > now
            and b.meeting_type_id in movable_types,
            "just_moved": moved is not None and str(b.id) == moved,
        }
        for b in found
    ]
    text = notice_text(notice)
    return render(
        request,
        "organizer/bookings.html",
        {
            "rows": rows,
            "show": show,
            "shows": [
                (s, translations(lang).pgettext("bookings tab", SHOW_LABELS[s])) for s in SHOWS
            ],
            "zone": zone,
            "next_cursor": next_cursor,
            "notice": _moved_notice(session, user, moved, lang)
            if moved
            else (gettext(text) if text else None),
            "now": now,
        },
        lang=lang,
    )


@router.post("/bookings/{booking_id}/cancel", dependencies=[BookingLane])
def booking_cancel(
    booking_id: str, fields: FormFields, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    booking = bookings.organizer_booking(session, user, booking_id)
    reason = fields.get("reason", "").strip()
    if len(reason) > 2000:
        raise InvalidInput("The reason can be at most 2,000 characters.")
    bookings.cancel(session, booking, reason or None, "organizer", utcnow(), settings)
    return RedirectResponse("/bookings?notice=cancelled", status_code=303)


# Moving a booking: a GET page with a month calendar (the days with room) and the chosen
# day's free times, in the organizer's zone, from the same slot rule as the invitee's move
# (the booking's own time counts as free and is marked); choosing a time, an optional
# reason and confirming posts, and the list says where it went.


def _month_field(text: str | None) -> date | None:
    if not text or not _MONTH.match(text):
        return None
    return scheduling.plausible(date(int(text[:4]), int(text[5:7]), 1), "month")


def _day_field(text: str | None) -> date | None:
    try:
        return scheduling.plausible(date.fromisoformat(text), "day") if text else None
    except ValueError:
        return None


def _instant(text: str) -> datetime | None:
    """An ISO 8601 instant with an offset, as the page's times are written; None for
    anything else (a local time without offset, a date beyond what UTC can hold)."""
    try:
        value = datetime.fromisoformat(text)
        return value.astimezone(UTC) if value.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _move_page(
    request: Request,
    session: Session,
    user: User,
    booking: Booking,
    month: date | None,
    day: date | None,
    *,
    error: str | None = None,
    reason: str = "",
    chosen: datetime | None = None,
    status_code: int = 200,
) -> Response:
    lang = _lang(user)
    gettext = translations(lang).gettext
    zone = user.time_zone
    tz = named_zone(zone)
    now = utcnow()
    today = now.astimezone(tz).date()
    context: dict[str, Any] = {
        "booking": booking,
        "zone": zone,
        "current_when": when(booking.start_at, zone, lang),
        "error": error,
        "reason": reason,
        "reason_max": MOVE_REASON_MAX,
    }
    try:
        bookable = bookings.reschedule_context(session, booking)
    except DomainError as exc:
        blocked = NOT_MOVABLE.get(exc.code, exc.message)
        context.update(blocked=gettext(blocked), error=None)
        return render(request, "organizer/move.html", context, 409, lang)
    rules = bookings.booking_rules(bookable, booking)
    current = int(booking.start_at.timestamp())

    def month_starts(first: date) -> list[int]:
        low, high = scheduling.month_window(first, zone)
        return scheduling.starts_for(session, bookable, low, high, now, booking.id, rules)

    def rooms_of(starts: list[int]) -> dict[date, int]:
        return dict(scheduling.days_with_room([s for s in starts if s != current], zone))

    this_month = today.replace(day=1)
    # The last month that may have room: the type's horizon, a day's margin for zones.
    last_month = (today + timedelta(days=bookable.meeting_type.max_advance_days + 1)).replace(day=1)
    own_day = booking.start_at.astimezone(tz).date()
    asked = day if day is not None and day >= today else None
    month = month or (asked or max(own_day, today)).replace(day=1)
    month = max(this_month, min(month, last_month))
    if asked is not None and asked.replace(day=1) != month:
        asked = None
    starts = month_starts(month)
    rooms = rooms_of(starts)
    if asked is not None:
        day = asked
    elif own_day in rooms:
        day = own_day
    else:
        day = min(rooms) if rooms else None

    next_free: date | None = None
    if day is None or day not in rooms:
        later = [d for d in rooms if day is None or d > day]
        if later:
            next_free = min(later)
        else:  # nothing more this month: look ahead, up to the type's horizon
            ahead = (month + timedelta(days=32)).replace(day=1)
            while ahead <= last_month and next_free is None:
                ahead_rooms = rooms_of(month_starts(ahead))
                next_free = min(ahead_rooms) if ahead_rooms else None
                ahead = (ahead + timedelta(days=32)).replace(day=1)

    base = f"/bookings/{booking.id}/move"
    label = clock_label(lang, 24)
    chosen_iso = chosen.astimezone(tz).isoformat() if chosen else None
    times = []
    if day is not None:
        for seconds in scheduling.starts_on(starts, day, zone):
            local = datetime.fromtimestamp(seconds, tz)
            times.append(
                {
                    "value": local.isoformat(),
                    "label": label(local.hour, local.minute),
                    "current": seconds == current,
                    "checked": local.isoformat() == chosen_iso,
                }
            )
    first = first_weekday(regional_locale(request.headers.get("accept-language"), lang), lang)
    following = (month + timedelta(days=32)).replace(day=1)
    context.update(
        month=month,
        month_label=month_label(month, lang),
        weekdays=weekday_names(lang, first),
        weeks=month_grid(month, rooms, day, today, first, f"{base}?month={month:%Y-%m}", lang),
        previous_url=f"{base}?month={month - timedelta(days=1):%Y-%m}"
        if month > this_month
        else None,
        next_url=f"{base}?month={following:%Y-%m}" if month < last_month else None,
        day=day,
        day_heading=day_label(day, lang) if day else None,
        times=times,
        can_choose=any(not t["current"] for t in times),
        next_free_label=day_label(next_free, lang) if next_free else None,
        next_free_url=f"{base}?month={next_free:%Y-%m}&day={next_free.isoformat()}"
        if next_free
        else None,
    )
    return render(request, "organizer/move.html", context, status_code, lang)


@router.get("/bookings/{booking_id}/move")
def booking_move_page(
    booking_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    month: Annotated[str | None, Query(max_length=7, pattern=r"^\d{4}-(?:0[1-9]|1[0-2])$")] = None,
    day: date | None = None,
) -> Response:
    """The free times to move a booking to; this GET changes nothing."""
    booking = bookings.organizer_booking(session, user, booking_id)
    if day is not None:
        scheduling.plausible(day, "day")
    return _move_page(request, session, user, booking, _month_field(month), day)


@router.post("/bookings/{booking_id}/move", dependencies=[BookingLane])
def booking_move(
    booking_id: str,
    request: Request,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    booking = bookings.organizer_booking(session, user, booking_id)
    try:  # which month and day the page showed, to show them again
        month, day = _month_field(fields.get("month")), _day_field(fields.get("day"))
    except InvalidInput:
        month, day = None, None
    reason = fields.get("reason", "").strip()
    start = _instant(fields.get("start", ""))
    gettext = translations(_lang(user)).gettext

    def again(message: str, status_code: int, fresh: Booking = booking) -> Response:
        return _move_page(
            request,
            session,
            user,
            fresh,
            month,
            day,
            error=gettext(message),
            reason=reason,
            chosen=start,
            status_code=status_code,
        )

    if not fields.get("start"):
        return again("Pick a new time first.", 422)
    if start is None:
        return again("Pick one of the times shown.", 422)
    if len(reason) > MOVE_REASON_MAX:
        return again("The reason can be at most 1,000 characters.", 422)
    if _CONTROL.search(reason):
        return again("The reason cannot contain control characters.", 422)
    if start == booking.start_at:
        return again("That is the booking's time now. Pick another one.", 422)
    try:
        bookings.reschedule(
            session, booking, start, utcnow(), settings, reason=reason or None, by="organizer"
        )
    except DomainError as exc:
        if exc.status_code not in (404, 409):
            raise
        session.rollback()  # shown again as it is now: cancelled, or the time taken
        fresh = bookings.organizer_booking(session, user, booking_id)
        start = None
        if exc.code == "slot_unavailable":
            return again(TIME_TAKEN, 409, fresh)
        return _move_page(request, session, user, fresh, month, day, status_code=409)
    return RedirectResponse(f"/bookings?moved={booking.id}", status_code=303)


# --- Meeting types and their private links --------------------------------------------

QUESTION_KINDS = (
    ("text", "Short text"),
    ("textarea", "Long text"),
    ("select", "Choice from a list"),
    ("checkbox", "Checkbox"),
)
TYPE_NUMBERS = (
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_minutes",
    "max_advance_days",
)
OPTIONAL_NUMBERS = ("slot_interval_minutes", "max_bookings_per_day")


# The form shows the questions there are and a few empty rows; a row without a label is
# left out, which is how a question is removed.
EMPTY_QUESTION_ROWS = 2


def _questions_from(fields: dict[str, str]) -> list[dict[str, Any]]:
    questions = []
    for i in range(MAX_QUESTIONS + EMPTY_QUESTION_ROWS):
        label = fields.get(f"q{i}_label", "").strip()
        if not label:
            continue
        kind = fields.get(f"q{i}_kind", "text")
        options = [o.strip() for o in fields.get(f"q{i}_options", "").split(",") if o.strip()]
        question: dict[str, Any] = {
            "label": label,
            "kind": kind,
            "required": f"q{i}_required" in fields,
            "options": options if kind == "select" else [],
        }
        if fields.get(f"q{i}_id"):
            question["id"] = fields[f"q{i}_id"]
        questions.append(question)
    return questions


def _question_rows(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [{**q, "options": ", ".join(q.get("options") or [])} for q in questions]
    return (
        rows
        + [{"id": "", "label": "", "kind": "text", "required": False, "options": ""}]
        * EMPTY_QUESTION_ROWS
    )


def _type_values(mt: MeetingType) -> dict[str, Any]:
    out = meeting_types.type_out(mt)
    values: dict[str, Any] = out.model_dump(mode="json")
    values["location_kind"] = out.location.kind
    values["location_details"] = out.location.details or ""
    return values


def _type_changes(fields: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as a meeting-type update, with a message for each number that is not one."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {
        "title": fields.get("title", ""),
        "description": fields.get("description", ""),
        "visibility": fields.get("visibility", "public"),
        "active": "active" in fields,
        "add_online_meeting": "add_online_meeting" in fields,
        "location": {
            "kind": fields.get("location_kind", "online"),
            "details": fields.get("location_details", "").strip() or None,
        },
    }
    changes["questions"] = _questions_from(fields)
    if "r0_amount" in fields:  # a form without the reminder rows leaves them as they are
        changes["reminders"], reminder_errors, _ = reminder_form.read(fields)
        errors.update(reminder_errors)
    for name in TYPE_NUMBERS + OPTIONAL_NUMBERS:
        text = fields.get(name, "").strip()
        if not text and name in OPTIONAL_NUMBERS:
            changes[name] = None
            continue
        try:
            changes[name] = int(text)
        except ValueError:
            errors[name] = "Enter a whole number."
    return changes, errors


def _type_page(
    request: Request,
    session: Session,
    settings: Settings,
    mt: MeetingType,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    new_link: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    values = values or _type_values(mt)
    links = [meeting_types.link_out(link, now) for link in meeting_types.list_links(session, mt)]
    page = session.scalar(select(Page).where(Page.user_id == mt.user_id))
    return render(
        request,
        "organizer/meeting_type.html",
        {
            "mt": mt,
            "values": values,
            "question_rows": _question_rows(values["questions"]),
            "question_kinds": QUESTION_KINDS,
            "reminder_rows": values.get("reminder_rows")
            or reminder_form.rows_of(values.get("reminders") or []),
            "reminder_units": tuple(reminder_form.UNITS),
            "reminder_recipients": reminder_form.RECIPIENTS,
            "max_reminders": MAX_REMINDERS,
            "errors": errors or {},
            "links": links,
            "new_link": new_link,
            "notice": notice_text(notice),
            "booking_url": f"{settings.base_url}/p/{page.key}/{mt.id}"
            if page and page.published and mt.visibility == "public" and mt.active
            else None,
        },
        status_code=status_code,
    )


@router.post("/meeting-types")
def type_create(fields: FormFields, user: PageUser, session: SessionDep) -> Response:
    try:
        duration = int(fields.get("duration_minutes", "30"))
    except ValueError:
        raise InvalidInput("The length must be a whole number of minutes.") from None
    data, errors = validate_form(
        MeetingTypeCreate, {"title": fields.get("title", ""), "duration_minutes": duration}
    )
    if data is None:
        raise _invalid(errors)
    mt = meeting_types.create_type(session, user, data)
    return RedirectResponse(f"/meeting-types/{mt.id}?notice=created", status_code=303)


@router.get("/meeting-types/{type_id}")
def type_page(
    type_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    return _type_page(request, session, settings, mt, notice=notice)


@router.post("/meeting-types/{type_id}")
def type_save(
    type_id: str,
    request: Request,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    changes, errors = _type_changes(fields)
    data, problems = validate_form(MeetingTypeUpdate, changes) if not errors else (None, {})
    for field, message in problems.items():
        key = "location_kind" if field == "location.kind" else field
        key = "location_details" if field == "location.details" else key
        if key.startswith("questions"):
            key, message = "questions", f"{field}: {message}"
        if key.startswith("reminders"):
            key = "reminders"
        errors.setdefault(key, message)
    if data is None:
        values = {**_type_values(mt), **{k: fields.get(k, "") for k in fields}}
        values["active"] = "active" in fields
        values["add_online_meeting"] = "add_online_meeting" in fields
        values["questions"] = changes["questions"]
        if "r0_amount" in fields:
            values["reminder_rows"] = reminder_form.read(fields)[2]
        return _type_page(request, session, settings, mt, values, errors, status_code=422)
    meeting_types.update_type(session, user, mt, data)
    return RedirectResponse(f"/meeting-types/{mt.id}?notice=saved", status_code=303)


@router.post("/meeting-types/{type_id}/duplicate")
def type_duplicate(type_id: str, user: PageUser, session: SessionDep) -> Response:
    copy = meeting_types.duplicate_type(
        session, user, meeting_types.get_type(session, user, type_id)
    )
    return RedirectResponse(f"/meeting-types/{copy.id}?notice=duplicated", status_code=303)


@router.post("/meeting-types/{type_id}/delete")
def type_delete(type_id: str, user: PageUser, session: SessionDep) -> Response:
    meeting_types.delete_type(session, meeting_types.get_type(session, user, type_id), utcnow())
    return RedirectResponse("/?notice=deleted", status_code=303)


@router.post("/meeting-types/{type_id}/links")
def link_create(
    type_id: str,
    request: Request,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    try:
        days = int(fields.get("expires_in_days", "90") or "90")
    except ValueError:
        raise InvalidInput("The link's life must be a whole number of days (1 to 365).") from None
    data, _ = validate_form(
        PrivateLinkCreate, {"single_use": "single_use" in fields, "expires_in_days": days}
    )
    if data is None:
        raise InvalidInput("The link's life must be between 1 and 365 days.")
    _, token = meeting_types.create_link(session, user, mt, data, utcnow())
    # The address is shown this once: only a hash of its token is kept.
    return _type_page(
        request, session, settings, mt, new_link=meeting_types.link_url(settings.base_url, token)
    )


@router.post("/private-links/{link_id}/revoke")
def link_revoke(link_id: str, user: PageUser, session: SessionDep) -> Response:
    link = meeting_types.revoke_link(session, user, link_id, utcnow())
    return RedirectResponse(
        f"/meeting-types/{link.meeting_type_id}?notice=revoked", status_code=303
    )


# --- Calendars ----------------------------------------------------------------------------


def _calendars_page(
    request: Request,
    session: Session,
    user: User,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    calendars = list_calendars(session, user)
    busy = {
        c.id: spans_by_day(
            connections.busy_between(session, c, now, now + timedelta(days=BUSY_DAYS)),
            user.time_zone,
            "en",
        )
        for c in calendars
    }
    return render(
        request,
        "organizer/calendars.html",
        {
            "calendars": calendars,
            "busy": busy,
            "busy_days": BUSY_DAYS,
            "zone": user.time_zone,
            "read_at": {
                c.id: when(c.last_success_at, user.time_zone, "en")
                for c in calendars
                if c.last_success_at
            },
            "notice": notice_text(notice),
            "values": values or {"kind": "ics"},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/calendars")
def calendars_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _calendars_page(request, session, user, notice)


@router.post("/calendars")
async def calendar_connect(request: Request, fields: FormFields, settings: SettingsDep) -> Response:
    """Connect a calendar: it is read once first, and saved only if it could be read."""
    values = {k: fields.get(k, "") for k in ("kind", "name", "url", "username")}
    data, errors = validate_form(
        CalendarCreate,
        {
            "kind": values["kind"],
            "name": values["name"].strip() or None,
            "url": values["url"],
            "username": values["username"].strip() or None,
            "password": fields.get("password") or None,
            "write_back": "write_back" in fields,
        },
    )
    if data is not None:
        try:
            await calendar_reads.connect(request, settings, data, NotSignedIn())
        except (CalendarUnreadable, TargetNotAllowed) as exc:
            errors = {"url": _unreadable(exc)}
        except InvalidInput as exc:
            errors = {"kind": exc.message}
    if not errors:
        return RedirectResponse("/calendars?notice=connected", status_code=303)
    values["write_back"] = "on" if "write_back" in fields else ""

    def page(session: Session) -> Response:
        user = calendar_reads.signed_in(request, session, settings, NotSignedIn())
        return _calendars_page(request, session, user, None, values, errors, 422)

    return await calendar_reads.in_unit(request, page, write=False)


def _unreadable(exc: CalendarUnreadable | TargetNotAllowed) -> str:
    return str(exc.details[0]["message"]) if exc.details else exc.message


@router.post("/calendars/{calendar_id}/delete")
def calendar_disconnect(calendar_id: str, user: PageUser, session: SessionDep) -> Response:
    connections.disconnect(session, connections.get_calendar(session, user, calendar_id))
    return RedirectResponse("/calendars?notice=removed", status_code=303)


@router.post("/calendars/{calendar_id}/sync")
async def calendar_read_now(calendar_id: str, request: Request, settings: SettingsDep) -> Response:
    await calendar_reads.read_now(request, settings, calendar_id, NotSignedIn())
    return RedirectResponse("/calendars?notice=read", status_code=303)
