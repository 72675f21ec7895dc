"""Busy blocks: ``/api/v1/me/busy``."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import AwareDatetime

from bookwithme.calendars import busy_blocks
from bookwithme.calendars.busy_blocks import BusyBlockCreate, BusyBlockOut
from bookwithme.web.api.common import ItemList
from bookwithme.web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["busy blocks"])


@router.get("/me/busy")
def list_busy(
    user: CurrentUser,
    session: SessionDep,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> ItemList[BusyBlockOut]:
    blocks = busy_blocks.list_blocks(session, user, start, end)
    return ItemList(items=[BusyBlockOut.build(b) for b in blocks])


@router.post("/me/busy", status_code=201)
def create_busy(body: BusyBlockCreate, user: CurrentUser, session: SessionDep) -> BusyBlockOut:
    return BusyBlockOut.build(busy_blocks.create_block(session, user, body))


@router.delete("/me/busy/{block_id}", status_code=204)
def delete_busy(block_id: str, user: CurrentUser, session: SessionDep) -> Response:
    busy_blocks.delete_block(session, user, block_id)
    return Response(status_code=204)
