"""How instants cross the API: ISO 8601 in, UTC with ``Z`` out unless a zone is asked for."""

from __future__ import annotations

from datetime import UTC, datetime
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
