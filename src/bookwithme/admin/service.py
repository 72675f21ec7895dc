"""Administration: the organization's and users' settings, users, and the audit log.

Every change made here is written to the audit log in the same transaction: who, when, what,
and the changed fields before and after.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwithme.accounts import service as accounts
from bookwithme.accounts.schemas import PersonalBookingsOut
from bookwithme.admin.policy import personal_bookings_status
from bookwithme.admin.schemas import (
    AdminUserOut,
    AuditEntryOut,
    OrgOut,
    OrgPatch,
    UserCreate,
    UserPatch,
    apply_list,
)
from bookwithme.errors import Conflict, InvalidInput, NotFound
from bookwithme.models import AuditLogEntry, Organization, User
from bookwithme.paging import page_after

LIST_FIELDS = ("app_allow_list", "app_block_list", "eligible_plans")
AUDIT_PAGE = 50


class LastAdmin(Conflict):
    code = "last_admin"
    default_message = "The organization must keep at least one active administrator."


def record(
    session: Session,
    organization: Organization,
    actor: str,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditLogEntry(
            organization_id=organization.id,
            actor=actor,
            actor_user_id=actor_id,
            action=action,
            target_type=target_type,
            target=target,
            before=before,
            after=after,
        )
    )


def _apply(holder: Any, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the changed fields; returns (before, after) of those that really changed."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, value in changes.items():
        old = getattr(holder, field)
        if field in LIST_FIELDS:
            try:
                value = apply_list(list(old), value)
            except ValueError as exc:
                raise InvalidInput(
                    f"{field}: {exc}", details=[{"field": field, "message": str(exc)}]
                ) from None
        if value != old:
            before[field] = list(old) if isinstance(old, list) else old
            after[field] = value
            setattr(holder, field, value)
    return before, after


def org_out(organization: Organization) -> OrgOut:
    return OrgOut.model_validate(organization, from_attributes=True)


def update_org(
    session: Session,
    organization: Organization,
    patch: OrgPatch,
    actor: str,
    actor_id: uuid.UUID | None,
) -> OrgOut:
    before, after = _apply(organization, patch.changes())
    if after:
        record(
            session,
            organization,
            actor,
            actor_id,
            "organization.update",
            "organization",
            organization.name,
            before,
            after,
        )
    session.flush()
    return org_out(organization)


def user_out(organization: Organization, user: User) -> AdminUserOut:
    status = personal_bookings_status(organization, user)
    return AdminUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        time_zone=user.time_zone,
        locale=user.locale,
        plan=user.plan,
        is_admin=user.is_admin,
        active=user.active,
        apps_enabled=user.apps_enabled,
        app_access_policy=user.app_access_policy,
        app_allow_list=list(user.app_allow_list),
        app_block_list=list(user.app_block_list),
        personal_bookings=PersonalBookingsOut(enabled=status.enabled, reasons=status.reasons),
    )


def list_users(session: Session, organization: Organization) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.organization_id == organization.id).order_by(User.email)
        )
    )


def get_user(session: Session, organization: Organization, email: str) -> User:
    user = session.scalar(
        select(User).where(
            User.organization_id == organization.id, User.email == accounts.normalize_email(email)
        )
    )
    if user is None:
        raise NotFound(f"No user with the email address {accounts.normalize_email(email)}.")
    return user


def create_user(
    session: Session,
    organization: Organization,
    data: UserCreate,
    actor: str,
    actor_id: uuid.UUID | None,
) -> User:
    user = accounts.create_user(
        session,
        organization,
        email=data.email,
        name=data.name,
        time_zone=data.time_zone,
        password=data.password,
        is_admin=data.is_admin,
        plan=data.plan,
        locale=data.locale,
    )
    record(
        session,
        organization,
        actor,
        actor_id,
        "user.create",
        "user",
        user.email,
        None,
        {"name": user.name, "plan": user.plan, "is_admin": user.is_admin},
    )
    return user


def _active_admins_other_than(session: Session, organization: Organization, user: User) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                User.organization_id == organization.id,
                User.is_admin.is_(True),
                User.active.is_(True),
                User.id != user.id,
            )
        )
        or 0
    )


def update_user(
    session: Session,
    organization: Organization,
    user: User,
    patch: UserPatch,
    actor: str,
    actor_id: uuid.UUID | None,
) -> User:
    changes = patch.changes()
    loses_admin = (
        user.is_admin
        and user.active
        and (changes.get("is_admin") is False or changes.get("active") is False)
    )
    if loses_admin and _active_admins_other_than(session, organization, user) == 0:
        raise LastAdmin()
    before, after = _apply(user, changes)
    if after.get("active") is False:
        accounts.end_all_sessions(session, user)  # signed out everywhere; tokens stop too
    if after:
        record(
            session, organization, actor, actor_id, "user.update", "user", user.email, before, after
        )
    session.flush()
    return user


def audit_log(
    session: Session, organization: Organization, cursor: str | None, limit: int = AUDIT_PAGE
) -> tuple[list[AuditEntryOut], str | None]:
    """Newest first."""
    query = select(AuditLogEntry).where(AuditLogEntry.organization_id == organization.id)
    rows, next_cursor = page_after(
        session, query, AuditLogEntry.created_at, AuditLogEntry.id, cursor, limit, newest_first=True
    )
    return [AuditEntryOut.model_validate(r, from_attributes=True) for r in rows], next_cursor
