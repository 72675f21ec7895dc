"""The addresses invitees open most, answered without FastAPI's routing.

Routing a request through FastAPI (matching each route in turn, solving its dependencies,
validating its parameters, its exception and exit-stack middleware) costs more than the
whole answer once the organizer's busy time is in memory. ``HotPaths`` sits innermost of
the app's own middleware (security headers, size limits, unstorable input, CSRF and the
answer cache have all run) and answers a plain ``GET`` of the booking page, a private
link's page and their slot lists itself, by calling the very same route functions with the
parameters read here. A request it does not read completely (an unusual parameter, a
repeated one, a value that is not the plain form of a date, a body) goes to the app
unchanged, so every answer is the app's: ``tests/web/test_hot_paths.py`` asks both ways
and compares status, headers and body.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bookwithme.timezones import is_valid_zone
from bookwithme.web import pages_invitee
from bookwithme.web.api import public

# A query value read here: the text as the route would get it, or None to leave the
# request to the app.
Reader = Callable[[str], Any]
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_KEY = r"[A-Za-z0-9_-]{1,128}"


def _text(max_length: int) -> Reader:
    return lambda value: value if len(value) <= max_length else None


def _day(value: str) -> date | None:
    if _DAY.fullmatch(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None  # the app answers 422


def _zone(value: str) -> str | None:
    # The slot lists refuse an unknown zone in their query dependency (``zone_query``).
    return value if len(value) <= 64 and is_valid_zone(value) else None


def _clock(value: str) -> str | None:
    return value if value in ("12", "24") else None


@dataclass(frozen=True)
class HotPath:
    """``pattern`` matches the whole path, its groups are the route's path parameters;
    ``query`` maps each query parameter the route takes to the route's argument name and
    the reader of its value (others are ignored, as FastAPI ignores them)."""

    pattern: re.Pattern[str]
    route: Callable[..., Awaitable[Response]]
    query: Mapping[str, tuple[str, Reader]]
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = lambda arguments: arguments


def _slot_query(arguments: dict[str, Any]) -> dict[str, Any]:
    query = public.SlotQuery(
        start=arguments.pop("start", None),
        end=arguments.pop("end", None),
        tz=arguments.pop("tz", None),
    )
    return {**arguments, "query": query}


_SLOT_QUERY = {"start": ("start", _day), "end": ("end", _day), "tz": ("tz", _zone)}
_PAGE_QUERY = {
    "tz": ("tz", _text(64)),
    "day": ("day", _day),
    "from": ("first", _day),
    "start": ("start", _text(64)),
    "month": ("month", _text(7)),
    "clock": ("clock", _clock),
}

HOT_PATHS = (
    HotPath(
        re.compile(
            rf"/api/v1/public/pages/(?P<page_key>{_KEY})/meeting-types/(?P<type_id>{_KEY})/slots"
        ),
        public.page_slots,
        _SLOT_QUERY,
        _slot_query,
    ),
    HotPath(
        re.compile(rf"/api/v1/public/links/(?P<token>{_KEY})/slots"),
        public.link_slots,
        _SLOT_QUERY,
        _slot_query,
    ),
    HotPath(
        re.compile(rf"/p/(?P<page_key>{_KEY})/(?P<type_id>{_KEY})"),
        pages_invitee.page_meeting_type,
        _PAGE_QUERY,
    ),
    HotPath(re.compile(rf"/l/(?P<token>{_KEY})"), pages_invitee.private_link, _PAGE_QUERY),
)


def _arguments(path: HotPath, match: re.Match[str], query_string: bytes) -> dict[str, Any] | None:
    arguments: dict[str, Any] = dict(match.groupdict())
    if query_string:
        try:
            text = query_string.decode("ascii")
        except UnicodeDecodeError:
            return None
        seen: set[str] = set()
        for pair in text.split("&"):
            name, equals, raw = pair.partition("=")
            known = path.query.get(name)
            if known is None:
                if "%" in name or "+" in name or ";" in name:
                    return None  # a name the app may decode to one of its own
                continue
            if not equals or not raw or name in seen:
                return None  # empty or repeated: the app says what it makes of it
            seen.add(name)
            argument, read = known
            value = read(unquote_plus(raw) if "%" in raw or "+" in raw else raw)
            if value is None:
                return None
            arguments[argument] = value
    return path.prepare(arguments)


class HotPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = self._find(scope)
            if found is not None:
                route, arguments = found
                request = Request(scope, receive)
                try:
                    response = await route(request=request, **arguments)
                except Exception as exc:
                    response = await self._handled(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _find(scope: Scope) -> tuple[Callable[..., Awaitable[Response]], dict[str, Any]] | None:
        for header, _ in scope["headers"]:
            if header in (b"content-length", b"transfer-encoding"):
                return None  # a GET with a body is the app's to judge
        path: str = scope["path"]
        for hot in HOT_PATHS:
            match = hot.pattern.fullmatch(path)
            if match is not None:
                arguments = _arguments(hot, match, scope.get("query_string", b""))
                return None if arguments is None else (hot.route, arguments)
        return None

    @staticmethod
    async def _handled(request: Request, exc: Exception) -> Response:
        """The answer the app's handler for ``exc`` gives (``web/errors.py``), as its
        exception middleware would; what has none (the handler of ``Exception`` is the
        server-error middleware's) goes on to the server-error middleware."""
        handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
        for kind in type(exc).__mro__:
            if kind is Exception:
                break
            handler = handlers.get(kind)
            if handler is not None:
                answer = handler(request, exc)
                response: Response = await answer if isinstance(answer, Awaitable) else answer
                return response
        raise exc
