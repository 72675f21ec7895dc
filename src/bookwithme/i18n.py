"""English and French. Messages live in ``locale/<lang>/LC_MESSAGES/messages.po`` (Babel's
catalog format) and are compiled in memory when first used, so there is no build step."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(locale: str) -> NullTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def when(value: datetime, zone: str, locale: str) -> str:
    """A meeting's start as people write it: "Tuesday, December 1, 2026 at 10:00 (Europe/Paris)"."""
    tz = ZoneInfo(zone)
    pattern = "EEEE d MMMM y" if locale == "fr" else "EEEE, MMMM d, y"
    day = format_datetime(value, pattern, tzinfo=tz, locale=locale)
    return f"{day}, {format_time(value, 'HH:mm', tzinfo=tz, locale=locale)}"


def day_label(day: date, locale: str) -> str:
    """A date as a heading over its free times: "Tuesday, December 1" / "mardi 1 décembre"."""
    return format_date(day, "EEEE d MMMM" if locale == "fr" else "EEEE, MMMM d", locale=locale)


def times_by_day(
    starts: Iterable[datetime], zone: str, locale: str
) -> list[tuple[date, str, list[tuple[str, str]]]]:
    """Start instants (in order) as the pages list them: per local date in ``zone``, the
    date, its heading, and each start as (ISO instant with offset, "HH:mm")."""
    tz = ZoneInfo(zone)
    return [
        (
            day,
            day_label(day, locale),
            [
                (s.astimezone(tz).isoformat(), format_time(s, "HH:mm", tzinfo=tz, locale=locale))
                for s in group
            ],
        )
        for day, group in groupby(starts, key=lambda s: s.astimezone(tz).date())
    ]


def spans_by_day(
    spans: Iterable[tuple[datetime, datetime]], zone: str, locale: str
) -> list[tuple[str, list[str]]]:
    """Busy intervals (in order) per local start date in ``zone``: the date's heading and
    each interval as "09:00-10:30" with an en dash, the end's date added when it falls on
    another day."""
    tz = ZoneInfo(zone)
    days: list[tuple[str, list[str]]] = []
    for day, group in groupby(spans, key=lambda span: span[0].astimezone(tz).date()):
        texts = []
        for start, end in group:
            local_end = end.astimezone(tz)
            end_text = format_time(local_end, "HH:mm", locale=locale)
            if local_end.date() != day:
                end_text = f"{format_date(local_end.date(), 'EEE d MMM', locale=locale)} {end_text}"
            texts.append(f"{format_time(start, 'HH:mm', tzinfo=tz, locale=locale)}\u2013{end_text}")
        days.append((day_label(day, locale), texts))
    return days
