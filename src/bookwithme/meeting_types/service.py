"""Meeting types, private links and the page: the organizer's side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from bookwithme.admin.access import require_personal_bookings
from bookwithme.errors import Gone, LinkExpired, LinkRevoked, LinkUsed, NotFound
from bookwithme.lookup import parse_id
from bookwithme.meeting_types.schemas import (
    NO_LINK_KINDS,
    Location,
    MeetingTypeCreate,
    MeetingTypeOut,
    MeetingTypeUpdate,
    PageOut,
    PageUpdate,
    PrivateLinkCreate,
    PrivateLinkOut,
    PublicMeetingTypeOut,
    Question,
    Reminder,
)
from bookwithme.models import MeetingType, Page, PrivateLink, Schedule, User
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.security import hash_token, new_token

# Plain columns a create or an update copies as they are.
_SIMPLE_FIELDS = (
    "title",
    "description",
    "duration_minutes",
    "visibility",
    "active",
    "add_online_meeting",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_minutes",
    "max_advance_days",
    "slot_interval_minutes",
    "max_bookings_per_day",
    "color",
)


def _types_query(user: User) -> Select[MeetingType]:
    return (
        select(MeetingType)
        .options(selectinload(MeetingType.schedule))
        .where(MeetingType.user_id == user.id, MeetingType.deleted_at.is_(None))
    )


def list_types(session: Session, user: User) -> list[MeetingType]:
    query = _types_query(user).order_by(MeetingType.position, MeetingType.created_at)
    return list(session.scalars(query))


def get_type(session: Session, user: User, type_id: str) -> MeetingType:
    """The user's own, not deleted, meeting type; 404 for anything else."""
    parsed = parse_id(type_id)
    found = session.scalar(_types_query(user).where(MeetingType.id == parsed)) if parsed else None
    if found is None:
        raise NotFound("No meeting type with this id.")
    return found


def _set_availability(
    session: Session, user: User, mt: MeetingType, data: ScheduleData | None
) -> None:
    if data is None:
        if mt.schedule is not None:
            old = mt.schedule
            mt.schedule = None
            session.delete(old)
        return
    if mt.schedule is None:
        mt.schedule = Schedule(
            user_id=user.id, is_default=False, time_zone=data.time_zone, weekly={}
        )
    store.write(mt.schedule, data)


def create_type(session: Session, user: User, data: MeetingTypeCreate) -> MeetingType:
    position = session.scalar(
        select(func.coalesce(func.max(MeetingType.position), -1)).where(
            MeetingType.user_id == user.id
        )
    )
    mt = MeetingType(user_id=user.id, position=(position or 0) + 1, schedule=None)
    for field in _SIMPLE_FIELDS:
        setattr(mt, field, getattr(data, field))
    if data.add_online_meeting is None:  # a video link for online meetings only
        mt.add_online_meeting = data.location.kind == "online"
    mt.location_kind = data.location.kind
    mt.location_details = data.location.details
    mt.questions = [q.model_dump() for q in data.questions]
    mt.reminders = [r.model_dump() for r in data.reminders]
    session.add(mt)
    _set_availability(session, user, mt, data.availability)
    session.flush()
    return mt


def update_type(
    session: Session, user: User, mt: MeetingType, data: MeetingTypeUpdate
) -> MeetingType:
    changes = data.changes()
    for field in _SIMPLE_FIELDS:
        if field in changes:
            setattr(mt, field, changes[field])
    if "location" in changes:
        location: Location = changes["location"]
        if (
            location.kind in NO_LINK_KINDS
            and mt.location_kind not in NO_LINK_KINDS
            and "add_online_meeting" not in changes
        ):  # now in a room or on the phone: the video link it had as online goes
            mt.add_online_meeting = False
        mt.location_kind = location.kind
        mt.location_details = location.details
    if "questions" in changes:
        mt.questions = [q.model_dump() for q in changes["questions"]]
    if "reminders" in changes:
        mt.reminders = [r.model_dump() for r in changes["reminders"]]
    if "availability" in changes:
        _set_availability(session, user, mt, changes["availability"])
    session.flush()
    return mt


def duplicate_type(session: Session, user: User, mt: MeetingType) -> MeetingType:
    data = MeetingTypeCreate.model_validate(
        {
            **{field: getattr(mt, field) for field in _SIMPLE_FIELDS},
            "title": (mt.title + " (copy)")[:200],
            "location": {"kind": mt.location_kind, "details": mt.location_details},
            "questions": mt.questions,
            "reminders": mt.reminders,
            "availability": store.to_data(mt.schedule) if mt.schedule else None,
        }
    )
    return create_type(session, user, data)


def delete_type(session: Session, mt: MeetingType, now: datetime) -> None:
    """The type disappears from lists, pages and links; its bookings stay as they are."""
    mt.deleted_at = now
    session.flush()


def _what_invitees_see(mt: MeetingType) -> dict[str, Any]:
    return {
        "id": mt.id,
        "title": mt.title,
        "description": mt.description,
        "duration_minutes": mt.duration_minutes,
        "location": Location(kind=mt.location_kind, details=mt.location_details),
        "questions": [Question.model_validate(q) for q in mt.questions],
        "color": mt.color,
    }


