"""Connecting, listing and removing an organizer's calendars."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme import jobs
from bookwithme.calendars.sync import SOURCES, SYNC_JOB
from bookwithme.calendars.writeback import WRITE_BACK_JOB
from bookwithme.errors import InvalidInput, NotFound
from bookwithme.instants import UTCInstant
from bookwithme.lookup import parse_id
from bookwithme.models import CalendarBusyInterval, CalendarConnection, User
from bookwithme.secrets_box import seal
from bookwithme.targets import require_host
from bookwithme.validation import Flag, Name, at_most

Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2000),
    at_most(2000),
    Field(json_schema_extra={"pattern": r"^\s*(?:https?|webcal)://\S+\s*$"}),
]


class CalendarCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["ics", "caldav"]
    name: Name | None = None  # default: the server's host name
    url: Url
    username: Annotated[str, StringConstraints(max_length=254)] | None = None
    password: Annotated[str, StringConstraints(max_length=1024)] | None = None
    write_back: Flag = False

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value.startswith("webcal://"):  # what Outlook and iCloud hand out for feeds
            value = "https://" + value[len("webcal://") :]
        if not value.startswith(("http://", "https://")) or any(c in value for c in " \n\r\t"):
            raise ValueError("must be an http:// or https:// address")
        return require_host(value)


def default_name(url: str) -> str:
    """A calendar added without a name is called after its server ("calendar.google.com")."""
    host = urlsplit(url).hostname or "Calendar"
    return host[:200]


class BusyIntervalOut(BaseModel):
    start: UTCInstant
    end: UTCInstant


class CalendarOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    url: str
    write_back: bool
    last_synced_at: UTCInstant | None
    last_error: str | None
    busy_count: int


def calendar_out(connection: CalendarConnection) -> CalendarOut:
    return CalendarOut.model_validate(connection, from_attributes=True)


def list_calendars(session: Session, user: User) -> list[CalendarConnection]:
    query = select(CalendarConnection).where(CalendarConnection.user_id == user.id)
    return list(session.scalars(query.order_by(CalendarConnection.created_at)))


def get_calendar(session: Session, user: User, calendar_id: str) -> CalendarConnection:
    parsed = parse_id(calendar_id)
    connection = session.get(CalendarConnection, parsed) if parsed else None
    if connection is None or connection.user_id != user.id:
        raise NotFound("No calendar with this id.")
    return connection


def draft(user: User, data: CalendarCreate, secret_key: str) -> CalendarConnection:
    """The connection ``data`` describes, not saved yet: it is read once first (SPEC 2.6),
    and only a calendar that could be read is saved, with ``save``."""
    if data.kind not in SOURCES:
        raise InvalidInput(
            f"kind: {data.kind} calendars cannot be connected yet",
            details=[
                {"field": "kind", "message": f"{data.kind} calendars cannot be connected yet"}
            ],
        )
    if data.kind == "ics" and (data.username or data.password or data.write_back):
        raise InvalidInput(
            "An ICS feed is read-only and takes no username, password or write-back.",
            details=[{"field": "kind", "message": "an ICS feed is read-only"}],
        )
    return CalendarConnection(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=data.kind,
        name=data.name or default_name(data.url),
        url=data.url,
        write_back=data.write_back,
        username=data.username or None,
        password_encrypted=seal(secret_key, data.password) if data.password else None,
        busy_count=0,
    )


def save(session: Session, connection: CalendarConnection) -> CalendarConnection:
    session.add(connection)
    session.flush()
    return connection


def busy_between(
    session: Session, connection: CalendarConnection, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The busy intervals the calendar gave at its last good read that reach into
    ``[start, end)``, in order (no titles: none are kept)."""
    query = (
        select(CalendarBusyInterval.start_at, CalendarBusyInterval.end_at)
        .where(
            CalendarBusyInterval.connection_id == connection.id,
            CalendarBusyInterval.end_at > start,
            CalendarBusyInterval.start_at < end,
        )
        .order_by(CalendarBusyInterval.start_at, CalendarBusyInterval.end_at)
    )
    return [(start, end) for start, end in session.execute(query)]


def disconnect(session: Session, connection: CalendarConnection) -> None:
    session.delete(connection)  # its cached busy time goes with it
    for kind in (SYNC_JOB, WRITE_BACK_JOB):
        jobs.cancel(session, kind, str(connection.id))
    session.flush()
