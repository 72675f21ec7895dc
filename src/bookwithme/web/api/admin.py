"""Administrators' API. Every route here requires an administrator (one guard, on the router)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from bookwithme.admin import jobs, service
from bookwithme.admin.schemas import (
    AdminUserOut,
    AuditEntryOut,
    OrgOut,
    OrgPatch,
    UserCreate,
    UserPatch,
)
from bookwithme.admin.service import LastAdmin
from bookwithme.errors import EmailTaken
from bookwithme.models import Organization, User
from bookwithme.notifications import admin as outbox
from bookwithme.web.deps import CurrentAdmin, SessionDep, SettingsDep, current_admin
from bookwithme.web.openapi import raises

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(current_admin)])


@router.get("/outbox")
def list_outbox(
    admin: CurrentAdmin,
    session: SessionDep,
    status: Literal["pending", "sent", "failed"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = outbox.PAGE_SIZE,
) -> outbox.OutboxPage:
    """Every email about the organization's bookings, newest first."""
    return outbox.list_outbox(session, admin.organization_id, status, cursor, limit)


@router.get("/outbox/{message_id}")
def get_outbox_message(
    message_id: str, admin: CurrentAdmin, session: SessionDep, settings: SettingsDep
) -> outbox.OutboxDetail:
    """One email, its manage links hidden; a delivered email keeps no body."""
    return outbox.get_message(
        session, admin.organization_id, message_id, settings.resolved_secret_key
    )


@router.get("/jobs")
def list_jobs(
    session: SessionDep,
    status: jobs.JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = jobs.PAGE_SIZE,
) -> jobs.JobPage:
    """The background jobs, newest first: what waits, runs, ended, or is dead (failed too
    often to be tried again, with its last error). Jobs belong to no organization: a
    self-hosted deployment has one, and its administrators see them all."""
    return jobs.list_jobs(session, status, kind, cursor, limit)


@router.post("/jobs/{job_id}/retry", responses=raises(jobs.JobNotDead))
def retry_job(job_id: str, admin: CurrentAdmin, session: SessionDep) -> jobs.JobItem:
    """Queue a dead job again, to run at once (409 ``job_not_dead`` for any other job). If
    a job for the same thing waits already, that one does the work and this one answers
    ``cancelled``."""
    organization = _organization(session, admin)
    return jobs.retry(session, organization, admin.email, admin.id, job_id)


def _organization(session: SessionDep, admin: User) -> Organization:
    return session.get_one(Organization, admin.organization_id)


class AdminUserList(BaseModel):
    items: list[AdminUserOut]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get("/org")
def get_org(admin: CurrentAdmin, session: SessionDep) -> OrgOut:
    return service.org_out(_organization(session, admin))


@router.patch("/org")
def update_org(body: OrgPatch, admin: CurrentAdmin, session: SessionDep) -> OrgOut:
    """List fields take a list (replace) or ``{"add": [...], "remove": [...]}``."""
    return service.update_org(session, _organization(session, admin), body, admin.email, admin.id)


@router.get("/users")
def list_users(admin: CurrentAdmin, session: SessionDep) -> AdminUserList:
    organization = _organization(session, admin)
    users = service.list_users(session, organization)
    return AdminUserList(items=[service.user_out(organization, u) for u in users])


@router.post("/users", status_code=201, responses=raises(EmailTaken))
def create_user(body: UserCreate, admin: CurrentAdmin, session: SessionDep) -> AdminUserOut:
    organization = _organization(session, admin)
    user = service.create_user(session, organization, body, admin.email, admin.id)
    return service.user_out(organization, user)


@router.get("/users/{email}")
def get_user(email: str, admin: CurrentAdmin, session: SessionDep) -> AdminUserOut:
    organization = _organization(session, admin)
    return service.user_out(organization, service.get_user(session, organization, email))


@router.patch("/users/{email}", responses=raises(LastAdmin))
def update_user(
    email: str, body: UserPatch, admin: CurrentAdmin, session: SessionDep
) -> AdminUserOut:
    organization = _organization(session, admin)
    user = service.get_user(session, organization, email)
    service.update_user(session, organization, user, body, admin.email, admin.id)
    return service.user_out(organization, user)


@router.get("/audit-log")
def audit_log(
    admin: CurrentAdmin,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = service.AUDIT_PAGE,
) -> AuditPage:
    """Every admin change, newest first."""
    items, next_cursor = service.audit_log(session, _organization(session, admin), cursor, limit)
    return AuditPage(items=items, next_cursor=next_cursor)
