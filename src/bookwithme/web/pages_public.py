"""Invitee pages. ``/b/{token}``: the link in the confirmation email, to see the meeting, add
it to a calendar, move it or cancel it. Works without JavaScript; the token in the address
is the only credential.

Moving and cancelling take two steps: a GET page that changes nothing (the free times, then
"old → new" with a Confirm button; or "Cancel this meeting?" with a reason), then the POST.
Every page shows times in the zone the invitee booked in, or in the one ``?tz=`` asks for.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from fastapi import APIRouter, Depends, Query, Request
from icalendar import Calendar
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.bookings import service as bookings
from bookwithme.config import Settings
from bookwithme.errors import DomainError, InvalidInput
from bookwithme.i18n import N_, times_by_day, translations, when
from bookwithme.models import Booking, MeetingType, User, utcnow
from bookwithme.notifications.emails import latest_invitee_email
from bookwithme.notifications.outbox import question_labels
from bookwithme.scheduling import service as scheduling
from bookwithme.timezones import is_valid_zone, known_zones
from bookwithme.web import write_limits
from bookwithme.web.deps import ManagePageLane, SessionDep, SettingsDep
from bookwithme.web.forms import form_fields
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]
ZoneQuery = Annotated[str | None, Query(max_length=64)]
DAYS_SHOWN = 7
REASON_MAX = 2000  # as CancelIn in the API
NOTICES = {
    "booked": N_("You are booked. The invitation is on its way to your inbox."),
    "moved": N_("Your meeting has moved. A new invitation is on its way."),
    "cancelled": N_("Your meeting is cancelled."),
}
ALREADY_TAKEN = "That time was just taken. Please pick another one."
GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/action/compose"
OFFICE = "https://outlook.office.com/calendar/0/action/compose"


# Words and times, in the invitee's language.


def _lang(booking: Booking) -> str:
    return booking.invitee_locale if booking.invitee_locale in ("en", "fr") else "en"


def _zone(tz: str | None, booking: Booking) -> str:
    """``?tz=`` when given (422 for a name that is no zone), else the zone they booked in."""
    if not tz:
        return booking.invitee_time_zone
    if not is_valid_zone(tz):
        raise InvalidInput(
            f"'{tz}' is not a time zone we know. Pick yours from the list.",
            details=[{"field": "tz", "message": "not a known IANA time zone"}],
        )
    return tz


def _span(start: datetime, end: datetime, zone: str, lang: str) -> str:
    """When, start to end: "Tuesday, December 1, 2026, 10:00\u201310:30" (with an en dash;
    the end's date added if it falls on another day)."""
    tz = ZoneInfo(zone)
    if end.astimezone(tz).date() == start.astimezone(tz).date():
        until = format_time(end, "HH:mm", tzinfo=tz, locale=lang)
    else:
        until = when(end, zone, lang)
    return f"{when(start, zone, lang)}\u2013{until}"


def _short(value: datetime, zone: str, lang: str) -> str:
    """One side of "old \u2192 new": "Tue 1 Dec 10:00", "mar. 1 déc. 10:00"."""
    return format_datetime(value, "EEE d MMM HH:mm", tzinfo=ZoneInfo(zone), locale=lang)


def _query(zone: str, booking: Booking, **more: str) -> str:
    """The query string that keeps a switched zone from page to page."""
    params = {"tz": zone} if zone != booking.invitee_time_zone else {}
    params.update(more)
    return "?" + urlencode(params) if params else ""


def _week_of(day: date, today: date) -> date:
    """The Monday of ``day``'s week, but never a day before today."""
    return max(day - timedelta(days=day.weekday()), today)


def _parse_start(value: str) -> datetime:
    try:
        start = datetime.fromisoformat(value)
        if start.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        raise InvalidInput(
            "Pick one of the times shown.",
            details=[{"field": "start", "message": "not an ISO 8601 instant with an offset"}],
        ) from None
    return start.astimezone(UTC)


def _meeting_type(session: Session, booking: Booking) -> MeetingType | None:
    return session.get(MeetingType, booking.meeting_type_id) if booking.meeting_type_id else None


def _answers(booking: Booking, mt: MeetingType | None, gettext: Any) -> list[tuple[str, str]]:
    """The invitee's answers as (question, answer), in the order the questions are asked."""
    questions = mt.questions if mt else []
    order = [q["id"] for q in questions] + [
        k for k in booking.answers if k not in {q["id"] for q in questions}
    ]
    labels = question_labels(questions)
    shown = []
    for key in order:
        value = booking.answers.get(key)
        if value in ("", None):
            continue
        text = (gettext("yes") if value else gettext("no")) if isinstance(value, bool) else value
        shown.append((labels.get(key, key), str(text)))
    return shown


def _common(session: Session, token: str, booking: Booking, zone: str) -> dict[str, Any]:
    lang = _lang(booking)
    return {
        "token": token,
        "booking": booking,
        "organizer_name": session.get_one(User, booking.user_id).name,
        "zone": zone,
        "zones": sorted(known_zones()),
        "when": _span(booking.start_at, booking.end_at, zone, lang),
        "keep": _query(zone, booking),  # "?tz=…" or ""
        "tz_amp": _query(zone, booking)[1:] + "&" if zone != booking.invitee_time_zone else "",
    }


# Adding the meeting to a calendar: the same event as the emailed invitation.


def _invitation(session: Session, settings: Settings, token: str, booking: Booking) -> str:
    """The iCalendar text of the invitee's latest email about this booking (same UID,
    SEQUENCE, summary, description), made by the code that made the email."""
    mt = _meeting_type(session, booking)
    email = latest_invitee_email(
        booking,
        session.get_one(User, booking.user_id),
        manage_url=bookings.manage_url(settings, token),
        labels=question_labels(mt.questions) if mt else {},
        now=utcnow(),
    )
    assert email.ics is not None  # booking emails always carry the invitation
    return email.ics


def _calendar_links(ics: str, booking: Booking) -> dict[str, str]:
    """Google Calendar and Outlook (personal and work accounts) "new event" addresses,
    filled in with the summary, description and location of the invitation itself."""
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    title = str(event.get("SUMMARY", booking.title))
    details = str(event.get("DESCRIPTION", ""))
    location = str(event.get("LOCATION", ""))
    start, end = booking.start_at.astimezone(UTC), booking.end_at.astimezone(UTC)
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": details,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "body": details,
    }
    if location:
        google["location"] = location
        outlook["location"] = location
    return {
        "google": f"{GOOGLE}?{urlencode(google, quote_via=quote)}",
        "outlook": f"{OUTLOOK}?{urlencode(outlook, quote_via=quote)}",
        "office": f"{OFFICE}?{urlencode(outlook, quote_via=quote)}",
    }


