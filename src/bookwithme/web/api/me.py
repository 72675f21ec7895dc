"""The signed-in organizer: ``/api/v1/me`` and their default availability."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from bookwithme.accounts.schemas import MeOut, MeUpdate
from bookwithme.admin.policy import personal_bookings_status
from bookwithme.errors import EmailTaken
from bookwithme.models import Organization, User
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.web.deps import CurrentUser, SessionDep
from bookwithme.web.openapi import raises

router = APIRouter(tags=["me"])


def _me(session: SessionDep, user: User) -> MeOut:
    organization = session.get_one(Organization, user.organization_id)
    return MeOut.build(user, personal_bookings_status(organization, user))


@router.get("/me")
def get_me(user: CurrentUser, session: SessionDep) -> MeOut:
    return _me(session, user)


@router.patch("/me", responses=raises(EmailTaken))
def update_me(body: MeUpdate, user: CurrentUser, session: SessionDep) -> MeOut:
    changes = body.changes()
    new_email = changes.get("email")
    if new_email and new_email != user.email:
        taken = session.scalar(select(exists().where(User.email == new_email, User.id != user.id)))
        if taken:
            raise EmailTaken()
    for field, value in changes.items():
        setattr(user, field, value)
    try:
        session.flush()
    except IntegrityError:
        # Someone took the address between the check and the write.
        raise EmailTaken() from None
    return _me(session, user)


@router.get("/me/availability")
def get_availability(user: CurrentUser, session: SessionDep) -> ScheduleData:
    return store.to_data(store.default_schedule_row(session, user))


@router.put("/me/availability")
def put_availability(body: ScheduleData, user: CurrentUser, session: SessionDep) -> ScheduleData:
    return store.replace_default_schedule(session, user, body)
