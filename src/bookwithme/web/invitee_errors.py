"""What an invitee sees when a page cannot be shown: a page in their language that says
what happened in their terms and what they can do next (the organizer's booking page when
it is published, or asking the organizer for a new link)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme.bookings import service as bookings
from bookwithme.i18n import N_
from bookwithme.models import Page, User

# Addresses invitees arrive on without an account.
INVITEE_PREFIXES = ("/p/", "/l/", "/b/")
_PAGE = re.compile(r"^/p/([^/]+)(/[^/]+)?/?$")
_LINK = re.compile(r"^/l/([^/]+)")
_MANAGE = re.compile(r"^/b/([^/]+)")

# Titles and messages in the invitee's terms, by error code ("_" marks them for the
# French catalogue). A code not listed keeps the message the error carries.
TITLES = {
    "link_expired": N_("This link has expired"),
    "link_used": N_("This link has been used"),
    "link_revoked": N_("This link was turned off"),
    "personal_bookings_disabled": N_("Not taking bookings here"),
    "not_found": N_("Not found"),
    "busy": N_("Busy right now"),
    "booking_cancelled": N_("This meeting was cancelled"),
    "slot_unavailable": N_("That time was just taken"),
    "rate_limited": N_("Too many tries for now"),
}
ASK_NAMED = N_("Ask %(name)s for a new link.")
ASK_SENDER = N_("Ask the person who sent it for a new link.")
MESSAGES = {
    "personal_bookings_disabled": N_("This person is not taking bookings here at the moment."),
    "rate_limited": N_(
        "Too many bookings or changes were sent from your network, or for this "
        "email address, in a short time. Nothing was saved."
    ),
}
# "%(minutes)s" is filled in from Retry-After by the page (web/errors.py).
WAIT_AND_RETRY = N_("Please wait %(minutes)s min, then try again.")


@dataclass(frozen=True)
class NextStep:
    hint: str  # a sentence, in English, translated by the page
    link_label: str | None = None
    link: str | None = None
    organizer: str | None = None


def is_invitee_path(path: str) -> bool:
    return path.startswith(INVITEE_PREFIXES)


def _published_page(session: Session, user_id: object) -> tuple[str, str] | None:
    row = session.execute(
        select(Page.key, User.name)
        .join(User, User.id == Page.user_id)
        .where(Page.user_id == user_id, Page.published, User.active)
    ).first()
    return (row[0], row[1]) if row else None


def next_step(session: Session, path: str, code: str) -> NextStep:
    """Where an invitee can go from an error on ``path``."""
    if code == "rate_limited":
        return _after_waiting(path)
    link = _LINK.match(path)
    if link:
        organizer = bookings.organizer_of_link(session, link.group(1))
        page = _published_page(session, organizer) if organizer else None
        user = session.get(User, organizer) if organizer else None
        name = user.name if user else None
        hint = ASK_NAMED if name else ASK_SENDER
        if page:
            return NextStep(hint, N_("See %(name)s's booking page"), f"/p/{page[0]}", name)
        return NextStep(hint, organizer=name)
    page_match = _PAGE.match(path)
    if page_match:
        organizer = bookings.organizer_of_page(session, page_match.group(1))
        page = _published_page(session, organizer) if organizer else None
        if page and page_match.group(2) and code != "personal_bookings_disabled":
            return NextStep(
                N_("This meeting type is not offered any more."),
                N_("See %(name)s's booking page"),
                f"/p/{page[0]}",
                page[1],
            )
        return NextStep(N_("Check the address, or ask the person who sent it."))
    if _MANAGE.match(path):
        return NextStep(N_("Use the link in your confirmation email, or ask the organizer."))
    return NextStep(N_("Check the address."))


def _after_waiting(path: str) -> NextStep:
    """Over a limit on booking or changing (``bookings/limits.py``): wait, then go back to
    the form that was sent."""
    page = _PAGE.match(path)
    if page and page.group(2):
        back = f"/p/{page.group(1)}{page.group(2)}"
        return NextStep(WAIT_AND_RETRY, N_("Back to the booking page"), back)
    link = _LINK.match(path)
    if link:
        return NextStep(WAIT_AND_RETRY, N_("Back to the booking page"), f"/l/{link.group(1)}")
    manage = _MANAGE.match(path)
    if manage:
        return NextStep(WAIT_AND_RETRY, N_("Back to your meeting"), f"/b/{manage.group(1)}")
    return NextStep(WAIT_AND_RETRY)
