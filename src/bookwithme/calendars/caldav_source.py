"""CalDAV calendars (Nextcloud, Radicale, Fastmail, iCloud, SOGo…): busy time through an
expanded calendar-query (each occurrence as the server computes it, read with the same rules
as ICS feeds), and bookings written back as events."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import caldav
from caldav.lib import error as dav_error

from bookwithme.calendars.base import ReadContext, SourceBusy, SourceError
from bookwithme.calendars.ics import CalendarFileError, busy_from_ics
from bookwithme.calendars.problems import Problem
from bookwithme.models import CalendarConnection
from bookwithme.secrets_box import SecretUnreadable, unseal
from bookwithme.targets import caldav_session, refusal_in

log = logging.getLogger("bookwithme.calendars")
TIMEOUT = 15  # seconds for each request to the server


def open_calendar(
    connection: CalendarConnection,
    secret_key: str,
    timeout: float = TIMEOUT,
    allow_private: bool = False,
) -> Any:
    """The caldav Calendar at the connection's URL, logged in with its stored password;
    each request waits at most ``timeout`` seconds, and connects (redirects included) only
    to public addresses unless ``allow_private`` (``targets.py``)."""
    try:
        password = (
            unseal(secret_key, connection.password_encrypted)
            if connection.password_encrypted
            else None
        )
    except SecretUnreadable as exc:
        raise SourceError(str(exc)) from None
    make_client: Any = caldav.DAVClient
    client = make_client(
        url=connection.url,
        username=connection.username or None,
        password=password,
        timeout=max(0.1, min(TIMEOUT, timeout)),
    )
    # caldav makes its own niquests session; each request goes through this one instead.
    made = client.session
    client.session = caldav_session(allow_private, multiplexed=made.multiplexed)
    made.close()
    return client.calendar(url=connection.url)


def refused(calendar: Any, exc: BaseException | None = None) -> SourceError | None:
    """Why a request of ``calendar`` (or behind ``exc``) was not made, if it was refused for
    its address: caldav swallows some errors and tries another way, so a refusal is looked
    for even when the library raised nothing."""
    refusal = refusal_in(exc, getattr(getattr(calendar, "client", None), "session", None))
    return SourceError(refusal.message) if refusal is not None else None


def explain(exc: Exception) -> SourceError:
    """A sentence for the organizer instead of a library's exception."""
    refusal = refusal_in(exc)
    if refusal is not None:
        return SourceError(refusal.message)
    if isinstance(exc, dav_error.AuthorizationError):
        return SourceError("The CalDAV server refused the username or password.")
    if isinstance(exc, dav_error.NotFoundError):
        return SourceError("There is no calendar at this address on the CalDAV server.")
    if isinstance(exc, dav_error.DAVError):
        # Its message carries the server's whole answer; only the status is repeated.
        status = getattr(exc, "status", None)
        return SourceError(
            f"The CalDAV server answered with an error ({status})."
            if status
            else "The CalDAV server answered something that is not a calendar."
        )
    name = type(exc).__name__
    if "Timeout" in name:
        return SourceError("The CalDAV server did not answer in time.")
    return SourceError(f"The CalDAV server could not be reached ({name}).")


class CalDAVSource:
    def busy(
        self, connection: CalendarConnection, start: datetime, end: datetime, context: ReadContext
    ) -> SourceBusy:
        result = SourceBusy()
        calendar = None
        try:
            calendar = open_calendar(
                connection, context.secret_key, context.remaining(), context.allow_private
            )
            found = calendar.search(start=start, end=end, event=True, expand=True)
        except SourceError:
            raise
        except Exception as exc:  # the library raises many kinds; each is explained
            raise refused(calendar, exc) or explain(exc) from None
        refusal = refused(calendar)
        if refusal is not None:
            raise refusal
        for item in found:
            try:
                data = item.data.encode() if isinstance(item.data, str) else bytes(item.data)
                parsed = busy_from_ics(data, start, end, context.zone, context.own_uids)
            except (CalendarFileError, ValueError):
                name = str(getattr(item, "url", "") or "").rstrip("/").rsplit("/", 1)[-1]
                result.problems.append(Problem(name or None, "it is not an event", whole=True))
                continue
            result.intervals += parsed.intervals
            result.problems += parsed.problems
        result.intervals.sort()
        return result
