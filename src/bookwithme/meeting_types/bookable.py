"""What an invitee books, found from the address they opened: a meeting type on a published
page (``/p/{key}/{type}``) or behind a private link (``/l/{token}``), with its organizer,
their organization's verdict on personal bookings and the schedule in force.

Finding it takes one query. For the pages invitees open most, ``BookableCache`` keeps
what was found in memory under the organizer's availability version
(``scheduling/versions.py``), so while nothing changed a request costs one indexed row
(the address's owner and version) instead.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.db import longer_read
from bookwithme.errors import NotFound
from bookwithme.i18n import N_
from bookwithme.key_reads import KeyRead
from bookwithme.lookup import parse_id
from bookwithme.meeting_types.service import require_usable
from bookwithme.models import (
    CalendarConnection,
    MeetingType,
    Organization,
    Page,
    PrivateLink,
    Schedule,
    User,
)
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.scheduling.slots import DayIntervals, SlotRules, day_intervals
from bookwithme.security import hash_token

NO_SUCH_TYPE = N_("There is no such meeting type on this booking page.")
NO_SUCH_LINK = N_("This booking link does not exist.")


@dataclass(frozen=True)
class Bookable:
    """One meeting type as an invitee reaches it, with all the slot rule needs of it."""

    meeting_type: MeetingType
    organizer: User
    organization: Organization
    schedule: ScheduleData
    page: Page | None = None
    link: PrivateLink | None = None
    # A connected calendar that never synced: its busy time is unknown, so nothing is offered.
    calendar_never_synced: bool = False
    # The sites the organizer lets frame their invitee pages (their page's embed_origins).
    embed_origins: tuple[str, ...] = ()

    # Worked out once: a Bookable is kept in memory and read by request after request.
    @cached_property
    def day_intervals(self) -> DayIntervals:
        return day_intervals(self.schedule)

    @cached_property
    def rules(self) -> SlotRules:
        mt = self.meeting_type
        return SlotRules(
            duration_minutes=mt.duration_minutes,
            slot_interval_minutes=mt.slot_interval_minutes,
            buffer_before_minutes=mt.buffer_before_minutes,
            buffer_after_minutes=mt.buffer_after_minutes,
            minimum_notice_minutes=mt.minimum_notice_minutes,
            max_advance_days=mt.max_advance_days,
            max_bookings_per_day=mt.max_bookings_per_day,
        )


def _context_query() -> Select[MeetingType, User, Organization, Schedule, bool, Page]:
    """Meeting type, organizer, organization, the schedule in force and the organizer's
    page (for its embedding sites), in one query."""
    never_synced = (
        exists()
        .where(CalendarConnection.user_id == User.id, CalendarConnection.last_success_at.is_(None))
        .correlate(User)
    )
    return (
        select(MeetingType, User, Organization, Schedule, never_synced.label("never_synced"), Page)
        .join(User, User.id == MeetingType.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .join(
            Schedule,
            or_(
                Schedule.id == MeetingType.schedule_id,
                and_(
                    MeetingType.schedule_id.is_(None),
                    Schedule.user_id == User.id,
                    Schedule.is_default.is_(True),
                ),
            ),
        )
        .outerjoin(Page, Page.user_id == User.id)
        .where(MeetingType.deleted_at.is_(None), MeetingType.active.is_(True))
    )


def _bookable(
    row: Any, *, through_page: bool = False, link: PrivateLink | None = None
) -> Bookable | None:
    mt, user, organization, schedule, never_synced, page = row[:6]
    if not personal_bookings_status(organization, user).enabled:
        return None
    return Bookable(
        meeting_type=mt,
        organizer=user,
        organization=organization,
        schedule=store.to_data(schedule),
        page=page if through_page else None,
        link=link,
        calendar_never_synced=bool(never_synced),
        embed_origins=tuple(page.embed_origins or ()) if page is not None else (),
    )


def published_page(session: Session, key: str) -> tuple[Page, User, Organization]:
    """A published page of an organizer whose personal bookings is on; else 404."""
    row = session.execute(
        select(Page, User, Organization)
        .join(User, User.id == Page.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(Page.key == key, Page.published.is_(True))
    ).first()
    if row is None or not personal_bookings_status(row[2], row[1]).enabled:
        raise NotFound(N_("There is no booking page at this address."))
    return row[0], row[1], row[2]


def public_types(session: Session, user: User) -> list[MeetingType]:
    return list(
        session.scalars(
            select(MeetingType)
            .where(
                MeetingType.user_id == user.id,
                MeetingType.visibility == "public",
                MeetingType.active.is_(True),
                MeetingType.deleted_at.is_(None),
            )
            .order_by(MeetingType.position, MeetingType.created_at)
        )
    )


def bookable_through_page(session: Session, key: str, type_id: str) -> Bookable:
    parsed = parse_id(type_id)
    row = None
    if parsed is not None:
        row = session.execute(
            _context_query().where(
                Page.key == key,
                Page.published.is_(True),
                MeetingType.id == parsed,
                MeetingType.visibility == "public",
            )
        ).first()
    found = _bookable(row, through_page=True) if row is not None else None
    if found is None:
        raise NotFound(NO_SUCH_TYPE)
    return found


def bookable_through_link(session: Session, token: str, now: datetime) -> Bookable:
    """404 for an unknown link (or one whose organizer cannot take bookings now), 410 with
    the reason for an expired, used or revoked one."""
    row = session.execute(
        _context_query()
        .add_columns(PrivateLink)
        .join(PrivateLink, PrivateLink.meeting_type_id == MeetingType.id)
        .where(PrivateLink.token_hash == hash_token(token))
    ).first()
    found = _bookable(row, link=row[6]) if row is not None else None
    if found is None:
        raise NotFound(NO_SUCH_LINK)
    assert found.link is not None
    require_usable(found.link, now)
    return found


def bookable_type(session: Session, meeting_type_id: uuid.UUID) -> Bookable:
    """A meeting type reached from an existing booking (rescheduling): any visibility, but
    still active, not deleted, and its organizer able to take bookings."""
    row = session.execute(_context_query().where(MeetingType.id == meeting_type_id)).first()
    found = _bookable(row) if row is not None else None
    if found is None:
        raise NotFound("This meeting can no longer be moved; cancel it and book again.")
    return found


# --- Kept in memory under the organizer's availability version -------------------------

_PAGE_OWNER = KeyRead(
    select(Page.user_id, User.availability_version)
    .join(User, User.id == Page.user_id)
    .where(Page.key == bindparam("key"))
)
_LINK_OWNER = KeyRead(
    select(MeetingType.user_id, User.availability_version)
    .join(PrivateLink, PrivateLink.meeting_type_id == MeetingType.id)
    .join(User, User.id == MeetingType.user_id)
    .where(PrivateLink.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class Owner:
    """Whose an address is, and their availability version as this transaction sees it."""

    organizer_id: uuid.UUID
    version: int


def page_owner_read(key: str) -> tuple[KeyRead, dict[str, Any]]:
    """The read ``page_owner`` makes, to be sent ahead (``Admission.quick_read``)."""
    return _PAGE_OWNER, {"key": key}


def link_owner_read(token: str) -> tuple[KeyRead, dict[str, Any]]:
    return _LINK_OWNER, {"token_hash": hash_token(token)}


def page_owner(session: Session, key: str) -> Owner | None:
    read, params = page_owner_read(key)
    row = read.first(session, params)
    return Owner(row[0], row[1]) if row is not None else None


def link_owner(session: Session, token: str) -> Owner | None:
    read, params = link_owner_read(token)
    row = read.first(session, params)
    return Owner(row[0], row[1]) if row is not None else None


class BookableCache:
    """What an address leads to, per address, for as long as its organizer's version
    stays the same. The rows are detached from their session: read, never changed."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, Bookable]] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: Hashable, version: int) -> Bookable | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def _put(self, session: Session, key: Hashable, version: int, found: Bookable) -> None:
        for row in (
            found.meeting_type,
            found.organizer,
            found.organization,
            found.page,
            found.link,
        ):
            if row is not None and row in session:
                session.expunge(row)
        with self._lock:
            self._entries[key] = (version, found)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def through_page(self, session: Session, key: str, type_id: str) -> tuple[Bookable, Owner]:
        """``bookable_through_page``, from memory while the organizer's version holds."""
        owner = page_owner(session, key)
        if owner is None:
            raise NotFound(NO_SUCH_TYPE)
        cache_key = ("page", key, type_id)
        found = self._get(cache_key, owner.version)
        if found is None:
            longer_read(session)
            found = bookable_through_page(session, key, type_id)
            self._put(session, cache_key, owner.version, found)
        return found, owner

    def through_link(self, session: Session, token: str, now: datetime) -> tuple[Bookable, Owner]:
        """``bookable_through_link``, from memory while the organizer's version holds (a
        link used, revoked or changed raises it); its expiry is checked every time."""
        owner = link_owner(session, token)
        if owner is None:
            raise NotFound(NO_SUCH_LINK)
        cache_key = ("link", token)
        found = self._get(cache_key, owner.version)
        if found is None:
            longer_read(session)
            found = bookable_through_link(session, token, now)
            self._put(session, cache_key, owner.version, found)
        assert found.link is not None
        require_usable(found.link, now)
        return found, owner
