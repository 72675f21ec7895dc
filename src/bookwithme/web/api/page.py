"""The organizer's booking page: title, intro, publishing."""

from __future__ import annotations

from fastapi import APIRouter

from bookwithme.errors import PersonalBookingsDisabled
from bookwithme.meeting_types import service
from bookwithme.meeting_types.schemas import PageOut, PageUpdate, PublishIn
from bookwithme.models import utcnow
from bookwithme.web.deps import CurrentUser, SessionDep, SettingsDep
from bookwithme.web.openapi import raises

router = APIRouter(tags=["page"])


@router.get("/page")
def get_page(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> PageOut:
    return service.page_out(service.get_page(session, user), settings.base_url)


@router.patch("/page")
def update_page(
    body: PageUpdate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> PageOut:
    page = service.update_page(session, service.get_page(session, user), body)
    return service.page_out(page, settings.base_url)


@router.post("/page/publish", responses=raises(PersonalBookingsDisabled))
def publish_page(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, body: PublishIn | None = None
) -> PageOut:
    page = service.get_page(session, user)
    service.publish(session, user, page, (body or PublishIn()).new_link, utcnow())
    return service.page_out(page, settings.base_url)


@router.post("/page/unpublish")
def unpublish_page(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> PageOut:
    page = service.unpublish(session, service.get_page(session, user))
    return service.page_out(page, settings.base_url)
