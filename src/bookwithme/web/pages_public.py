"""Invitee pages. ``/b/{token}``: the link in the confirmation email, to see, move or cancel
a booking. Works without JavaScript; the token in the address is the only credential."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.bookings import service as bookings
from bookwithme.errors import DomainError, InvalidInput
from bookwithme.i18n import times_by_day, translations, when
from bookwithme.models import Booking, User, utcnow
from bookwithme.scheduling import service as scheduling
from bookwithme.web.deps import ManagePageLane, SessionDep, SettingsDep
from bookwithme.web.forms import form_fields
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]
DAYS_SHOWN = 7
NOTICES = {
    "booked": "You are booked. The invitation is on its way to your inbox.",
    "moved": "Your meeting has moved. A new invitation is on its way.",
    "cancelled": "Your meeting is cancelled.",
}
ALREADY_TAKEN = "That time was just taken. Please pick another one."


def _manage_page(
    request: Request,
    session: Session,
    token: str,
    booking: Booking,
    first: date | None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    zone = booking.invitee_time_zone
    lang = booking.invitee_locale if booking.invitee_locale in ("en", "fr") else "en"
    gettext = translations(lang).gettext
    tz = ZoneInfo(zone)
    organizer = session.get_one(User, booking.user_id)
    now = utcnow()
    days: list[tuple[str, list[tuple[str, str]]]] = []
    can_move = False
    first = first or now.astimezone(tz).date()
    if booking.status == "confirmed":
        try:
            bookable = bookings.reschedule_context(session, booking)
            can_move = True
        except DomainError:
            bookable = None
        if bookable is not None:
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
            others = [s.start for s in slots if s.start != booking.start_at]  # not where it is
            days = [(label, times) for _, label, times in times_by_day(others, zone, lang)]
    return render(
        request,
        "public/manage.html",
        {
            "token": token,
            "booking": booking,
            "organizer_name": organizer.name,
            "when": when(booking.start_at, zone, lang),
            "zone": zone,
            "days": days,
            "can_move": can_move,
            "first": first,
            "previous": first - timedelta(days=DAYS_SHOWN),
            "next": first + timedelta(days=DAYS_SHOWN),
            "today": now.astimezone(tz).date(),
            "notice": gettext(NOTICES[notice]) if notice in NOTICES else None,
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
    start: Annotated[date | None, Query(alias="from")] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    booking = bookings.by_manage_token(session, token)
    if start is not None:
        scheduling.plausible(start, "from")
    return _manage_page(request, session, token, booking, start, notice)


@router.post("/b/{token}/cancel", dependencies=[ManagePageLane])
def manage_cancel(token: str, fields: FormFields, session: SessionDep) -> Response:
    booking = bookings.by_manage_token(session, token)
    reason = fields.get("reason", "").strip()[:2000] or None
    bookings.cancel(session, booking, reason, "invitee", utcnow())
    return RedirectResponse(f"/b/{token}?notice=cancelled", status_code=303)


@router.post("/b/{token}/reschedule", dependencies=[ManagePageLane])
def manage_reschedule(
    token: str, request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    booking = bookings.by_manage_token(session, token)
    try:
        start = datetime.fromisoformat(fields.get("start", ""))
        if start.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        raise InvalidInput("Pick one of the times shown.") from None
    try:
        bookings.reschedule(session, booking, start, utcnow(), bookings.manage_url(settings, token))
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        session.rollback()
        fresh = bookings.by_manage_token(session, token)
        return _manage_page(
            request,
            session,
            token,
            fresh,
            None,
            error=ALREADY_TAKEN if exc.code == "slot_unavailable" else exc.message,
            status_code=409,
        )
    return RedirectResponse(f"/b/{token}?notice=moved", status_code=303)
