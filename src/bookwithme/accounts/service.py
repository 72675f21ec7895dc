"""Account services: first-run setup, users, sign-in, personal access tokens.

Services flush and never commit; the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from bookwithme.accounts import ratelimit
from bookwithme.accounts.devices import KnownDevice
from bookwithme.accounts.passwords import hash_password, needs_rehash, verify_password
from bookwithme.accounts.sessions import SessionClaims
from bookwithme.db import began_as_writer, begin_immediate, lock_key
from bookwithme.errors import AlreadySetUp, EmailTaken, InvalidInput, NotFound
from bookwithme.i18n import N_, translations
from bookwithme.models import ApiToken, MeetingType, Organization, Page, Schedule, User, utcnow
from bookwithme.scheduling.schedules import default_schedule
from bookwithme.security import hash_token, new_token

API_TOKEN_PREFIX = "bwm_"  # noqa: S105 (a prefix, not a secret)
# The meeting types a new user starts with, titled in the user's language.
DEFAULT_MEETING_TYPES = ((N_("15 minute meeting"), 15), (N_("30 minute meeting"), 30))
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def has_any_user(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(User.id.is_not(None)))))


def the_organization(session: Session) -> Organization | None:
    return session.scalars(select(Organization).order_by(Organization.created_at).limit(1)).first()


def lock_installation(session: Session) -> None:
    """Serialize first-run setup so two browsers cannot both create the first admin.
    Must be the first statement of the transaction."""
    begin_immediate(session)
    lock_key(session, "bookwithme.setup")


def create_organization(session: Session, name: str) -> Organization:
    organization = Organization(name=name)
    session.add(organization)
    session.flush()
    return organization


def create_user(
    session: Session,
    organization: Organization,
    *,
    email: str,
    name: str,
    time_zone: str,
    password: str | None = None,
    is_admin: bool = False,
    plan: str | None = None,
    locale: str = "en",
) -> User:
    """A new user with what every organizer starts with: the default schedule
    (Mon-Fri 09:00-17:00 in their zone), two public meeting types and an unpublished page."""
    name = required_names(name=name)["name"]
    email = normalize_email(email)
    if session.scalar(select(exists().where(User.email == email))):
        raise EmailTaken()
    user = User(
        organization_id=organization.id,
        email=email,
        name=name,
        time_zone=time_zone,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        is_admin=is_admin,
        plan=plan or organization.default_plan,
    )
    session.add(user)
    session.flush()
    schedule = default_schedule(time_zone)
    session.add(
        Schedule(
            user_id=user.id,
            is_default=True,
            time_zone=schedule.time_zone,
            weekly=schedule.weekly_json(),
            overrides=schedule.overrides_json(),
        )
    )
    gettext = translations(locale).gettext
    for position, (title, minutes) in enumerate(DEFAULT_MEETING_TYPES):
        session.add(
            MeetingType(
                user_id=user.id,
                title=gettext(title),
                duration_minutes=minutes,
                visibility="public",
                location_kind="online",
                add_online_meeting=True,
                position=position,
            )
        )
    session.add(Page(user_id=user.id, key=new_token(), title=name))
    session.flush()
    return user


@dataclass(frozen=True)
class SetupInput:
    organization_name: str
    name: str
    email: str
    password: str
    time_zone: str
    locale: str = "en"


def required_names(**names: str | None) -> dict[str, str]:
    """Each name trimmed, or ``InvalidInput`` naming every one that is missing or blank:
    nothing is stored as an empty name (or as the text "None")."""
    cleaned = {field: (value or "").strip() for field, value in names.items()}
    missing = [field for field, value in cleaned.items() if not value]
    if missing:
        raise InvalidInput(
            f"{', '.join(missing)}: must not be empty",
            details=[{"field": field, "message": "must not be empty"} for field in missing],
        )
    return cleaned


def set_up_installation(session: Session, data: SetupInput) -> User:
    """First run: the organization and its first admin, once. Both names are required."""
    names = required_names(organization_name=data.organization_name, name=data.name)
    lock_installation(session)
    if has_any_user(session):
        raise AlreadySetUp()
    organization_name = names["organization_name"]
    organization = the_organization(session) or create_organization(session, organization_name)
    organization.name = organization_name
    return create_user(
        session,
        organization,
        email=data.email,
        name=names["name"],
        time_zone=data.time_zone,
        password=data.password,
        is_admin=True,
        locale=data.locale,
    )


def get_or_create_organization(session: Session, default_name: str) -> Organization:
    return the_organization(session) or create_organization(session, default_name)


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"No user with the email address {normalize_email(email)}.")
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    client_address: str,
    now: datetime,
    device: KnownDevice | None = None,
) -> User | None:
    """The active user with this email and password, or None (and the failure is recorded,
    so the caller must let the transaction commit). Raises ``TooManyAttempts`` while this
    browser may not try for a while (see ``ratelimit.py``): ``device`` is what the browser's
    known-device cookie says, which counts only if it names this account."""
    email = normalize_email(email)
    lock_key(session, "signin:" + email)
    user = session.scalar(select(User).where(User.email == email))
    known = device.id if device is not None and user is not None and device.knows(user.id) else None
    ratelimit.check_sign_in_allowed(session, email, client_address, now, known)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        ratelimit.record_failed_sign_in(session, email, client_address, now, known)
        return None
    ratelimit.clear_failed_sign_ins(session, email, client_address, known)
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    session.flush()
    return user


def user_for_session(session: Session, claims: SessionClaims) -> User | None:
    user = session.get(User, claims.user_id)
    if user is None or not user.active or user.session_version != claims.version:
        return None
    return user


def create_api_token(session: Session, user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new personal access token; the clear token is returned once and never stored."""
    token = new_token(API_TOKEN_PREFIX)
    row = ApiToken(
        user_id=user.id,
        label=label,
        token_hash=hash_token(token),
        token_prefix=token[: len(API_TOKEN_PREFIX) + 6],
    )
    session.add(row)
    session.flush()
    return row, token


def user_for_api_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if not user.active:
        return None
    now = now or utcnow()
    stale = api_token.last_used_at is None or now - api_token.last_used_at > TOKEN_TOUCH_INTERVAL
    if stale and began_as_writer(session):
        # Throttled so API reads do not each become a write; on SQLite only in requests that
        # write anyway (a read would take the write lock outside its turn), so a token used
        # only for reads there shows the last time it changed something.
        session.execute(
            update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
        )
    return user


def end_all_sessions(session: Session, user: User) -> None:
    """Every session cookie of this user stops working (they carry the old version)."""
    user.session_version += 1
    session.flush()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password signs every browser out."""
    user.password_hash = hash_password(password)
    end_all_sessions(session, user)