def _filename(title: str) -> str:
    """An ASCII file name from the meeting's title: "30-minute-meeting.ics"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()[:60].strip("-")
    return f"{slug or 'meeting'}.ics"


# The pages.


def _manage_page(
    request: Request,
    session: Session,
    settings: Settings,
    token: str,
    booking: Booking,
    zone: str,
    notice: str | None = None,
) -> Response:
    lang = _lang(booking)
    gettext = translations(lang).gettext
    can_move = False
    if booking.status == "confirmed":
        try:
            bookings.reschedule_context(session, booking)
            can_move = True
        except DomainError:
            pass
    ics = _invitation(session, settings, token, booking)
    return render(
        request,
        "public/manage.html",
        {
            **_common(session, token, booking, zone),
            "answers": _answers(booking, _meeting_type(session, booking), gettext),
            "links": _calendar_links(ics, booking) if booking.status == "confirmed" else {},
            "can_move": can_move,
            "notice": gettext(NOTICES[notice]) if notice in NOTICES else None,
        },
        lang=lang,
    )


def _times_page(
    request: Request,
    session: Session,
    token: str,
    booking: Booking,
    zone: str,
    first: date | None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """Step 1 of a move: the free times of a week, from the booking's own week; each leads
    to the confirmation step. The booking's own time counts as free and is marked."""
    lang = _lang(booking)
    gettext = translations(lang).gettext
    bookable = bookings.reschedule_context(session, booking)
    tz = ZoneInfo(zone)
    now = utcnow()
    today = now.astimezone(tz).date()
    first = max(first, today) if first else _week_of(booking.start_at.astimezone(tz).date(), today)
    window_start, window_end = scheduling.window_of(
        first, first + timedelta(days=DAYS_SHOWN - 1), zone
    )
    slots = scheduling.slots_for(
        session,
        bookable,
        window_start,
        window_end,
        now,
        booking.id,
        bookings.booking_rules(bookable, booking),
    )
    starts = sorted({s.start for s in slots})
    days = [(label, times) for _, label, times in times_by_day(starts, zone, lang)]
    return render(
        request,
        "public/reschedule.html",
        {
            **_common(session, token, booking, zone),
            "days": days,
            "current": booking.start_at.astimezone(tz).isoformat(),
            "first": first,
            "previous": first - timedelta(days=DAYS_SHOWN) if first > today else None,
            "previous_first": max(first - timedelta(days=DAYS_SHOWN), today),
            "next": first + timedelta(days=DAYS_SHOWN),
            "error": gettext(error) if error else None,
        },
        status_code=status_code,
        lang=lang,
    )


