"""The organizer's own pages: the start page with the booking page and its publishing,
working hours, meeting types with their private links, and bookings. They call the same
services as the API; every form works without JavaScript."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Annotated, Any, Literal

from babel.dates import format_date
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.admin import policy
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
    N_,
    clock_label,
    day_label,
    first_weekday,
    moment,
    month_label,
    regional_locale,
    spans_by_day,
    spoken,
    translations,
    weekday_names,
    when,
)
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.schemas import (
    MAX_LINK_LABEL,
    PageUpdate,
    PrivateLinkCreate,
    embed_origin,
)
from bookwithme.models import (
    Booking,
    MeetingType,
    Organization,
    Page,
    PrivateLink,
    User,
    utcnow,
)
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.security import hash_token
from bookwithme.timezones import known_zones, named_zone
from bookwithme.web import calendar_reads, switched_off
from bookwithme.web import reminders as reminder_form
from bookwithme.web.api.calendars import BUSY_DAYS
from bookwithme.web.deps import BookingLane, NotSignedIn, PageUser, SessionDep, SettingsDep
from bookwithme.web.errors import summarize
from bookwithme.web.forms import ScheduleForm, form_fields, validate_form, week_days
from bookwithme.web.pages_invitee import month_grid
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.shown_once import ShownOnce
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])
FormFields = Annotated[dict[str, str], Depends(form_fields)]


@router.get("/")
def dashboard(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _dashboard(request, session, user, settings, notice_in(notice, spoken(user.locale)))


def notice_in(notice: str | None, lang: str) -> str | None:
    """The notice a page shows after a form did its work, in the organizer's language."""
    text = NOTICES.get(notice or "")
    return translations(lang).gettext(text) if text else None


def _embed_snippet(page_url: str, name: str, lang: str) -> str:
    title = translations(lang).gettext("Book a meeting with %(name)s") % {"name": name}
    return (
        f'<iframe src="{escape(page_url, quote=True)}" title="{escape(title, quote=True)}" '
        'style="width:100%;min-height:760px;border:0" loading="lazy"></iframe>'
    )


# The start page lists this many upcoming date overrides and private links; the rest are a
# click away (/availability, each meeting type's page).
OVERRIDES_SHOWN = 5
LINKS_SHOWN = 20


def _spans_text(intervals: list[Any]) -> str:
    return ", ".join(f"{i.start}\u2013{i.end}" for i in intervals)


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
    lang = spoken(user.locale)
    gettext = translations(lang).gettext
    now = utcnow()
    organization = session.get_one(Organization, user.organization_id)
    # Who turned personal bookings off, in plain words (the API keeps the rule's reasons).
    causes = policy.causes(organization, user)
    off_because = [switched_off.for_organizer(cause, gettext) for cause in causes]
    page = session.scalar(select(Page).where(Page.user_id == user.id))
    types = session.scalars(
        select(MeetingType)
        .where(MeetingType.user_id == user.id, MeetingType.deleted_at.is_(None))
        .order_by(MeetingType.position, MeetingType.created_at)
    ).all()
    schedule = store.to_data(store.default_schedule_row(session, user))
    today = now.astimezone(named_zone(schedule.time_zone)).date()
    upcoming = sorted((o for o in schedule.overrides if o.date >= today), key=lambda o: o.date)
    calendars = list_calendars(session, user)
    links = meeting_types.usable_links(session, user, now, LINKS_SHOWN + 1)
    page_url = f"{settings.base_url}/p/{page.key}" if page else None
    return render(
        request,
        "organizer/dashboard.html",
        {
            "organization": organization,
            "enabled": not causes,
            "off_because": off_because,
            "page": page,
            "page_url": page_url,
            "embed_snippet": _embed_snippet(page_url, user.name, lang) if page_url else "",
            "embed_origins_text": (
                embed_text if embed_text is not None else "\n".join(page.embed_origins or [])
            )
            if page
            else "",
            "embed_error": embed_error,
            "meeting_types": types,
            "link_types": [mt for mt in types if mt.active],
            "links": [
                (link, mt, _date_text(link.expires_at, user.time_zone, lang))
                for link, mt in links[:LINKS_SHOWN]
            ],
            "more_links": len(links) > LINKS_SHOWN,
            "max_label": MAX_LINK_LABEL,
            "schedule": schedule,
            "hours": [(name, getattr(schedule.weekly, key)) for key, name, _ in week_days(lang)],
            "overrides": [
                (day_label(o.date, lang), _spans_text(o.intervals))
                for o in upcoming[:OVERRIDES_SHOWN]
            ],
            "more_overrides": max(0, len(upcoming) - OVERRIDES_SHOWN),
            "calendars": calendars,
            "busy_text": {c.id: _busy_count(c.busy_count, lang) for c in calendars},
            "read_at": {
                c.id: moment(c.last_success_at, user.time_zone, lang)
                for c in calendars
                if c.last_success_at
            },
            "unsynced": [c for c in calendars if c.last_success_at is None],
            "notice": notice,
        },
        status_code=status_code,
        lang=lang,
    )


