"""The organizer's meeting types and their private links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from bookwithme.errors import PersonalBookingsDisabled
from bookwithme.meeting_types import service
from bookwithme.meeting_types.schemas import (
    MeetingTypeCreate,
    MeetingTypeOut,
    MeetingTypeUpdate,
    PrivateLinkCreate,
    PrivateLinkCreated,
    PrivateLinkOut,
)
from bookwithme.models import MeetingType, utcnow
from bookwithme.web.api.common import ItemList
from bookwithme.web.deps import CurrentUser, SessionDep, SettingsDep
from bookwithme.web.openapi import raises

router = APIRouter(tags=["meeting types"])


def owned_type(type_id: str, user: CurrentUser, session: SessionDep) -> MeetingType:
    return service.get_type(session, user, type_id)


OwnedType = Annotated[MeetingType, Depends(owned_type)]


@router.get("/meeting-types")
def list_meeting_types(user: CurrentUser, session: SessionDep) -> ItemList[MeetingTypeOut]:
    return ItemList(items=[service.type_out(mt) for mt in service.list_types(session, user)])


@router.post("/meeting-types", status_code=201)
def create_meeting_type(
    body: MeetingTypeCreate, user: CurrentUser, session: SessionDep
) -> MeetingTypeOut:
    return service.type_out(service.create_type(session, user, body))


@router.get("/meeting-types/{type_id}")
def get_meeting_type(mt: OwnedType) -> MeetingTypeOut:
    return service.type_out(mt)


@router.patch("/meeting-types/{type_id}")
def update_meeting_type(
    body: MeetingTypeUpdate, mt: OwnedType, user: CurrentUser, session: SessionDep
) -> MeetingTypeOut:
    return service.type_out(service.update_type(session, user, mt, body))


@router.delete("/meeting-types/{type_id}", status_code=204)
def delete_meeting_type(mt: OwnedType, session: SessionDep) -> Response:
    service.delete_type(session, mt, utcnow())
    return Response(status_code=204)


@router.post("/meeting-types/{type_id}/duplicate", status_code=201)
def duplicate_meeting_type(mt: OwnedType, user: CurrentUser, session: SessionDep) -> MeetingTypeOut:
    return service.type_out(service.duplicate_type(session, user, mt))


@router.get("/meeting-types/{type_id}/private-links")
def list_private_links(mt: OwnedType, session: SessionDep) -> ItemList[PrivateLinkOut]:
    now = utcnow()
    return ItemList(items=[service.link_out(link, now) for link in service.list_links(session, mt)])


@router.post(
    "/meeting-types/{type_id}/private-links",
    status_code=201,
    responses=raises(PersonalBookingsDisabled),
)
def create_private_link(
    mt: OwnedType,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    body: PrivateLinkCreate | None = None,
) -> PrivateLinkCreated:
    now = utcnow()
    link, token = service.create_link(session, user, mt, body or PrivateLinkCreate(), now)
    out = service.link_out(link, now, url=service.link_url(settings.base_url, token))
    return PrivateLinkCreated(**out.model_dump(), token=token)


@router.delete("/private-links/{link_id}", status_code=204)
def revoke_private_link(link_id: str, user: CurrentUser, session: SessionDep) -> Response:
    service.revoke_link(session, user, link_id, utcnow())
    return Response(status_code=204)