@router.get("/b/{token}")
def manage(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tz: ZoneQuery = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    booking = bookings.by_manage_token(session, token)
    return _manage_page(request, session, settings, token, booking, _zone(tz, booking), notice)


@router.get("/b/{token}/invite.ics")
def invite_ics(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The invitation as a file, for calendars the links do not cover (Apple, Thunderbird).

    A cancelled booking answers its cancellation (METHOD:CANCEL, STATUS:CANCELLED, the same
    UID and a higher SEQUENCE), not 410: opening that file in Outlook, Apple Calendar or
    Thunderbird removes the event added earlier, whereas a 410 is a dead end that leaves
    the stale event in the calendar."""
    booking = bookings.by_manage_token(session, token)
    return Response(
        _invitation(session, settings, token, booking),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(booking.title)}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/b/{token}/reschedule")
def reschedule_page(
    token: str,
    request: Request,
    session: SessionDep,
    tz: ZoneQuery = None,
    start: Annotated[str | None, Query(max_length=64)] = None,
    first: Annotated[date | None, Query(alias="from")] = None,
) -> Response:
    """Without ``start``: the free times. With it: "old → new" and a Confirm button (this
    GET changes nothing; the button posts to the route below)."""
    booking = bookings.by_manage_token(session, token)
    zone = _zone(tz, booking)
    if booking.status != "confirmed":
        return RedirectResponse(f"/b/{token}{_query(zone, booking)}", status_code=303)
    if first is not None:
        scheduling.plausible(first, "from")
    if start is None:
        return _times_page(request, session, token, booking, zone, first)
    chosen = _parse_start(start)
    lang = _lang(booking)
    if chosen == booking.start_at:
        return RedirectResponse(f"/b/{token}/reschedule{_query(zone, booking)}", status_code=303)
    bookable = bookings.reschedule_context(session, booking)
    rules = bookings.booking_rules(bookable, booking)
    local_day = chosen.astimezone(ZoneInfo(zone)).date()
    if not scheduling.is_offered(session, bookable, chosen, utcnow(), booking.id, rules):
        week = _week_of(local_day, utcnow().astimezone(ZoneInfo(zone)).date())
        return _times_page(
            request, session, token, booking, zone, week, ALREADY_TAKEN, status_code=409
        )
    new_end = chosen + timedelta(minutes=booking.duration_minutes)
    return render(
        request,
        "public/reschedule_confirm.html",
        {
            **_common(session, token, booking, zone),
            "start": chosen.astimezone(ZoneInfo(zone)).isoformat(),
            "old_short": _short(booking.start_at, zone, lang),
            "new_short": _short(chosen, zone, lang),
            "new_when": _span(chosen, new_end, zone, lang),
            "back": f"/b/{token}/reschedule"
            + _query(zone, booking, **{"from": local_day.isoformat()}),
        },
        lang=lang,
    )


@router.get("/b/{token}/cancel")
def cancel_page(
    token: str, request: Request, session: SessionDep, tz: ZoneQuery = None
) -> Response:
    """ "Cancel this meeting?" with an optional reason; this GET changes nothing."""
    booking = bookings.by_manage_token(session, token)
    zone = _zone(tz, booking)
    if booking.status != "confirmed":
        return RedirectResponse(f"/b/{token}{_query(zone, booking)}", status_code=303)
    return render(
        request,
        "public/cancel.html",
        {**_common(session, token, booking, zone), "reason_max": REASON_MAX},
        lang=_lang(booking),
    )


def _after(token: str, booking: Booking, fields: dict[str, str], notice: str | None) -> Response:
    """Back to the manage page, in the zone the form was shown in."""
    tz = fields.get("tz", "")
    zone = tz if tz and is_valid_zone(tz) else booking.invitee_time_zone
    more = {"notice": notice} if notice else {}
    return RedirectResponse(f"/b/{token}{_query(zone, booking, **more)}", status_code=303)


@router.post("/b/{token}/cancel", dependencies=[ManagePageLane])
def manage_cancel(
    token: str, request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    now = utcnow()
    write_limits.change_attempt(request, session, now)
    booking = bookings.by_manage_token(session, token)
    reason = fields.get("reason", "").strip()[:REASON_MAX] or None
    write_limits.change_of(request, session, booking, now)
    bookings.cancel(session, booking, reason, "invitee", now, settings)
    return _after(token, booking, fields, "cancelled")


@router.post("/b/{token}/reschedule", dependencies=[ManagePageLane])
def manage_reschedule(
    token: str, request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    now = utcnow()
    write_limits.change_attempt(request, session, now)
    booking = bookings.by_manage_token(session, token)
    start = _parse_start(fields.get("start", ""))
    try:
        url = bookings.manage_url(settings, token)
        write_limits.change_of(request, session, booking, now)
        bookings.reschedule(session, booking, start, now, settings, url)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        session.rollback()
        fresh = bookings.by_manage_token(session, token)
        if fresh.status != "confirmed":
            return _after(token, fresh, fields, None)  # cancelled meanwhile: the page says so
        tz = fields.get("tz", "")
        zone = tz if tz and is_valid_zone(tz) else fresh.invitee_time_zone
        today = utcnow().astimezone(ZoneInfo(zone)).date()
        return _times_page(
            request,
            session,
            token,
            fresh,
            zone,
            _week_of(start.astimezone(ZoneInfo(zone)).date(), today),
            error=ALREADY_TAKEN if exc.code == "slot_unavailable" else exc.message,
            status_code=409,
        )
    return _after(token, booking, fields, "moved")
