"""English and French. Messages live in ``locale/<lang>/LC_MESSAGES/messages.po`` (Babel's
catalog format) and are compiled in memory when first used, so there is no build step."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache, lru_cache
from itertools import groupby
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bookwithme.timezones import named_zone

LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Marks English text that is translated later, where it is shown (a message kept in a
    constant or raised in an error): ``make i18n-extract`` and the completeness test find
    it, and it stays English wherever it is not translated (the API)."""
    return message


def spoken(locale: str | None) -> str:
    """The language the pages use for someone whose locale is ``locale``: French or English."""
    return "fr" if locale == "fr" else "en"


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
    tz = named_zone(zone)
    pattern = "EEEE d MMMM y" if locale == "fr" else "EEEE, MMMM d, y"
    day = format_datetime(value, pattern, tzinfo=tz, locale=locale)
    return f"{day}, {format_time(value, 'HH:mm', tzinfo=tz, locale=locale)}"


@lru_cache(maxsize=4096)
def day_label(day: date, locale: str) -> str:
    """A date as a heading over its free times: "Tuesday, December 1" / "mardi 1 décembre"."""
    return format_date(day, "EEEE d MMMM" if locale == "fr" else "EEEE, MMMM d", locale=locale)


def times_by_day(
    starts: Iterable[datetime], zone: str, locale: str
) -> list[tuple[date, str, list[tuple[str, str]]]]:
    """Start instants (in order) as the pages list them: per local date in ``zone``, the
    date, its heading, and each start as (ISO instant with offset, "HH:mm")."""
    tz = named_zone(zone)
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
    tz = named_zone(zone)
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


# --- The invitee's clock and calendar (the booking page) -------------------------------

# A bare language stands for the region CLDR takes as likeliest for it.
LIKELY_REGION = {"en": "en_US", "fr": "fr_FR"}


def preferences(accept_language: str | None) -> list[tuple[float, str]]:
    """The language tags of an ``Accept-Language`` header with their quality ("q=";
    1 when none, 0 when unreadable), in the header's order."""
    tags = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip():
            tags.append((quality, tag.strip()))
    return tags


@lru_cache(maxsize=1024)  # browsers send a handful of different headers, again and again
def regional_locale(accept_language: str | None, lang: str) -> str | None:
    """The browser's most preferred tag in ``lang`` as a Babel locale name ("en_GB"), a bare
    language standing for its likeliest region; None when the browser states no preference."""
    from babel import Locale, UnknownLocaleError

    best: tuple[float, str] | None = None
    for quality, tag in preferences(accept_language):
        if tag[:2].lower() != lang or (best is not None and quality <= best[0]):
            continue
        try:
            parsed = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        best = (quality, str(parsed) if parsed.territory else LIKELY_REGION[lang])
    return best[1] if best else None


@cache
def clock_of(locale: str | None) -> int:
    """12 or 24: the hour cycle of ``locale``'s short time format (CLDR); 24 when unknown."""
    if locale is None:
        return 24
    from babel import Locale

    pattern = re.sub(r"'[^']*'", "", Locale.parse(locale).time_formats["short"].pattern)
    return 12 if "h" in pattern or "K" in pattern else 24


@cache
def first_weekday(locale: str | None, lang: str) -> int:
    """The first day of a calendar week (0 Monday … 6 Sunday) for ``locale``."""
    from babel import Locale

    return int(Locale.parse(locale or LIKELY_REGION.get(lang, lang)).first_week_day)


@cache
def clock_label(lang: str, clock: int) -> Callable[[int, int], str]:
    """A writer of wall-clock times from hour and minute, precomputed once so a list of
    slots is not a Babel call each: 24 → "09:00", 12 → "9:00 AM" (the language's own day
    periods)."""
    if clock == 24:
        return lambda hour, minute: f"{hour:02d}:{minute:02d}"
    from babel import Locale

    periods = Locale.parse(LIKELY_REGION.get(lang, lang)).day_periods["format"]["abbreviated"]
    am, pm = periods["am"], periods["pm"]
    return lambda hour, minute: (
        f"{hour % 12 or 12}:{minute:02d}\N{NO-BREAK SPACE}{am if hour < 12 else pm}"
    )


@cache
def time_formatter(lang: str, clock: int) -> Callable[[datetime], str]:
    """``clock_label`` for a local datetime."""
    label = clock_label(lang, clock)
    return lambda t: label(t.hour, t.minute)


@cache
def weekday_names(lang: str, first: int) -> list[tuple[str, str]]:
    """(abbreviated, full) weekday names in calendar order starting with ``first``."""
    from babel import Locale

    days = Locale.parse(LIKELY_REGION.get(lang, lang)).days["format"]
    order = [(first + i) % 7 for i in range(7)]
    return [(days["abbreviated"][d], days["wide"][d]) for d in order]


@lru_cache(maxsize=1024)
def month_label(month: date, locale: str) -> str:
    """A month as a calendar heads it: "May 2026" / "mai 2026"."""
    return format_date(month, "LLLL y", locale=locale)


# --- Instants on the organizer's and administrator's pages ------------------------------


def moment(
    value: datetime, zone: str, locale: str, *, named: bool = True, seconds: bool = False
) -> str:
    """An instant in the viewer's zone, as lists of events show it: "Nov 21, 2026, 14:05
    (Europe/Paris)" / "21 nov. 2026, 14:05 (Europe/Paris)". ``named=False`` leaves the
    zone out, for a page that names it once; a naive value is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=named_zone("UTC"))
    pattern = "d MMM y, HH:mm" if locale == "fr" else "MMM d, y, HH:mm"
    text = format_datetime(
        value, pattern + (":ss" if seconds else ""), tzinfo=named_zone(zone), locale=locale
    )
    return f"{text} ({zone})" if named else text
