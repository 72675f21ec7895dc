"""The administrators' pages (the full settings page grows here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.admin import jobs, policy, service
from bookwithme.admin.schemas import OrgPatch, UserCreate, UserPatch
from bookwithme.errors import DomainError, Forbidden
from bookwithme.i18n import moment, spoken, translations
from bookwithme.models import Organization, User
from bookwithme.models.job import JOB_STATUSES
from bookwithme.models.organization import DEFAULT_ELIGIBLE_PLANS, PERSONAL_BOOKINGS_APP
from bookwithme.notifications import admin as outbox
from bookwithme.timezones import known_zones
from bookwithme.web import switched_off
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


# --- The outbox and the background jobs: in the administrator's language, times in their
# zone (each page names it once).


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
        {
            "page": found,
            "status": status,
            "smtp_configured": bool(settings.smtp_url),
            "zone": admin.time_zone,
        },
        lang=spoken(admin.locale),
    )


def _language_name(code: str, lang: str) -> str:
    """A language code as the viewer says it: "fr" is "French" / "français"."""
    try:
        return Locale.parse(code).get_display_name(lang) or code
    except (ValueError, UnknownLocaleError):
        return code


@router.get("/outbox/{message_id}")
def outbox_message_page(
    message_id: str, request: Request, admin: PageAdmin, session: SessionDep, settings: SettingsDep
) -> Response:
    message = outbox.get_message(
        session, admin.organization_id, message_id, settings.resolved_secret_key
    )
    lang = spoken(admin.locale)
    return render(
        request,
        "admin/outbox_message.html",
        {
            "ngettext": translations(lang).ngettext,
            "message": message,
            "zone": admin.time_zone,
            "language": _language_name(message.locale, lang),
        },
        lang=lang,
    )


# --- Background jobs -----------------------------------------------------------------


def _job_notice(notice: str | None, gettext: Callable[[str], str]) -> str | None:
    texts = {
        "queued": gettext("The job is queued again, to run as soon as a worker is free."),
        "cancelled": gettext(
            "A job for the same thing was already waiting; it does this work, so this one "
            "is closed."
        ),
    }
    return texts.get(notice or "")


def _job_kinds(gettext: Callable[[str], str]) -> dict[str, str]:
    """What each kind of job does, in the viewer's words."""
    return {
        "email": gettext("Email"),
        "reminder": gettext("Reminder"),
        "webhook": gettext("Webhook call"),
        "calendar.sync": gettext("Calendar reading"),
        "calendar.write_back": gettext("Calendar write-back"),
        "upkeep": gettext("Clean-up"),
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

    lang = spoken(admin.locale)
    gettext = translations(lang).gettext
    return render(
        request,
        "admin/jobs.html",
        {
            "ngettext": translations(lang).ngettext,
            "page": found,
            "status": status,
            "kind": kind,
            "url": url,
            "counts": jobs.counts(session),
            "kinds": jobs.kinds(session),
            "kind_labels": _job_kinds(gettext),
            "notice": _job_notice(notice, gettext),
            "zone": admin.time_zone,
        },
        lang=lang,
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


def _settings_lang(admin: User) -> str:
    """The administrator's own language: the settings pages are in it."""
    return admin.locale if admin.locale in ("en", "fr") else "en"


def _settings_notice(notice: str | None, lang: str) -> str | None:
    gettext = translations(lang).gettext
    # One gettext call for each text, so that message extraction finds them all.
    texts = {
        "org": gettext("The organization's settings are saved. They apply from the next request."),
        "user": gettext("The user is saved. Their settings apply from the next request."),
        "created": gettext("The user is created with the default hours and meeting types."),
    }
    return texts.get(notice or "")


@dataclass(frozen=True)
class PlanChoice:
    """One plan a settings form offers: ``eligible`` when it allows personal bookings;
    ``unlisted`` for a current plan that is neither eligible nor a known plan name."""

    name: str
    eligible: bool
    unlisted: bool = False


def plan_choices(eligible: list[str], current: str | None = None) -> list[PlanChoice]:
    """The plans to choose from: the organization's eligible plans, then the other known
    plan names (SPEC 2.7), then ``current`` if it is none of those (so a form that shows it
    does not change it by being saved)."""
    choices = [PlanChoice(plan, True) for plan in eligible]
    choices += [PlanChoice(p, False) for p in DEFAULT_ELIGIBLE_PLANS if p not in eligible]
    if current is not None and current not in eligible and current not in DEFAULT_ELIGIBLE_PLANS:
        choices.append(PlanChoice(current, False, unlisted=True))
    return choices


def _unknown_plan(plan: str, lang: str) -> str:
    return translations(lang).gettext(
        "“%(plan)s” is not one of the organization's plans. Choose a plan from the list."
    ) % {"plan": plan}


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
    lang = _settings_lang(admin)
    gettext = translations(lang).gettext
    organization = session.get_one(Organization, admin.organization_id)
    people = service.list_users(session, organization)
    users = [
        (
            service.user_out(organization, u),
            [switched_off.for_admin(c, gettext) for c in policy.causes(organization, u)],
        )
        for u in people
    ]
    entries, next_cursor = service.audit_log(session, organization, None, 20)
    return render(
        request,
        "admin/settings.html",
        {
            "org": service.org_out(organization),
            "org_reasons": [
                switched_off.for_admin(c, gettext) for c in policy.organization_causes(organization)
            ],
            "block_list_ignored": organization.app_access_policy is None
            and PERSONAL_BOOKINGS_APP in organization.app_block_list,
            "users": users,
            "on_text": translations(lang).ngettext(
                "Personal bookings is on for %(on)s of %(count)s user.",
                "Personal bookings is on for %(on)s of %(count)s users.",
                len(users),
            )
            % {"on": sum(1 for u, _ in users if u.personal_bookings.enabled), "count": len(users)},
            # The plan of new users, here and in "Add a user": a choice, so no typo.
            "plans": plan_choices(organization.eligible_plans, organization.default_plan),
            "audit": [
                (e, moment(e.created_at, admin.time_zone, lang, named=False)) for e in entries
            ],
            "zone": admin.time_zone,
            "more_audit": next_cursor,
            "zones": sorted(known_zones()),
            "dead_jobs": jobs.dead_count(session),
            "notice": _settings_notice(notice, lang),
            "error": error,
        },
        status_code=status_code,
        lang=lang,
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
    organization = session.get_one(Organization, admin.organization_id)
    changes = _policy_fields(fields)
    if "eligible_plans" in fields:
        changes["eligible_plans"] = _lines(fields["eligible_plans"])
    if fields.get("default_plan"):
        # A choice among the plans as this form leaves them (the list may change with it).
        eligible = changes.get("eligible_plans", organization.eligible_plans)
        offered = plan_choices(eligible, organization.default_plan)  # type: ignore[arg-type]
        if fields["default_plan"] not in {choice.name for choice in offered}:
            message = _unknown_plan(fields["default_plan"], _settings_lang(admin))
            return _settings_page(request, session, admin, error=message, status_code=422)
        changes["default_plan"] = fields["default_plan"]
    if fields.get("section") == "plans":
        changes["allow_signup"] = fields.get("allow_signup") == "on"
    try:
        patch = OrgPatch.model_validate(changes)
    except ValidationError as exc:
        return _settings_page(request, session, admin, error=_first_error(exc), status_code=422)
    service.update_org(session, organization, patch, admin.email, admin.id)
    return RedirectResponse("/admin?notice=org", status_code=303)


@router.post("/users")
def settings_create_user(
    request: Request, fields: FormFields, admin: PageAdmin, session: SessionDep
) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    data = {
        k: v
        for k, v in fields.items()
        if k in ("email", "name", "time_zone", "plan", "password") and v
    }
    offered = plan_choices(organization.eligible_plans, organization.default_plan)
    if "plan" in data and data["plan"] not in {choice.name for choice in offered}:
        message = _unknown_plan(data["plan"], _settings_lang(admin))
        return _settings_page(request, session, admin, error=message, status_code=422)
    data["is_admin"] = fields.get("is_admin") == "on"  # type: ignore[assignment]
    try:
        create = UserCreate.model_validate(data)
        service.create_user(session, organization, create, admin.email, admin.id)
    except ValidationError as exc:
        return _settings_page(request, session, admin, error=_first_error(exc), status_code=422)
    except DomainError as exc:
        session.rollback()
        return _settings_page(
            request, session, admin, error=exc.message, status_code=exc.status_code
        )
    return RedirectResponse("/admin?notice=created", status_code=303)


def _user_page(
    request: Request,
    session: Session,
    admin: User,
    organization: Organization,
    email: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = _settings_lang(admin)
    gettext = translations(lang).gettext
    user = service.get_user(session, organization, email)
    return render(
        request,
        "admin/user.html",
        {
            "user": service.user_out(organization, user),
            "reasons": [
                switched_off.for_admin(c, gettext) for c in policy.causes(organization, user)
            ],
            "plans": plan_choices(organization.eligible_plans, user.plan),
            "error": error,
        },
        status_code=status_code,
        lang=lang,
    )


@router.get("/users/{email}")
def user_page(email: str, request: Request, admin: PageAdmin, session: SessionDep) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    return _user_page(request, session, admin, organization, email)


@router.post("/users/{email}")
def user_save(
    email: str, request: Request, fields: FormFields, admin: PageAdmin, session: SessionDep
) -> Response:
    organization = session.get_one(Organization, admin.organization_id)
    user = service.get_user(session, organization, email)
    changes = _policy_fields(fields)
    if fields.get("plan"):
        offered = plan_choices(organization.eligible_plans, user.plan)
        if fields["plan"] not in {choice.name for choice in offered}:
            message = _unknown_plan(fields["plan"], _settings_lang(admin))
            return _user_page(request, session, admin, organization, email, message, 422)
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
        status_code = 422 if isinstance(exc, ValidationError) else exc.status_code
        return _user_page(request, session, admin, organization, email, message, status_code)
    return RedirectResponse("/admin?notice=user", status_code=303)


def _first_error(exc: ValidationError) -> str:
    details = validation_details(exc.errors())
    return summarize(details)
