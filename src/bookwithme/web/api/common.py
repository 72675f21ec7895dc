"""Shapes and query parameters shared by the API routers."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Query
from pydantic import BaseModel, WithJsonSchema
from starlette.responses import JSONResponse

from bookwithme.errors import InvalidInput
from bookwithme.instants import in_zone
from bookwithme.scheduling.service import plausible
from bookwithme.scheduling.slots import localize
from bookwithme.timezones import ZONE_SCHEMA, is_valid_zone

T = TypeVar("T")


class ItemList(BaseModel, Generic[T]):
    items: list[T]


async def zone_query(
    tz: Annotated[
        str | None,
        Query(max_length=64, description="An IANA time zone, such as Europe/Paris"),
        WithJsonSchema(ZONE_SCHEMA),
    ] = None,
) -> str | None:
    if tz is not None and not is_valid_zone(tz):
        raise InvalidInput(
            f"tz: '{tz}' is not a known IANA time zone, such as Europe/Paris",
            details=[{"field": "tz", "message": "not a known IANA time zone"}],
        )
    return tz


# A list filter's bound (``bound`` below): a date or an instant with its offset.
DATE_OR_INSTANT = WithJsonSchema(
    {
        "type": "string",
        "maxLength": 40,
        "anyOf": [{"format": "date"}, {"format": "date-time"}],
    }
)

INSTANT_FIELDS = frozenset({"start", "end", "created_at", "cancelled_at"})


def rezoned(data: Any, zone: str | None) -> Any:
    """A JSON-ready answer with its instants given in ``zone`` (SPEC 3: UTC with ``Z``
    unless a ``tz`` is asked for)."""
    if zone is None:
        return data
    if isinstance(data, list):
        return [rezoned(item, zone) for item in data]
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in INSTANT_FIELDS and isinstance(value, str):
                out[key] = in_zone(datetime.fromisoformat(value), zone)
            else:
                out[key] = rezoned(value, zone)
        return out
    return data


def json_in_zone(model: BaseModel, zone: str | None) -> JSONResponse:
    return JSONResponse(rezoned(model.model_dump(mode="json"), zone))


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def bound(value: str | None, name: str, zone: str, *, end: bool) -> datetime | None:
    """A list filter: an ISO 8601 instant, or a date (``YYYY-MM-DD``, in ``zone``; an end
    date includes its whole day)."""
    if value is None:
        return None
    try:
        if _DATE.match(value):
            day = plausible(date.fromisoformat(value), name)
            return localize(day + timedelta(days=1 if end else 0), 0, ZoneInfo(zone))
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError
        return instant
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name}: must be a date (YYYY-MM-DD) or an instant with its offset "
            "(2026-12-01T09:00:00Z)",
            details=[{"field": name, "message": "a date or an ISO 8601 instant"}],
        ) from None


def window(
    start: str | None, end: str | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    low = bound(start, "start", zone, end=False)
    high = bound(end, "end", zone, end=True)
    if low is not None and high is not None and high <= low:
        raise InvalidInput(
            "end must be after start",
            details=[{"field": "end", "message": "must be after start"}],
        )
    return low, high
