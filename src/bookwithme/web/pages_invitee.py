"""The pages invitees book on: the organizer's page ``/p/{key}`` (every public meeting type)
and a private link ``/l/{token}`` (one meeting type).

Two steps, as on Calendly: pick a day on a month calendar and one of its free times, shown
in your own time zone and on your own clock (12- or 24-hour), then give your name, email and
answers and book. Every state is a plain address (``?month=YYYY-MM&day=YYYY-MM-DD&tz=ZONE
&clock=12|24``), so the pages are complete without JavaScript; with it, htmx swaps only the
picker and small scripts add the zone search and the calendar's arrow keys. Only what is
shown is computed: one month's slots (and, when it has none, the following months' until
one has room, up to the type's horizon). The slots are the same rule (``month_window``,
``days_with_room``, ``slots_for``) and the booking the same service as the API's."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Annotated, Any
from urllib.parse import quote, quote_plus

from babel.dates import get_timezone_location
from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.bookings import service as bookings
from bookwithme.bookings.schemas import BookingCreate
from bookwithme.errors import DomainError, InvalidInput
from bookwithme.i18n import (
    N_,
    clock_label,
    clock_of,
    day_label,
    first_weekday,
    month_label,
    regional_locale,
    time_formatter,
    translations,
    weekday_names,
    when,
)
from bookwithme.instants import local_times
from bookwithme.key_reads import KeyRead
from bookwithme.meeting_types import bookable as lookup
from bookwithme.meeting_types.bookable import Bookable
from bookwithme.models import utcnow
from bookwithme.scheduling import service as scheduling
from bookwithme.scheduling.service import Reached
from bookwithme.timezones import is_valid_zone, listed_zones, named_zone, zone_region
from bookwithme.web import write_limits
from bookwithme.web.deps import (
    LinkLane,
    PageLane,
    SessionDep,
    SettingsDep,
    availability,
    invitee_read,
)
from bookwithme.web.embedding import Embeddable, allow_framing
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]


def page_language(request: Request) -> str:
    return bookings.locale_from(None, request.headers.get("accept-language"))


def page_clock(request: Request, lang: str, asked: str | None) -> int:
    """12 or 24: what the visitor asked for (``?clock=``), else their locale's habit
    (en-US 12-hour; en-GB and French 24-hour), else 24."""
    if asked in ("12", "24"):
        return int(asked)
    return clock_of(regional_locale(request.headers.get("accept-language"), lang))


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


def _parse_month(value: str) -> date:
    try:
        month = date.fromisoformat(f"{value}-01")
    except ValueError:
        month = None
    if month is None or len(value) != 7:
        raise InvalidInput(
            "month: must be a month as YYYY-MM (2026-12)",
            details=[{"field": "month", "message": "a month as YYYY-MM"}],
        )
    return scheduling.plausible(month, "month")


@dataclass(frozen=True)
class Place:
    """Where a booking page lives: its address, the way back, and how to find its bookable
    meeting type again (after a failed booking rolled the transaction back)."""

    path: str
    back: str | None
    find: Callable[[Session, datetime], Bookable]  # as a booking needs it: read afresh
    reach: Callable[[Request, Session, datetime], Reached]  # as a visit needs it: from memory
    owner: tuple[KeyRead, dict[str, Any]]  # the read ``reach`` starts with


@dataclass
class Choice:
    """What the invitee has chosen and typed so far, with what is wrong with it."""

    zone: str
    first: date | None = None  # the day asked for (``day``, or the older ``from``)
    month: date | None = None  # the month asked for (``month=YYYY-MM``)
    clock: str | None = None  # "12" or "24" when the visitor picked one
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


REGION_NAMES = {
    "Africa": N_("Africa"),
    "America": N_("America"),
    "Antarctica": N_("Antarctica"),
    "Arctic": N_("Arctic"),
    "Asia": N_("Asia"),
    "Atlantic": N_("Atlantic Ocean"),
    "Australia": N_("Australia"),
    "Europe": N_("Europe"),
    "Indian": N_("Indian Ocean"),
    "Pacific": N_("Pacific Ocean"),
    "UTC": N_("Universal time"),
}


@cache
def _cities(lang: str) -> dict[str, str]:
    """Each listed zone's city in ``lang`` ("Londres" for Europe/London), read from CLDR once."""
    cities = {"UTC": "UTC"}
    for name in listed_zones():
        if name != "UTC":
            cities[name] = get_timezone_location(name, locale=lang, return_city=True)
    return cities


