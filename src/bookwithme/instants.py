"""How instants cross the API: ISO 8601 in, UTC with ``Z`` out unless a zone is asked for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, PlainSerializer

from bookwithme.timezones import named_zone


def utc_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def epoch_in_zone(seconds: int, zone: str) -> str:
    """``in_zone`` for an instant given as epoch seconds (one conversion, not two)."""
    if zone == "UTC":
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    return datetime.fromtimestamp(seconds, named_zone(zone)).isoformat()


def in_zone(value: datetime, zone: str) -> str:
    """``value`` as local time with its offset in ``zone`` (``Z`` for UTC)."""
    if zone == "UTC":
        return utc_z(value)
    return value.astimezone(named_zone(zone)).isoformat()


# "HH:MM:00" for each minute of a day.
_MINUTES = tuple(f"{h:02d}:{m:02d}:00" for h in range(24) for m in range(60))
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class LocalTimes:
    """``epoch_in_zone`` for the many instants of slot lists, in one zone: the same text,
    built from parts worked out once per hour (the offset: no zone changes its offset
    twice within an hour, so an hour whose two ends agree has one offset throughout) and
    once per local day (the date), and kept for the next request (``local_times``). An
    instant that is not a whole minute, or an hour with a change of offset in it, takes
    ``epoch_in_zone`` itself."""

    __slots__ = ("_days", "_hours", "_offsets", "_tz", "_zone")
    KEPT = 4096  # hours (170 days) and days each; then it starts over

    def __init__(self, zone: str) -> None:
        self._zone = zone
        self._tz = UTC if zone == "UTC" else named_zone(zone)
        self._hours: dict[int, tuple[int, str] | None] = {}
        self._days: dict[int, str] = {}
        self._offsets: dict[int, tuple[int, str]] = {}

    def _hour(self, hour: int) -> tuple[int, str] | None:
        first = datetime.fromtimestamp(hour * 3600, self._tz)
        last = datetime.fromtimestamp(hour * 3600 + 3599, self._tz)
        offset = first.utcoffset()
        if offset is None or offset != last.utcoffset() or offset.total_seconds() % 60:
            return None  # a change of offset, or an offset with seconds (local mean time)
        seconds = int(offset.total_seconds())
        known = self._offsets.get(seconds)
        if known is None:
            # isoformat() is "YYYY-MM-DDTHH:MM:SS" and then the offset ("+01:00").
            known = (seconds, "Z" if self._zone == "UTC" else first.isoformat()[19:])
            self._offsets[seconds] = known
        if len(self._hours) >= self.KEPT:
            self._hours.clear()
        return known

    def __call__(self, seconds: int) -> str:
        hour = seconds // 3600
        try:
            known = self._hours[hour]
        except KeyError:
            known = self._hours[hour] = self._hour(hour)
        if known is None or seconds % 60:
            return epoch_in_zone(seconds, self._zone)
        offset, suffix = known
        day, second = divmod(seconds + offset, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            if len(self._days) >= self.KEPT:
                self._days.clear()
            prefix = self._days[day] = date.fromordinal(day + _EPOCH_ORDINAL).isoformat() + "T"
        return prefix + _MINUTES[second // 60] + suffix

    def many(self, instants: Iterable[int]) -> list[str]:
        """``[self(s) for s in instants]``, with the common case written out in the loop."""
        hours, days, minutes, one = self._hours, self._days, _MINUTES, self.__call__
        out = []
        for seconds in instants:
            known = hours.get(seconds // 3600)
            if known is not None and not seconds % 60:
                day, second = divmod(seconds + known[0], 86400)
                prefix = days.get(day)
                if prefix is not None:
                    out.append(prefix + minutes[second // 60] + known[1])
                    continue
            out.append(one(seconds))  # works out and keeps what it lacks
        return out

    def spans(self, starts: Sequence[int], length: int) -> list[str]:
        """Each start and its end (``length`` seconds later), one after the other: the end
        written from its start's parts when both fall in one hour's offset and one day."""
        hours, days, minutes, one = self._hours, self._days, _MINUTES, self.__call__
        out: list[str] = []
        for seconds in starts:
            known = hours.get(seconds // 3600)
            if known is not None and not seconds % 60 and not length % 60:
                day, second = divmod(seconds + known[0], 86400)
                prefix = days.get(day)
                end_second = second + length
                if (
                    prefix is not None
                    and end_second < 86400
                    and hours.get((seconds + length) // 3600) is known
                ):
                    out.append(prefix + minutes[second // 60] + known[1])
                    out.append(prefix + minutes[end_second // 60] + known[1])
                    continue
            out.append(one(seconds))
            out.append(one(seconds + length))
        return out


@lru_cache(maxsize=128)
def local_times(zone: str) -> LocalTimes:
    """The ``LocalTimes`` of ``zone``, shared by the requests asked in it."""
    return LocalTimes(zone)


# An instant the API returns: always UTC, always with Z.
UTCInstant = Annotated[datetime, PlainSerializer(utc_z, return_type=str)]


def _iso_text(value: object) -> object:
    # Only text: a bare number would otherwise be read as seconds since 1970.
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be an ISO 8601 instant such as 2026-12-01T09:00:00+01:00")


def _representable(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+05:00 is valid ISO 8601 but has no UTC equivalent in Python.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is too far in the past or the future") from None
    return value


# An instant the API accepts: ISO 8601 text with an offset or Z; anything else is a 422.
InputInstant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_representable)]
