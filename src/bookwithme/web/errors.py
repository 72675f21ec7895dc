"""One place turns every error into the JSON shape of SPEC 3 for the API, or a friendly
page for a browser."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from bookwithme.bookings.service import locale_from
from bookwithme.errors import AlreadySetUp, Busy, DomainError
from bookwithme.i18n import N_, spoken, translations
from bookwithme.web.admission import Admission
from bookwithme.web.deps import NotSignedIn
from bookwithme.web.invitee_errors import MESSAGES, TITLES, NextStep, is_invitee_path, next_step
from bookwithme.web.routes import allowed_methods
from bookwithme.web.setup_gate import SetupRequired
from bookwithme.web.templating import render

log = logging.getLogger("bookwithme")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "busy",
}
HTTP_MESSAGES = {
    404: N_("Nothing is here. Check the address."),
    405: N_("This method is not allowed here."),
    500: N_("Something went wrong on our side. Nothing was saved; please try again."),
}
# The heading of an error page, by status, for a person (the API answers with codes).
PAGE_TITLES = {
    400: N_("That did not work"),
    401: N_("Sign in first"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not possible here"),
    406: N_("That did not work"),
    409: N_("That did not work"),
    410: N_("No longer here"),
    413: N_("Too much at once"),
    415: N_("That did not work"),
    422: N_("Please check what you entered"),
    429: N_("Too many tries for now"),
    500: N_("Something went wrong"),
    503: N_("Busy right now"),
}
# What a form says of a field, by pydantic's error type, in the page's language. The API
# keeps pydantic's English (``_message``); a value_error carries our own message, which is
# marked for translation where it is raised.
FIELD_MESSAGES = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Use at least %(min_length)s characters."),
    "string_too_long": N_("Use at most %(max_length)s characters."),
    "single_line": N_("Write this on one line, without tabs or other control characters."),
    "control_characters": N_("Remove the tabs or other control characters from this text."),
    "email_invalid": N_("Enter a valid email address, such as name@example.com."),
    "literal_error": N_("Choose one of the options offered."),
    "enum": N_("Choose one of the options offered."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "greater_than_equal": N_("Enter %(ge)s or more."),
    "less_than_equal": N_("Enter %(le)s or less."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
}
Gettext = Callable[[str], str]
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def wants_html(request: Request) -> bool:
    """Browsers get error pages; the API always answers JSON. On an invitee's address
    (opened from an email, a chat or an app that may accept anything) a page is the
    answer unless the client asks for JSON."""
    path = request.url.path
    if path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return True
    return is_invitee_path(path) and "application/json" not in accept


def page_language(request: Request) -> str:
    """The language of a page for a browser: the first of English or French it prefers."""
    return locale_from(None, request.headers.get("accept-language"))


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_html(request):
        # The page in the signed-in person's language, or else the browser's: the
        # message, when the catalogue has it (messages are English text, marked where they
        # are written), and its heading.
        viewer = getattr(request.state, "viewer", None)
        lang = spoken(viewer.locale) if viewer is not None else page_language(request)
        gettext = translations(lang).gettext
        title = TITLES.get(code) or PAGE_TITLES.get(status_code) or HTTPStatus(status_code).phrase
        page = render(
            request,
            "error.html",
            {
                "status_code": status_code,
                "title": gettext(title),
                "message": gettext(message),
                "code": code,
                "show_home": not is_invitee_path(request.url.path),
            },
            status_code=status_code,
            lang=lang,
        )
        page.headers.update(headers or {})
        return page
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


async def respond(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """``error_response``, except that an invitee's browser gets a page in their language
    with what they can do next."""
    if wants_html(request) and is_invitee_path(request.url.path):
        return await _invitee_page(request, status_code, code, message, headers)
    return error_response(request, status_code, code, message, details, headers)


async def _invitee_page(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    headers: dict[str, str] | None,
) -> Response:
    lang = locale_from(None, request.headers.get("accept-language"))
    gettext = translations(lang).gettext
    path = request.url.path
    step = NextStep(N_("Check the address."))
    admission: Admission = request.app.state.admission
    try:
        step = await admission.read(
            lambda session: next_step(session, path, code), admission.deadline()
        )
    except (SQLAlchemyError, Busy):  # the database is what failed: say what we can without it
        log.warning("no next step for the error page of %s", path)
    name = {"name": step.organizer or "", "minutes": _minutes(headers)}
    page = render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "title": gettext(TITLES.get(code, HTTPStatus(status_code).phrase)),
            "message": gettext(MESSAGES.get(code, message)),
            "code": code,
            "hint": gettext(step.hint) % name,
            "next_label": gettext(step.link_label) % name if step.link_label else None,
            "next_link": step.link,
            "show_home": False,
        },
        status_code=status_code,
        lang=lang,
    )
    page.headers.update(headers or {})
    return page


def _minutes(headers: dict[str, str] | None) -> str:
    """Retry-After, in whole minutes rounded up, for a page that says how long to wait."""
    seconds = (headers or {}).get("Retry-After", "")
    return str(max(1, -(-int(seconds) // 60))) if seconds.isdigit() else ""


def _json_position(error: dict[str, Any]) -> int | None:
    loc = tuple(error.get("loc", ()))
    return loc[1] if len(loc) == 2 and isinstance(loc[1], int) else None


def _field_name(loc: tuple[Any, ...], error_type: str | None = None) -> str:
    if error_type == "json_invalid":
        return ""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        position = _json_position(error)
        where = f" (at character {position})" if position is not None else ""
        return f"The request body is not valid JSON{where}."
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):
        return "A JSON body is required."
    return message


def field_message(error: ErrorDetails, gettext: Gettext) -> str:
    """One validation error as a form shows it next to its field, in the page's language."""
    kind = error.get("type", "")
    context = dict(error.get("ctx") or {})
    if kind == "value_error":  # our own refusals may name their kind (validation.InvalidEmail)
        kind = getattr(context.get("error"), "kind", kind)
    if kind == "string_too_short" and context.get("min_length") == 1:
        kind = "missing"  # an empty (or only spaces) required text
    if kind in FIELD_MESSAGES:
        return gettext(FIELD_MESSAGES[kind]) % {
            k: context.get(k, "") for k in ("ge", "le", "min_length", "max_length")
        }
    return gettext(_message(dict(error)))