@lru_cache(maxsize=256)
def _offset_label(minutes: int) -> str:
    """ "UTC+05:30" for 330 minutes east of UTC, "UTC" for none."""
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _offset_minutes(local: datetime) -> int:
    return int((local.utcoffset() or timedelta()).total_seconds() // 60)


def zone_label(name: str, moment: datetime, lang: str, clock: int) -> str:
    """ "(UTC+01:00) Paris — 14:05": the zone's offset, its city and its local time."""
    local = moment.astimezone(named_zone(name))
    city = _cities(lang).get(name) or name.rsplit("/", 1)[-1].replace("_", " ")
    clock_time = clock_label(lang, clock)(local.hour, local.minute)
    return f"({_offset_label(_offset_minutes(local))}) {city} \N{EM DASH} {clock_time}"


@cache
def _zone_places(lang: str) -> dict[str, list[tuple[str, Markup]]]:
    """Each listed zone by region, as (zone, its city escaped for HTML): what the picker
    shows that does not change with the minute."""
    cities = _cities(lang)
    places: dict[str, list[tuple[str, Markup]]] = {}
    for name in listed_zones():
        places.setdefault(zone_region(name), []).append((name, escape(cities[name])))
    return places


@lru_cache(maxsize=8)
def _zone_groups(lang: str, clock: int, minute: int) -> Markup:
    """The picker's options, grouped by region and ordered by offset, rendered once per
    language, clock and minute (each shows its local time) rather than per request. Only
    the offsets and local times are worked out each minute; a visitor who opens the page
    at a new minute pays for that, so it is kept to one zone conversion per zone."""
    gettext = translations(lang).gettext
    moment = datetime.fromtimestamp(minute * 60, UTC)
    of_day = minute % 1440
    label = clock_label(lang, clock)
    places = _zone_places(lang)
    rendered = []
    for region in sorted(places, key=lambda r: (r == "UTC", gettext(REGION_NAMES[r]))):
        options = []
        for name, city in places[region]:
            offset = _offset_minutes(moment.astimezone(named_zone(name)))
            hour, rest = divmod((of_day + offset) % 1440, 60)
            text = f"({_offset_label(offset)}) {city} \N{EM DASH} {label(hour, rest)}"
            options.append((offset, text, name))
        options.sort()
        body = "".join(f'<option value="{name}">{text}</option>' for _, text, name in options)
        heading = escape(gettext(REGION_NAMES[region]))
        rendered.append(f'<optgroup label="{heading}">{body}</optgroup>')
    # Cities and region names are escaped above; zone names and times are plain ASCII.
    return Markup("".join(rendered))  # noqa: S704


def _zone_picker(zone: str, now: datetime, lang: str, clock: int) -> dict[str, Any]:
    minute = int(now.timestamp() // 60)
    moment = datetime.fromtimestamp(minute * 60, UTC)
    return {
        "current_label": zone_label(zone, moment, lang, clock),
        "groups": _zone_groups(lang, clock, minute),
    }


def month_grid(
    month: date,
    rooms: dict[date, int],
    chosen: date | None,
    today: date,
    first: int,
    month_url: str,
    lang: str,
) -> Markup:
    """The month grid's rows: each date with room links to this page's address for the
    month (``month_url``) with ``&day=``. Written here rather than in the template: the
    grid is most of what a booking page renders, once per visit, and a template spends
    several calls on each of its cells."""
    rows = []
    for week in _month_dates(month, first):
        cells = []
        for day in week:
            if day is None:
                cells.append("<td></td>")
                continue
            today_class = " today" if day == today else ""
            if rooms.get(day, 0):
                iso = day.isoformat()
                href = escape(f"{month_url}&day={iso}")
                current = ' aria-current="true"' if day == chosen else ""
                cells.append(
                    f'<td><a id="d-{iso}" class="day-link{today_class}" href="{href}" '
                    f'data-date="{iso}" aria-label="{_day_label_html(day, lang)}"{current}>'
                    f"{day.day}</a></td>"
                )
            else:
                cells.append(f'<td><span class="day-off{today_class}">{day.day}</span></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # Every text in it is escaped above or is a number or an ISO date.
    return Markup("\n".join(rows))  # noqa: S704


@lru_cache(maxsize=4096)
def _day_label_html(day: date, lang: str) -> Markup:
    return escape(day_label(day, lang))


@lru_cache(maxsize=256)
def _month_dates(month: date, first: int) -> tuple[tuple[date | None, ...], ...]:
    """The month's weeks from weekday ``first``, None outside the month."""
    grid = calendar.Calendar(firstweekday=first)
    return tuple(
        tuple(day if day.month == month.month else None for day in week)
        for week in grid.monthdatescalendar(month.year, month.month)
    )


def _month_rooms(
    session: Session,
    bookable: Bookable,
    reached: Reached | None,
    month: date,
    zone: str,
    now: datetime,
) -> tuple[list[int], dict[date, int]]:
    """The month's offered starts (epoch seconds) and its days with room."""
    window_start, window_end = scheduling.month_window(month, zone)
    if reached is not None:
        starts = reached.starts(session, window_start, window_end, now)
    else:
        starts = scheduling.starts_for(session, bookable, window_start, window_end, now)
    return starts, dict(scheduling.days_with_room(starts, zone))


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


@lru_cache(maxsize=4096)
def _encoded_value(value: str) -> str:
    return quote_plus(value)


def _time_links(starts: Sequence[int], zone: str, start_url: str, lang: str, clock: int) -> Markup:
    """A day's free times as links to the details step (as ``month_grid``, written here).
    What follows the page's address in a link (the instant, the time as shown) depends
    only on the instant, the zone, the language and the clock: it is written once and
    kept, since the same times are offered to everyone who looks at the same days."""
    tails = _link_tails(zone, lang, clock)
    base = escape(start_url)
    links = []
    for seconds in starts:
        tail = tails.get(seconds)
        if tail is None:
            if len(tails) > _LINK_TAILS_KEPT:
                tails.clear()
            iso = local_times(zone)(seconds)
            time = clock_label(lang, clock)(int(iso[11:13]), int(iso[14:16]))
            tail = tails[seconds] = f'{_encoded_instant(iso)}">{escape(time)}</a>'
        links.append(f'<a class="time" href="{base}{tail}')
    # The address is escaped, the instant percent-encoded, the time escaped.
    return Markup("".join(links))  # noqa: S704


_LINK_TAILS_KEPT = 4096  # instants per zone, language and clock


@lru_cache(maxsize=256)
def _link_tails(zone: str, lang: str, clock: int) -> dict[int, str]:
    return {}


@lru_cache(maxsize=8192)
def _encoded_instant(value: str) -> str:
    """An instant in a link (its ``+`` and ``:`` encoded)."""
    return quote(value, safe="/")


def _encoded(query: dict[str, str]) -> str:
    """``urlencode(query)`` with each value's encoding remembered (zones, dates, months)."""
    return "&".join(f"{key}={_encoded_value(value)}" for key, value in query.items())


def _booking_page(
    request: Request,
    session: Session,
    place: Place,
    bookable: Bookable,
    choice: Choice,
    now: datetime,
    status_code: int = 200,
    reached: Reached | None = None,
) -> Response:
    lang = page_language(request)
    gettext = translations(lang).gettext
    clock = page_clock(request, lang, choice.clock)
    zone = choice.zone
    tz = named_zone(zone)
    today = now.astimezone(tz).date()
    mt = bookable.meeting_type

    base: dict[str, str] = {"tz": zone}
    if choice.clock:
        base["clock"] = choice.clock

    def url(**params: str | None) -> str:
        """This page in the same zone and clock, with ``params`` (None leaves one out).
        A month calendar writes one per day with room: only what varies is encoded."""
        query = dict(base)
        query.update({k: v for k, v in params.items() if v is not None})
        return f"{place.path}?{_encoded(query)}"

    context: dict[str, Any] = {
        "place": place,
        "organizer_name": bookable.organizer.name,
        "mt": mt,
        "location_label": _labels(lang).get(mt.location_kind, ""),
        "zone": zone,
        "zone_picker": _zone_picker(zone, now, lang, clock),
        "zone_was_asked": "tz" in request.query_params or request.method == "POST",
        "private": bookable.link is not None,
        "single_use": bookable.link is not None and bookable.link.single_use,
        "error": choice.error,
        "clock": clock,
        "clock_asked": choice.clock,
    }
    if choice.start is not None:
        # Step 2: the details form for the chosen time.
        end = choice.start + timedelta(minutes=mt.duration_minutes)
        local_start = choice.start.astimezone(tz)
        context.update(
            step="details",
            start=local_start.isoformat(),
            # when() ends with the 24-hour time: the visitor's clock replaces it.
            when=when(choice.start, zone, lang).rsplit(", ", 1)[0]
            + ", "
            + time_formatter(lang, clock)(local_start),
            until=time_formatter(lang, clock)(end.astimezone(tz)),
            questions=mt.questions,
            values=choice.values,
            errors=choice.errors,
            change_url=url(month=f"{local_start:%Y-%m}", day=local_start.date().isoformat()),
        )
        return _render_page(request, context, status_code, lang)

    # Step 1: a month calendar marking the days with room, and the chosen day's times.
    this_month = today.replace(day=1)
    # The last month that may have room: the type's horizon, a day's margin for zones.
    last_month = (today + timedelta(days=mt.max_advance_days + 1)).replace(day=1)
    asked_day = choice.first if choice.first and choice.first >= today else None
    month = choice.month or (asked_day.replace(day=1) if asked_day else this_month)
    month = max(this_month, min(month, last_month))
    day = asked_day if asked_day and asked_day.replace(day=1) == month else None
    slots, rooms = _month_rooms(session, bookable, reached, month, zone, now)

    next_free: date | None = None
    later = [d for d in rooms if day is None or d > day]
    if later:
        next_free = min(later)
    elif not bookable.calendar_never_synced:
        # Nothing (more) this month: look ahead month by month, up to the type's horizon.
        ahead = _next_month(month)
        while ahead <= last_month:
            ahead_slots, ahead_rooms = _month_rooms(session, bookable, reached, ahead, zone, now)
            if ahead_rooms:
                next_free = min(ahead_rooms)
                if day is None and choice.month is None and not rooms:
                    # A first visit: show the first month with room, its first day chosen.
                    month, slots, rooms = ahead, ahead_slots, ahead_rooms
                break
            ahead = _next_month(ahead)
    if day is None and rooms:
        day = min(rooms)
        next_free = None
    elif day is not None and day in rooms:
        next_free = None

    times = Markup()
    if day is not None:
        start_url = url(month=f"{month:%Y-%m}", day=day.isoformat()) + "&start="
        times = _time_links(scheduling.starts_on(slots, day, zone), zone, start_url, lang, clock)
    first = first_weekday(regional_locale(request.headers.get("accept-language"), lang), lang)
    context.update(
        step="times",
        month=month,
        month_label=month_label(month, lang),
        weekdays=weekday_names(lang, first),
        weeks=month_grid(month, rooms, day, today, first, url(month=f"{month:%Y-%m}"), lang),
        previous_url=url(month=f"{month.replace(day=1) - timedelta(days=1):%Y-%m}")
        if month > this_month
        else None,
        next_url=url(month=f"{_next_month(month):%Y-%m}") if month < last_month else None,
        day=day,
        day_heading=day_label(day, lang) if day else None,
        times=times,
        next_free=next_free,
        next_free_label=day_label(next_free, lang) if next_free else None,
        next_free_url=url(month=f"{next_free:%Y-%m}", day=next_free.isoformat())
        if next_free
        else None,
        clock_urls={
            hours: url(
                month=f"{month:%Y-%m}", day=day.isoformat() if day else None, clock=str(hours)
            )
            for hours in (12, 24)
        },
        waiting_for_calendar=bookable.calendar_never_synced,
    )
    if choice.error is None and bookable.calendar_never_synced:
        context["notice"] = gettext("No times can be offered right now. Please try again later.")
    return _render_page(request, context, status_code, lang)


def _render_page(
    request: Request, context: dict[str, Any], status_code: int, lang: str
) -> Response:
    """The whole page; only the picker for htmx (which swaps just that), unless htmx is
    restoring its history and needs the whole page."""
    partial = (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )
    name = "invitee/_picker.html" if partial else "invitee/book.html"
    response = render(request, name, context, status_code, lang)
    response.headers["vary"] = "HX-Request, Accept-Language"
    return response


async def _show(
    request: Request,
    place: Place,
    tz: str | None,
    first: date | None,
    start: str | None,
    month: str | None = None,
    clock: str | None = None,
) -> Response:
    """A visit: read in one admitted thread, with the organizer's busy time from memory
    while nothing of theirs changed (``invitee_read``)."""

    def page(session: Session) -> Response:
        now = utcnow()
        reached = place.reach(request, session, now)
        bookable = reached.bookable
        allow_framing(request, bookable.embed_origins)
        if first is not None:
            scheduling.plausible(first, "day")
        choice = Choice(
            zone=_zone_or_default(tz, bookable.organizer.time_zone),
            first=first,
            month=_parse_month(month) if month else None,
            clock=clock,
        )
        if start:
            chosen = _parse_start(start)
            if reached.offers(session, chosen, now):
                choice.start = chosen
            else:
                gettext = translations(page_language(request)).gettext
                choice.error = gettext("That time is no longer free. Please pick another one.")
                choice.first = chosen.astimezone(named_zone(choice.zone)).date()
        return _booking_page(request, session, place, bookable, choice, now, reached=reached)

    return await invitee_read(request, page, place.owner)


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
    write_limits.booking_attempt(request, session, now)
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
        write_limits.booking_for(request, session, data.email, now)
        _, token = bookings.create_booking(session, bookable, data, lang, now, settings)
    except DomainError as exc:
        session.rollback()  # nothing of this attempt is kept
        bookable = place.find(session, now)  # 410 if a single-use link was used meanwhile
        clock = fields.get("clock")
        choice = Choice(zone=zone, values=values, clock=clock if clock in ("12", "24") else None)
        if exc.status_code == 409:
            choice.error = gettext("That time was just taken. Please pick another one.")
            choice.first = start.astimezone(named_zone(zone)).date()
            return _booking_page(request, session, place, bookable, choice, now, 409)
        if exc.status_code != 422:
            raise
        choice.start = start
        choice.errors = errors or _form_errors(exc.details)
        choice.error = gettext("Please check the fields marked below.")
        return _booking_page(request, session, place, bookable, choice, now, 422)
    return RedirectResponse(f"/b/{token}?notice=booked", status_code=303)


TzQuery = Annotated[str | None, Query(max_length=64)]
FromQuery = Annotated[date | None, Query(alias="from")]  # the older name of ``day``
DayQuery = Annotated[date | None, Query()]
MonthQuery = Annotated[str | None, Query(max_length=7)]
ClockQuery = Annotated[str | None, Query(pattern=r"^(12|24)$")]
StartQuery = Annotated[str | None, Query(max_length=64)]


def _page_place(page_key: str, type_id: str) -> Place:
    return Place(
        path=f"/p/{page_key}/{type_id}",
        back=f"/p/{page_key}",
        find=lambda session, _now: lookup.bookable_through_page(session, page_key, type_id),
        reach=lambda request, session, _now: availability(request).through_page(
            session, page_key, type_id
        ),
        owner=lookup.page_owner_read(page_key),
    )


def _link_place(token: str) -> Place:
    return Place(
        path=f"/l/{token}",
        back=None,
        find=lambda session, now: lookup.bookable_through_link(session, token, now),
        reach=lambda request, session, now: availability(request).through_link(session, token, now),
        owner=lookup.link_owner_read(token),
    )


@router.get("/p/{page_key}", dependencies=[Embeddable])
def booking_page(
    page_key: str, request: Request, session: SessionDep, tz: TzQuery = None
) -> Response:
    page, organizer, _ = lookup.published_page(session, page_key)
    lang = page_language(request)
    zone = _zone_or_default(tz, "")
    types = lookup.public_types(session, organizer)
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
async def page_meeting_type(
    page_key: str,
    type_id: str,
    request: Request,
    tz: TzQuery = None,
    first: FromQuery = None,
    start: StartQuery = None,
    day: DayQuery = None,
    month: MonthQuery = None,
    clock: ClockQuery = None,
) -> Response:
    return await _show(
        request, _page_place(page_key, type_id), tz, day or first, start, month, clock
    )


@router.post("/p/{page_key}/{type_id}", dependencies=[PageLane, Embeddable])
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
async def private_link(
    token: str,
    request: Request,
    tz: TzQuery = None,
    first: FromQuery = None,
    start: StartQuery = None,
    day: DayQuery = None,
    month: MonthQuery = None,
    clock: ClockQuery = None,
) -> Response:
    return await _show(request, _link_place(token), tz, day or first, start, month, clock)


@router.post("/l/{token}", dependencies=[LinkLane, Embeddable])
def book_through_link(
    token: str, request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    return _book(request, session, settings, _link_place(token), fields)
