"""IANA time zone names, from the tzdata package, so every machine agrees on the list (the
host's own files would add names such as ``localtime`` whose meaning depends on the machine)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

# How a zone field is documented: a string that ``web/openapi.py`` turns into a reference
# to one shared schema listing every name (``zones_json_schema``).
ZONE_MARKER = "x-time-zone"
ZONE_SCHEMA: dict[str, Any] = {"type": "string", ZONE_MARKER: True}


@cache
def named_zone(name: str) -> ZoneInfo:
    """``ZoneInfo(name)``, kept loaded. ``ZoneInfo`` itself keeps only the last 8 zones
    it made (and the others while someone holds them), so a server answering invitees
    from many zones would read and parse zone files from disk again and again."""
    return ZoneInfo(name)


@cache
def known_zones() -> frozenset[str]:
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in listing.splitlines() if line.strip())


def is_valid_zone(name: str) -> bool:
    return name in known_zones()


def zones_json_schema() -> dict[str, Any]:
    return {
        "title": "TimeZone",
        "type": "string",
        "description": "An IANA time zone name, such as Europe/Paris",
        "enum": sorted(known_zones()),
    }


@cache
def listed_zones() -> tuple[str, ...]:
    """The zones a picker offers: one per place people live (the tz database's
    ``zone.tab``, one line per country and zone) and UTC, without the backward-compatible
    aliases (US/Eastern, W-SU, Zulu, Etc/GMT+5…) that only name the same rules again."""
    listing = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    names = {
        line.split("\t")[2].strip()
        for line in listing.splitlines()
        if line.strip() and not line.startswith("#")
    }
    return (*sorted(name for name in names if name in known_zones()), "UTC")


def zone_region(name: str) -> str:
    """The part of the world a zone name starts with ("Europe"); "UTC" for UTC."""
    return name.split("/", 1)[0] if "/" in name else "UTC"