def _date_text(value: datetime, zone: str, lang: str) -> str:
    """The local date of an instant, as the organizer writes it: "December 1, 2026"."""
    return format_date(value.astimezone(named_zone(zone)).date(), "long", locale=lang)


def _busy_count(count: int, lang: str) -> str:
    text: str = translations(lang).ngettext(
        "%(count)d busy period", "%(count)d busy periods", count
    )
    return text % {"count": count}


# --- The page: title, intro, publishing ---------------------------------------------

NOTICES = {
    "published": N_("Your page is published. Share its address."),
    "embed_saved": N_("Saved. The sites listed can now show your page; no other site can."),
    "unpublished": N_(
        "Your page is hidden. Nobody can book through it until you publish it again."
    ),
    "new_link": N_("Your page has a new address. The old one no longer works."),
    "saved": N_("Saved."),
    "created": N_("Meeting type created. Set it up below."),
    "saved_no_link": N_(
        "Saved. A meeting in person or by phone gets no online meeting link, so that box "
        "is now unticked; tick it and save again if you want one."
    ),
    "duplicated": N_("This is the copy. Change what differs."),
    "hours": N_("Your working hours are saved."),
    "deleted": N_("The meeting type is deleted. Its bookings are kept."),
    "revoked": N_("The link is turned off. Nobody can book through it any more."),
    "cancelled": N_("The booking is cancelled; the invitee gets an email."),
    "connected": N_(
        "Connected and read: nothing is offered over the time it shows as busy. "
        "It is read again every 15 minutes."
    ),
    "read": N_("Read again just now."),
    "removed": N_("Disconnected. Its busy time no longer counts."),
}


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
# The week's editor (``ScheduleForm``, ``organizer/_week_hours.html``) is also the one a
# meeting type's own hours are written with (``pages_meeting_types``).


def _hours_page(
    request: Request,
    user: User,
    schedule: ScheduleData,
    form: ScheduleForm | None = None,
    status_code: int = 200,
) -> Response:
    lang = spoken(user.locale)
    span = schedule.date_range
    return render(
        request,
        "organizer/hours.html",
        {
            "days": week_days(lang),
            "values": form.values if form else ScheduleForm.values_of(schedule),
            "errors": form.errors if form else {},
            "zones": sorted(known_zones()),
            "date_range": (
                format_date(span.start, "long", locale=lang),
                format_date(span.end, "long", locale=lang),
            )
            if span
            else None,
        },
        status_code=status_code,
        lang=lang,
    )


@router.get("/availability")
def hours_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    return _hours_page(request, user, store.to_data(store.default_schedule_row(session, user)))


@router.post("/availability")
def hours_save(
    request: Request, fields: FormFields, user: PageUser, session: SessionDep
) -> Response:
    current = store.to_data(store.default_schedule_row(session, user))
    form = ScheduleForm(spoken(user.locale), keep_range=current.date_range)
    data = form.validate(fields)
    if data is None:
        return _hours_page(request, user, current, form, 422)
    store.replace_default_schedule(session, user, data)
    return RedirectResponse("/?notice=hours", status_code=303)


# --- Bookings ---------------------------------------------------------------------------

