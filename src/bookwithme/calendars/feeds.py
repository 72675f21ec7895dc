"""ICS feeds: an http(s) URL of an iCalendar file, as Outlook, Google and iCloud publish."""

from __future__ import annotations

import time
from datetime import datetime

import httpx

from bookwithme.calendars.base import ReadContext, SourceBusy, SourceError, seconds
from bookwithme.calendars.ics import CalendarFileError, busy_from_ics
from bookwithme.errors import TargetNotAllowed
from bookwithme.models import CalendarConnection
from bookwithme.targets import (
    MAX_REDIRECTS,
    ResponseTooLarge,
    ResponseTooSlow,
    public_client,
    read_capped,
)

CONNECT_TIMEOUT = 10.0
MAX_BYTES = 10 * 1024 * 1024
USER_AGENT = "bookwithme (calendar sync)"
TOO_LARGE = f"The feed is larger than {MAX_BYTES // (1024 * 1024)} MB."


def timed_out(allowed: float) -> SourceError:
    return SourceError(
        f"The calendar server did not send the whole calendar within {seconds(allowed)}."
    )


def _status(response: httpx.Response) -> SourceError:
    """The server's answer in a sentence; its error page itself is never repeated."""
    code = response.status_code
    phrase = response.reason_phrase or ""
    if code in (401, 403):
        why = "the address needs a sign-in or is not shared publicly"
    elif code in (404, 410):
        why = "there is no calendar at this address (any more)"
    elif code >= 500:
        why = "the calendar server has a problem; it may work later"
    else:
        why = "it did not send the calendar"
    return SourceError(f"The calendar server answered {code} {phrase}".rstrip() + f": {why}.")


def download(
    url: str,
    etag: str | None,
    last_modified: str | None,
    deadline: float,
    allow_private: bool = False,
) -> tuple[bytes | None, str | None, str | None]:
    """The feed's bytes (None when unchanged since ``etag``/``last_modified``) and its new
    validators, read before ``deadline`` (``time.monotonic()``) whatever pace the server
    keeps, from public addresses only unless ``allow_private`` (``targets.py``). Raises
    ``SourceError`` with a sentence an organizer understands."""
    allowed = max(0.1, deadline - time.monotonic())
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # Each wait is bounded by what is left of the whole read; a server that sends a byte
    # now and then is caught by the check between chunks.
    timeout = httpx.Timeout(allowed, connect=min(CONNECT_TIMEOUT, allowed))
    try:
        with (
            public_client(allow_private, timeout, max_redirects=MAX_REDIRECTS) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return None, etag, last_modified
            if response.status_code >= 400:
                raise _status(response)
            body = read_capped(response, deadline, MAX_BYTES)
            return body, response.headers.get("etag"), response.headers.get("last-modified")
    except TargetNotAllowed as exc:
        raise SourceError(exc.message) from None
    except ResponseTooLarge:
        raise SourceError(TOO_LARGE) from None
    except (ResponseTooSlow, httpx.TimeoutException):
        raise timed_out(allowed) from None
    except httpx.TooManyRedirects:
        raise SourceError("The feed address redirects too many times.") from None
    except httpx.InvalidURL:
        raise SourceError("This is not an address a calendar can be read from.") from None
    except httpx.HTTPError as exc:
        raise SourceError(
            f"The calendar server could not be reached ({type(exc).__name__})."
        ) from None


class IcsFeed:
    def busy(
        self, connection: CalendarConnection, start: datetime, end: datetime, context: ReadContext
    ) -> SourceBusy:
        body, etag, last_modified = download(
            connection.url,
            connection.etag,
            connection.last_modified,
            context.deadline,
            context.allow_private,
        )
        if body is None:
            return SourceBusy(etag=etag, last_modified=last_modified, unchanged=True)
        try:
            parsed = busy_from_ics(body, start, end, context.zone, context.own_uids)
        except CalendarFileError as exc:
            raise SourceError(str(exc)) from None
        return SourceBusy(
            intervals=parsed.intervals,
            problems=parsed.problems,
            etag=etag,
            last_modified=last_modified,
        )
