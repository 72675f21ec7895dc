"""Cursor paging for lists that grow: ``{"items": [...], "next_cursor": ...}``.

A cursor is the (time, id) of the last item given out, so pages stay right while rows are
added; it is opaque to clients and checked when it comes back."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bookwithme.errors import InvalidInput

T = TypeVar("T")


def encode_cursor(when: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([when.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when_text, id_text = json.loads(raw)
        when, row_id = datetime.fromisoformat(when_text), uuid.UUID(id_text)
        if when.tzinfo is None:
            raise ValueError("naive")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor: not a cursor this API gave out",
            details=[{"field": "cursor", "message": "not a cursor this API gave out"}],
        ) from None
    return when, row_id


def page_after(
    session: Session,
    query: Select[T],
    order: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> tuple[list[T], str | None]:
    """``limit`` rows of ``query`` after ``cursor``, ordered by (``order``, ``row_id``)."""
    if cursor:
        when, last_id = decode_cursor(cursor)
        if newest_first:
            query = query.where((order < when) | ((order == when) & (row_id < last_id)))
        else:
            query = query.where((order > when) | ((order == when) & (row_id > last_id)))
    ordering: tuple[Any, ...] = (order.desc(), row_id.desc()) if newest_first else (order, row_id)
    rows = list(session.scalars(query.order_by(*ordering).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(getattr(last, order.key), getattr(last, row_id.key))
    return rows[:limit], next_cursor
