"""IANA time zone names, from the tzdata package (so every machine agrees)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_zone(name: str) -> bool:
    return name in known_zones()


def zone(name: str) -> ZoneInfo:
    """The zone for a name already validated with ``is_valid_zone``."""
    return ZoneInfo(name)
