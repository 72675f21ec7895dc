"""First-run setup, sign in and sign out, and the organizer's own account (name and
language).

Before sign-in the pages speak the browser's language (``Accept-Language``: English or
French), and a new account keeps that language; after, the user's own (``user.locale``)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.accounts import ratelimit
from bookwithme.accounts import service as accounts
from bookwithme.accounts.devices import DEVICE_COOKIE, DEVICE_MAX_AGE, decode_device, encode_device
from bookwithme.accounts.sessions import SESSION_COOKIE, SESSION_MAX_AGE, encode_session
from bookwithme.config import Settings
from bookwithme.errors import AlreadySetUp, EmailTaken, NotFound, TooManyAttempts
from bookwithme.i18n import N_, translations
from bookwithme.models import Organization, User, utcnow
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.timezones import known_zones
from bookwithme.validation import Email, Locale, Name, Password
from bookwithme.web.deps import (
    OptionalPageUser,
    PageUser,
    SessionDep,
    SettingsDep,
    client_address,
)
from bookwithme.web.errors import form_errors, page_language
from bookwithme.web.forms import form_fields
from bookwithme.web.setup_gate import mark_set_up, require_no_setup, require_setup
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False)
FormFields = Annotated[dict[str, str], Depends(form_fields)]
M = TypeVar("M", bound=BaseModel)

# The languages an account can use, each named in itself.
LANGUAGES = (("en", "English"), ("fr", "Français"))


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
    name: Annotated[Name, required(N_("Enter your name."))] = Field(None, validate_default=True)
    email: Annotated[Email, required(N_("Enter your email address."))] = Field(
        None, validate_default=True
    )
    password: Annotated[
        Password,
        long_enough(8, N_("Use at least 8 characters.")),
        required(N_("Choose a password of at least 8 characters.")),
    ] = Field(None, validate_default=True)
    password_confirm: str
    time_zone: TimeZoneName

    @field_validator("password_confirm")
    @classmethod
    def _passwords_match(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError(N_("The two passwords are not the same"))
        return value


class SetupForm(SignupForm):
    organization_name: Annotated[Name, required(N_("Enter the name of your organization."))] = (
        Field(None, validate_default=True)
    )


class AccountForm(BaseModel):
    """What the organizer changes on their account page (the same fields as in
    ``PATCH /api/v1/me``)."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[Name, required(N_("Enter your name."))] = Field(None, validate_default=True)
    locale: Locale = "en"


def validated(model: type[M], fields: dict[str, str], lang: str) -> tuple[M | None, dict[str, str]]:
    """The form's model, or None and a message per field in ``lang``."""
    try:
        return model.model_validate(fields), {}
    except ValidationError as exc:
        errors = form_errors(exc.errors(), lang)
    if "time_zone" in errors:  # a choice from the list, where pydantic's words say little
        errors["time_zone"] = _zone_message(fields.get("time_zone", "").strip(), lang)
    return None, errors


def _zone_message(zone: str, lang: str) -> str:
    gettext = translations(lang).gettext
    if not zone:
        return gettext(N_("Pick your time zone from the list."))
    message = gettext(N_("“%(zone)s” is not a known IANA time zone. Pick yours from the list."))
    return message % {"zone": zone[:64]}


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
    """The setup or sign-up form in the browser's language, with what was typed and a
    message per field."""
    return render(
        request,
        template,
        {"values": values, "errors": errors, "zones": sorted(known_zones())},
        status_code=status,
        lang=page_language(request),
    )


def _email_taken(lang: str) -> dict[str, str]:
    message = N_("An account with this email address already exists. Sign in instead.")
    return {"email": translations(lang).gettext(message)}


@router.get("/setup", dependencies=[Depends(require_no_setup)])
def setup_form(request: Request) -> Response:
    return _account_form(request, "accounts/setup.html", {"time_zone": "UTC"}, {}, 200)


