"""Turning path parameters into ids: anything malformed is simply not found."""

from __future__ import annotations

import uuid


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
