"""IANA time zone names, from the tzdata package, so every machine agrees on the list (the
host's own files would add names such as ``localtime`` whose meaning depends on the machine)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def known_zones() -> frozenset[str]:
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in listing.splitlines() if line.strip())


def is_valid_zone(name: str) -> bool:
    return name in known_zones()
