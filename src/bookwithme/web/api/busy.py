"""Busy blocks: ``/api/v1/me/busy``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from bookwithme.calendars import busy_blocks
from bookwithme.calendars.busy_blocks import BusyBlockCreate, BusyBlockOut
from bookwithme.web.api.common import (
    DATE_OR_INSTANT,
    ItemList,
    json_in_zone,
    window,
    zone_query,
)
from bookwithme.web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["busy blocks"])


@router.get("/me/busy", response_model=ItemList[BusyBlockOut])
def list_busy(
    user: CurrentUser,
    session: SessionDep,
    tz: Annotated[str | None, Depends(zone_query)],
    start: Annotated[
        str | None, Query(max_length=40, description="A date or an instant"), DATE_OR_INSTANT
    ] = None,
    end: Annotated[
        str | None, Query(max_length=40, description="A date or an instant"), DATE_OR_INSTANT
    ] = None,
) -> Response:
    low, high = window(start, end, tz or user.time_zone)
    blocks = busy_blocks.list_blocks(session, user, low, high)
    return json_in_zone(ItemList(items=[BusyBlockOut.build(b) for b in blocks]), tz)


@router.post("/me/busy", status_code=201)
def create_busy(body: BusyBlockCreate, user: CurrentUser, session: SessionDep) -> BusyBlockOut:
    return BusyBlockOut.build(busy_blocks.create_block(session, user, body))


@router.delete("/me/busy/{block_id}", status_code=204)
def delete_busy(block_id: str, user: CurrentUser, session: SessionDep) -> Response:
    busy_blocks.delete_block(session, user, block_id)
    return Response(status_code=204)
