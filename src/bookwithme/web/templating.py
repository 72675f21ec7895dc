"""Jinja2 templates for the pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, Template, pass_context
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_LPAREN, TOKEN_NAME, TOKEN_RPAREN, TOKEN_STRING, Token, TokenStream
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from bookwithme.i18n import moment, translations
from bookwithme.paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Templates ship with the package: do not ask the disk on every render whether they changed
# (restart the server after editing one).
templates.env.auto_reload = False
# Pages rendered outside ``render`` (error pages from middleware) are in English.
templates.env.globals["_"] = translations("en").gettext


@pass_context
def _moment(
    context: Context, value: datetime | None, zone: str, named: bool = True, seconds: bool = False
) -> str:
    """``{{ value | moment(zone) }}``: ``i18n.moment`` in the page's language ("" for none)."""
    if value is None:
        return ""
    return moment(value, zone, context.get("lang", "en"), named=named, seconds=seconds)


templates.env.filters["moment"] = _moment


def csrf_token(request: Request) -> str:
    """The double-submit token asgi-csrf expects in every unsafe form."""
    getter = request.scope.get("csrftoken")
    return getter() if getter else ""


class _LazyToken:
    """The CSRF token, made (and its cookie set) only if the page has a form that uses it:
    signing one costs more than rendering a small page."""

    __slots__ = ("_request", "_value")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = csrf_token(self._request)
        return self._value

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return bool(str(self))


class TranslatedLiterals(Extension):
    """``_("English text")`` becomes its translation when the template is compiled, in an
    environment of one language (``page_template``): a page renders with no gettext call
    (each one, through Jinja's call machinery, costs more than the text it writes). A
    ``_`` of anything but one literal is left to the ``_`` function at render time."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        gettext: Callable[[str], str] = self.environment.globals["_"]  # type: ignore[assignment]
        pending: list[Token] = []
        shape = (TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN)
        for token in stream:
            at = len(pending)
            if token.type != shape[at] or (at == 0 and token.value != "_"):
                yield from pending
                pending = []
                if token.type != TOKEN_NAME or token.value != "_":
                    yield token
                    continue
            pending.append(token)
            if len(pending) == 4:
                yield Token(pending[0].lineno, TOKEN_STRING, gettext(pending[2].value))
                pending = []
        yield from pending


@cache
def _environment(lang: str) -> Environment:
    env = templates.env.overlay(extensions=[TranslatedLiterals])
    env.globals = {**templates.env.globals, "_": translations(lang).gettext}
    return env


def page_template(name: str, lang: str) -> Template:
    """Template ``name`` compiled in ``lang``."""
    return _environment(lang).get_template(name)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    lang: str = "en",
) -> HTMLResponse:
    """A page in ``lang`` (``en`` or ``fr``): templates write ``{{ _("English text") }}``."""
    ctx: dict[str, Any] = {
        "csrf_token": _LazyToken(request),
        "current_user": getattr(request.state, "viewer", None),
        "lang": lang,
        "_": translations(lang).gettext,
    }
    ctx.update(context or {})
    return HTMLResponse(page_template(name, lang).render(ctx), status_code=status_code)
