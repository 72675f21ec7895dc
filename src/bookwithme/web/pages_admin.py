"""The administrators' pages (the full settings page grows here)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.admin import jobs, service
from bookwithme.admin.policy import organization_reasons
from bookwithme.admin.schemas import OrgPatch, UserCreate, UserPatch
from bookwithme.errors import DomainError, Forbidden
from bookwithme.models import Organization, User
from bookwithme.models.job import JOB_STATUSES
from bookwithme.models.organization import PERSONAL_BOOKINGS_APP
from bookwithme.notifications import admin as outbox
from bookwithme.timezones import known_zones
from bookwithme.web.deps import PageUser, SessionDep, SettingsDep
from bookwithme.web.errors import summarize, validation_details
from bookwithme.web.forms import form_fields
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render


def page_admin(user: PageUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators can open this page.")
    return user


PageAdmin = Annotated[User, Depends(page_admin)]
FormFields = Annotated[dict[str, str], Depends(form_fields)]
router = APIRouter(
    prefix="/admin",
    include_in_schema=False,
    dependencies=[Depends(require_setup), Depends(page_admin)],
)


@router.get("/outbox")
def outbox_page(
    request: Request,
    admin: PageAdmin,
    session: SessionDep,
    settings: SettingsDep,
    status: Literal["pending", "sent", "failed"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    found = outbox.list_outbox(session, admin.organization_id, status, cursor)
    return render(
        request,
        "admin/outbox.html",
        {"page": found, "status": status, "smtp_configured": bool(settings.smtp_url)},
    )


@router.get("/outbox/{message_id}")
def outbox_message_page(
    message_id: str, request: Request, admin: PageAdmin, session: SessionDep, settings: SettingsDep
) -> Response:
    message = outbox.get_message(
        session, admin.organization_id, message_id, settings.resolved_secret_key
    )
    return render(request, "admin/outbox_message.html", {"message": message})


# --- Background jobs -----------------------------------------------------------------

JOB_NOTICES = {
    "queued": "The job is queued again, to run as soon as a worker is free.",
    "cancelled": "A job for the same thing was already waiting; it does this work, so this "
    "one is closed.",
}


@router.get("/jobs")
def jobs_page(
    request: Request,
    admin: PageAdmin,
    session: SessionDep,
    status: jobs.JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    # Every job, whatever organization it serves: see ``admin/jobs.py``.
    kind = kind or None
    found = jobs.list_jobs(session, status, kind, cursor)

    def url(with_status: str | None, after: str | None = None) -> str:
        """This page with another status filter (and the same kind), or its next page."""
        query = {"status": with_status, "kind": kind, "cursor": after}
        kept = urlencode({k: v for k, v in query.items() if v})
        return f"/admin/jobs?{kept}" if kept else "/admin/jobs"

    return render(
        request,
        "admin/jobs.html",
        {
            "page": found,
            "status": status,
            "kind": kind,
            "url": url,
            "counts": jobs.counts(session),
            "kinds": jobs.kinds(session),
            "kind_labels": jobs.KIND_LABELS,
            "notice": JOB_NOTICES.get(notice or ""),
        },
    )


@router.post("/jobs/{job_id}/retry")
def jobs_retry(job_id: str, fields: FormFields, admin: PageAdmin, session: SessionDep) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    retried = jobs.retry(session, organization, admin.email, admin.id, job_id)
    # Back to the list as it was filtered.
    back = {"notice": retried.status}
    if fields.get("status") in JOB_STATUSES:
        back["status"] = fields["status"]
    if fields.get("kind"):
        back["kind"] = fields["kind"][:40]
    return RedirectResponse(f"/admin/jobs?{urlencode(back)}", status_code=303)


# --- Settings ---------------------------------------------------------------------

APPS_CHOICES = {"default": None, "on": True, "off": False}
POLICY_CHOICES = {"none": None, "allow": "EnforceAllowList", "block": "EnforceBlockList"}
NOTICES = {
    "org": "The organization's settings are saved. They apply from the next request.",
    "user": "The user is saved. Their settings apply from the next request.",
    "created": "The user is created with the default hours and meeting types.",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _policy_fields(fields: dict[str, str]) -> dict[str, object]:
    """The policy part of a settings form: the two selects and the two lists."""
    changes: dict[str, object] = {}
    if fields.get("apps_enabled") in APPS_CHOICES:
        changes["apps_enabled"] = APPS_CHOICES[fields["apps_enabled"]]
    if fields.get("app_access_policy") in POLICY_CHOICES:
        changes["app_access_policy"] = POLICY_CHOICES[fields["app_access_policy"]]
    for name in ("app_allow_list", "app_block_list"):
        if name in fields:
            changes[name] = _lines(fields[name])
    return changes


def _settings_page(
    request: Request,
    session: Session,
    admin: User,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    users = [service.user_out(organization, u) for u in service.list_users(session, organization)]
    org_reasons = organization_reasons(organization)
    entries, next_cursor = service.audit_log(session, organization, None, 20)
    return render(
        request,
        "admin/settings.html",
        {
            "org": service.org_out(organization),
            "org_reasons": org_reasons,
            "block_list_ignored": organization.app_access_policy is None
            and PERSONAL_BOOKINGS_APP in organization.app_block_list,
            "users": users,
            "on_count": sum(1 for u in users if u.personal_bookings.enabled),
            "audit": entries,
            "more_audit": next_cursor,
            "zones": sorted(known_zones()),
            "dead_jobs": jobs.dead_count(session),
            "notice": NOTICES.get(notice or ""),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("")
def settings_page(
    request: Request,
    admin: PageAdmin,
    session: SessionDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _settings_page(request, session, admin, notice)


@router.post("/org")
def settings_save_org(
    request: Request, fields: FormFields, admin: PageAdmin, session: SessionDep
) -> Response:
    changes = _policy_fields(fields)
    if "eligible_plans" in fields:
        changes["eligible_plans"] = _lines(fields["eligible_plans"])
    if fields.get("default_plan"):
        changes["default_plan"] = fields["default_plan"]
    if fields.get("section") == "plans":
        changes["allow_signup"] = fields.get("allow_signup") == "on"
    try:
        patch = OrgPatch.model_validate(changes)
    except ValidationError as exc:
        return _settings_page(request, session, admin, error=_first_error(exc), status_code=422)
    organization = session.get_one(Organization, admin.organization_id)
    service.update_org(session, organization, patch, admin.email, admin.id)
    return RedirectResponse("/admin?notice=org", status_code=303)


@router.post("/users")
def settings_create_user(
    request: Request, fields: FormFields, admin: PageAdmin, session: SessionDep
) -> Response:
    data = {
        k: v
        for k, v in fields.items()
        if k in ("email", "name", "time_zone", "plan", "password") and v
    }
    data["is_admin"] = fields.get("is_admin") == "on"  # type: ignore[assignment]
    try:
        create = UserCreate.model_validate(data)
        organization = session.get_one(Organization, admin.organization_id)
        service.create_user(session, organization, create, admin.email, admin.id)
    except ValidationError as exc:
        return _settings_page(request, session, admin, error=_first_error(exc), status_code=422)
    except DomainError as exc:
        session.rollback()
        return _settings_page(
            request, session, admin, error=exc.message, status_code=exc.status_code
        )
    return RedirectResponse("/admin?notice=created", status_code=303)


@router.get("/users/{email}")
def user_page(email: str, request: Request, admin: PageAdmin, session: SessionDep) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    user = service.user_out(organization, service.get_user(session, organization, email))
    return render(request, "admin/user.html", {"user": user, "error": None})


@router.post("/users/{email}")
def user_save(
    email: str, request: Request, fields: FormFields, admin: PageAdmin, session: SessionDep
) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    user = service.get_user(session, organization, email)
    changes = _policy_fields(fields)
    if fields.get("plan"):
        changes["plan"] = fields["plan"]
    changes["is_admin"] = fields.get("is_admin") == "on"
    changes["active"] = fields.get("active") == "on"
    try:
        service.update_user(
            session, organization, user, UserPatch.model_validate(changes), admin.email, admin.id
        )
    except (ValidationError, DomainError) as exc:
        message = _first_error(exc) if isinstance(exc, ValidationError) else exc.message
        session.rollback()
        fresh = service.user_out(organization, service.get_user(session, organization, email))
        return render(
            request,
            "admin/user.html",
            {"user": fresh, "error": message},
            status_code=422 if isinstance(exc, ValidationError) else exc.status_code,
        )
    return RedirectResponse("/admin?notice=user", status_code=303)


def _first_error(exc: ValidationError) -> str:
    details = validation_details(exc.errors())
    return summarize(details)
