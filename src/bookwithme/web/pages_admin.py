"""The administrators' pages (the full settings page grows here)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from bookwithme.errors import Forbidden
from bookwithme.models import User
from bookwithme.notifications import admin as outbox
from bookwithme.web.deps import PageUser, SessionDep, SettingsDep
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render


def page_admin(user: PageUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators can open this page.")
    return user


PageAdmin = Annotated[User, Depends(page_admin)]
router = APIRouter(
    prefix="/admin",
    include_in_schema=False,
    dependencies=[Depends(require_setup), Depends(page_admin)],
)


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
        {"page": found, "status": status, "smtp_configured": bool(settings.smtp_url)},
    )


@router.get("/outbox/{message_id}")
def outbox_message_page(
    message_id: str, request: Request, admin: PageAdmin, session: SessionDep
) -> Response:
    message = outbox.get_message(session, admin.organization_id, message_id)
    return render(request, "admin/outbox_message.html", {"message": message})
