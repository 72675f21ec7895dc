"""First-run setup, sign in and sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.accounts import service as accounts
from bookwithme.accounts.devices import DEVICE_COOKIE, DEVICE_MAX_AGE, decode_device, encode_device
from bookwithme.accounts.sessions import SESSION_COOKIE, SESSION_MAX_AGE, encode_session
from bookwithme.config import Settings
from bookwithme.errors import AlreadySetUp, EmailTaken, NotFound, TooManyAttempts
from bookwithme.models import Organization, User, utcnow
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.timezones import known_zones
from bookwithme.validation import Email, Name, Password
from bookwithme.web.deps import OptionalPageUser, SessionDep, SettingsDep, client_address
from bookwithme.web.forms import form_fields, validate_form
from bookwithme.web.setup_gate import mark_set_up, require_no_setup, require_setup
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]


def required(message: str) -> BeforeValidator:
    """A field a person must fill in: left out of the post, empty or only spaces, it gets
    ``message`` rather than pydantic's "Field required" or "at least 1 character"."""

    def check(value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(message)
        return value

    return BeforeValidator(check)


def long_enough(length: int, message: str) -> BeforeValidator:
    """Text of at least ``length`` characters, else ``message``."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) < length:
            raise ValueError(message)
        return value

    return BeforeValidator(check)


class SignupForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # A name left out of the post is None (validate_default), which ``required`` refuses
    # with the same message as an empty one.
    name: Annotated[Name, required("Enter your name.")] = Field(None, validate_default=True)
    email: Annotated[Email, required("Enter your email address.")] = Field(
        None, validate_default=True
    )
    password: Annotated[
        Password,
        long_enough(8, "Use at least 8 characters."),
        required("Choose a password of at least 8 characters."),
    ] = Field(None, validate_default=True)
    password_confirm: str
    time_zone: TimeZoneName

    @field_validator("password_confirm")
    @classmethod
    def _passwords_match(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("The two passwords are not the same")
        return value


class SetupForm(SignupForm):
    organization_name: Annotated[Name, required("Enter the name of your organization.")] = Field(
        None, validate_default=True
    )


def start_session(request: Request, response: Response, settings: Settings, user: User) -> None:
    """Sign this browser in, and remember it as a known device of the account, which
    exempts it from the account-wide sign-in limit (see ``accounts/ratelimit.py``)."""
    secret_key = settings.resolved_secret_key
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(secret_key, user.id, user.session_version),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    device = decode_device(secret_key, request.cookies.get(DEVICE_COOKIE))
    response.set_cookie(
        DEVICE_COOKIE,
        encode_device(secret_key, device, user.id),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/signin",  # read by sign-in only
    )


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never "//evil.example" or "https://...".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _account_form(
    request: Request, template: str, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    """The setup or sign-up form, with what was typed and a message per field."""
    return render(
        request,
        template,
        {"values": values, "errors": errors, "zones": sorted(known_zones())},
        status_code=status,
    )


@router.get("/setup", dependencies=[Depends(require_no_setup)])
def setup_form(request: Request) -> Response:
    return _account_form(request, "accounts/setup.html", {"time_zone": "UTC"}, {}, 200)


@router.post("/setup", dependencies=[Depends(require_no_setup)])
def setup_submit(
    request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    form, errors = validate_form(SetupForm, fields)
    if form is None:
        return _account_form(request, "accounts/setup.html", fields, errors, 422)
    try:
        user = accounts.set_up_installation(
            session,
            accounts.SetupInput(
                organization_name=form.organization_name,
                name=form.name,
                email=form.email,
                password=form.password,
                time_zone=form.time_zone,
            ),
        )
    except AlreadySetUp:
        return RedirectResponse("/signin", status_code=303)
    except EmailTaken as exc:
        return _account_form(request, "accounts/setup.html", fields, {"email": exc.message}, 409)
    mark_set_up(request)
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, settings, user)
    return response


def _signin_page(
    request: Request, session: Session, email: str, error: str | None, status: int, next_url: str
) -> Response:
    organization = accounts.the_organization(session)
    return render(
        request,
        "accounts/signin.html",
        {
            "email": email,
            "error": error,
            "next": next_url,
            "signup": bool(organization and organization.allow_signup),
        },
        status_code=status,
    )


@router.get("/signin", dependencies=[Depends(require_setup)])
def signin_form(
    request: Request, user: OptionalPageUser, session: SessionDep, next: str = "/"
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _signin_page(request, session, "", None, 200, _safe_next(next))


@router.post("/signin", dependencies=[Depends(require_setup)])
def signin_submit(
    request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    email = fields.get("email", "")[:254]
    password = fields.get("password", "")[:1024]
    next_url = _safe_next(fields.get("next"))
    if not email or not password:
        return _signin_page(
            request, session, email, "Enter your email and password.", 422, next_url
        )
    try:
        user = accounts.authenticate(
            session,
            email,
            password,
            client_address(request),
            utcnow(),
            decode_device(settings.resolved_secret_key, request.cookies.get(DEVICE_COOKIE)),
        )
    except TooManyAttempts as exc:
        page = _signin_page(request, session, email, exc.message, 429, next_url)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if user is None:
        # Returned, not raised: the failed attempt must be committed to count.
        return _signin_page(
            request, session, email, "The email or password is not correct.", 401, next_url
        )
    response = RedirectResponse(next_url, status_code=303)
    start_session(request, response, settings, user)
    return response


def _signup_open(session: SessionDep) -> Organization:
    organization = accounts.the_organization(session)
    if organization is None or not organization.allow_signup:
        raise NotFound("Accounts are created by an administrator here.")
    return organization


SignupOrganization = Annotated[Organization, Depends(_signup_open)]


@router.get("/signup", dependencies=[Depends(require_setup)])
def signup_form(request: Request, organization: SignupOrganization) -> Response:
    return _account_form(request, "accounts/signup.html", {"time_zone": "UTC"}, {}, 200)


@router.post("/signup", dependencies=[Depends(require_setup)])
def signup_submit(
    request: Request,
    fields: FormFields,
    organization: SignupOrganization,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Self sign-up, when the organization allows it: a regular user on the default plan."""
    form, errors = validate_form(SignupForm, fields)
    if form is None:
        return _account_form(request, "accounts/signup.html", fields, errors, 422)
    try:
        user = accounts.create_user(
            session,
            organization,
            email=form.email,
            name=form.name,
            time_zone=form.time_zone,
            password=form.password,
        )
    except EmailTaken as exc:
        return _account_form(request, "accounts/signup.html", fields, {"email": exc.message}, 409)
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, settings, user)
    return response


@router.post("/signout")
def signout(user: OptionalPageUser, session: SessionDep, settings: SettingsDep) -> Response:
    """Signing out ends every browser session of the account: sessions are signed cookies
    with no server-side list, so the account's session version moves on instead."""
    if user is not None:
        accounts.end_all_sessions(session, user)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    return response
