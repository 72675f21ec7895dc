"""PostgreSQL itself refuses two overlapping confirmed bookings of one organizer, whatever
the application does (SQLite relies on serialized writers instead)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_booking, create_account

T = datetime(2027, 1, 4, 9, tzinfo=UTC)


def test_the_database_refuses_overlapping_confirmed_bookings(
    session_factory: sessionmaker[Session], database_url: str
) -> None:
    ada = create_account(session_factory, "ada@example.com")
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    with session_factory() as s:
        from sqlalchemy import select

        from bookwithme.models import MeetingType

        type_id = s.scalars(
            select(MeetingType.id).where(MeetingType.user_id == ada.user.id)
        ).first()
        bob_type = s.scalars(
            select(MeetingType.id).where(MeetingType.user_id == bob.user.id)
        ).first()
    add_booking(session_factory, ada.user, type_id, T, 30, after=15)  # blocks 09:00-09:45
    add_booking(session_factory, ada.user, type_id, T.replace(minute=45), 30)  # touches: fine
    add_booking(session_factory, ada.user, type_id, T.replace(minute=10), 30, status="cancelled")
    add_booking(session_factory, bob.user, bob_type, T, 30)  # another organizer: fine
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no exclusion constraints; writers are serialized instead")
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        add_booking(session_factory, ada.user, type_id, T.replace(minute=40), 5)  # in the buffer