MOVE_REASON_MAX = 1000  # as the API's
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MONTH = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])$")
TIME_TAKEN = N_("That time was just taken. Please pick another one.")
NOT_MOVABLE = {
    "booking_cancelled": N_("This booking is cancelled, so it cannot be moved."),
    "not_found": N_(
        "This booking can no longer be moved: its meeting type is deleted or turned off, or "
        "personal bookings are turned off for your account. Cancel it and ask the invitee to "
        "book again."
    ),
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


# The bookings list says where each meeting is: the kind of place and its details (the
# address, the number to call), and the online meeting's link when it has one.
_PHONE = re.compile(r"\+?[\d\s().\-/]{4,40}")


def _place(booking: Booking, gettext: Any) -> dict[str, str | None]:
    names = {
        "online": gettext("Online meeting"),
        "in_person": gettext("In person"),
        "phone": gettext("Phone call"),
        "custom": gettext("Custom location"),
    }
    details = (booking.location_details or "").strip() or None
    url = booking.online_meeting_url
    phone = details if booking.location_kind == "phone" and details else None
    # A custom place is its description; without one it is named as the others are.
    custom = booking.location_kind == "custom" and details
    return {
        "kind": None if custom else names.get(booking.location_kind, booking.location_kind),
        "details": details,
        "tel": re.sub(r"[^\d+]", "", phone) if phone and _PHONE.fullmatch(phone) else None,
        "url": url if url and url.startswith(("https://", "http://")) else None,
        "url_text": url if url and not url.startswith(("https://", "http://")) else None,
    }


def _reminder(minutes_before: int, recipient: str, status: str, lang: str) -> dict[str, str]:
    """A reminder of a booking as the list shows it, in the organizer's language: "Reminder
    to the invitee 24 hours before", its status and what the status means."""
    t = translations(lang)
    amount, unit = reminder_form.split(minutes_before)
    if unit == "days":
        before = t.ngettext("%(num)d day", "%(num)d days", amount)
    elif unit == "hours":
        before = t.ngettext("%(num)d hour", "%(num)d hours", amount)
    else:
        before = t.ngettext("%(num)d minute", "%(num)d minutes", amount)
    if recipient == "organizer":
        line = t.gettext("Reminder to you %(before)s before")
    elif recipient == "both":
        line = t.gettext("Reminder to you and the invitee %(before)s before")
    else:
        line = t.gettext("Reminder to the invitee %(before)s before")
    statuses = {
        "scheduled": (
            t.pgettext("reminder status", "scheduled"),
            t.gettext("It will be sent at its time."),
        ),
        "sent": (t.pgettext("reminder status", "sent"), t.gettext("It was sent.")),
        "skipped": (
            t.pgettext("reminder status", "skipped"),
            t.gettext("Its time had already passed when the booking was made or moved."),
        ),
        "cancelled": (
            t.pgettext("reminder status", "cancelled"),
            t.gettext("The booking was cancelled before it was due."),
        ),
    }
    label, hint = statuses.get(status, (status, ""))
    return {
        "line": line % {"before": before % {"num": amount}},
        "status": status,
        "label": str(label),
        "hint": hint,
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
    lang = spoken(user.locale)
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
            "place": _place(b, gettext),
            "reminders": [
                _reminder(r.minutes_before, r.recipient, r.status, lang)
                for r in reminders.get(b.id, [])
            ],
            "movable": b.status == "confirmed"
            and b.end_at > now
            and b.meeting_type_id in movable_types,
            "just_moved": moved is not None and str(b.id) == moved,
        }
        for b in found
    ]
    pgettext = translations(lang).pgettext
    return render(
        request,
        "organizer/bookings.html",
        {
            "rows": rows,
            "show": show,
            "shows": [
                ("upcoming", pgettext("bookings tab", "Upcoming")),
                ("past", pgettext("bookings tab", "Past")),
                ("cancelled", pgettext("bookings tab", "Cancelled")),
            ],
            "zone": zone,
            "next_cursor": next_cursor,
            "notice": _moved_notice(session, user, moved, lang)
            if moved
            else (
                gettext("The booking is cancelled; the invitee gets an email.")
                if notice == "cancelled"
                else None
            ),
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
    lang = spoken(user.locale)
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
    gettext = translations(spoken(user.locale)).gettext

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
        return again(N_("Pick a new time first."), 422)
    if start is None:
        return again(N_("Pick one of the times shown."), 422)
    if len(reason) > MOVE_REASON_MAX:
        return again(N_("The reason can be at most 1,000 characters."), 422)
    if _CONTROL.search(reason):
        return again(N_("The reason cannot contain control characters."), 422)
    if start == booking.start_at:
        return again(N_("That is the booking's time now. Pick another one."), 422)
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


# --- Private links of meeting types (the meeting-type page: pages_meeting_types) ---------

# A new link's address is shown once (only a hash of its token is kept), on its own
# "created" page after the form's redirect.
NEW_LINK = ShownOnce("bookwithme_new_link", b"bookwithme new private link v1", 600)


def _new_link_path(link_id: uuid.UUID) -> str:
    return f"/private-links/{link_id}/created"


def _make_link(
    session: Session, settings: Settings, user: User, mt: MeetingType, fields: dict[str, str]
) -> Response:
    """The link-making form (on the start page or a meeting type's page): make the link,
    then redirect to the page that shows its address."""
    gettext = translations(spoken(user.locale)).gettext
    try:
        days = int(fields.get("expires_in_days", "90").strip() or "90")
    except ValueError:
        raise InvalidInput(
            gettext("The link's life must be a whole number of days (1 to 365).")
        ) from None
    label = fields.get("label", "")
    data, errors = validate_form(
        PrivateLinkCreate,
        {"single_use": "single_use" in fields, "expires_in_days": days, "label": label},
    )
    if data is None:
        if "label" in errors:
            raise InvalidInput(
                gettext("The label must be one line of at most %(max)d characters.")
                % {"max": MAX_LINK_LABEL}
            )
        raise InvalidInput(gettext("The link's life must be between 1 and 365 days."))
    link, token = meeting_types.create_link(session, user, mt, data, utcnow())
    response = RedirectResponse(_new_link_path(link.id), status_code=303)
    NEW_LINK.remember(
        response,
        settings,
        _new_link_path(link.id),
        str(user.id),
        {"link": str(link.id), "token": token},
    )
    return response


def _new_link_token(
    request: Request, settings: Settings, user: User, link: PrivateLink
) -> str | None:
    """The token of ``link`` if this browser has just made it; None otherwise."""
    kept = NEW_LINK.recall(request, settings, str(user.id))
    if kept is None or kept.get("link") != str(link.id):
        return None
    token = kept.get("token", "")
    return token if hash_token(token) == link.token_hash else None


@router.post("/meeting-types/{type_id}/links")
def link_create(
    type_id: str,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    return _make_link(session, settings, user, mt, fields)


@router.post("/private-links")
def link_create_for_type(
    fields: FormFields, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The start page's form, where the meeting type is a choice."""
    chosen = fields.get("meeting_type_id", "")
    try:
        mt = meeting_types.get_type(session, user, chosen)
    except NotFound:
        raise InvalidInput(
            translations(spoken(user.locale)).gettext("Choose the meeting type the link is for.")
        ) from None
    return _make_link(session, settings, user, mt, fields)


@router.get("/private-links/{link_id}/created")
def link_created(
    link_id: str, request: Request, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The new link's address, shown this once to the organizer who made it."""
    lang = spoken(user.locale)
    link = meeting_types.get_link(session, user, link_id)
    mt = session.get_one(MeetingType, link.meeting_type_id)
    token = _new_link_token(request, settings, user, link)
    now = utcnow()
    response = render(
        request,
        "organizer/link_created.html",
        {
            "link": meeting_types.link_out(
                link, now, meeting_types.link_url(settings.base_url, token) if token else None
            ),
            "mt": mt if mt.deleted_at is None else None,
            "mt_title": mt.title,
            "expires": _date_text(link.expires_at, user.time_zone, lang),
        },
        lang=lang,
    )
    response.headers["cache-control"] = "private, no-store"
    NEW_LINK.forget(request, response, settings, _new_link_path(link.id))
    return response


def _after_revoke(session: Session, link: PrivateLink, back: str) -> str:
    """Back where "Turn off" was asked: the start page, or the link's meeting type."""
    mt = session.get_one(MeetingType, link.meeting_type_id)
    if back == "start" or mt.deleted_at is not None:
        return "/?notice=revoked"
    return f"/meeting-types/{mt.id}?notice=revoked"


@router.get("/private-links/{link_id}/revoke")
def link_revoke_confirm(
    link_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    back: Annotated[Literal["start", "type"], Query(alias="from")] = "type",
) -> Response:
    """ "Turn off this link?": the question, and the button that does it."""
    lang = spoken(user.locale)
    gettext = translations(lang).gettext
    link = meeting_types.get_link(session, user, link_id)
    mt = session.get_one(MeetingType, link.meeting_type_id)
    status = meeting_types.link_status(link, utcnow())
    if link.label:
        question = gettext("Turn off the link “%(label)s” to %(title)s?") % {
            "label": link.label,
            "title": mt.title,
        }
    else:
        question = gettext("Turn off this link to %(title)s?") % {"title": mt.title}
    cancel = "/" if back == "start" or mt.deleted_at is not None else f"/meeting-types/{mt.id}"
    return render(
        request,
        "organizer/confirm.html",
        {
            "heading": gettext("Turn off a private link"),
            "question": question,
            "explanation": gettext(
                "Whoever has this link can no longer book through it. This cannot be undone, "
                "but you can make a new link at any time."
            ),
            "done": None if status == "active" else gettext("This link is already off."),
            "action": f"/private-links/{link.id}/revoke",
            "fields": {"from": back},
            "button": gettext("Turn off the link"),
            "cancel": cancel,
        },
        lang=lang,
    )


@router.post("/private-links/{link_id}/revoke")
def link_revoke(link_id: str, fields: FormFields, user: PageUser, session: SessionDep) -> Response:
    back = "start" if fields.get("from") == "start" else "type"
    if fields.get("confirm") != "yes":  # a form without the question: ask it first
        link = meeting_types.get_link(session, user, link_id)
        return RedirectResponse(f"/private-links/{link.id}/revoke?from={back}", status_code=303)
    link = meeting_types.revoke_link(session, user, link_id, utcnow())
    return RedirectResponse(_after_revoke(session, link, back), status_code=303)


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
    lang = spoken(user.locale)
    now = utcnow()
    calendars = list_calendars(session, user)
    busy = {
        c.id: spans_by_day(
            connections.busy_between(session, c, now, now + timedelta(days=BUSY_DAYS)),
            user.time_zone,
            lang,
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
            "busy_text": {c.id: _busy_count(c.busy_count, lang) for c in calendars},
            "zone": user.time_zone,
            # When each was last read, in the organizer's zone (named) and language.
            "read_at": {
                c.id: moment(c.last_success_at, user.time_zone, lang)
                for c in calendars
                if c.last_success_at
            },
            "notice": notice_in(notice, lang),
            "values": values or {"kind": "ics"},
            "errors": errors or {},
        },
        status_code=status_code,
        lang=lang,
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


@router.get("/calendars/{calendar_id}/delete")
def calendar_disconnect_confirm(
    calendar_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """ "Disconnect this calendar?": the question, and the button that does it."""
    lang = spoken(user.locale)
    gettext = translations(lang).gettext
    calendar = connections.get_calendar(session, user, calendar_id)
    return render(
        request,
        "organizer/confirm.html",
        {
            "heading": gettext("Disconnect a calendar"),
            "question": gettext("Disconnect “%(name)s”?") % {"name": calendar.name},
            "explanation": gettext(
                "Its busy times stop counting: invitees may be offered times it shows as "
                "busy. Bookings already made stay."
            )
            + (
                " " + gettext("Bookings are no longer written into it.")
                if calendar.write_back
                else ""
            ),
            "done": None,
            "action": f"/calendars/{calendar.id}/delete",
            "fields": {},
            "button": gettext("Disconnect"),
            "cancel": "/calendars",
        },
        lang=lang,
    )


@router.post("/calendars/{calendar_id}/delete")
def calendar_disconnect(
    calendar_id: str, fields: FormFields, user: PageUser, session: SessionDep
) -> Response:
    calendar = connections.get_calendar(session, user, calendar_id)
    if fields.get("confirm") != "yes":  # a form without the question: ask it first
        return RedirectResponse(f"/calendars/{calendar.id}/delete", status_code=303)
    connections.disconnect(session, calendar)
    return RedirectResponse("/calendars?notice=removed", status_code=303)


@router.post("/calendars/{calendar_id}/sync")
async def calendar_read_now(calendar_id: str, request: Request, settings: SettingsDep) -> Response:
    await calendar_reads.read_now(request, settings, calendar_id, NotSignedIn())
    return RedirectResponse("/calendars?notice=read", status_code=303)
