"""The organizer's own pages: the start page with the booking page and its publishing,
working hours, meeting types with their private links, and bookings. They call the same
services as the API; every form works without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta
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
from bookwithme.errors import CalendarUnreadable, InvalidInput, TargetNotAllowed
from bookwithme.i18n import spans_by_day, when
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
from bookwithme.models import MeetingType, Organization, Page, User, utcnow
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import WEEKDAYS, ScheduleData
from bookwithme.timezones import known_zones
from bookwithme.web import calendar_reads
from bookwithme.web import reminders as reminder_form
from bookwithme.web.api.calendars import BUSY_DAYS
from bookwithme.web.deps import BookingLane, NotSignedIn, PageUser, SessionDep, SettingsDep
from bookwithme.web.errors import summarize
from bookwithme.web.forms import form_fields, validate_form
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


@router.get("/bookings")
def bookings_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    show: Literal["upcoming", "past", "cancelled"] = "upcoming",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    now = utcnow()
    if show == "upcoming":
        found, next_cursor = bookings.list_bookings(session, user, now, None, "confirmed", cursor)
    elif show == "past":
        found, next_cursor = bookings.list_bookings(session, user, None, now, "confirmed", cursor)
    else:
        found, next_cursor = bookings.list_bookings(session, user, None, None, "cancelled", cursor)
    zone = user.time_zone
    type_ids = {b.meeting_type_id for b in found if b.meeting_type_id is not None}
    questions = {
        mt.id: {q["id"]: q["label"] for q in mt.questions}
        for mt in session.scalars(select(MeetingType).where(MeetingType.id.in_(type_ids)))
    }
    reminders = reminders_of_bookings(session, [b.id for b in found])
    rows = [
        {
            "booking": b,
            "when": when(b.start_at, zone, "en"),
            "labels": questions.get(b.meeting_type_id, {}) if b.meeting_type_id else {},
            "reminders": [
                {
                    "line": reminder_form.line(r.minutes_before, r.recipient),
                    "status": r.status,
                    "hint": reminder_form.STATUS_HINTS.get(r.status, ""),
                }
                for r in reminders.get(b.id, [])
            ],
        }
        for b in found
    ]
    return render(
        request,
        "organizer/bookings.html",
        {
            "rows": rows,
            "show": show,
            "shows": SHOWS,
            "zone": zone,
            "next_cursor": next_cursor,
            "notice": notice_text(notice),
            "now": now,
        },
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