@router.post("/setup", dependencies=[Depends(require_no_setup)])
def setup_submit(
    request: Request, fields: FormFields, session: SessionDep, settings: SettingsDep
) -> Response:
    lang = page_language(request)
    form, errors = validated(SetupForm, fields, lang)
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
                locale=lang,  # the language the administrator set up in
            ),
        )
    except AlreadySetUp:
        return RedirectResponse("/signin", status_code=303)
    except EmailTaken:
        return _account_form(request, "accounts/setup.html", fields, _email_taken(lang), 409)
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
        lang=page_language(request),
    )


def _locked_out(exc: TooManyAttempts, lang: str) -> str:
    """Why sign-in waits, in ``lang``: the limit ``ratelimit`` applied, and for how long."""
    minutes = max(1, -(-(exc.retry_after or 60) // 60))
    ngettext = translations(lang).ngettext
    if exc.message.startswith(ratelimit.TRY_A_KNOWN_BROWSER.partition("{wait}")[0]):
        text = ngettext(
            "Too many failed sign-ins to this account from browsers it has not been used with. "
            "Try again in %(num)d minute, or sign in from a browser you have signed in with "
            "before.",
            "Too many failed sign-ins to this account from browsers it has not been used with. "
            "Try again in %(num)d minutes, or sign in from a browser you have signed in with "
            "before.",
            minutes,
        )
    else:
        text = ngettext(
            "Too many failed sign-ins. Try again in %(num)d minute.",
            "Too many failed sign-ins. Try again in %(num)d minutes.",
            minutes,
        )
    return text % {"num": minutes}


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
    gettext = translations(page_language(request)).gettext
    if not email or not password:
        message = gettext(N_("Enter your email and password."))
        return _signin_page(request, session, email, message, 422, next_url)
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
        message = _locked_out(exc, page_language(request))
        page = _signin_page(request, session, email, message, 429, next_url)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if user is None:
        # Returned, not raised: the failed attempt must be committed to count.
        message = gettext(N_("The email or password is not correct."))
        return _signin_page(request, session, email, message, 401, next_url)
    response = RedirectResponse(next_url, status_code=303)
    start_session(request, response, settings, user)
    return response


def _signup_open(session: SessionDep) -> Organization:
    organization = accounts.the_organization(session)
    if organization is None or not organization.allow_signup:
        raise NotFound(N_("Accounts are created by an administrator here."))
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
    lang = page_language(request)
    form, errors = validated(SignupForm, fields, lang)
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
            locale=lang,  # the language they signed up in
        )
    except EmailTaken:
        return _account_form(request, "accounts/signup.html", fields, _email_taken(lang), 409)
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


# The organizer's account: their name and the language of their pages and emails. Saving
# redirects (so reloading does not post again) to the page, now in the chosen language.


def _account_page(
    request: Request,
    user: User,
    values: dict[str, str],
    errors: dict[str, str],
    status: int,
    saved: bool = False,
) -> Response:
    lang = user.locale if user.locale in dict(LANGUAGES) else "en"
    return render(
        request,
        "accounts/account.html",
        {
            "values": values,
            "errors": errors,
            "languages": LANGUAGES,
            "email": user.email,
            "saved": saved,
        },
        status_code=status,
        lang=lang,
    )


@router.get("/account", dependencies=[Depends(require_setup)])
def account_page(
    request: Request,
    user: PageUser,
    saved: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    values = {"name": user.name, "locale": user.locale}
    return _account_page(request, user, values, {}, 200, saved=saved == "1")


@router.post("/account", dependencies=[Depends(require_setup)])
def account_save(
    request: Request, fields: FormFields, user: PageUser, session: SessionDep
) -> Response:
    lang = user.locale if user.locale in dict(LANGUAGES) else "en"
    form, errors = validated(AccountForm, fields, lang)
    if form is None:
        if "locale" in errors:
            errors["locale"] = translations(lang).gettext(N_("Choose English or French."))
        return _account_page(request, user, fields, errors, 422)
    user.name = form.name
    user.locale = form.locale
    session.flush()
    return RedirectResponse("/account?saved=1", status_code=303)
