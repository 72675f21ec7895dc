"""Administrators' API. Every route here requires an administrator (one guard, on the router)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from bookwithme.notifications import admin as outbox
from bookwithme.web.deps import CurrentAdmin, SessionDep, current_admin

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(current_admin)])


@router.get("/outbox")
def list_outbox(
    admin: CurrentAdmin,
    session: SessionDep,
    status: Literal["pending", "sent", "failed"] | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = outbox.PAGE_SIZE,
) -> outbox.OutboxPage:
    """Every email about the organization's bookings, newest first."""
    return outbox.list_outbox(session, admin.organization_id, status, cursor, limit)


@router.get("/outbox/{message_id}")
def get_outbox_message(
    message_id: str, admin: CurrentAdmin, session: SessionDep
) -> outbox.OutboxDetail:
    return outbox.get_message(session, admin.organization_id, message_id)
