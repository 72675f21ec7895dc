"""Jinja2 templates for the pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from bookwithme.i18n import translations
from bookwithme.paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Templates ship with the package: do not ask the disk on every render whether they changed
# (restart the server after editing one).
templates.env.auto_reload = False
# Pages rendered outside ``render`` (error pages from middleware) are in English.
templates.env.globals["_"] = translations("en").gettext


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
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
