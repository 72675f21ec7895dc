"""ICS feeds: an http(s) URL of an iCalendar file, as Outlook, Google and iCloud publish."""

from __future__ import annotations

from datetime import datetime

import httpx

from bookwithme.calendars.base import ReadContext, SourceBusy, SourceError
from bookwithme.calendars.ics import CalendarFileError, busy_from_ics
from bookwithme.models import CalendarConnection

TIMEOUT = httpx.Timeout(15.0, connect=10.0)
MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "bookwithme (calendar sync)"


def download(
    url: str, etag: str | None, last_modified: str | None, timeout: httpx.Timeout | None = None
) -> tuple[bytes | None, str | None, str | None]:
    """The feed's bytes (None when unchanged since ``etag``/``last_modified``) and its new
    validators. Raises ``SourceError`` with a sentence an organizer understands."""
    timeout = timeout or TIMEOUT
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return None, etag, last_modified
            if response.status_code >= 400:
                raise SourceError(
                    f"The calendar server answered {response.status_code} "
                    f"{response.reason_phrase or ''}".rstrip()
                    + "."
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_BYTES:
                raise SourceError(f"The feed is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceError(f"The feed is larger than {MAX_BYTES // (1024 * 1024)} MB.")
                chunks.append(chunk)
            return (
                b"".join(chunks),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.TimeoutException:
        raise SourceError(
            f"The calendar server did not answer within {int(timeout.read or 15)} seconds."
        ) from None
    except httpx.TooManyRedirects:
        raise SourceError("The feed address redirects too many times.") from None
    except httpx.HTTPError as exc:
        raise SourceError(
            f"The calendar server could not be reached ({type(exc).__name__})."
        ) from None


class IcsFeed:
    def busy(
        self, connection: CalendarConnection, start: datetime, end: datetime, context: ReadContext
    ) -> SourceBusy:
        body, etag, last_modified = download(
            connection.url, connection.etag, connection.last_modified
        )
        if body is None:
            return SourceBusy(etag=etag, last_modified=last_modified, unchanged=True)
        try:
            parsed = busy_from_ics(body, start, end, context.zone, context.own_uids)
        except CalendarFileError as exc:
            raise SourceError(f"The feed is not a calendar: {exc}") from None
        return SourceBusy(
            intervals=parsed.intervals,
            problems=parsed.problems,
            etag=etag,
            last_modified=last_modified,
        )
