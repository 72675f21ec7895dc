"""Jinja2 templates for the pages (and, later, the emails)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from bookwithme.paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def csrf_token(request: Request) -> str:
    """The double-submit token asgi-csrf expects in every unsafe form."""
    getter = request.scope.get("csrftoken")
    return getter() if getter else ""


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "csrf_token": csrf_token(request),
        "current_user": getattr(request.state, "viewer", None),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
