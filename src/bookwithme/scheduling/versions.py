"""An exact change signal for each organizer's free times.

``users.availability_version`` is raised in the same transaction as every change that can
move an organizer's free times: a booking made, moved or cancelled; a busy block; a
calendar connected, read or removed; a schedule; a meeting type, its page or a private
link; the organizer's own settings and the organization's policy. A copy of an organizer's
busy time (or of what a page shows) read under one version is therefore exact for as long
as the version stays the same, in every process and on both databases: a request asks for
the version (one indexed row) before anything else, and reads again only when it moved.

Nobody has to remember to raise it. Every session flush is watched
(``after_flush``): an inserted, changed or deleted row of a watched table raises the
version of the organizer it belongs to (for an organization, of all its users). Bulk
statements (``session.execute(update(...))``) do not go through the flush, so they must
say what they do with the execution option ``AVAILABILITY``: ``UNCHANGED`` when they touch
nothing availability depends on (a lease, an error message), or ``RAISED`` after calling
``raise_version`` themselves. A bulk statement on a watched table that says neither raises
every organizer's version: coarse, never stale.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.base import PassiveFlag

from bookwithme.key_reads import KeyRead
from bookwithme.models import (
    Booking,
    BusyBlock,
    CalendarBusyInterval,
    CalendarConnection,
    MeetingType,
    Organization,
    Page,
    PrivateLink,
    Schedule,
    User,
)

log = logging.getLogger(__name__)
USERS: Table = User.__table__  # type: ignore[assignment]
MEETING_TYPES: Table = MeetingType.__table__  # type: ignore[assignment]

AVAILABILITY = "bookwithme_availability"  # the execution option of a bulk statement
UNCHANGED = "unchanged"
RAISED = "raised"
LEAVES_UNCHANGED = {AVAILABILITY: UNCHANGED}  # execution_options(**LEAVES_UNCHANGED)
ALREADY_RAISED = {AVAILABILITY: RAISED}

# In session.info: the organizers whose version this transaction has raised.
_RAISED_KEY = "bookwithme.availability_raised"

# Rows that belong to one organizer through ``user_id``.
_OWNED = (Booking, BusyBlock, CalendarBusyInterval, CalendarConnection, MeetingType, Page, Schedule)
_WATCHED_TABLES = frozenset(
    cls.__table__.name  # type: ignore[attr-defined]
    for cls in (*_OWNED, PrivateLink, User, Organization)
)
# Columns whose changes leave free times where they are.
_IRRELEVANT: dict[type, frozenset[str]] = {
    CalendarConnection: frozenset(
        {
            "etag",
            "last_modified",
            "last_error",
            "last_synced_at",
            "busy_count",
            "updated_at",
        }
    ),
    User: frozenset(
        {"password_hash", "session_version", "last_sign_in_at", "updated_at", "locale"}
    ),
    Booking: frozenset({"updated_at", "written_back_sequence"}),
}


def raise_version(session: Session, organizer_ids: Iterable[uuid.UUID]) -> None:
    """Raise the version of each organizer, once per transaction (one is enough: other
    transactions see every change of this one, and the raise, at the same moment)."""
    raised: set[uuid.UUID] = session.info.setdefault(_RAISED_KEY, set())
    todo = sorted(set(organizer_ids) - raised)  # in one order, so two writers never deadlock
    if not todo:
        return
    raised.update(todo)
    session.connection().execute(
        update(USERS)
        .where(USERS.c.id.in_(todo))
        .values(availability_version=USERS.c.availability_version + 1)
    )


def raise_organization(session: Session, organization_id: uuid.UUID) -> None:
    """Raise the version of every user of an organization (its policy changed)."""
    users = session.connection().execute(
        select(USERS.c.id).where(USERS.c.organization_id == organization_id)
    )
    raise_version(session, [row[0] for row in users])


def _changed(obj: Any) -> bool:
    """Whether a flushed change of ``obj`` can move free times."""
    irrelevant = _IRRELEVANT.get(type(obj), frozenset())
    for attr in obj.__mapper__.column_attrs:
        if attr.key in irrelevant:
            continue
        history = get_history(obj, attr.key, passive=PassiveFlag.PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        # Of a calendar's reads, only the first good one changes what is offered (before
        # it, nothing is); the busy time each read brings raises the version itself.
        if (
            isinstance(obj, CalendarConnection)
            and attr.key == "last_success_at"
            and None not in (history.deleted or [None])
        ):
            continue
        return True
    return False


def _organizers(session: Session, objects: Iterable[Any]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    users: set[uuid.UUID] = set()
    organizations: set[uuid.UUID] = set()
    links: set[uuid.UUID] = set()
    for obj in objects:
        if isinstance(obj, _OWNED):
            users.add(obj.user_id)
            if isinstance(obj, Page | MeetingType | CalendarConnection | Booking | Schedule):
                # A row moved to another organizer (never done today) moves both.
                for old in (
                    get_history(obj, "user_id", passive=PassiveFlag.PASSIVE_NO_INITIALIZE).deleted
                    or ()
                ):
                    users.add(old)
        elif isinstance(obj, User):
            users.add(obj.id)
        elif isinstance(obj, Organization):
            organizations.add(obj.id)
        elif isinstance(obj, PrivateLink):
            links.add(obj.meeting_type_id)
    if links:
        owners = session.connection().execute(
            select(MEETING_TYPES.c.user_id).where(MEETING_TYPES.c.id.in_(links))
        )
        users.update(row[0] for row in owners)
    return users, organizations


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    touched = [
        *session.new,
        *session.deleted,
        *(obj for obj in session.dirty if session.is_modified(obj) and _changed(obj)),
    ]
    users, organizations = _organizers(session, touched)
    for organization_id in organizations:
        raise_organization(session, organization_id)
    raise_version(session, users)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if state.execution_options.get(AVAILABILITY) in (UNCHANGED, RAISED):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) not in _WATCHED_TABLES:
        return
    log.warning(
        "a bulk change of %s does not say what it does to free times: raising every "
        "organizer's availability version",
        table.name,
    )
    state.session.connection().execute(
        update(USERS).values(availability_version=USERS.c.availability_version + 1)
    )


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, _transaction: Any) -> None:
    # Also after a savepoint: one rolled back takes its raise with it, so the next change
    # must raise again (one committed only costs a second raise).
    session.info.pop(_RAISED_KEY, None)


_VERSION = KeyRead(select(User.availability_version).where(User.id == bindparam("id")))


def version_of(session: Session, organizer_id: uuid.UUID) -> int | None:
    """The organizer's availability version (a key read: the answer cache's one read)."""
    row = _VERSION.first(session, {"id": organizer_id})
    return None if row is None else int(row[0])
