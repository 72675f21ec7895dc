"""The emails about a booking, rendered from templates in the recipient's language and zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from babel.dates import format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bookwithme.i18n import N_, translations, when
from bookwithme.models import Booking, User
from bookwithme.notifications import ical
from bookwithme.paths import TEMPLATES_DIR
from bookwithme.timezones import named_zone

Event = Literal["created", "rescheduled", "cancelled"]
Role = Literal["invitee", "organizer"]
SUBJECTS = {
    "reminder": N_("Reminder: %(title)s with %(name)s"),
    "created": N_("Confirmed: %(title)s with %(name)s"),
    "rescheduled": N_("Updated: %(title)s with %(name)s"),
    "cancelled": N_("Cancelled: %(title)s with %(name)s"),
}
LOCATION_NAMES = {
    "online": N_("Online meeting"),
    "in_person": N_("In person"),
    "phone": N_("Phone call"),
}

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR / "email")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    # Templates ship with the package: do not ask the disk whether they changed on every
    # email (restart the server after editing one).
    auto_reload=False,
)


@dataclass(frozen=True)
class Email:
    kind: str
    recipient: str
    locale: str
    subject: str
    text: str
    html: str
    ics: str | None
    ics_method: str | None
    # Whom the email is from in people's eyes: the From display name becomes
    # "<sender_name> via bookwithme" (the address stays MAIL_FROM's), and replies go to
    # ``reply_to`` (name, address): the organizer for the invitee, the invitee for the
    # organizer (SPEC 2.10). None for the service's own emails.
    sender_name: str | None = None
    reply_to: tuple[str, str] | None = None


@dataclass(frozen=True)
class Change:
    """What the emails about a change say beyond the booking itself: the time it had
    before a move, the reason given, and who made it."""

    previous: tuple[datetime, datetime] | None = None
    reason: str | None = None
    by: Role = "invitee"


def span(start: datetime, end: datetime, zone: str, locale: str) -> str:
    """When, start to end, in ``zone``: "Tuesday, December 1, 2026, 10:00 \u2013 10:30" (the
    end's date written out too when it falls on another day)."""
    tz = named_zone(zone)
    if end.astimezone(tz).date() == start.astimezone(tz).date():
        until = format_time(end, "HH:mm", tzinfo=tz, locale=locale)
    else:
        until = when(end, zone, locale)
    return f"{when(start, zone, locale)} \u2013 {until}"


def _where(booking: Booking, gettext: Any) -> str:
    if booking.location_details:
        return booking.location_details
    name = LOCATION_NAMES.get(booking.location_kind)
    return str(gettext(name)) if name else ""


def _ics_description(context: dict[str, Any]) -> str:
    """What the calendar entry itself says: the meeting, the link to join, the link to
    reschedule or cancel (invitee), the invitee's answers and notes (organizer)."""
    _ = context["_"]
    colon = context["colon"]
    booking: Booking = context["booking"]
    lines = [f"{booking.title} ({booking.duration_minutes} {_('minutes')})"]
    if booking.online_meeting_url and context["event"] != "cancelled":
        lines.append(f"{_('Join online')}{colon} {booking.online_meeting_url}")
    if context["manage_url"] and context["event"] != "cancelled":
        lines.append(f"{_('Reschedule or cancel')}{colon} {context['manage_url']}")
    if context["role"] == "organizer":
        lines.append(f"{_('Invitee')}{colon} {booking.invitee_name} <{booking.invitee_email}>")
        lines += [f"{label}{colon} {value}" for label, value in context["answers"]]
        if booking.notes:
            lines.append(f"{_('Notes')}{colon} {booking.notes}")
    return "\n".join(lines)


def _render(
    booking: Booking,
    organizer: User,
    event: Event | Literal["reminder"],
    role: Role,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
    change: Change | None = None,
) -> Email:
    change = change or Change()
    if role == "invitee":
        locale, zone, recipient = (
            booking.invitee_locale,
            booking.invitee_time_zone,
            booking.invitee_email,
        )
        other = organizer.name
        reply_to = (organizer.name, organizer.email)
    else:
        locale, zone, recipient = organizer.locale, organizer.time_zone, organizer.email
        other = booking.invitee_name
        reply_to = (booking.invitee_name, booking.invitee_email)
    gettext = translations(locale).gettext
    yes, no = gettext("yes"), gettext("no")
    answers = [
        (labels.get(key, key), (yes if value else no) if isinstance(value, bool) else value)
        for key, value in booking.answers.items()
        if value not in ("", None)
    ]
    subject = gettext(SUBJECTS[event]) % {"title": booking.title, "name": other}
    context = {
        "_": gettext,
        "booking": booking,
        "organizer": organizer,
        "event": event,
        "role": role,
        "locale": locale,
        "zone": zone,
        "when": span(booking.start_at, booking.end_at, zone, locale),
        # A move shows the old time, then the new one.
        "previous_when": (
            span(*change.previous, zone, locale)
            if event == "rescheduled" and change.previous
            else None
        ),
        "reason": (
            booking.cancel_reason
            if event == "cancelled"
            else (change.reason if event == "rescheduled" else None)
        ),
        "by": change.by,
        "where": _where(booking, gettext),
        "answers": answers,
        "manage_url": manage_url if role == "invitee" else None,
        "subject": subject,
        # French sets a space before a colon.
        "colon": " :" if locale == "fr" else ":",
    }
    text = _env.get_template("booking.txt").render(context)
    html = _env.get_template("booking.html").render(context)
    if event == "reminder":  # the invitation came with the booking; this one only reminds
        return Email(
            f"reminder_{role}",
            recipient,
            locale,
            subject,
            text,
            html,
            None,
            None,
            sender_name=organizer.name,
            reply_to=reply_to,
        )
    method = "CANCEL" if event == "cancelled" else "REQUEST"
    return Email(
        kind=f"booking_{event}_{role}",
        recipient=recipient,
        locale=locale,
        subject=subject,
        text=text,
        html=html,
        ics=ical.invite(
            booking,
            method=method,
            organizer_name=organizer.name,
            organizer_email=organizer.email,
            zone=zone,
            summary=subject.split(": ", 1)[-1],
            description=_ics_description(context),
            now=now,
        ),
        ics_method=method,
        sender_name=organizer.name,
        reply_to=reply_to,
    )


def booking_emails(
    booking: Booking,
    organizer: User,
    event: Event,
    *,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
    change: Change | None = None,
) -> list[Email]:
    """The invitee's email (with the manage link) and the organizer's (naming the invitee
    and their answers), each with an iCalendar part; after a move, both show the old time
    and the new one, and the reason when one was given."""
    return [
        _render(booking, organizer, event, "invitee", manage_url, labels, now, change),
        _render(booking, organizer, event, "organizer", manage_url, labels, now, change),
    ]


def reminder_emails(
    booking: Booking,
    organizer: User,
    to: Literal["invitee", "organizer", "both"],
    *,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
) -> list[Email]:
    """A reminder to ``to``, each in their own language and zone, with the join link and,
    for the invitee, the manage link."""
    roles: list[Role] = ["invitee", "organizer"] if to == "both" else [to]
    return [
        _render(booking, organizer, "reminder", role, manage_url, labels, now) for role in roles
    ]


def latest_invitee_email(
    booking: Booking,
    organizer: User,
    *,
    manage_url: str | None,
    labels: dict[str, str],
    now: datetime,
) -> Email:
    """The email the invitee got last about ``booking``: the invitation (``METHOD:REQUEST``)
    while it stands, the cancellation once cancelled. Its ``ics`` is what the manage page
    offers as ``invite.ics``, with the same UID, SEQUENCE and wording as the email's."""
    event: Event = (
        "cancelled"
        if booking.status == "cancelled"
        else ("rescheduled" if booking.sequence else "created")
    )
    return _render(
        booking,
        organizer,
        event,
        "invitee",
        None if event == "cancelled" else manage_url,
        labels,
        now,
    )
