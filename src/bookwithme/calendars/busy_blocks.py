"""Busy blocks: time the organizer marks as taken by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme.errors import NotFound
from bookwithme.instants import InputInstant, UTCInstant
from bookwithme.lookup import parse_id
from bookwithme.models import BusyBlock, User
from bookwithme.scheduling.schedules import FIRST_DATE, LAST_DATE
from bookwithme.validation import SINGLE_LINE, at_most

MAX_BLOCK = timedelta(days=3 * 366)
EARLIEST = datetime.combine(FIRST_DATE, time(), UTC)
LATEST = datetime.combine(LAST_DATE + timedelta(days=1), time(), UTC)


class BusyBlockCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: InputInstant
    end: InputInstant
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=200), at_most(200), SINGLE_LINE
    ] = ""

    @model_validator(mode="after")
    def _ordered(self) -> BusyBlockCreate:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        if self.end - self.start > MAX_BLOCK:
            raise ValueError("a busy block can last at most three years")
        if not (self.start >= EARLIEST and self.end <= LATEST):
            raise ValueError("a busy block must lie between 1970 and 2200")
        if any(ch < " " for ch in self.title):
            raise ValueError("title must be a single line without control characters")
        return self


class BusyBlockOut(BaseModel):
    id: uuid.UUID
    start: UTCInstant
    end: UTCInstant
    title: str

    @classmethod
    def build(cls, block: BusyBlock) -> BusyBlockOut:
        return cls(id=block.id, start=block.start_at, end=block.end_at, title=block.title)


def list_blocks(
    session: Session, user: User, start: datetime | None = None, end: datetime | None = None
) -> list[BusyBlock]:
    query = select(BusyBlock).where(BusyBlock.user_id == user.id)
    if start is not None:
        query = query.where(BusyBlock.end_at > start)
    if end is not None:
        query = query.where(BusyBlock.start_at < end)
    return list(session.scalars(query.order_by(BusyBlock.start_at)))


def whole_seconds(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Busy time is kept in whole seconds, widened outward so it never shrinks."""
    floor = start.replace(microsecond=0)
    ceil = end.replace(microsecond=0) + (timedelta(seconds=1) if end.microsecond else timedelta(0))
    return floor, ceil


def create_block(session: Session, user: User, data: BusyBlockCreate) -> BusyBlock:
    start, end = whole_seconds(data.start, data.end)
    block = BusyBlock(user_id=user.id, start_at=start, end_at=end, title=data.title)
    session.add(block)
    session.flush()
    return block


def delete_block(session: Session, user: User, block_id: str) -> None:
    parsed = parse_id(block_id)
    block = session.get(BusyBlock, parsed) if parsed else None
    if block is None or block.user_id != user.id:
        raise NotFound("No busy block with this id.")
    session.delete(block)
    session.flush()