def type_out(mt: MeetingType) -> MeetingTypeOut:
    return MeetingTypeOut(
        **_what_invitees_see(mt),
        visibility=mt.visibility,
        active=mt.active,
        add_online_meeting=mt.add_online_meeting,
        buffer_before_minutes=mt.buffer_before_minutes,
        buffer_after_minutes=mt.buffer_after_minutes,
        minimum_notice_minutes=mt.minimum_notice_minutes,
        max_advance_days=mt.max_advance_days,
        slot_interval_minutes=mt.slot_interval_minutes,
        max_bookings_per_day=mt.max_bookings_per_day,
        reminders=[Reminder.model_validate(r) for r in mt.reminders],
        availability=store.to_data(mt.schedule) if mt.schedule else None,
        created_at=mt.created_at,
        updated_at=mt.updated_at,
    )


def public_type_out(mt: MeetingType) -> PublicMeetingTypeOut:
    return PublicMeetingTypeOut(**_what_invitees_see(mt))


# --- The page ---------------------------------------------------------------


def get_page(session: Session, user: User) -> Page:
    page = session.scalar(select(Page).where(Page.user_id == user.id))
    if page is None:
        page = Page(user_id=user.id, key=new_token(), title=user.name)
        session.add(page)
        session.flush()
    return page


def page_out(page: Page, base_url: str) -> PageOut:
    return PageOut(
        published=page.published,
        key=page.key,
        url=f"{base_url}/p/{page.key}",
        title=page.title,
        intro=page.intro,
        embed_origins=list(page.embed_origins or []),
    )


def update_page(session: Session, page: Page, data: PageUpdate) -> Page:
    for field, value in data.changes().items():
        setattr(page, field, value)
    session.flush()
    return page


def publish(session: Session, user: User, page: Page, new_link: bool, now: datetime) -> Page:
    """Publish the page; with ``new_link`` the old address stops working at once."""
    require_personal_bookings(session, user)
    if new_link:
        page.key = new_token()
    page.published = True
    page.published_at = now
    session.flush()
    return page


def unpublish(session: Session, page: Page) -> Page:
    page.published = False
    session.flush()
    return page


# --- Private links ------------------------------------------------------------


def link_status(link: PrivateLink, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.single_use and link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "active"


_GONE: dict[str, type[Gone]] = {"revoked": LinkRevoked, "used": LinkUsed, "expired": LinkExpired}


def require_usable(link: PrivateLink, now: datetime) -> None:
    """410 with the reason for a revoked, used or expired link."""
    gone = _GONE.get(link_status(link, now))
    if gone is not None:
        raise gone()


def link_url(base_url: str, token: str) -> str:
    return f"{base_url}/l/{token}"


def link_out(link: PrivateLink, now: datetime, url: str | None = None) -> PrivateLinkOut:
    return PrivateLinkOut(
        id=link.id,
        meeting_type_id=link.meeting_type_id,
        url=url,
        label=link.label,
        single_use=link.single_use,
        expires_at=link.expires_at,
        status=link_status(link, now),
        created_at=link.created_at,
        used_at=link.used_at,
        revoked_at=link.revoked_at,
    )


def create_link(
    session: Session, user: User, mt: MeetingType, data: PrivateLinkCreate, now: datetime
) -> tuple[PrivateLink, str]:
    require_personal_bookings(session, user)
    token = new_token()
    link = PrivateLink(
        meeting_type_id=mt.id,
        token_hash=hash_token(token),
        label=data.label,
        single_use=data.single_use,
        expires_at=now + timedelta(days=data.expires_in_days),
        created_at=now,
    )
    session.add(link)
    session.flush()
    return link, token


def list_links(session: Session, mt: MeetingType) -> list[PrivateLink]:
    query = select(PrivateLink).where(PrivateLink.meeting_type_id == mt.id)
    return list(session.scalars(query.order_by(PrivateLink.created_at.desc())))


def get_link(session: Session, user: User, link_id: str) -> PrivateLink:
    """One of ``user``'s private links (404 for anyone else's, or a malformed id)."""
    parsed = parse_id(link_id)
    link = None
    if parsed is not None:
        link = session.scalar(
            select(PrivateLink)
            .join(MeetingType, MeetingType.id == PrivateLink.meeting_type_id)
            .where(PrivateLink.id == parsed, MeetingType.user_id == user.id)
        )
    if link is None:
        raise NotFound("No private link with this id.")
    return link


def usable_links(
    session: Session, user: User, now: datetime, limit: int
) -> list[tuple[PrivateLink, MeetingType]]:
    """``user``'s links that still let someone book, newest first, with their meeting type
    (types that are deleted leave theirs out). At most ``limit``."""
    query = (
        select(PrivateLink, MeetingType)
        .join(MeetingType, MeetingType.id == PrivateLink.meeting_type_id)
        .where(
            MeetingType.user_id == user.id,
            MeetingType.deleted_at.is_(None),
            PrivateLink.revoked_at.is_(None),
            PrivateLink.expires_at > now,
            ~(PrivateLink.single_use & PrivateLink.used_at.is_not(None)),
        )
        .order_by(PrivateLink.created_at.desc(), PrivateLink.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def revoke_link(session: Session, user: User, link_id: str, now: datetime) -> PrivateLink:
    link = get_link(session, user, link_id)
    if link.revoked_at is None:
        link.revoked_at = now
        session.flush()
    return link
