"""Reading and writing schedules in the database (the rules live in ``schedules``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme.errors import NotFound
from bookwithme.models import Schedule, User
from bookwithme.scheduling.schedules import DateRange, ScheduleData


def to_data(row: Schedule) -> ScheduleData:
    date_range = None
    if row.date_range_start is not None and row.date_range_end is not None:
        date_range = DateRange(start=row.date_range_start, end=row.date_range_end)
    return ScheduleData.model_validate(
        {
            "time_zone": row.time_zone,
            "weekly": row.weekly,
            "overrides": row.overrides,
            "date_range": date_range,
        }
    )


def write(row: Schedule, data: ScheduleData) -> None:
    row.time_zone = data.time_zone
    row.weekly = data.weekly_json()
    row.overrides = data.overrides_json()
    row.date_range_start = data.date_range.start if data.date_range else None
    row.date_range_end = data.date_range.end if data.date_range else None


def default_schedule_row(session: Session, user: User) -> Schedule:
    row = session.scalar(
        select(Schedule).where(Schedule.user_id == user.id, Schedule.is_default.is_(True))
    )
    if row is None:
        raise NotFound("This account has no default schedule.")
    return row


def replace_default_schedule(session: Session, user: User, data: ScheduleData) -> ScheduleData:
    row = default_schedule_row(session, user)
    write(row, data)
    session.flush()
    return to_data(row)