def validation_details(
    errors: Iterable[ErrorDetails], gettext: Gettext | None = None
) -> list[dict[str, str]]:
    """``{"field", "message"}`` per error: the API's English, or with ``gettext`` what a
    page says in its language."""
    return [
        {
            "field": _field_name(tuple(e.get("loc", ())), e.get("type")),
            "message": _message(dict(e)) if gettext is None else field_message(e, gettext),
        }
        for e in errors
    ]


def form_errors(errors: Iterable[ErrorDetails], lang: str) -> dict[str, str]:
    """``{field: message}`` for a page's form in ``lang``: each field's first problem; a
    problem of the whole form under ``__all__``."""
    found: dict[str, str] = {}
    for detail in validation_details(errors, translations(lang).gettext):
        found.setdefault(detail["field"] or "__all__", detail["message"])
    return found


def summarize(details: list[dict[str, str]]) -> str:
    parts = [f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details[:3]]
    more = len(details) - 3
    text = "; ".join(parts)
    if more > 0:
        text += f" (and {more} more)"
    return text or "The request is not valid."


# SQLSTATEs that mean "others hold what this needs, try again": lock_timeout ran out,
# a statement was cancelled by a timeout, a serialization failure, a deadlock.
_RETRYABLE_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01"})


def _is_contention(exc: OperationalError) -> bool:
    if "database is locked" in str(exc.orig):  # SQLite, after busy_timeout
        return True
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


async def _busy_response(request: Request) -> Response:
    exc = Busy()
    return await respond(
        request,
        exc.status_code,
        exc.code,
        exc.message,
        headers={"Retry-After": str(exc.retry_after)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if wants_html(request) or request.method == "GET":
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        return error_response(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(SetupRequired)
    async def _setup_required(request: Request, exc: SetupRequired) -> Response:
        if wants_html(request) or request.method in ("GET", "HEAD"):
            return RedirectResponse("/setup", status_code=303)
        return error_response(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(AlreadySetUp)
    async def _already_set_up(request: Request, exc: AlreadySetUp) -> Response:
        if wants_html(request) or request.method in ("GET", "HEAD"):
            return RedirectResponse("/signin", status_code=303)
        return error_response(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        headers = None
        if exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        details = exc.details
        if exc.status_code == 422 and details is None:  # every 422 says which field
            details = [{"field": "", "message": exc.message}]
        return await respond(request, exc.status_code, exc.code, exc.message, details, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        if detail is None or detail == HTTPStatus(exc.status_code).phrase:
            detail = HTTP_MESSAGES.get(exc.status_code, HTTPStatus(exc.status_code).phrase + ".")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.scope["path"])
            if allowed is not None:
                headers["Allow"] = ", ".join(allowed)
        return await respond(request, exc.status_code, code, detail, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = validation_details(exc.errors())
        content_type = request.headers.get("content-type", "")
        body_not_json = any(
            e.get("loc") == ("body",) and e.get("type") in ("model_attributes_type", "dict_type")
            for e in exc.errors()
        )
        if body_not_json and "json" not in content_type:
            message = "Send the body as JSON, with the header Content-Type: application/json."
            details = [{"field": "", "message": message}]
        return await respond(request, 422, "validation_error", summarize(details), details)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        return await _busy_response(request)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> Response:
        if _is_contention(exc):
            return await _busy_response(request)
        log.exception("database error on %s %s", request.method, request.url.path)
        return await respond(request, 500, "internal_error", HTTP_MESSAGES[500])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error", HTTP_MESSAGES[500])
