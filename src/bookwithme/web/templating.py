"""Jinja2 templates for the pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from bookwithme.i18n import translations
from bookwithme.paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Pages rendered outside ``render`` (error pages from middleware) are in English.
templates.env.globals["_"] = translations("en").gettext


def csrf_token(request: Request) -> str:
    """The double-submit token asgi-csrf expects in every unsafe form."""
    getter = request.scope.get("csrftoken")
    return getter() if getter else ""


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    lang: str = "en",
) -> HTMLResponse:
    """A page in ``lang`` (``en`` or ``fr``): templates write ``{{ _("English text") }}``."""
    ctx: dict[str, Any] = {
        "csrf_token": csrf_token(request),
        "current_user": getattr(request.state, "viewer", None),
        "lang": lang,
        "_": translations(lang).gettext,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
