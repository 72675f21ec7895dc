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
from bookwithme.models import CalendarConnection
from bookwithme.secrets_box import SecretUnreadable, unseal

log = logging.getLogger("bookwithme.calendars")
TIMEOUT = 15


def open_calendar(connection: CalendarConnection, secret_key: str) -> Any:
    """The caldav Calendar at the connection's URL, logged in with its stored password."""
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
        url=connection.url, username=connection.username or None, password=password, timeout=TIMEOUT
    )
    return client.calendar(url=connection.url)


def explain(exc: Exception) -> SourceError:
    """A sentence for the organizer instead of a library's exception."""
    if isinstance(exc, dav_error.AuthorizationError):
        return SourceError("The CalDAV server refused the username or password.")
    if isinstance(exc, dav_error.NotFoundError):
        return SourceError("There is no calendar at this address on the CalDAV server.")
    if isinstance(exc, dav_error.DAVError):
        return SourceError(f"The CalDAV server answered with an error: {str(exc)[:300]}")
    name = type(exc).__name__
    if "Timeout" in name:
        return SourceError(f"The CalDAV server did not answer within {TIMEOUT} seconds.")
    return SourceError(f"The CalDAV server could not be reached ({name}).")


class CalDAVSource:
    def busy(
        self, connection: CalendarConnection, start: datetime, end: datetime, context: ReadContext
    ) -> SourceBusy:
        result = SourceBusy()
        try:
            calendar = open_calendar(connection, context.secret_key)
            found = calendar.search(start=start, end=end, event=True, expand=True)
        except SourceError:
            raise
        except Exception as exc:  # the library raises many kinds; each is explained
            raise explain(exc) from None
        for item in found:
            try:
                data = item.data.encode() if isinstance(item.data, str) else bytes(item.data)
                parsed = busy_from_ics(data, start, end, context.zone, context.own_uids)
            except (CalendarFileError, ValueError) as exc:
                result.problems.append(f"{getattr(item, 'url', '?')}: {exc}")
                continue
            result.intervals += parsed.intervals
            result.problems += parsed.problems
        result.intervals.sort()
        return result
