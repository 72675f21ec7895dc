"""ASGI middleware: request size limit, unstorable input, HEAD, CSRF protection and security
headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from asgi_csrf import (
    DEFAULT_COOKIE_PATH,
    DEFAULT_COOKIE_SAMESITE,
    DEFAULT_SIGNING_NAMESPACE,
    SCOPE_KEY,
    asgi_csrf,
    cookies_from_scope,
    make_secret,
)
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookwithme.accounts.sessions import SESSION_COOKIE
from bookwithme.web import storable
from bookwithme.web.templating import templates

MAX_BODY_BYTES = 1024 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_COOKIE = "csrftoken"
# Forms that work before anyone is signed in, still protected against login CSRF.
ALWAYS_CHECKED_PATHS = frozenset({"/setup", "/signin", "/signup"})


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value)
    return b""


def _accepts_html(scope: Scope) -> bool:
    return not scope["path"].startswith("/api/") and b"text/html" in _header(scope, b"accept")


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    message: str,
    title: str = "Error",
    details: Any = None,
) -> None:
    """An error in the SPEC's JSON shape, or a small page for a browser, from middleware
    (which runs outside the app's exception handlers)."""
    if _accepts_html(scope):
        body = templates.get_template("error.html").render(
            status_code=status,
            title=title,
            message=message,
            code=code,
            csrf_token="",
            current_user=None,
        )
        content_type = b"text/html; charset=utf-8"
        payload = body.encode()
    else:
        error: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            error["details"] = details
        payload = json.dumps({"error": error}).encode()
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    """Refuse request bodies over ``MAX_BODY_BYTES`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if not declared and scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)  # nothing to read
            return
        if declared:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await send_error(scope, send, 400, "bad_request", "Content-Length is not a number.")
                return
            if too_big:
                await self._refuse(scope, send)
                return
        received = 0
        too_large = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Stop reading; whatever the app answers is replaced by a 413 below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal refused
            if too_large:
                if not refused:
                    refused = True
                    await self._refuse(scope, send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not refused:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_error(
            scope,
            send,
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_bytes // 1024} KiB.",
        )


class UnstorableInput:
    """Refuse, before any route runs, text the database could not store (see
    ``web/storable.py``): a NUL character, bytes that are not UTF-8, or in JSON a lone
    UTF-16 surrogate, in the path or query string (400) or in a form or JSON body (422,
    with the field). Bodies are read whole before the check (they are already bounded by
    ``BodySizeLimit``, and every route reads its body whole anyway), so an escape split
    across chunks is seen like any other; the app then reads the same bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = storable.path_problem(scope["path"], scope.get("raw_path"))
        if problem is not None:
            await send_error(
                scope, send, 400, "bad_request", f"The address {problem.message}.", "Bad address"
            )
            return
        problem = storable.urlencoded_problem(scope.get("query_string", b""))
        if problem is not None:
            await send_error(
                scope,
                send,
                400,
                "bad_request",
                f"The query parameter '{problem.field}' {problem.message}.",
                "Bad address",
            )
            return
        check = self._body_check(scope)
        if check is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        complete = False
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client left, or BodySizeLimit cut the body off: it answers
            if not message.get("more_body", False):
                complete = True
                break
        if complete:
            body = b"".join(m.get("body", b"") for m in messages)
            problem = check(body)
            if problem is not None:
                await self._refuse(scope, send, problem)
                return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _body_check(scope: Scope) -> Callable[[bytes], storable.Problem | None] | None:
        """How this request's body is read by the app, if it is read at all."""
        if scope["method"] in SAFE_METHODS:
            return None
        content_type = _header(scope, b"content-type").split(b";")[0].strip().lower()
        if content_type == b"application/x-www-form-urlencoded":
            return storable.urlencoded_problem
        if not content_type or content_type.endswith((b"/json", b"+json")):
            return storable.json_problem  # FastAPI reads a body with no type as JSON
        return None

    @staticmethod
    async def _refuse(scope: Scope, send: Send, problem: storable.Problem) -> None:
        where = f"{problem.field}: " if problem.field else "The request body "
        message = f"{where}{problem.message}."
        await send_error(
            scope,
            send,
            422,
            "validation_error",
            message,
            "Check the form",
            details=[{"field": problem.field, "message": problem.message}],
        )


class HeadAsGet:
    """HEAD is GET without the body (RFC 9110 9.3.2), on every address that answers GET:
    the API's routes declare only GET, so without this HEAD would answer 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _skip_csrf(scope: Scope) -> bool:
    """Only requests that carry our session cookie can ride on a signed-in browser, so only
    they (and the sign-in and setup forms) need the token. Bearer requests are skipped by
    asgi-csrf itself."""
    if scope["path"] in ALWAYS_CHECKED_PATHS:
        return False
    return SESSION_COOKIE.encode() not in _header(scope, b"cookie")


class CSRFProtection:
    """Double-submit CSRF tokens (asgi-csrf): a signed ``csrftoken`` cookie that every unsafe
    request made with the session cookie must repeat, in the ``csrftoken`` form field or the
    ``X-CSRFToken`` header."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        self.inner = app
        self.signer = URLSafeSerializer(secret)
        self.cookie_attributes = f"; Path={DEFAULT_COOKIE_PATH}; SameSite={DEFAULT_COOKIE_SAMESITE}"
        if secure:
            self.cookie_attributes += "; Secure"
        self.app = asgi_csrf(
            app,
            cookie_name=CSRF_COOKIE,
            signing_secret=secret,
            skip_if_scope=_skip_csrf,
            # Checked even with no cookie at all: no login or setup forms posted cross-site.
            always_protect=ALWAYS_CHECKED_PATHS,
            cookie_secure=secure,
            send_csrf_failed=self._failed,
        )

    @staticmethod
    async def _failed(scope: Scope, send: Send, _reason: Any) -> None:
        await send_error(
            scope,
            send,
            403,
            "csrf_failed",
            "This form is out of date or was not sent by bookwithme. Reload the page and try "
            "again. (API clients: send the X-CSRFToken header, or use a personal access token.)",
            title="Form expired",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in SAFE_METHODS
            and scope["path"].startswith("/api/")
        ):
            # A safe API request renders no form and needs no token: skip the work of
            # minting one (the public slot endpoints are the hottest path there is).
            await self.inner(scope, receive, send)
            return
        if scope["type"] == "http":
            try:
                _header(scope, b"cookie").decode("utf-8")
            except UnicodeDecodeError:
                await send_error(scope, send, 400, "bad_request", "The Cookie header is not valid.")
                return
            content_type = _header(scope, b"content-type")
            if content_type.startswith(b"multipart/") and scope["method"] not in SAFE_METHODS:
                # No form here uploads files; refusing multipart keeps its parser out of reach.
                await send_error(
                    scope,
                    send,
                    415,
                    "unsupported_media_type",
                    "Send JSON (application/json) or a plain form "
                    "(application/x-www-form-urlencoded), not multipart.",
                )
                return
        try:
            if scope["type"] == "http" and scope["method"] in SAFE_METHODS:
                await self._safe(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except UnicodeDecodeError:
            await send_error(scope, send, 400, "bad_request", "The form is not valid UTF-8.")

    async def _safe(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What asgi-csrf does for a safe request (it checks nothing), with the token made
        only when the page asks for it: asgi-csrf signs a new one for every visitor
        without the cookie, which costs as much as answering the invitee's slot list.
        A page whose form uses the token gets the same cookie and ``Vary: Cookie``."""
        token: str | None = None
        if _header(scope, b"cookie"):
            kept = cookies_from_scope(scope).get(CSRF_COOKIE, "")
            try:
                self.signer.loads(kept, DEFAULT_SIGNING_NAMESPACE)
                token = kept
            except BadSignature:
                pass
        had_cookie = token is not None
        used = False

        def get_token() -> str:
            nonlocal token, used
            used = True
            if token is None:
                token = self.signer.dumps(make_secret(16), DEFAULT_SIGNING_NAMESPACE)
            return token

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and used:
                headers = [
                    (key, _with_cookie_in_vary(value) if key == b"vary" else value)
                    for key, value in message.get("headers") or []
                ]
                if not any(key == b"vary" for key, _ in headers):
                    headers.append((b"vary", b"Cookie"))
                if not had_cookie:
                    cookie = f"{CSRF_COOKIE}={token}{self.cookie_attributes}"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.inner({**scope, SCOPE_KEY: get_token}, receive, with_cookie)


def _with_cookie_in_vary(value: bytes) -> bytes:
    parts = [part.strip() for part in value.split(b",")]  # as asgi-csrf writes it
    return b", ".join(parts if b"Cookie" in parts else [*parts, b"Cookie"])


class SecurityHeaders:
    """Pages carry tokens in their URLs (private links, manage links), so no Referer leaves
    the site; nothing may frame the pages, except an organizer's invitee pages on the sites
    that organizer lists (``web/embedding.py`` notes them in the request's state)."""

    HEADERS = [
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
    ]
    NO_FRAMING = [
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.added(scope, message)
            await send(message)

        await self.app(scope, receive, with_headers)

    @classmethod
    def added(cls, scope: Scope, start: Message) -> list[tuple[bytes, bytes]]:
        """The response's headers with these added."""
        origins = (scope.get("state") or {}).get(FRAME_ANCESTORS_KEY)
        framing = cls.NO_FRAMING
        if origins:
            policy = "frame-ancestors 'self' " + " ".join(origins)
            framing = [(b"content-security-policy", policy.encode("ascii"))]
        return list(start.get("headers") or []) + cls.HEADERS + framing


FRAME_ANCESTORS_KEY = "frame_ancestors"  # web/embedding.py writes it


class Edge:
    """The four layers every request passes, as one: ``BodySizeLimit``, then
    ``SecurityHeaders``, ``HeadAsGet`` and ``UnstorableInput``. A ``GET`` without a body,
    the request invitees make most, needs nothing of them but the path and query checks
    and the headers, so it gets just that here, one layer instead of four; a request
    these checks refuse, and every other request, goes through the four as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.layers = BodySizeLimit(SecurityHeaders(HeadAsGet(UnstorableInput(app))))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or _header(scope, b"content-length")
            or storable.path_problem(scope["path"], scope.get("raw_path")) is not None
            or storable.urlencoded_problem(scope.get("query_string", b"")) is not None
        ):
            await self.layers(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = SecurityHeaders.added(scope, message)
            await send(message)

        await self.app(scope, receive, with_headers)
